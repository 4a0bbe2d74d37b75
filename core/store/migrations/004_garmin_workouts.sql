-- 004_garmin_workouts: planned workouts sent to a Garmin Connect account, with Garmin's own ids, so that sending
-- a plan again updates what is on the rider's Garmin calendar instead of adding a second copy.
--
-- One row per account, day and riding workout of that day (slot 0, 1 … in the day's order): whatever VeloCoach
-- plan (or version of it) was last sent for that day. content_hash is the sha256 of the workout JSON sent
-- (steps, targets in watts, name), so an unchanged workout costs no request. Deleted with the account.
CREATE SEQUENCE garmin_workouts_id_seq;
CREATE TABLE garmin_workouts (
    id                 BIGINT PRIMARY KEY DEFAULT nextval('garmin_workouts_id_seq'),
    account_id         BIGINT NOT NULL,   -- garmin_accounts.id
    workout_date       DATE NOT NULL,
    slot               INTEGER NOT NULL DEFAULT 0 CHECK (slot >= 0),
    garmin_workout_id  BIGINT NOT NULL,   -- Garmin's workoutId (its workout library)
    garmin_schedule_id BIGINT,            -- Garmin's workoutScheduleId (its calendar); NULL until scheduled
    content_hash       VARCHAR NOT NULL,
    name               VARCHAR NOT NULL,
    workout_type       VARCHAR NOT NULL,
    plan_name          VARCHAR,           -- the plan it came from, as sent (for the rider; not a link)
    plan_version       INTEGER,
    sent_at            TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    UNIQUE (account_id, workout_date, slot)
);
CREATE INDEX garmin_workouts_account_date_idx ON garmin_workouts (account_id, workout_date);

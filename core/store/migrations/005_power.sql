-- 005_power: the power-duration model's storage.
-- ride_mmp: each ride's mean-maximal power at the durations of core.rides.power.MMP_DURATIONS_S, written when the
-- ride is stored or recomputed (a compact table: ~37 rows a ride; the athlete's window is one GROUP BY).
-- ftp_proposals: the FTP changes the power model proposed and the rider approved or dismissed (a dismissed one is
-- not shown again until a newer maximal effort arrives).
-- No declared keys: see 001_initial.sql (links are checked by core.store.db.integrity_problems).

CREATE TABLE ride_mmp (
    ride_id    BIGINT NOT NULL,    -- rides.id (deleted with the ride)
    duration_s INTEGER NOT NULL,
    power_w    REAL NOT NULL,      -- best mean power over duration_s (pauses as 0 W)
    start_s    INTEGER NOT NULL,   -- where that effort starts, seconds of the ride's timeline
    floor_w    REAL                -- its easiest 60 s (efforts of 2 min or more): tells a sustained effort
);
CREATE INDEX ride_mmp_ride_idx ON ride_mmp (ride_id);

CREATE SEQUENCE ftp_proposals_id_seq;
CREATE TABLE ftp_proposals (
    id             BIGINT PRIMARY KEY DEFAULT nextval('ftp_proposals_id_seq'),
    athlete_id     BIGINT NOT NULL,   -- athletes.id
    status         VARCHAR NOT NULL CHECK (status IN ('approved', 'dismissed')),
    current_ftp_w  DOUBLE,
    proposed_ftp_w DOUBLE NOT NULL,
    cp_w           DOUBLE,
    w_prime_j      DOUBLE,
    evidence_date  DATE,              -- the newest maximal effort behind the proposal
    effective_from DATE,              -- approved: the FTP-history entry's first day
    decided_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE INDEX ftp_proposals_athlete_idx ON ftp_proposals (athlete_id);

-- 006_terrain: where a ride's or route's altitude comes from, which terrain method computed its figures, and the
-- rider's climbs with every effort on them.
--
-- terrain_version: the version of the elevation/sections/climbs/intervals method that last computed the row's
-- figures (core.rides.terrain.TERRAIN_VERSION). Rows stored before this migration get 0, so the first start
-- after it recomputes their elevation gain, sections, climbs and intervals from the stored samples
-- (core.rides.terrain.refresh_terrain; `python -m core terrain refresh` does the same on demand).

ALTER TABLE rides ADD COLUMN altitude_source VARCHAR;          -- barometric | gps | dem (core.files.elevation)
ALTER TABLE rides ADD COLUMN terrain_version INTEGER DEFAULT 0;
ALTER TABLE routes ADD COLUMN altitude_source VARCHAR;
ALTER TABLE routes ADD COLUMN terrain_version INTEGER DEFAULT 0;

-- A climb the rider knows: a climb section of one of their planned routes, or one found in a ride. ``shape`` is
-- its line ([[lat, lon], …] every ~20 m, start to top); the bounding box columns let SQL pick the few climbs a
-- new ride can touch before any geometry is computed.
CREATE SEQUENCE climbs_id_seq;
CREATE TABLE climbs (
    id            BIGINT PRIMARY KEY DEFAULT nextval('climbs_id_seq'),
    athlete_id    BIGINT NOT NULL,   -- athletes.id
    name          VARCHAR NOT NULL,
    origin        VARCHAR NOT NULL CHECK (origin IN ('route', 'ride')),
    route_id      BIGINT,            -- routes.id: the planned route it was cut from (NULL once deleted)
    ride_id       BIGINT,            -- rides.id: the ride it was found in (NULL once deleted)
    length_m      DOUBLE NOT NULL,
    gain_m        DOUBLE NOT NULL,   -- rise from start to top
    avg_grade_pct DOUBLE NOT NULL,
    max_grade_pct DOUBLE,
    category      VARCHAR,
    top_ele_m     DOUBLE,
    start_lat DOUBLE NOT NULL, start_lon DOUBLE NOT NULL, end_lat DOUBLE NOT NULL, end_lon DOUBLE NOT NULL,
    min_lat DOUBLE NOT NULL, min_lon DOUBLE NOT NULL, max_lat DOUBLE NOT NULL, max_lon DOUBLE NOT NULL,
    shape         JSON NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE INDEX climbs_athlete_bbox_idx ON climbs (athlete_id, min_lat, max_lat);

-- One ride's passage up one climb, timed between the exact crossings of the climb's start and top gates.
CREATE SEQUENCE climb_efforts_id_seq;
CREATE TABLE climb_efforts (
    id           BIGINT PRIMARY KEY DEFAULT nextval('climb_efforts_id_seq'),
    climb_id     BIGINT NOT NULL,   -- climbs.id (deleted with the climb)
    ride_id      BIGINT NOT NULL,   -- rides.id (deleted with the ride)
    started_at   TIMESTAMPTZ,       -- when the start gate was crossed
    start_s      DOUBLE NOT NULL,   -- seconds into the ride at the start gate
    time_s       DOUBLE NOT NULL,   -- start gate to top gate, elapsed
    distance_m   DOUBLE,
    avg_power_w  DOUBLE,
    avg_hr       DOUBLE,
    avg_cadence  DOUBLE,
    vam_m_h      DOUBLE,            -- climb gain / time, metres an hour
    UNIQUE (climb_id, ride_id, start_s)
);
CREATE INDEX climb_efforts_climb_idx ON climb_efforts (climb_id);
CREATE INDEX climb_efforts_ride_idx ON climb_efforts (ride_id);

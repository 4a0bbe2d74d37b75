-- 001_initial: the whole VeloCoach data model.
--
-- Referential integrity: the columns named *_id point at the table in their comment. They are deliberately NOT
-- declared as FOREIGN KEY constraints: DuckDB (up to 2.0) refuses to delete a parent row in the same transaction
-- in which its children were deleted ("still referenced by a foreign key"), so a declared key would make an
-- atomic "delete a ride with its samples" impossible, and checking the key costs 8x on bulk sample inserts
-- (3M rows: 2.4 s vs 0.3 s measured). core/db.py deletes parents with their children in one transaction, and
-- core.db.integrity_problems() checks every link below; the test suite runs it after every write path.
-- Never edit this file once released: add 002_... instead.

CREATE SEQUENCE athletes_id_seq;
CREATE TABLE athletes (
    id            BIGINT PRIMARY KEY DEFAULT nextval('athletes_id_seq'),
    name          VARCHAR NOT NULL,
    email         VARCHAR,
    fitness_level VARCHAR NOT NULL DEFAULT 'intermediate',  -- beginner | intermediate | advanced | elite
    ftp_w         DOUBLE,
    max_hr        INTEGER,
    lthr          INTEGER,
    weight_kg     DOUBLE,
    preferences   JSON NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- FTP history so TSS uses the FTP in force on the ride's date.
CREATE TABLE athlete_ftp_history (
    athlete_id     BIGINT NOT NULL,   -- athletes.id
    effective_from DATE NOT NULL,
    ftp_w          DOUBLE NOT NULL,
    PRIMARY KEY (athlete_id, effective_from)
);

CREATE SEQUENCE routes_id_seq;
CREATE TABLE routes (
    id                 BIGINT PRIMARY KEY DEFAULT nextval('routes_id_seq'),
    athlete_id         BIGINT NOT NULL,   -- athletes.id
    name               VARCHAR NOT NULL,
    kind               VARCHAR NOT NULL CHECK (kind IN ('planned', 'recorded')),
    source_file        VARCHAR,
    distance_m         DOUBLE NOT NULL DEFAULT 0,
    elevation_gain_m   DOUBLE,
    elevation_loss_m   DOUBLE,
    has_elevation      BOOLEAN NOT NULL DEFAULT true,
    point_count        INTEGER NOT NULL DEFAULT 0,
    min_lat DOUBLE, min_lon DOUBLE, max_lat DOUBLE, max_lon DOUBLE,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE INDEX routes_athlete_idx ON routes (athlete_id);

-- Compact: DECIMAL(9,6) is a 32-bit integer (0.11 m resolution); REAL for elevation and distance.
CREATE TABLE route_points (
    route_id BIGINT NOT NULL,   -- routes.id (deleted with the route)
    seq      INTEGER NOT NULL,
    lat      DECIMAL(9, 6) NOT NULL,
    lon      DECIMAL(9, 6) NOT NULL,
    ele      REAL,
    dist_m   REAL NOT NULL
);

CREATE SEQUENCE sections_id_seq;
CREATE TABLE sections (
    id               BIGINT PRIMARY KEY DEFAULT nextval('sections_id_seq'),
    route_id         BIGINT NOT NULL,   -- routes.id (deleted with the route)
    seq              INTEGER NOT NULL,
    kind             VARCHAR NOT NULL CHECK (kind IN ('climb', 'descent', 'flat')),
    start_m          DOUBLE NOT NULL,
    end_m            DOUBLE NOT NULL,
    distance_m       DOUBLE NOT NULL,
    elevation_gain_m DOUBLE,
    elevation_loss_m DOUBLE,
    avg_grade_pct    DOUBLE,
    max_grade_pct    DOUBLE,
    category         VARCHAR,           -- HC, 1, 2, 3, 4 or NULL
    fiets            DOUBLE,
    est_time_s       DOUBLE,
    gear_hint        VARCHAR,
    details          JSON NOT NULL DEFAULT '{}'
);
CREATE INDEX sections_route_idx ON sections (route_id);

CREATE SEQUENCE garmin_accounts_id_seq;
CREATE TABLE garmin_accounts (
    id                        BIGINT PRIMARY KEY DEFAULT nextval('garmin_accounts_id_seq'),
    athlete_id                BIGINT NOT NULL,   -- athletes.id
    label                     VARCHAR NOT NULL,
    token_dir                 VARCHAR,           -- where garminconnect keeps its tokens; never the tokens
    last_synced_activity_id   BIGINT,
    last_synced_activity_at   TIMESTAMPTZ,
    last_sync_at              TIMESTAMPTZ,
    created_at                TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    UNIQUE (athlete_id, label)
);

CREATE SEQUENCE sync_log_id_seq;
CREATE TABLE sync_log (
    id          BIGINT PRIMARY KEY DEFAULT nextval('sync_log_id_seq'),
    account_id  BIGINT NOT NULL,   -- garmin_accounts.id
    started_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    finished_at TIMESTAMPTZ,
    status      VARCHAR NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'partial', 'failed')),
    listed      INTEGER NOT NULL DEFAULT 0,
    imported    INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    error       VARCHAR
);
CREATE INDEX sync_log_account_idx ON sync_log (account_id);

CREATE SEQUENCE rides_id_seq;
CREATE TABLE rides (
    id                BIGINT PRIMARY KEY DEFAULT nextval('rides_id_seq'),
    athlete_id        BIGINT NOT NULL,   -- athletes.id
    source            VARCHAR NOT NULL CHECK (source IN ('file', 'garmin', 'demo')),
    account_id        BIGINT NOT NULL DEFAULT 0,   -- garmin_accounts.id for garmin rides, 0 otherwise
    external_id       VARCHAR NOT NULL,  -- Garmin activity id, or the file's content hash
    duplicate_of      BIGINT,            -- rides.id: a second arrival of the same ride, linked not copied
    name              VARCHAR,
    sport_type        VARCHAR NOT NULL DEFAULT 'cycling',
    started_at        TIMESTAMPTZ,
    elapsed_time_s    DOUBLE,
    moving_time_s     DOUBLE,
    distance_m        DOUBLE,
    elevation_gain_m  DOUBLE,
    avg_hr            DOUBLE,
    max_hr            DOUBLE,
    avg_power_w       DOUBLE,
    max_power_w       DOUBLE,
    normalized_power_w DOUBLE,
    avg_cadence       DOUBLE,
    intensity_factor  DOUBLE,
    tss               DOUBLE,
    load_method       VARCHAR,           -- 'power' | 'hr' | NULL: which model gave tss
    route_id          BIGINT,            -- routes.id: the recorded path (NULL for indoor rides)
    metrics           JSON NOT NULL DEFAULT '{}',   -- zones, power curve, decoupling, flags
    laps              JSON NOT NULL DEFAULT '[]',
    raw               JSON,              -- the source's summary as received (Garmin JSON)
    source_file       VARCHAR,
    notes             VARCHAR,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    UNIQUE (source, account_id, external_id)
);
CREATE INDEX rides_athlete_start_idx ON rides (athlete_id, started_at);
CREATE INDEX rides_external_idx ON rides (external_id);

CREATE TABLE ride_samples (
    ride_id  BIGINT NOT NULL,   -- rides.id (deleted with the ride)
    t_s      REAL NOT NULL,     -- seconds since the ride's start
    lat      DECIMAL(9, 6),
    lon      DECIMAL(9, 6),
    ele      REAL,
    dist_m   REAL,
    speed    REAL,              -- m/s
    hr       SMALLINT,
    cadence  SMALLINT,
    power    SMALLINT,
    temp     REAL
);

CREATE SEQUENCE tags_id_seq;
CREATE TABLE tags (
    id         BIGINT PRIMARY KEY DEFAULT nextval('tags_id_seq'),
    athlete_id BIGINT NOT NULL,   -- athletes.id
    name       VARCHAR NOT NULL,
    UNIQUE (athlete_id, name)
);
CREATE TABLE ride_tags (
    ride_id BIGINT NOT NULL,   -- rides.id
    tag_id  BIGINT NOT NULL,   -- tags.id
    PRIMARY KEY (ride_id, tag_id)
);

CREATE SEQUENCE rules_id_seq;
CREATE TABLE rules (
    id             BIGINT PRIMARY KEY DEFAULT nextval('rules_id_seq'),
    athlete_id     BIGINT NOT NULL,   -- athletes.id
    name           VARCHAR NOT NULL,
    text           VARCHAR NOT NULL,
    parsed         JSON NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    parent_rule_id BIGINT,            -- rules.id: the version this one edits
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE INDEX rules_athlete_idx ON rules (athlete_id);

CREATE SEQUENCE plans_id_seq;
CREATE TABLE plans (
    id             BIGINT PRIMARY KEY DEFAULT nextval('plans_id_seq'),
    athlete_id     BIGINT NOT NULL,   -- athletes.id
    name           VARCHAR NOT NULL,
    description    VARCHAR,
    start_date     DATE NOT NULL,
    end_date       DATE NOT NULL,
    goal_type      VARCHAR,
    goals          JSON NOT NULL DEFAULT '{}',
    preferences    JSON NOT NULL DEFAULT '{}',
    duration_weeks INTEGER NOT NULL,
    active         BOOLEAN NOT NULL DEFAULT false,
    version        INTEGER NOT NULL DEFAULT 1,
    parent_plan_id BIGINT,            -- plans.id
    is_template    BOOLEAN NOT NULL DEFAULT false,
    generator      VARCHAR,           -- 'engine' | 'ai' | 'ai-repaired'
    plan           JSON NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE INDEX plans_athlete_active_idx ON plans (athlete_id, active);

CREATE TABLE plan_rules (
    plan_id      BIGINT NOT NULL,   -- plans.id
    rule_id      BIGINT NOT NULL,   -- rules.id
    rule_version INTEGER NOT NULL,
    PRIMARY KEY (plan_id, rule_id)
);

CREATE SEQUENCE planned_workouts_id_seq;
CREATE TABLE planned_workouts (
    id                BIGINT PRIMARY KEY DEFAULT nextval('planned_workouts_id_seq'),
    plan_id           BIGINT NOT NULL,   -- plans.id
    date              DATE NOT NULL,
    type              VARCHAR NOT NULL,
    duration_min      DOUBLE NOT NULL DEFAULT 0,
    targets           JSON NOT NULL DEFAULT '{}',
    tss               DOUBLE,
    description       VARCHAR,
    completed_ride_id BIGINT             -- rides.id
);
CREATE INDEX planned_workouts_plan_date_idx ON planned_workouts (plan_id, date);

CREATE SEQUENCE analyses_id_seq;
CREATE TABLE analyses (
    id          BIGINT PRIMARY KEY DEFAULT nextval('analyses_id_seq'),
    ride_id     BIGINT NOT NULL,   -- rides.id
    plan_id     BIGINT,            -- plans.id
    kind        VARCHAR NOT NULL,
    feedback    JSON NOT NULL DEFAULT '{}',
    suggestions JSON NOT NULL DEFAULT '[]',
    approved    BOOLEAN,           -- NULL pending, true approved, false rejected
    approved_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE INDEX analyses_ride_approved_idx ON analyses (ride_id, approved);

CREATE SEQUENCE prompts_id_seq;
CREATE TABLE prompts (
    id         BIGINT PRIMARY KEY DEFAULT nextval('prompts_id_seq'),
    action     VARCHAR NOT NULL,
    model      VARCHAR,            -- NULL: any model
    text       VARCHAR NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    active     BOOLEAN NOT NULL DEFAULT true,
    variant    VARCHAR NOT NULL DEFAULT 'A',
    created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE INDEX prompts_action_idx ON prompts (action, active);

CREATE SEQUENCE ai_calls_id_seq;
CREATE TABLE ai_calls (
    id          BIGINT PRIMARY KEY DEFAULT nextval('ai_calls_id_seq'),
    called_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    action      VARCHAR NOT NULL,
    model       VARCHAR,
    prompt_id   BIGINT,            -- prompts.id
    variant     VARCHAR,
    prompt_hash VARCHAR NOT NULL,
    tokens_in   INTEGER,
    tokens_out  INTEGER,
    cost_usd    DOUBLE,
    latency_ms  DOUBLE,
    cached      BOOLEAN NOT NULL DEFAULT false,
    status      VARCHAR NOT NULL,  -- ok | error | fallback
    error       VARCHAR
);
CREATE INDEX ai_calls_hash_idx ON ai_calls (prompt_hash);

CREATE TABLE ai_cache (
    prompt_hash VARCHAR NOT NULL,
    model       VARCHAR NOT NULL,
    response    VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (prompt_hash, model)
);

CREATE SEQUENCE audit_log_id_seq;
CREATE TABLE audit_log (
    id         BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id_seq'),
    logged_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    athlete_id BIGINT,
    action     VARCHAR NOT NULL,
    entity     VARCHAR NOT NULL,
    entity_id  BIGINT,
    detail     JSON NOT NULL DEFAULT '{}'
);

-- Bumped by every write that changes what pages aggregate; st.cache_data keys on it.
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version VALUES (1, 0);

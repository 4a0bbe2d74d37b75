-- 007_reliability: no hot row for the data version, plausibility warnings stored with rides and routes, and the
-- rider's verdict on AI answers.

-- The data version was one row that every write updated: two sessions writing at once made DuckDB's optimistic
-- concurrency refuse one of them ("Conflict on update!"). Appends never conflict: every write that changes
-- aggregates appends one row here and the version is the number of rows (it only grows; a reader sees a row only
-- once the writing transaction has committed, so a cache keyed on it never holds uncommitted data).
CREATE SEQUENCE data_changes_id_seq;
CREATE TABLE data_changes (
    id         BIGINT PRIMARY KEY DEFAULT nextval('data_changes_id_seq'),
    changed_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
-- The old counter is not carried over: migrations run when the app starts, when no cache keyed on it exists yet.
DROP TABLE data_version;

-- What the plausibility layer (core/files/plausibility.py) repaired or dropped on import, as the rider reads it:
-- a JSON list of {"code", "points", "message"}.
ALTER TABLE rides ADD COLUMN data_warnings JSON DEFAULT '[]';
ALTER TABLE routes ADD COLUMN data_warnings JSON DEFAULT '[]';

-- Whether the rider kept what the AI proposed (a parsed rule saved, a generated plan saved): NULL = no verdict.
ALTER TABLE ai_calls ADD COLUMN accepted BOOLEAN;
ALTER TABLE ai_calls ADD COLUMN decided_at TIMESTAMPTZ;

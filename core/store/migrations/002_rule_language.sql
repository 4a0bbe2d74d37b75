-- 002_rule_language: rules that can be disabled and enabled again, and each athlete's "what counts as hard".
--
-- rules.parsed keeps whatever version wrote it: a version-2 parse carries "schema_version": 2, an older one has
-- no such key and is upgraded when read (core/coach/rules/upgrade.py), with its meaning kept. Rewriting the JSON
-- here would need the upgrade in SQL twice over, and old backups restored later would still hold version 1.
-- Unavailable date ranges are constraints of a rule (kind unavailable_dates), not a table of their own.
--
-- DuckDB refuses ALTER TABLE ... ADD COLUMN ... NOT NULL on a table that an index depends on ("Cannot alter entry
-- because there are entries that depend on it"), so the rules index is dropped and created again around it.
DROP INDEX rules_athlete_idx;
ALTER TABLE rules ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT true;  -- false: listed, left out of new plans
CREATE INDEX rules_athlete_idx ON rules (athlete_id);

-- Settings: does sweet spot (88-94 % FTP) count as "hard" in the athlete's rules? Riders say yes by default.
ALTER TABLE athletes ADD COLUMN hard_includes_sweet_spot BOOLEAN NOT NULL DEFAULT true;

-- 010_route_hash_ride_rpe: a planned route remembers the sha256 of the file it came from, so importing the same
-- GPX again finds the route already stored instead of making a copy; a ride gets the rider's perceived exertion
-- (RPE, Borg CR10: 1 very easy … 10 maximal) beside its notes.

ALTER TABLE routes ADD COLUMN content_sha256 VARCHAR;
CREATE INDEX routes_athlete_hash_idx ON routes (athlete_id, content_sha256);
ALTER TABLE rides ADD COLUMN rpe SMALLINT;

-- 011_ride_compliance_cache: a ride that completed a structured workout keeps its per-interval compliance, computed
-- when the ride is linked to the workout (import, sync, a new plan version), with the key of what it was computed
-- from (the workout as planned, the FTP of the ride's day, the code's version). Reading a ride then costs one
-- query instead of the workout models and the ride's samples; a key that no longer matches is computed afresh.

ALTER TABLE rides ADD COLUMN compliance VARCHAR;
ALTER TABLE rides ADD COLUMN compliance_key VARCHAR;

-- 008_background_sync: the background Garmin sync inside the running app.
--
-- auto_sync_minutes: how often the app syncs the account on its own (core.garmin.schedule: 60, 180, 720 or 1440);
-- NULL = off, the default. sync_log.origin tells the runs the schedule started from those the rider started (the
-- Garmin page or the command line), so the page can show the schedule's last result.
ALTER TABLE garmin_accounts ADD COLUMN auto_sync_minutes INTEGER;
ALTER TABLE sync_log ADD COLUMN origin VARCHAR DEFAULT 'manual';

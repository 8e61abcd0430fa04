-- Retention: when a job's staging rows and exports were removed (its contacts never are).
ALTER TABLE jobs ADD COLUMN purged_at timestamptz;
CREATE INDEX jobs_finished_idx ON jobs (status, finished_at) WHERE purged_at IS NULL;

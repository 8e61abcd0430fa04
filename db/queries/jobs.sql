-- name: fetch_job
-- One job by id, with everything the router and the flows need.
SELECT * FROM jobs WHERE id = $1;

-- name: job_has_staging
-- Whether any staging row exists for the job (the router's second input).
SELECT EXISTS (SELECT 1 FROM staging WHERE job_id = $1);

-- name: insert_job
-- Create a PENDING job for an uploaded object; returns its id.
INSERT INTO jobs (user_id, source_bucket, source_key, source_version_id, source_etag,
                  original_filename, options, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8)
RETURNING id;

-- name: count_job_attempt
-- Count one more attempt at the job (each delivery that starts a flow); returns the job.
UPDATE jobs SET attempts = attempts + 1, updated_at = now() WHERE id = $1 RETURNING *;

-- name: fail_job
-- Mark a job FAILED with a human-readable reason, unless it already finished.
UPDATE jobs
SET status = 'FAILED', error = $2, finished_at = now(), updated_at = now()
WHERE id = $1 AND status NOT IN ('COMPLETED', 'CANCELLED')
RETURNING id;

-- name: record_job_error
-- Keep the last transient error on a job that will be retried.
UPDATE jobs SET error = $2, updated_at = now() WHERE id = $1;

-- name: reset_failed_job
-- Make a FAILED job runnable again (retry, DLQ replay); staging rows are kept to resume from.
UPDATE jobs
SET status = 'PENDING', error = NULL, finished_at = NULL, updated_at = now()
WHERE id = $1 AND status = 'FAILED'
RETURNING id;

-- name: try_lock_job
-- Try the session advisory lock that lets one worker at a time run a job.
SELECT pg_try_advisory_lock(hashtextextended($1::uuid::text, 0));

-- name: unlock_job
-- Release the job's advisory lock.
SELECT pg_advisory_unlock(hashtextextended($1::uuid::text, 0));

-- name: job_open_issues
-- A job's unresolved issues with the rows each concerns, first rows first ($2: how many).
SELECT i.type, i.field, i.message, array_agg(ii.row_number ORDER BY ii.row_number) AS rows
FROM issues i
JOIN issue_items ii ON ii.issue_id = i.id
WHERE i.job_id = $1 AND NOT i.resolved
GROUP BY i.id
ORDER BY min(ii.row_number), i.type
LIMIT $2;

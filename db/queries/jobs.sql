-- name: job_has_staging
-- Whether any staging row exists for the job (the router's second input).
SELECT EXISTS (SELECT 1 FROM staging WHERE job_id = $1);

-- name: insert_job
-- Create a PENDING job for an uploaded object; with an idempotency key ($8) the tenant
-- already used, the existing job instead. Returns its id and whether it is new.
WITH inserted AS (
    INSERT INTO jobs (user_id, source_bucket, source_key, source_version_id, source_etag,
                      original_filename, options, idempotency_key)
    VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8)
    ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
)
SELECT id, true AS created FROM inserted
UNION ALL
SELECT id, false AS created FROM jobs
WHERE $8::text IS NOT NULL AND user_id = $1 AND idempotency_key = $8
  AND NOT EXISTS (SELECT 1 FROM inserted);

-- name: job_by_idempotency_key
-- The tenant's job with this idempotency key, and its object's key.
SELECT id, source_key FROM jobs WHERE user_id = $1 AND idempotency_key = $2;

-- name: ingested_objects
-- Jobs already made from these objects of a bucket ($2 keys): key, version and ETag.
SELECT source_key, source_version_id, source_etag
FROM jobs
WHERE source_bucket = $1 AND source_key = ANY ($2::text[]);

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
-- Keep the last transient error on a job that will be retried; a job that finished keeps
-- none (what failed after its end, a message's settlement, is not the job's error).
UPDATE jobs SET error = $2, updated_at = now()
WHERE id = $1 AND status NOT IN ('COMPLETED', 'CANCELLED');

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

-- name: count_open_issues
-- How many of the job's issues are open now.
SELECT count(*) FROM issues WHERE job_id = $1 AND NOT resolved;

-- name: list_jobs
-- The newest jobs, of one tenant ($1) or all (NULL), in one status ($2) or any (NULL).
SELECT id, user_id, status, source_bucket, source_key, total_rows, valid_rows, issue_rows,
       unresolved_issues, created_at, finished_at, error
FROM jobs
WHERE ($1::text IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)
ORDER BY created_at DESC, id
LIMIT $3;

-- name: job_stats
-- Jobs by status, of one tenant ($1) or all (NULL), created since $2 (or ever, NULL).
SELECT status, count(*) AS jobs
FROM jobs
WHERE ($1::text IS NULL OR user_id = $1) AND ($2::timestamptz IS NULL OR created_at >= $2)
GROUP BY status;

-- name: cancel_job
-- Cancel a PENDING or NEEDS_REVIEW job (of tenant $2 when given); returns it if it was.
UPDATE jobs
SET status = 'CANCELLED', finished_at = now(), updated_at = now()
WHERE id = $1 AND ($2::text IS NULL OR user_id = $2) AND status IN ('PENDING', 'NEEDS_REVIEW')
RETURNING id, user_id;

-- name: fetch_tenant_job
-- One job by id, of tenant $2 when given (another tenant's job is no job at all).
SELECT * FROM jobs WHERE id = $1 AND ($2::text IS NULL OR user_id = $2);

-- name: jobs_to_purge
-- Jobs whose staging rows and exports retention removes: COMPLETED (or CANCELLED)
-- finished before $1, FAILED finished before $2, not purged yet.
SELECT id, user_id, status, finished_at, exports
FROM jobs
WHERE purged_at IS NULL
  AND ((status IN ('COMPLETED', 'CANCELLED') AND finished_at < $1)
       OR (status = 'FAILED' AND finished_at < $2))
ORDER BY finished_at
LIMIT $3;

-- name: purge_job
-- Remove a job's staging rows, their issue links and its exports record; the job, its
-- issues, review history and contacts stay. Returns the rows removed.
WITH removed AS (
    DELETE FROM staging WHERE job_id = $1 RETURNING 1
), unlinked AS (
    DELETE FROM issue_items WHERE job_id = $1
), marked AS (
    UPDATE jobs SET purged_at = now(), exports = '{}'::jsonb, updated_at = now()
    WHERE id = $1
)
SELECT count(*) FROM removed;

-- name: insert_jobs
-- Create PENDING jobs in bulk ($1 tenants, $2 bucket, $3 keys, $4 version ids, $5 ETags,
-- $6 file names, $7 options as JSON text, $8 idempotency keys), in the order given; those
-- whose tenant already used the idempotency key are skipped. Returns the new ones.
INSERT INTO jobs (user_id, source_bucket, source_key, source_version_id, source_etag,
                  original_filename, options, idempotency_key)
SELECT u.user_id, $2, u.key, u.version_id, u.etag, u.filename, u.options::jsonb, u.idempotency_key
FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
     WITH ORDINALITY AS u(user_id, key, version_id, etag, filename, options, idempotency_key, n)
ORDER BY u.n
ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, source_key;

-- name: job_holder
-- Who holds job $1's lock (the application name of the worker process holding it), and
-- since when its connection has been in its current state; no row when nobody does.
SELECT a.application_name, a.pid, a.backend_start
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = (hashtextextended($1::uuid::text, 0) >> 32) & 4294967295
  AND l.objid::bigint = hashtextextended($1::uuid::text, 0) & 4294967295;

-- name: reset_exports
-- Forget job $1's exports for its decision (written, failed or abandoned): the next
-- export request writes them again.
UPDATE jobs SET exports = '{}'::jsonb, updated_at = now() WHERE id = $1;

-- name: job_row_counts
-- A job's rows by what became of them: imported (SUCCESS as ingest_row_status shows it),
-- ready (to import at the next consolidation), with issues, discarded; one scan of the
-- job's rows.
SELECT count(*) FILTER (WHERE ingest_row_status(s.status, j.status) = 'SUCCESS') AS imported,
       count(*) FILTER (WHERE ingest_row_status(s.status, j.status) = 'READY') AS ready,
       count(*) FILTER (WHERE s.status = 'ISSUE') AS with_issues,
       count(*) FILTER (WHERE s.status = 'DISCARD') AS discarded
FROM jobs j
JOIN staging s ON s.job_id = j.id
WHERE j.id = $1;

-- name: job_discard_reasons
-- Why the job's discarded rows were discarded (ingest_discarded_rows): how many rows per
-- kind of action, and by whom.
SELECT action, count(*) AS rows, string_agg(DISTINCT actor, ', ') AS actors
FROM ingest_discarded_rows($1)
GROUP BY action
ORDER BY count(*) DESC, action;

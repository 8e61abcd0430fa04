-- name: lock_sweep
-- One sweep at a time across every worker and cron run (released at commit).
SELECT pg_try_advisory_xact_lock(hashtextextended('ingest-worker sweep', 0));

-- name: find_failed_exports
-- Decided jobs whose exports for their decision failed fewer than $1 times, the last
-- failure more than $2 x 4^(tries - 1) seconds ago ($3: how many): written again by
-- themselves, with a growing backoff, up to the limit (then `jobs exports` asks again).
SELECT j.id, j.status, 'export' AS action,
       'exports failed ' || (j.exports ->> 'attempts') || ' time(s)' AS why
FROM jobs j
WHERE j.purged_at IS NULL
  AND j.status IN ('NEEDS_REVIEW', 'COMPLETED')
  AND j.exports ->> 'state' = 'failed'
  AND j.exports -> 'decided_at' = to_jsonb(j.decided_at)
  AND coalesce((j.exports ->> 'attempts')::int, 1) < $1
  AND (j.exports ->> 'failed_at')::timestamptz
      < now() - make_interval(secs => $2 * 4 ^ (coalesce((j.exports ->> 'attempts')::int, 1) - 1))
  AND (j.swept_at IS NULL OR j.swept_at
       < now() - make_interval(secs => $2 * 4 ^ (coalesce((j.exports ->> 'attempts')::int, 1) - 1)))
  AND NOT ingest_advisory_held(hashtextextended(j.id::text, 1))
ORDER BY j.updated_at
LIMIT $3
FOR UPDATE OF j SKIP LOCKED;

-- name: find_stranded_jobs
-- Jobs nothing will move ($1: seconds untouched and since their last sweep; $2: how many;
-- $3: whether the queue is empty, so that PENDING jobs cannot have a message waiting):
-- PENDING or running with nobody holding the job lock, in review with a reprocess request
-- never run, or decided with exports claimed by a writer whose export lock is gone. Locked rows (a job being changed now) are skipped.
SELECT j.id, j.status,
       CASE WHEN j.status = 'NEEDS_REVIEW' AND j.reprocess_requested_at > j.decided_at
              THEN 'reprocess'
            WHEN j.status IN ('NEEDS_REVIEW', 'COMPLETED') THEN 'export'
            ELSE 'process' END AS action,
       CASE WHEN j.status = 'PENDING' THEN 'never picked up'
            WHEN j.status = 'NEEDS_REVIEW' AND j.reprocess_requested_at > j.decided_at
              THEN 'reprocessing asked for, never run'
            WHEN j.status IN ('NEEDS_REVIEW', 'COMPLETED') THEN 'exports abandoned'
            ELSE 'no worker holds it' END AS why
FROM jobs j
WHERE j.purged_at IS NULL
  AND j.status IN ('PENDING', 'PROCESSING', 'CONSOLIDATING', 'NEEDS_REVIEW', 'COMPLETED')
  -- PENDING jobs only while the queue holds nothing to receive ($3): in a backlog their
  -- messages are most likely waiting in it.
  AND (j.status <> 'PENDING' OR $3::boolean)
  AND j.updated_at < now() - make_interval(secs => $1)
  AND (j.swept_at IS NULL OR j.swept_at < now() - make_interval(secs => $1))
  AND CASE
        WHEN j.status = 'NEEDS_REVIEW' AND j.reprocess_requested_at > j.decided_at
          THEN NOT ingest_advisory_held(hashtextextended(j.id::text, 0))
        WHEN j.status IN ('NEEDS_REVIEW', 'COMPLETED')
          THEN j.exports ->> 'state' = 'writing'
               AND NOT ingest_advisory_held(hashtextextended(j.id::text, 1))
        ELSE NOT ingest_advisory_held(hashtextextended(j.id::text, 0))
      END
ORDER BY j.updated_at
LIMIT $2
FOR UPDATE OF j SKIP LOCKED;

-- name: mark_swept
-- Record that the jobs $1 were sent again now.
UPDATE jobs SET swept_at = now() WHERE id = ANY($1::uuid[]);

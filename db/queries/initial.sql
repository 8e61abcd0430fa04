-- name: start_initial_job
-- Mark a job PROCESSING and record what the source is and what detection found.
UPDATE jobs
SET status = 'PROCESSING',
    started_at = coalesce(started_at, now()),
    source_version_id = $2,
    source_etag = $3,
    source_size_bytes = $4,
    detected_encoding = $5,
    detected_dialect = $6,
    column_mapping = $7,
    mapping_confidence = $8,
    header = $9,
    error = NULL,
    updated_at = now()
WHERE id = $1;

-- name: relax_commit_durability
-- For batch transactions only: commit without waiting for the WAL flush. A server crash
-- can lose the last batches as a consistent suffix (checkpoint included), which resume
-- writes again; the final decision commits durably.
SET LOCAL synchronous_commit = off;

-- name: record_batch_progress
-- Advance the checkpoint (last committed row) and the progress counters of a job.
UPDATE jobs
SET checkpoint_row = $2, processed_rows = $3, bytes_read = $4, updated_at = now()
WHERE id = $1;

-- name: insert_row_issues
-- File row-local issues ($2 keys, $3 types, $4 fields, $5 messages, $6 row numbers) and
-- link each to its row; an issue already filed (same key) is left as it is.
WITH input AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[])
        AS u(issue_key, type, field, message, row_number)
), filed AS (
    INSERT INTO issues (job_id, issue_key, type, field, message)
    SELECT $1, issue_key, type, field, message FROM input
    ON CONFLICT (job_id, issue_key) DO NOTHING
    RETURNING id, issue_key
)
INSERT INTO issue_items (issue_id, job_id, row_number)
SELECT filed.id, $1, input.row_number FROM filed JOIN input USING (issue_key)
ON CONFLICT DO NOTHING;

-- name: file_duplicate_issues
-- One DUPLICATE_IN_FILE issue per normalised email that more than one kept row holds.
INSERT INTO issues (job_id, issue_key, type, field, message)
SELECT $1, 'dup:' || email_normalized, 'DUPLICATE_IN_FILE', 'email',
       format('%s appears in %s rows of the file', email_normalized, count(*))
FROM staging
WHERE job_id = $1 AND email_normalized IS NOT NULL AND status <> 'DISCARD'
GROUP BY email_normalized
HAVING count(*) > 1
ON CONFLICT (job_id, issue_key) DO NOTHING;

-- name: link_duplicate_issues
-- Link each DUPLICATE_IN_FILE issue to every kept row holding its email. The duplicate
-- rows come from one pass over the job's rows, and each finds its issue through the
-- issues' unique key, so the plan stays cheap even before the new rows have statistics.
WITH dup_rows AS (
    SELECT row_number, email_normalized
    FROM (
        SELECT row_number, email_normalized,
               count(*) OVER (PARTITION BY email_normalized) AS copies
        FROM staging
        WHERE job_id = $1 AND email_normalized IS NOT NULL AND status <> 'DISCARD'
    ) counted
    WHERE copies > 1
)
INSERT INTO issue_items (issue_id, job_id, row_number)
SELECT i.id, $1, d.row_number
FROM dup_rows d
JOIN issues i ON i.job_id = $1 AND i.issue_key = 'dup:' || d.email_normalized
ON CONFLICT DO NOTHING;

-- name: file_existing_contact_issues
-- One EXISTING_CONTACT issue per kept row whose email this tenant ($2) already has.
WITH hits AS (
    SELECT s.row_number, s.email_normalized
    FROM staging s
    JOIN contacts c ON c.user_id = $2 AND c.email_normalized = s.email_normalized
    WHERE s.job_id = $1 AND s.status <> 'DISCARD'
), filed AS (
    INSERT INTO issues (job_id, issue_key, type, field, message)
    SELECT $1, 'existing:' || row_number, 'EXISTING_CONTACT', 'email',
           format('%s is already one of your contacts', email_normalized)
    FROM hits
    ON CONFLICT (job_id, issue_key) DO NOTHING
    RETURNING id, issue_key
)
INSERT INTO issue_items (issue_id, job_id, row_number)
SELECT filed.id, $1, substr(filed.issue_key, 10)::int FROM filed
ON CONFLICT DO NOTHING;

-- name: mark_rows_with_open_issues
-- Rows that an unresolved issue concerns are ISSUE rows.
UPDATE staging s
SET status = 'ISSUE', updated_at = now()
FROM (
    SELECT DISTINCT ii.row_number
    FROM issue_items ii JOIN issues i ON i.id = ii.issue_id
    WHERE ii.job_id = $1 AND NOT i.resolved
) open_rows
WHERE s.job_id = $1 AND s.row_number = open_rows.row_number AND s.status = 'READY';

-- name: finish_initial_job
-- Final counters and the decision: open issues -> NEEDS_REVIEW, none -> CONSOLIDATING.
WITH rows AS (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE status = 'READY') AS valid,
           count(*) FILTER (WHERE status = 'ISSUE') AS with_issues
    FROM staging WHERE job_id = $1
), open_issues AS (
    SELECT count(*) AS n FROM issues WHERE job_id = $1 AND NOT resolved
)
UPDATE jobs
SET status = CASE WHEN open_issues.n > 0 THEN 'NEEDS_REVIEW' ELSE 'CONSOLIDATING' END,
    total_rows = rows.total,
    processed_rows = rows.total,
    valid_rows = rows.valid,
    issue_rows = rows.with_issues,
    unresolved_issues = open_issues.n,
    source_sha256 = $2,
    bytes_read = $3,
    updated_at = now()
FROM rows, open_issues
WHERE jobs.id = $1
RETURNING jobs.status, jobs.unresolved_issues, jobs.total_rows;

-- Review actions and the reprocessing flow. Every review query names the tenant ($2) and
-- touches a job only through a row of jobs with that user_id: one tenant never reads or
-- changes another's rows, and a job id of another tenant looks like no job at all. The
-- listings check that once (an uncorrelated EXISTS or a one-row read of the job), not once
-- per row.

-- name: review_lock_job
-- The tenant's job, locked until the action's transaction ends (actions and reprocessing
-- on one job happen one after the other).
SELECT id, user_id, status, header, column_mapping, options
FROM jobs WHERE id = $1 AND user_id = $2
FOR UPDATE;

-- name: review_job
-- The tenant's job (no lock), for reading.
SELECT id, user_id, status, unresolved_issues, total_rows, valid_rows, issue_rows
FROM jobs WHERE id = $1 AND user_id = $2;

-- name: review_list_issues
-- A page of the tenant's job issues (open only unless $3), open first then by first row,
-- each with its number in the job (1, 2, ... in the order the job's issues were filed:
-- what people see and accept by; the id counts across all jobs and tenants), how many rows
-- it concerns and the first $6 of them. An open issue is pending when every row it
-- concerns was edited or discarded since the job's last decision: the next reprocessing
-- judges it (checked for the page's issues only).
SELECT p.*,
       -- Per link of the page's issues, one probe of the row's key.
       NOT p.resolved AND p.row_count > 0 AND NOT EXISTS (
           SELECT 1
           FROM issue_items ii
           WHERE ii.issue_id = p.id
             AND NOT coalesce((
                 SELECT s.status = 'DISCARD' OR s.edited_at > d.decided_at
                 FROM staging s
                 WHERE s.job_id = $1 AND s.row_number = ii.row_number
             ), false)
       ) AS pending
FROM (
    SELECT i.id, i.number, i.type, i.field, i.message, i.resolved, i.resolution,
           i.resolved_at, i.created_at, count(ii.row_number) AS row_count,
           (array_agg(ii.row_number ORDER BY ii.row_number))[1:$6] AS rows,
           min(ii.row_number) AS first_row
    -- Numbered over all the job's issues in one pass, before the filter on resolved.
    FROM (SELECT *, row_number() OVER (ORDER BY id) AS number FROM issues WHERE job_id = $1) i
    LEFT JOIN issue_items ii ON ii.issue_id = i.id
    WHERE ($3 OR NOT i.resolved)
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = $1 AND j.user_id = $2)
    GROUP BY i.id, i.number, i.type, i.field, i.message, i.resolved, i.resolution,
             i.resolved_at, i.created_at
    ORDER BY i.resolved, min(ii.row_number), i.type, i.id
    LIMIT $4 OFFSET $5
) p, (SELECT decided_at FROM jobs WHERE id = $1) d
ORDER BY p.resolved, p.first_row, p.type, p.id;

-- name: review_list_rows
-- A page of the tenant's job rows after row $4 (status $3, or any when NULL), with their
-- cells as read, their current fields and their open issues (with their numbers in the job).
WITH job AS MATERIALIZED (
    SELECT status FROM jobs WHERE id = $1 AND user_id = $2
), page AS MATERIALIZED (
    -- The job's status is read once (an init plan), never joined row by row.
    SELECT s.row_number, ingest_row_status(s.status, (SELECT status FROM job)) AS status,
           s.raw, s.email, s.first_name, s.last_name, s.company, s.phone, s.phone_e164,
           s.edited_at, s.update_existing
    FROM staging s
    WHERE s.job_id = $1 AND EXISTS (SELECT 1 FROM job)
      AND ($3::text IS NULL OR ingest_row_status(s.status, (SELECT status FROM job)) = $3)
      AND s.row_number > $4
    ORDER BY s.row_number
    LIMIT $5
), links AS MATERIALIZED (
    -- The open issues of the page's rows, through the rows' keys.
    SELECT ii.row_number, i.id, i.type, i.field, i.message
    FROM page p
    JOIN issue_items ii ON ii.job_id = $1 AND ii.row_number = p.row_number
    JOIN issues i ON i.id = ii.issue_id
    WHERE NOT i.resolved
), numbered AS MATERIALIZED (
    -- Their numbers: one pass over the job's issues.
    SELECT w.id, w.number
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS number FROM issues WHERE job_id = $1) w
    WHERE w.id IN (SELECT id FROM links)
)
SELECT p.row_number, p.status, p.raw, p.email, p.first_name, p.last_name, p.company, p.phone,
       p.phone_e164, p.edited_at, p.update_existing,
       coalesce(jsonb_agg(jsonb_build_object('id', l.id, 'number', n.number, 'type', l.type,
                                             'field', l.field, 'message', l.message)
                          ORDER BY l.id) FILTER (WHERE l.id IS NOT NULL),
                '[]'::jsonb) AS issues
FROM page p
LEFT JOIN (links l JOIN numbered n ON n.id = l.id) ON l.row_number = p.row_number
GROUP BY p.row_number, p.status, p.raw, p.email, p.first_name, p.last_name, p.company,
         p.phone, p.phone_e164, p.edited_at, p.update_existing
ORDER BY p.row_number;

-- name: review_lock_row
-- One staging row of a locked job, locked for the action.
SELECT row_number, status, email, first_name, last_name, company, phone, update_existing
FROM staging WHERE job_id = $1 AND row_number = $2
FOR UPDATE;

-- name: review_edit_row
-- A person's new field values for a row; accepting it as an update of the existing
-- contact no longer holds once its email changed. Re-validated by reprocessing.
UPDATE staging
SET email = $3, first_name = $4, last_name = $5, company = $6, phone = $7,
    update_existing = update_existing AND email IS NOT DISTINCT FROM $3,
    edited_at = now(), updated_at = now()
WHERE job_id = $1 AND row_number = $2;

-- name: review_set_row_status
-- Discard a live row (DISCARD), or mark it to update the tenant's existing contact.
UPDATE staging
SET status = CASE WHEN $3 THEN 'DISCARD' ELSE status END,
    update_existing = update_existing OR $4,
    updated_at = now()
WHERE job_id = $1 AND row_number = $2 AND status IN ('READY', 'ISSUE');

-- name: review_lock_issue
-- Issue number $2 of a job (locked by review_lock_job: no issue is filed meanwhile), with
-- the rows it concerns.
SELECT i.id, i.type, i.field, i.message, i.resolved,
       array_remove(array_agg(ii.row_number ORDER BY ii.row_number), NULL) AS rows
FROM (SELECT id FROM issues WHERE job_id = $1 ORDER BY id OFFSET $2 - 1 LIMIT 1) nth
JOIN issues i ON i.id = nth.id
LEFT JOIN issue_items ii ON ii.issue_id = i.id
WHERE $2 >= 1
GROUP BY i.id;

-- name: review_resolve_issue
-- Resolve one issue by a person's decision.
UPDATE issues
SET resolved = true, resolved_at = now(), resolution = $3, updated_at = now()
WHERE job_id = $1 AND id = $2;

-- name: review_record_action
-- Record who did what to which row or issue of a job.
INSERT INTO review_actions (job_id, user_id, actor, action, row_number, issue_id, details)
VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)
RETURNING id, created_at;

-- name: review_history
-- What people did to the tenant's job (to row $3 only, when given), oldest first.
WITH numbered AS (
    SELECT id, row_number() OVER (ORDER BY id) AS number FROM issues WHERE job_id = $1
)
SELECT a.id, a.actor, a.action, a.row_number, a.issue_id, n.number AS issue_number,
       a.details, a.created_at
FROM review_actions a
LEFT JOIN numbered n ON n.id = a.issue_id
WHERE a.job_id = $1 AND ($3::int IS NULL OR a.row_number = $3)
  AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = $1 AND j.user_id = $2)
ORDER BY a.id;

-- name: lock_job_for_reprocessing
-- The job's status, its row locked for the whole reprocessing transaction (review
-- actions wait until it commits).
SELECT status, user_id FROM jobs WHERE id = $1 FOR UPDATE;

-- name: create_reprocessing_tables
-- Scratch tables for one reprocessing transaction: the re-validated fields of the live
-- rows and the row-local problems they have now.
CREATE TEMPORARY TABLE reprocess_fields (
    row_number integer PRIMARY KEY, email text, email_normalized text, first_name text,
    last_name text, company text, phone text, phone_e164 text
) ON COMMIT DROP;
CREATE TEMPORARY TABLE reprocess_problems (
    issue_key text PRIMARY KEY, type text, field text, message text, row_number integer
) ON COMMIT DROP;

-- name: fetch_edited_rows
-- A job's live rows that people edited, with their fields, read through a cursor (one
-- pass over the job's rows, a page at a time). The rules are row-local and
-- deterministic: a row nobody edited would be judged as before.
SELECT row_number, email, first_name, last_name, company, phone
FROM staging
WHERE job_id = $1 AND status IN ('READY', 'ISSUE') AND edited_at IS NOT NULL
ORDER BY row_number;

-- name: apply_revalidated_fields
-- Store the re-normalised fields where they changed.
UPDATE staging s
SET email = f.email, email_normalized = f.email_normalized, first_name = f.first_name,
    last_name = f.last_name, company = f.company, phone = f.phone, phone_e164 = f.phone_e164,
    updated_at = now()
FROM reprocess_fields f
WHERE s.job_id = $1 AND s.row_number = f.row_number
  AND (s.email, s.email_normalized, s.first_name, s.last_name, s.company, s.phone,
       s.phone_e164)
      IS DISTINCT FROM (f.email, f.email_normalized, f.first_name, f.last_name, f.company,
                        f.phone, f.phone_e164);

-- name: file_revalidated_row_issues
-- The row-local problems the live rows have now: filed, or re-opened if resolved.
WITH filed AS (
    INSERT INTO issues (job_id, issue_key, type, field, message)
    SELECT $1, issue_key, type, field, message FROM reprocess_problems
    ON CONFLICT (job_id, issue_key) DO UPDATE
    SET resolved = false, resolved_at = NULL, resolution = NULL, message = EXCLUDED.message,
        updated_at = now()
    WHERE issues.resolved OR issues.message <> EXCLUDED.message
    RETURNING id, issue_key
)
INSERT INTO issue_items (issue_id, job_id, row_number)
SELECT filed.id, $1, p.row_number FROM filed JOIN reprocess_problems p USING (issue_key)
ON CONFLICT DO NOTHING;

-- name: resolve_fixed_row_issues
-- Resolve row-local issues whose problem is gone: the row was discarded, or it was edited
-- and re-validation no longer finds it (rows nobody edited keep their issues: their
-- values are the ones judged). Problems of the file as read (encoding, ragged or
-- oversized rows, control characters replaced on reading) go the same way.
UPDATE issues i
SET resolved = true, resolved_at = now(), updated_at = now(),
    resolution = CASE
        WHEN s.status = 'DISCARD' THEN 'row discarded'
        WHEN s.edited_at IS NOT NULL THEN 'fixed by an edit'
        ELSE 'no longer a problem'
    END
FROM issue_items ii, staging s
WHERE i.job_id = $1 AND NOT i.resolved AND left(i.issue_key, 4) = 'row:'
  AND ii.issue_id = i.id AND s.job_id = $1 AND s.row_number = ii.row_number
  AND NOT EXISTS (SELECT 1 FROM reprocess_problems p WHERE p.issue_key = i.issue_key)
  AND (s.status = 'DISCARD' OR s.edited_at IS NOT NULL);

-- name: resolve_contact_conflicts
-- Conflicts from an earlier consolidation are checked again as existing contacts (the
-- next check files EXISTING_CONTACT where the email is still the tenant's).
UPDATE issues
SET resolved = true, resolved_at = now(), updated_at = now(),
    resolution = 'checked again against your contacts'
WHERE job_id = $1 AND type = 'CONTACT_CONFLICT' AND NOT resolved;

-- name: record_reprocess_request
-- A person asked for job $1's reviewed rows to be judged again (now).
UPDATE jobs SET reprocess_requested_at = now(), updated_at = now() WHERE id = $1;

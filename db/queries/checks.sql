-- The set-based checks and the decision, shared by the initial and reprocessing flows.
-- "Live" rows are READY or ISSUE: DISCARD rows are out of the import and SUCCESS rows are
-- already contacts. Every issue has a deterministic key, so running a check twice files
-- nothing twice; a check whose problem came back re-opens its issue.

-- name: plan_for_whole_job
-- Plans that a wrong row estimate cannot make quadratic, for the rest of the transaction.
-- A job's rows are newer than any statistics, so the planner believes a job has one row
-- and would join two of its per-row sets (staging, issue links, scratch tables) with a
-- nested loop: one probe of the inner set per outer row, minutes for 100k rows. Without
-- nested loops such joins are hash or merge joins, linear whatever the estimate. Lookups
-- into the tenant's contacts are written as scalar subqueries on its unique key (one index
-- probe per row, a plan shape this setting does not touch). Per-job partitions with their
-- own statistics were the other way; this one needs no DDL while other jobs run.
SET LOCAL enable_nestloop = off;

-- name: create_duplicate_rows
-- The live rows of the job whose normalised email another live row also holds; filled by
-- collect_duplicate_rows, read by the duplicate checks below, gone with the transaction.
CREATE TEMP TABLE duplicate_rows (
    email_normalized text NOT NULL,
    row_number integer NOT NULL
) ON COMMIT DROP;

-- name: collect_duplicate_rows
-- One pass over the job's rows, sorted by email bytewise (COLLATE "C": the same groups as
-- the database's collation, which compares much more slowly).
INSERT INTO duplicate_rows (email_normalized, row_number)
SELECT email_normalized, row_number
FROM (
    SELECT email_normalized, row_number,
           count(*) OVER (PARTITION BY email_normalized COLLATE "C") AS copies
    FROM staging
    WHERE job_id = $1 AND email_normalized IS NOT NULL AND status IN ('READY', 'ISSUE')
) counted
WHERE copies > 1;

-- name: file_duplicate_issues
-- One DUPLICATE_IN_FILE issue per normalised email that more than one live row holds
-- (re-opened if it had been resolved).
INSERT INTO issues (job_id, issue_key, type, field, message)
SELECT $1, 'dup:' || email_normalized, 'DUPLICATE_IN_FILE', 'email',
       format('%s appears in %s rows of the file', email_normalized, count(*))
FROM duplicate_rows
GROUP BY email_normalized
ON CONFLICT (job_id, issue_key) DO UPDATE
SET resolved = false, resolved_at = NULL, resolution = NULL, message = EXCLUDED.message,
    updated_at = now()
WHERE issues.resolved OR issues.message <> EXCLUDED.message;

-- name: link_duplicate_issues
-- Link each open DUPLICATE_IN_FILE issue to every live row holding its email.
INSERT INTO issue_items (issue_id, job_id, row_number)
SELECT i.id, $1, d.row_number
FROM duplicate_rows d
JOIN issues i ON i.job_id = $1 AND i.issue_key = 'dup:' || d.email_normalized
WHERE NOT i.resolved
ON CONFLICT DO NOTHING;

-- name: unlink_stale_duplicate_items
-- An open DUPLICATE_IN_FILE issue concerns only the live rows that still hold its email
-- (a row discarded or edited since leaves it; review_actions keeps what happened).
DELETE FROM issue_items ii
USING issues i, staging s
WHERE i.job_id = $1 AND i.type = 'DUPLICATE_IN_FILE' AND NOT i.resolved
  AND ii.issue_id = i.id AND s.job_id = $1 AND s.row_number = ii.row_number
  AND (s.status NOT IN ('READY', 'ISSUE')
       OR s.email_normalized IS DISTINCT FROM substr(i.issue_key, 5));

-- name: resolve_duplicate_issues
-- Resolve DUPLICATE_IN_FILE issues whose email no longer appears in two live rows.
UPDATE issues
SET resolved = true, resolved_at = now(), updated_at = now(),
    resolution = 'no longer duplicated among the rows kept'
WHERE job_id = $1 AND type = 'DUPLICATE_IN_FILE' AND NOT resolved
  AND NOT EXISTS (
      SELECT 1 FROM duplicate_rows d WHERE 'dup:' || d.email_normalized = issues.issue_key
  );

-- name: file_existing_contact_issues
-- One EXISTING_CONTACT issue per live row whose email this tenant ($2) already has,
-- unless a person accepted the row as an update of that contact (re-opened if resolved).
-- The contact is looked up by a scalar subquery: one probe of the unique key per row; a
-- tenant with no contacts at all (its first import) is seen once, and no row is probed
-- (the uncorrelated EXISTS is a one-time filter).
WITH hits AS (
    SELECT row_number, email_normalized
    FROM (
        SELECT s.row_number, s.email_normalized,
               (SELECT true FROM contacts c
                WHERE c.user_id = $2 AND c.email_normalized = s.email_normalized) AS known
        FROM staging s
        WHERE s.job_id = $1 AND s.status IN ('READY', 'ISSUE') AND NOT s.update_existing
          AND s.email_normalized IS NOT NULL
          AND EXISTS (SELECT 1 FROM contacts WHERE user_id = $2)
    ) probed
    WHERE known
), filed AS (
    INSERT INTO issues (job_id, issue_key, type, field, message)
    SELECT $1, 'existing:' || row_number, 'EXISTING_CONTACT', 'email',
           format('%s is already one of your contacts', email_normalized)
    FROM hits
    ON CONFLICT (job_id, issue_key) DO UPDATE
    SET resolved = false, resolved_at = NULL, resolution = NULL, message = EXCLUDED.message,
        updated_at = now()
    WHERE issues.resolved OR issues.message <> EXCLUDED.message
    RETURNING id, issue_key
)
INSERT INTO issue_items (issue_id, job_id, row_number)
SELECT filed.id, $1, substr(filed.issue_key, 10)::int FROM filed
ON CONFLICT DO NOTHING;

-- name: resolve_existing_contact_issues
-- Resolve EXISTING_CONTACT issues whose row was discarded, accepted as an update, or no
-- longer holds an email the tenant ($2) has.
UPDATE issues i
SET resolved = true, resolved_at = now(), updated_at = now(),
    resolution = CASE
        WHEN s.status = 'DISCARD' THEN 'row discarded'
        WHEN s.update_existing THEN 'accepted: the row updates the existing contact'
        ELSE 'the email is no longer one of your contacts'
    END
FROM staging s
WHERE i.job_id = $1 AND i.type = 'EXISTING_CONTACT' AND NOT i.resolved
  AND s.job_id = $1 AND s.row_number = substr(i.issue_key, 10)::int
  AND (s.status NOT IN ('READY', 'ISSUE') OR s.update_existing OR NOT EXISTS (
      SELECT 1 FROM contacts c
      WHERE c.user_id = $2 AND c.email_normalized = s.email_normalized));

-- name: mark_rows_with_open_issues
-- Live rows that an unresolved issue concerns are ISSUE rows.
UPDATE staging s
SET status = 'ISSUE', updated_at = now()
FROM (
    SELECT DISTINCT ii.row_number
    FROM issue_items ii JOIN issues i ON i.id = ii.issue_id
    WHERE ii.job_id = $1 AND NOT i.resolved
) open_rows
WHERE s.job_id = $1 AND s.row_number = open_rows.row_number AND s.status = 'READY';

-- name: mark_rows_without_open_issues
-- ISSUE rows that no unresolved issue concerns any more are READY again.
UPDATE staging s
SET status = 'READY', updated_at = now()
WHERE s.job_id = $1 AND s.status = 'ISSUE'
  AND NOT EXISTS (
      SELECT 1 FROM issue_items ii JOIN issues i ON i.id = ii.issue_id
      WHERE ii.job_id = $1 AND ii.row_number = s.row_number AND NOT i.resolved);

-- name: decide_job
-- The counters and the decision: open issues -> NEEDS_REVIEW, none -> CONSOLIDATING. A job
-- cancelled or finished meanwhile is left as it is (no row returned).
WITH rows AS (
    SELECT count(*) FILTER (WHERE status IN ('READY', 'SUCCESS')) AS valid,
           count(*) FILTER (WHERE status = 'ISSUE') AS with_issues
    FROM staging WHERE job_id = $1
), open_issues AS (
    SELECT count(*) AS n FROM issues WHERE job_id = $1 AND NOT resolved
)
UPDATE jobs
SET status = CASE WHEN open_issues.n > 0 THEN 'NEEDS_REVIEW' ELSE 'CONSOLIDATING' END,
    valid_rows = rows.valid,
    issue_rows = rows.with_issues,
    unresolved_issues = open_issues.n,
    decided_at = now(),
    updated_at = now()
FROM rows, open_issues
WHERE jobs.id = $1 AND jobs.status IN ('PROCESSING', 'NEEDS_REVIEW')
RETURNING jobs.*;

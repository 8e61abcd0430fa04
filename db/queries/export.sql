-- Enriched exports: claimed once per decision of a job, written from staging, recorded on
-- the job. jobs.exports holds {state: writing | written | failed, claim, decided_at,
-- status, claimed_at, written_at, files: {kind: {key, size_bytes, rows}}, error}.

-- name: lock_exports
-- The session lock a job's export writer holds while it writes: it dies with the writer's
-- connection (a killed worker's claim is free at once). Seed 1: the job lock uses seed 0.
SELECT pg_try_advisory_lock(hashtextextended($1::uuid::text, 1));

-- name: unlock_exports
-- Release lock_exports when the writer is done (a dead writer's session releases it).
SELECT pg_advisory_unlock(hashtextextended($1::uuid::text, 1));

-- name: claim_exports
-- Claim the writing of a job's exports for its current decision ($2 a fresh claim id),
-- unless they are written for it. Run holding lock_exports: a claim still 'writing' is a
-- dead writer's (a live one would hold the lock), taken over. Returns the previous state.
UPDATE jobs AS j
SET exports = jsonb_build_object('state', 'writing', 'claim', $2::text,
                                 'decided_at', j.decided_at, 'status', j.status,
                                 'claimed_at', now(),
                                 -- Tries for this decision (a failed one is retried).
                                 'attempts', CASE WHEN j.exports -> 'decided_at'
                                                       = to_jsonb(j.decided_at)
                                                  THEN coalesce((j.exports ->> 'attempts')::int,
                                                                0) + 1
                                                  ELSE 1 END)
FROM (SELECT id, exports ->> 'state' AS state FROM jobs WHERE id = $1 FOR UPDATE) AS before
WHERE j.id = $1 AND before.id = j.id
  AND j.status IN ('NEEDS_REVIEW', 'COMPLETED') AND j.decided_at IS NOT NULL
  AND j.purged_at IS NULL
  AND NOT coalesce(j.exports -> 'decided_at' = to_jsonb(j.decided_at)
                   AND j.exports ->> 'state' = 'written', false)
RETURNING j.*, before.state AS previous_state;

-- name: refresh_export_claim
-- Keep a claim fresh while its parts are uploaded; no row when another writer took over.
UPDATE jobs
SET exports = jsonb_set(exports, '{claimed_at}', to_jsonb(now()))
WHERE id = $1 AND exports ->> 'claim' = $2
RETURNING id;

-- name: plan_in_file_order
-- For the export files' queries, after plan_for_whole_job and once the open issues are
-- collected: a job's rows read in key order through the primary key, never sorted (a
-- planner that thinks the job is most of the table would sort it whole). Not before: with
-- sorts off, PostgreSQL 15 groups the issues through per-row probes instead of a sort.
SET LOCAL enable_sort = off;

-- name: create_export_issues
-- The open issues of each of the job's rows, once for the three files, in a temporary
-- table keyed by row number (gone with the transaction); filled by collect_export_issues.
CREATE TEMP TABLE export_issues (
    row_number integer PRIMARY KEY,
    types text NOT NULL,
    messages text NOT NULL,
    note text
) ON COMMIT DROP;

-- name: collect_export_issues
-- Fill export_issues for job $1.
INSERT INTO export_issues
SELECT ii.row_number, string_agg(i.type, '; ' ORDER BY i.id),
       string_agg(i.message, '; ' ORDER BY i.id)
FROM issue_items ii JOIN issues i ON i.id = ii.issue_id
WHERE ii.job_id = $1 AND i.job_id = $1 AND NOT i.resolved
GROUP BY ii.row_number;

-- name: collect_export_notes
-- Why each discarded row was discarded (ingest_discarded_rows), in export_issues' note.
INSERT INTO export_issues (row_number, types, messages, note)
SELECT row_number, '', '', note FROM ingest_discarded_rows($1)
ON CONFLICT (row_number) DO UPDATE SET note = EXCLUDED.note;

-- name: analyze_export_issues
-- Statistics for export_issues: the planner then knows how many rows have open issues.
ANALYZE export_issues;

-- name: export_every_row_valid
-- Whether every row of the job is READY or SUCCESS (in the export's snapshot): valid.csv
-- is then all.csv, copied instead of written again.
SELECT NOT EXISTS (
    SELECT 1 FROM staging WHERE job_id = $1 AND status NOT IN ('READY', 'SUCCESS')
);

-- name: widest_ragged_row
-- The most cells a RAGGED_ROW row of the job holds (NULL when none is ragged): exports and
-- contacts' extra fields then cover every cell as read.
SELECT max(cardinality(ingest_raw_cells(s.raw)))
FROM issues i
JOIN issue_items ii ON ii.issue_id = i.id
JOIN staging s ON s.job_id = $1 AND s.row_number = ii.row_number
WHERE i.job_id = $1 AND i.type = 'RAGGED_ROW';

-- name: export_csv
-- One export file's rows in file order, for COPY ... TO STDOUT (FORMAT csv): the cells as
-- read, then the row number, status (as of the job's status $2), open issues' types and
-- messages and current fields, each through ingest_export_cell. worker.store.exports
-- fills in "cells" (a cell expression and a comma per column), "raw cells"
-- (", ingest_raw_cell(s.raw, n) AS cn" per column), "filter" (the file's statuses) and
-- "tag" (nothing, or a leading column naming each row's file when one scan feeds the
-- three files) from integers and fixed text only. After plan_in_file_order and
-- collect_export_issues: the job's rows in key order meet their open issues in a merge
-- join of two primary keys, with no sort and no index left for the planner to pick wrong.
SELECT /*tag*//*cells*/e.row_number, ingest_row_status(e.status, $2),
       ingest_export_cell(e.types), ingest_export_cell(e.messages), ingest_export_cell(e.note),
       ingest_export_cell(e.email), ingest_export_cell(e.first_name),
       ingest_export_cell(e.last_name), ingest_export_cell(e.company),
       ingest_export_cell(e.phone)
FROM (
    -- OFFSET 0 keeps this a subquery: each raw cell is split once, not once per use above.
    SELECT s.row_number, s.status, s.email, s.first_name, s.last_name, s.company,
           coalesce(s.phone_e164, s.phone) AS phone,
           x.types, x.messages, x.note/*raw cells*/
    FROM staging s
    LEFT JOIN export_issues x ON x.row_number = s.row_number
    WHERE s.job_id = $1 AND /*filter*/
    ORDER BY s.row_number
    OFFSET 0
) e

-- name: record_exports
-- The exports written under a claim ($3: the files as JSON).
UPDATE jobs
SET exports = (exports - 'error')
    || jsonb_build_object('state', 'written', 'written_at', now(), 'files', $3::text::jsonb)
WHERE id = $1 AND exports ->> 'claim' = $2
RETURNING exports;

-- name: record_export_failure
-- Why the exports under a claim could not be written; a new request may claim them again.
UPDATE jobs
SET exports = exports || jsonb_build_object('state', 'failed', 'error', $3::text,
                                            'failed_at', now())
WHERE id = $1 AND exports ->> 'claim' = $2;

-- name: job_exports
-- A job's exports (of tenant $2 when given) and whether they are for its last decision.
SELECT *, coalesce(exports -> 'decided_at' = to_jsonb(decided_at), false) AS exports_current
FROM jobs
WHERE id = $1 AND ($2::text IS NULL OR user_id = $2);

-- Enriched exports: claimed once per decision of a job, written from staging, recorded on
-- the job. jobs.exports holds {state: writing | written | failed, claim, decided_at,
-- status, claimed_at, written_at, files: {kind: {key, size_bytes, rows}}, error}.

-- name: claim_exports
-- Claim the writing of a job's exports for its current decision ($2 a fresh claim id),
-- unless they are written for it or a claim younger than $3 seconds is at work.
UPDATE jobs
SET exports = jsonb_build_object('state', 'writing', 'claim', $2::text,
                                 'decided_at', decided_at, 'status', status,
                                 'claimed_at', now())
WHERE id = $1 AND status IN ('NEEDS_REVIEW', 'COMPLETED') AND decided_at IS NOT NULL
  AND purged_at IS NULL
  AND NOT coalesce(exports -> 'decided_at' = to_jsonb(decided_at)
                   AND (exports ->> 'state' = 'written'
                        OR (exports ->> 'state' = 'writing'
                            AND (exports ->> 'claimed_at')::timestamptz
                                > now() - make_interval(secs => $3))), false)
RETURNING id, user_id, status, decided_at, header;

-- name: refresh_export_claim
-- Keep a claim fresh while its parts are uploaded; no row when another writer took over.
UPDATE jobs
SET exports = jsonb_set(exports, '{claimed_at}', to_jsonb(now()))
WHERE id = $1 AND exports ->> 'claim' = $2
RETURNING id;

-- name: plan_in_file_order
-- For the export's transaction: a job's rows read in key order through the primary key,
-- never sorted (a planner that thinks the job is most of the table would sort it whole).
SET LOCAL enable_sort = off;

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
-- read, then the row number, status, open issues' types and messages and current fields,
-- each through ingest_export_cell. worker.flows.export fills in "cells" (a cell
-- expression and a comma per column), "raw cells" (", ingest_raw_cell(s.raw, n) AS cn"
-- per column) and "filter" (the
-- file's statuses) from integers and fixed text only. No join: the rows come in key
-- order (see plan_in_file_order) and a row that can have open issues (READY and SUCCESS
-- rows have none) looks them up by index probes, which no row estimate can change.
SELECT /*cells*/e.row_number, e.status,
       ingest_export_cell(e.types), ingest_export_cell(e.messages),
       ingest_export_cell(e.email), ingest_export_cell(e.first_name),
       ingest_export_cell(e.last_name), ingest_export_cell(e.company),
       ingest_export_cell(e.phone)
FROM (
    -- OFFSET 0 keeps this a subquery: each raw cell is split once, not once per use above.
    SELECT s.row_number, s.status, s.email, s.first_name, s.last_name, s.company,
           coalesce(s.phone_e164, s.phone) AS phone,
           CASE WHEN s.status NOT IN ('READY', 'SUCCESS') THEN (
               SELECT string_agg((SELECT i.type FROM issues i
                                  WHERE i.id = ii.issue_id AND NOT i.resolved),
                                 '; ' ORDER BY ii.issue_id)
               FROM issue_items ii WHERE ii.job_id = $1 AND ii.row_number = s.row_number
           ) END AS types,
           CASE WHEN s.status NOT IN ('READY', 'SUCCESS') THEN (
               SELECT string_agg((SELECT i.message FROM issues i
                                  WHERE i.id = ii.issue_id AND NOT i.resolved),
                                 '; ' ORDER BY ii.issue_id)
               FROM issue_items ii WHERE ii.job_id = $1 AND ii.row_number = s.row_number
           ) END AS messages/*raw cells*/
    FROM staging s
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
SELECT id, user_id, status, decided_at, exports, purged_at,
       coalesce(exports -> 'decided_at' = to_jsonb(decided_at), false) AS exports_current
FROM jobs
WHERE id = $1 AND ($2::text IS NULL OR user_id = $2);

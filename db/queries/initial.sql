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
WHERE id = $1 AND status IN ('PENDING', 'PROCESSING')
RETURNING id;

-- name: prepare_batch_session
-- For the connection that writes a job's batches: commit without waiting for the WAL
-- flush (a server crash can lose the last batches as a consistent suffix, checkpoint
-- included, which resume writes again; the final decision commits durably, on another
-- transaction with the setting reset), and no nested loops (see plan_for_whole_job: a
-- batch's issues are joined with its input, thousands of rows when a whole batch has
-- problems).
SET synchronous_commit = off;
SET enable_nestloop = off;

-- name: reset_batch_session
-- Back to the server's durability and plans before the connection goes back to the pool.
RESET synchronous_commit;
RESET enable_nestloop;

-- name: record_batch
-- In a batch's transaction, before the COPY of its rows: file its row-local issues ($2 keys, $3 types,
-- $4 fields, $5 messages, $6 row numbers) and link each to its row (an issue already filed
-- under the same key is left as it is), and advance the checkpoint (last committed row)
-- and progress counters ($7 checkpoint row, $8 processed rows, $9 bytes read). One
-- statement: one round trip per batch.
WITH input AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[])
        AS u(issue_key, type, field, message, row_number)
), filed AS (
    INSERT INTO issues (job_id, issue_key, type, field, message)
    SELECT $1, issue_key, type, field, message FROM input
    ON CONFLICT (job_id, issue_key) DO NOTHING
    RETURNING id, issue_key
), linked AS (
    INSERT INTO issue_items (issue_id, job_id, row_number)
    SELECT filed.id, $1, input.row_number FROM filed JOIN input USING (issue_key)
    ON CONFLICT DO NOTHING
)
UPDATE jobs
SET checkpoint_row = $7, processed_rows = $8, bytes_read = $9, updated_at = now()
WHERE id = $1;

-- name: record_skipped
-- What the reading skipped that is no row (the header met again, a report's footer),
-- kept with the detection so that `jobs show` can say it.
UPDATE jobs
SET detected_dialect = jsonb_set(coalesce(detected_dialect, '{}'), '{skipped}', $2::jsonb),
    updated_at = now()
WHERE id = $1;

-- name: record_late_encoding
-- A file ASCII in its first chunk: the encoding decided where it stopped being ASCII
-- (detected_dialect holds the detection, its encoding among it).
UPDATE jobs
SET detected_encoding = $2,
    detected_dialect = jsonb_set(coalesce(detected_dialect, '{}'), '{encoding}', $3::jsonb),
    updated_at = now()
WHERE id = $1;

-- name: record_initial_totals
-- After the last batch: the job's row count, the file's SHA-256 and the bytes read.
UPDATE jobs
SET total_rows = staged.n, processed_rows = staged.n, source_sha256 = $2, bytes_read = $3,
    updated_at = now()
FROM (SELECT count(*) AS n FROM staging WHERE job_id = $1) staged
WHERE jobs.id = $1;

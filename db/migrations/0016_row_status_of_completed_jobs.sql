-- A COMPLETED job's READY rows are its imported contacts: consolidation that completes a
-- job no longer rewrites every row to SUCCESS (that UPDATE was 45 % of a 500k-row
-- consolidation: a new version of every row and of its key). Rows are still marked
-- SUCCESS when a consolidation leaves the job in review (contact conflicts), so that the
-- next one inserts only what is left. Every reader shows a row's status through this
-- function: SUCCESS for READY in a COMPLETED job, the stored status otherwise.
CREATE FUNCTION ingest_row_status(row_status text, job_status text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN row_status = 'READY' AND job_status = 'COMPLETED' THEN 'SUCCESS'
                ELSE row_status END
$$;

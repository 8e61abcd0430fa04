-- Staging tuned for bulk loading (measured: COPY into staging with its secondary indexes
-- cost twice the time without them; asyncpg encodes text[] and JSON at ~5 us a row).
--
-- raw: the row's cells joined by U+001F (unit separator). A row whose cells hold U+001F,
-- U+001E or NUL is stored as U+001E followed by a JSON array with those characters
-- escaped. ingest_raw_cells(raw) gives the cells back as text[] in either case.
CREATE FUNCTION pg_temp.jsonb_cells_joined(cells jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_to_string(ARRAY(SELECT jsonb_array_elements_text(cells)), E'\x1f')
$$;
ALTER TABLE staging ALTER COLUMN raw TYPE text USING pg_temp.jsonb_cells_joined(raw);

CREATE FUNCTION ingest_raw_cells(raw text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN left(raw, 1) = E'\x1e'
            THEN ARRAY(SELECT jsonb_array_elements_text(substr(raw, 2)::jsonb))
        ELSE string_to_array(raw, E'\x1f')
    END
$$;

-- The set-based checks read a job's rows through the primary key (job_id, row_number);
-- these indexes cost more on every load than they save.
DROP INDEX staging_job_email_idx;
DROP INDEX staging_job_status_idx;

-- Export cells built by the server (`COPY (SELECT ...) TO STDOUT` in CSV). A cell that a
-- spreadsheet would run as a formula gets a leading apostrophe: one starting with =, +,
-- -, @, tab or CR (OWASP's CSV injection list), unless it is a plain number or phone
-- number (digits, spaces and + - ( ) . only), which no spreadsheet can run as code.
-- Empty cells come back as NULL, which COPY's CSV format writes as nothing (an empty
-- string would be written as "").
CREATE FUNCTION ingest_export_cell(cell text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN left(cell, 1) IN ('=', '+', '-', '@', E'\t', E'\r')
             AND cell !~ '^[-+0-9 ().]*$' THEN '''' || cell
        ELSE nullif(cell, '')
    END
$$;

-- Cell `cell_number` (1-based) of a raw row as ingest_raw_cells stores it ('' past its end).
CREATE FUNCTION ingest_raw_cell(raw text, cell_number integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN left(raw, 1) = E'\x1e' THEN coalesce((substr(raw, 2)::jsonb) ->> (cell_number - 1), '')
        ELSE split_part(raw, E'\x1f', cell_number)
    END
$$;

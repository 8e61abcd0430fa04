-- ingest_extra_fields() is no longer called: consolidation builds a job's extra fields
-- with one expression per job (worker.store.staging.extra_fields_sql, over
-- ingest_raw_cell), which costs 0.7 s per million rows where this function cost 11 s.
DROP FUNCTION ingest_extra_fields(text, jsonb, int[]);

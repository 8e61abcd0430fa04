-- staging without the unique (job_id, row_hash) key. The row hash begins with the row
-- number and (job_id, row_number) is the primary key, so the second key guarantees
-- nothing the first does not; it cost an index entry per staged row, and a planner that
-- believes a new job has one row picked it for single-row statements (`job_id = $1 AND
-- row_number = $2` read every index entry of the job through it: 100k entries for one
-- review edit, measured in tests/test_steady_state.py). The hash stays as a column.
ALTER TABLE staging DROP CONSTRAINT staging_row_hash_uq;

-- The sweep (worker.sweep) sends again the message of a job that nothing will move: a
-- PENDING job whose message never came (a producer that died between its commit and its
-- send), a running job whose worker died and whose message is gone, exports claimed by a
-- writer that died. swept_at keeps it from sending more than once per INGEST_SWEEP_AFTER_S.
ALTER TABLE jobs ADD COLUMN swept_at timestamptz;

-- Whether any session holds the advisory lock ``key`` (a bigint lock, as
-- pg_try_advisory_lock(bigint) takes it) in this database.
CREATE FUNCTION ingest_advisory_held(key bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1
        FROM pg_locks
        WHERE locktype = 'advisory' AND objsubid = 1 AND granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid::bigint = (key >> 32) & 4294967295
          AND objid::bigint = key & 4294967295
    )
$$;

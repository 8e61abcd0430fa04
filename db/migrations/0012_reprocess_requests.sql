-- A job's decision changes only on an explicit request: Review.request_reprocess records
-- when it was asked for, and a ``reprocess`` message runs reprocessing only while that
-- request is newer than the job's last decision (decided_at). A redelivered message of a
-- job in review (its initial flow's, or a request already served) only writes missing
-- exports, so edits a person is making are never judged before they ask.
ALTER TABLE jobs ADD COLUMN reprocess_requested_at timestamptz;

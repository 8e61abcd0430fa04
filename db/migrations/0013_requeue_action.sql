-- `ingest-worker jobs requeue` is recorded like the other operator actions.
ALTER TABLE review_actions DROP CONSTRAINT review_actions_action_check;
ALTER TABLE review_actions ADD CONSTRAINT review_actions_action_check CHECK (action IN (
    'edit', 'discard', 'accept_skip', 'accept_update', 'keep_one',
    'request_reprocess', 'cancel', 'retry', 'request_export', 'requeue'));

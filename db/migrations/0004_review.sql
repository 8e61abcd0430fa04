-- Review: what people do to a job's rows, and what it leaves on them.

-- When a person last edited the row's fields. Reading problems (ENCODING, RAGGED_ROW,
-- FIELD_TOO_LARGE) and control characters are facts about the file as read: they stay
-- open until a person edits or discards the row.
ALTER TABLE staging ADD COLUMN edited_at timestamptz;
-- A person accepted that this row updates the tenant's existing contact with its email
-- (cleared when the email is edited).
ALTER TABLE staging ADD COLUMN update_existing boolean NOT NULL DEFAULT false;

-- When the last flow decided the job's state (NEEDS_REVIEW, CONSOLIDATING, COMPLETED):
-- exports are written once per decision.
ALTER TABLE jobs ADD COLUMN decided_at timestamptz;

-- Every review action: who, when, what (before and after), on which row or issue.
CREATE TABLE review_actions (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id              uuid        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    user_id             text        NOT NULL,
    actor               text        NOT NULL,
    action              text        NOT NULL
        CONSTRAINT review_actions_action_check CHECK (action IN (
            'edit', 'discard', 'accept_skip', 'accept_update', 'keep_one',
            'request_reprocess', 'cancel', 'retry', 'request_export')),
    row_number          integer,
    issue_id            bigint      REFERENCES issues (id) ON DELETE SET NULL,
    details             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX review_actions_job_row_idx ON review_actions (job_id, row_number, id);

-- A row's cells outside the mapped columns, as a contact's extra fields keyed by header
-- (headers: a jsonb array of names; mapped: 0-based indexes of the mapped columns).
CREATE FUNCTION ingest_extra_fields(raw text, headers jsonb, mapped int[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_object_agg(coalesce(headers ->> (cell.position::int - 1),
                                              'column_' || cell.position), cell.value),
                    '{}'::jsonb)
    FROM unnest(ingest_raw_cells(raw)) WITH ORDINALITY AS cell(value, position)
    WHERE cell.value <> '' AND NOT (cell.position::int - 1 = ANY (mapped))
$$;

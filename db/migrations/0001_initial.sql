-- The initial schema: jobs, their staging rows and issues, and the tenants' contacts.
-- Status columns are text with CHECK constraints (easier to extend in a migration than enums).

CREATE TABLE jobs (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             text        NOT NULL,
    status              text        NOT NULL DEFAULT 'PENDING'
        CONSTRAINT jobs_status_check CHECK (status IN (
            'PENDING', 'PROCESSING', 'NEEDS_REVIEW', 'CONSOLIDATING',
            'COMPLETED', 'FAILED', 'CANCELLED')),
    -- The uploaded object, pinned: a resumed job reads the same bytes.
    source_bucket       text        NOT NULL,
    source_key          text        NOT NULL,
    source_version_id   text,
    source_etag         text,
    source_size_bytes   bigint,
    source_sha256       text,
    original_filename   text,
    -- What detection found (encoding, dialect, header, mapping) and how sure it was.
    detected_encoding   text,
    detected_dialect    jsonb,
    column_mapping      jsonb,
    mapping_confidence  real,
    header              jsonb,
    -- Per-job overrides: encoding, delimiter, quotechar, header_row, sheet, mapping,
    -- required_fields, default_country...
    options             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- Counters.
    total_rows          integer,
    processed_rows      integer     NOT NULL DEFAULT 0,
    valid_rows          integer     NOT NULL DEFAULT 0,
    issue_rows          integer     NOT NULL DEFAULT 0,
    unresolved_issues   integer     NOT NULL DEFAULT 0,
    bytes_read          bigint      NOT NULL DEFAULT 0,
    -- The last row number whose batch committed; a resumed job starts after it.
    checkpoint_row      integer     NOT NULL DEFAULT 0,
    attempts            integer     NOT NULL DEFAULT 0,
    error               text,
    exports             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    CONSTRAINT jobs_counters_check CHECK (
        processed_rows >= 0 AND valid_rows >= 0 AND issue_rows >= 0
        AND unresolved_issues >= 0 AND checkpoint_row >= 0 AND attempts >= 0)
);

-- Submitting the same thing twice with one key gives the same job, per tenant.
CREATE UNIQUE INDEX jobs_idempotency_key_uq ON jobs (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_user_created_idx ON jobs (user_id, created_at DESC);
CREATE INDEX jobs_status_idx ON jobs (status, updated_at);
-- Discovery skips objects already ingested.
CREATE INDEX jobs_source_idx ON jobs (source_bucket, source_key, source_version_id);


CREATE TABLE staging (
    job_id              uuid        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    row_number          integer     NOT NULL CONSTRAINT staging_row_number_check
                                        CHECK (row_number > 0),
    -- Deterministic over (job id, row number, content): a redelivery never stages twice.
    row_hash            bytea       NOT NULL,
    -- The row as read (all cells, in file order), and the fields mapped and normalised.
    raw                 jsonb       NOT NULL,
    email               text,
    email_normalized    text,
    first_name          text,
    last_name           text,
    company             text,
    phone               text,
    phone_e164          text,
    extra               jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status              text        NOT NULL
        CONSTRAINT staging_status_check CHECK (status IN ('READY', 'ISSUE', 'DISCARD', 'SUCCESS')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, row_number),
    CONSTRAINT staging_row_hash_uq UNIQUE (job_id, row_hash)
);

-- Duplicate and existing-contact checks group a job's rows by normalised email.
CREATE INDEX staging_job_email_idx ON staging (job_id, email_normalized)
    WHERE email_normalized IS NOT NULL;
CREATE INDEX staging_job_status_idx ON staging (job_id, status);


CREATE TABLE issues (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id              uuid        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    -- Deterministic per job ('row:42:INVALID_EMAIL:email', 'dup:ana@example.com'):
    -- a restart or a second run of the checks never files an issue twice.
    issue_key           text        NOT NULL,
    type                text        NOT NULL
        CONSTRAINT issues_type_check CHECK (type IN (
            'MISSING_FIELD', 'INVALID_EMAIL', 'FIELD_TOO_LONG', 'CONTROL_CHARACTERS',
            'ENCODING', 'RAGGED_ROW', 'FIELD_TOO_LARGE', 'INVALID_PHONE',
            'DUPLICATE_IN_FILE', 'EXISTING_CONTACT', 'CONTACT_CONFLICT')),
    field               text,
    message             text        NOT NULL,
    resolved            boolean     NOT NULL DEFAULT false,
    resolved_at         timestamptz,
    resolution          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT issues_key_uq UNIQUE (job_id, issue_key)
);

CREATE INDEX issues_job_unresolved_idx ON issues (job_id) WHERE NOT resolved;
CREATE INDEX issues_job_type_idx ON issues (job_id, type);


-- One issue can concern many rows (a duplicated email is one issue over N rows).
CREATE TABLE issue_items (
    issue_id            bigint      NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    job_id              uuid        NOT NULL,
    row_number          integer     NOT NULL,
    PRIMARY KEY (issue_id, row_number),
    FOREIGN KEY (job_id, row_number) REFERENCES staging (job_id, row_number) ON DELETE CASCADE
);

CREATE INDEX issue_items_row_idx ON issue_items (job_id, row_number);


CREATE TABLE contacts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             text        NOT NULL,
    email               text        NOT NULL,
    email_normalized    text        NOT NULL,
    first_name          text,
    last_name           text,
    company             text,
    phone               text,
    extra               jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- The job that created the contact; kept when old jobs are purged.
    job_id              uuid        REFERENCES jobs (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- One contact per email per tenant; other tenants may hold the same email.
    CONSTRAINT contacts_user_email_uq UNIQUE (user_id, email_normalized)
);

CREATE INDEX contacts_job_idx ON contacts (job_id) WHERE job_id IS NOT NULL;

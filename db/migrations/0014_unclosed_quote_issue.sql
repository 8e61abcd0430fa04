-- UNCLOSED_QUOTE: a quote opened in a row and never closed (a stray " in unquoted data).
-- The reader takes that row without quoting and reads the rows it would have swallowed
-- as rows; the issue names the row, for a person to check.
ALTER TABLE issues DROP CONSTRAINT issues_type_check;
ALTER TABLE issues ADD CONSTRAINT issues_type_check CHECK (type IN (
    'MISSING_FIELD', 'INVALID_EMAIL', 'FIELD_TOO_LONG', 'CONTROL_CHARACTERS',
    'ENCODING', 'RAGGED_ROW', 'FIELD_TOO_LARGE', 'INVALID_PHONE',
    'DUPLICATE_IN_FILE', 'EXISTING_CONTACT', 'CONTACT_CONFLICT', 'UNCLOSED_QUOTE'));

-- Why each of a job's discarded rows was discarded: its last discarding review action (a
-- person's discard with their note, an existing contact kept, a duplicate whose other row
-- was kept), by whom. Read by `jobs show` and by the exports' import_note column. Rows
-- discarded by no recorded action have no row here.
CREATE FUNCTION ingest_discarded_rows(job uuid)
RETURNS TABLE (row_number integer, action text, actor text, note text)
LANGUAGE sql STABLE AS $$
    WITH reasons AS (
        SELECT ra.row_number, ra.action, ra.actor, ra.id, ra.details ->> 'note' AS note,
               NULL::integer AS kept
        FROM review_actions ra
        WHERE ra.job_id = job AND ra.action IN ('discard', 'accept_skip')
        UNION ALL
        SELECT d.value::integer, ra.action, ra.actor, ra.id, NULL, ra.row_number
        FROM review_actions ra, jsonb_array_elements_text(ra.details -> 'discarded') AS d
        WHERE ra.job_id = job AND ra.action = 'keep_one'
    ), latest AS (
        SELECT DISTINCT ON (r.row_number) r.row_number, r.action, r.actor, r.note, r.kept
        FROM reasons r
        ORDER BY r.row_number, r.id DESC
    )
    SELECT l.row_number, l.action, l.actor,
           CASE l.action
               WHEN 'discard' THEN 'discarded by ' || l.actor
                                   || coalesce(': ' || l.note, '')
               WHEN 'accept_skip' THEN 'skipped by ' || l.actor
                                       || ': the email is already a contact'
               ELSE 'discarded by ' || l.actor || ': duplicate of row ' || l.kept
                    || ', which was kept'
           END
    FROM latest l
    JOIN staging s ON s.job_id = job AND s.row_number = l.row_number
    WHERE s.status = 'DISCARD'
$$;

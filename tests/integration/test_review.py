"""Review actions and the reprocessing flow, against the real PostgreSQL and S3/SQS server."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest

from tests.conftest import AwsResources
from tests.support import csv_bytes, drain, submit
from worker.errors import ActionRefused
from worker.jobs import job_report, render
from worker.messages import JobMessage
from worker.model import RowStatus
from worker.review import Review
from worker.services import Services
from worker.store.jobs import fetch_job

TENANT = "tenant-1"
# Row numbers are the file's line numbers: the header is line 1.
HEADER = ["E-mail", "Nome", "Apelido", "Empresa", "Telefone", "Cidade"]
LOOP_ROWS = [
    ["ana@x.pt", "Ana", "Silva", "Acme", "+351 912 345 678", "Lisboa"],  # row 2: clean
    ["bo-at-x.pt", "Bo", "Costa", "Acme", "", "Porto"],  # 3: invalid email -> edited
    ["cy@x.pt", "Cy", "Dias", "", "", "Faro"],  # 4: missing company -> discarded
    ["dup@x.pt", "Di", "Eco", "Acme", "", "Braga"],  # 5: duplicate -> kept
    ["DUP@x.pt", "Di", "Eco", "Acme", "", "Braga"],  # 6: duplicate -> discarded by keep
    ["old@x.pt", "Ed", "Fa", "NewCo", "+351 913 000 000", "Evora"],  # 7: existing -> update
    ["other@x.pt", "Fi", "Go", "Acme", "", "Beja"],  # 8: clean (tenant-2 has it)
]


async def _seed_contact(services: Services, tenant: str, email: str, company: str) -> None:
    await services.pool.execute(
        "INSERT INTO contacts (user_id, email, email_normalized, first_name, company)"
        " VALUES ($1, $2, lower($2), 'Old', $3)",
        tenant,
        email,
        company,
    )


async def _issue(review: Review, job_id: uuid.UUID, type_: str) -> dict[str, Any]:
    (issue,) = [i for i in await review.issues(job_id) if i["type"] == type_]
    return issue


async def _open_counts(services: Services, review: Review, job_id: uuid.UUID) -> tuple[int, ...]:
    """(open issues as jobs show says, as the review list has them, pending among them)."""
    report = await job_report(services.pool, job_id)
    assert report is not None
    shown = io.StringIO()
    render(report, shown)
    (line,) = [line for line in shown.getvalue().splitlines() if line.startswith("rows ")]
    listed = await review.issues(job_id)
    return (
        int(line.rsplit("; ", 1)[1].split()[0]),
        len(listed),
        sum(1 for issue in listed if issue["pending"]),
    )


async def _job_in_review(services: Services, aws: AwsResources) -> uuid.UUID:
    await _seed_contact(services, TENANT, "old@x.pt", "OldCo")
    await _seed_contact(services, "tenant-2", "other@x.pt", "TheirCo")
    job_id = await submit(services, aws, csv_bytes([HEADER, *LOOP_ROWS]))
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert (job.status, job.unresolved_issues) == ("NEEDS_REVIEW", 4)
    return job_id


async def test_a_redelivered_message_changes_nothing_while_a_person_edits(
    services: Services, aws: AwsResources
) -> None:
    job_id = await _job_in_review(services, aws)
    before = await fetch_job(services.pool, job_id)
    assert before is not None
    review = Review(services.pool, TENANT, "maria", services.queue)
    # Half-way through a review: one row edited, nothing asked for yet.
    await review.edit(job_id, 3, {"email": "bo@x.pt"})

    async def state() -> tuple[Any, ...]:
        job = await fetch_job(services.pool, job_id)
        assert job is not None
        issue_rows = await services.pool.fetch(
            "SELECT type, resolved FROM issues WHERE job_id = $1 ORDER BY id", job_id
        )
        return (
            job.status,
            job.decided_at,
            job.exports["decided_at"],
            job.unresolved_issues,
            [tuple(row) for row in issue_rows],
        )

    edited = await state()
    assert edited[1] == before.decided_at
    # The initial flow's message comes back (its worker died before deleting it), and so
    # does a reprocess message of a request already served: neither judges the edit.
    await services.queue.send(JobMessage(job_id=job_id).body())
    await drain(services)
    assert await state() == edited
    await services.queue.send(JobMessage(job_id=job_id, action="reprocess").body())
    await drain(services)
    assert await state() == edited
    assert aws.counts(aws.queues.queue_url) == (0, 0)
    # Asked for, it is judged.
    await review.request_reprocess(job_id)
    await drain(services)
    after = await state()
    assert after[1] > edited[1] and after[3] < edited[3]


async def test_the_full_loop_edit_discard_accept_reprocess_completes(
    services: Services, aws: AwsResources
) -> None:
    job_id = await _job_in_review(services, aws)
    review = Review(services.pool, TENANT, "maria", services.queue)
    issues = await review.issues(job_id)
    assert sorted((i["type"], i["rows"]) for i in issues) == [
        ("DUPLICATE_IN_FILE", [5, 6]),
        ("EXISTING_CONTACT", [7]),
        ("INVALID_EMAIL", [3]),
        ("MISSING_FIELD", [4]),
    ]

    assert await _open_counts(services, review, job_id) == (4, 4, 0)
    await review.edit(job_id, 3, {"email": " bo@x.pt "})
    await review.discard(job_id, 4, note="no company, not a lead")
    # Edited and discarded rows' issues wait for reprocessing, and say so.
    assert await _open_counts(services, review, job_id) == (4, 4, 2)
    pending = {i["type"] for i in await review.issues(job_id) if i["pending"]}
    assert pending == {"INVALID_EMAIL", "MISSING_FIELD"}
    await review.accept(
        job_id, (await _issue(review, job_id, "EXISTING_CONTACT"))["number"], "update"
    )
    assert await _open_counts(services, review, job_id) == (3, 3, 2)
    dup = await _issue(review, job_id, "DUPLICATE_IN_FILE")
    await review.accept(job_id, dup["number"], "keep", keep_row=5)
    assert await _open_counts(services, review, job_id) == (2, 2, 2)
    await review.request_reprocess(job_id)
    await drain(services)
    assert await _open_counts(services, review, job_id) == (0, 0, 0)

    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert (job.status, job.unresolved_issues, job.valid_rows) == ("COMPLETED", 0, 5)
    contacts = await services.pool.fetch(
        "SELECT user_id, email_normalized, first_name, company, job_id FROM contacts"
        " ORDER BY user_id, email_normalized"
    )
    assert [tuple(c) for c in contacts] == [
        (TENANT, "ana@x.pt", "Ana", "Acme", job_id),
        (TENANT, "bo@x.pt", "Bo", "Acme", job_id),
        (TENANT, "dup@x.pt", "Di", "Acme", job_id),
        # Updated with the row's values; still the contact the tenant had (no job of ours).
        (TENANT, "old@x.pt", "Ed", "NewCo", None),
        (TENANT, "other@x.pt", "Fi", "Acme", job_id),
        ("tenant-2", "other@x.pt", "Old", "TheirCo", None),
    ]
    statuses = await services.pool.fetch(
        "SELECT s.row_number, ingest_row_status(s.status, j.status) AS status"
        " FROM staging s JOIN jobs j ON j.id = s.job_id WHERE s.job_id = $1 ORDER BY 1",
        job_id,
    )
    assert [s["status"] for s in statuses] == [
        "SUCCESS",
        "SUCCESS",
        "DISCARD",
        "SUCCESS",
        "DISCARD",
        "SUCCESS",
        "SUCCESS",
    ]
    history = await review.issues(job_id, include_resolved=True)
    assert sorted((i["type"], i["resolved"], i["resolution"]) for i in history) == [
        ("DUPLICATE_IN_FILE", True, "accepted: kept row 5, discarded the others"),
        ("EXISTING_CONTACT", True, "accepted: the row updates the existing contact"),
        ("INVALID_EMAIL", True, "fixed by an edit"),
        ("MISSING_FIELD", True, "row discarded"),
    ]
    actions = await review.history(job_id)
    assert [(a["actor"], a["action"], a["row_number"]) for a in actions] == [
        ("maria", "edit", 3),
        ("maria", "discard", 4),
        ("maria", "accept_update", 7),
        ("maria", "keep_one", 5),
        ("maria", "request_reprocess", None),
    ]
    assert actions[0]["details"] == {
        "before": {"email": "bo-at-x.pt"},
        "after": {"email": "bo@x.pt"},
    }
    assert actions[3]["details"]["discarded"] == [6]
    assert [a["action"] for a in await review.history(job_id, row_number=3)] == ["edit"]

    # all.csv says why each discarded row was, and by whom.
    exports = await services.pool.fetchval("SELECT exports FROM jobs WHERE id = $1", job_id)
    body = aws.s3.get_object(Bucket=aws.bucket, Key=exports["files"]["all"]["key"])["Body"]
    lines = list(csv.reader(io.StringIO(body.read().decode("utf-8-sig"), newline="")))
    note = lines[0].index("import_note")
    assert {int(line[note - 4]): line[note] for line in lines[1:] if line[note]} == {
        4: "discarded by maria: no company, not a lead",
        6: "discarded by maria: duplicate of row 5, which was kept",
    }

    # jobs show: what became of every row, and why the discarded ones were discarded.
    report = await job_report(services.pool, job_id)
    assert report is not None
    shown = io.StringIO()
    render(report, shown)
    lines = shown.getvalue().splitlines()
    assert "rows        5 imported, 0 with issues, 2 discarded; 0 open issues" in lines
    assert "discarded   1 discarded by hand (maria); 1 duplicates of a kept row (maria)" in lines


async def test_reprocessing_files_new_problems_and_keeps_open_what_is_not_fixed(
    services: Services, aws: AwsResources
) -> None:
    job_id = await _job_in_review(services, aws)
    review = Review(services.pool, TENANT, "maria", services.queue)
    invalid = await _issue(review, job_id, "INVALID_EMAIL")
    # Still invalid; a name emptied (new MISSING_FIELD); an email made to equal row 7's.
    await review.edit(job_id, 3, {"email": "bo @x.pt"})
    await review.edit(job_id, 2, {"first_name": "", "email": "OTHER@x.pt"})
    await review.request_reprocess(job_id)
    await drain(services)

    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.status == "NEEDS_REVIEW"
    open_issues = {(i["type"], tuple(i["rows"])): i for i in await review.issues(job_id)}
    assert sorted(open_issues) == [
        ("DUPLICATE_IN_FILE", (2, 8)),
        ("DUPLICATE_IN_FILE", (5, 6)),
        ("EXISTING_CONTACT", (7,)),
        ("INVALID_EMAIL", (3,)),
        ("MISSING_FIELD", (2,)),
        ("MISSING_FIELD", (4,)),
    ]
    # The same issue, with the message of the new value; not a second one.
    assert open_issues["INVALID_EMAIL", (3,)]["id"] == invalid["id"]
    assert "contains a space" in open_issues["INVALID_EMAIL", (3,)]["message"]
    assert job.unresolved_issues == 6
    rows = {row["row_number"]: row for row in await review.rows(job_id)}
    assert rows[2]["email"] == "OTHER@x.pt" and rows[2]["status"] == "ISSUE"
    assert rows[2]["cells"][:2] == ["ana@x.pt", "Ana"]  # the cells as read are kept

    # Undo the duplicate by editing row 2 back: that issue resolves, the rest stays.
    await review.edit(job_id, 2, {"first_name": "Ana", "email": "ana@x.pt"})
    await review.request_reprocess(job_id)
    await drain(services)
    history = await review.issues(job_id, include_resolved=True)
    resolved = sorted(
        (i["type"], tuple(i["rows"]), i["resolution"]) for i in history if i["resolved"]
    )
    assert resolved == [
        ("DUPLICATE_IN_FILE", (2, 8), "no longer duplicated among the rows kept"),
        ("MISSING_FIELD", (2,), "fixed by an edit"),
    ]
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.unresolved_issues == 4


async def test_accepting_an_existing_email_as_skip_keeps_the_contact(
    services: Services, aws: AwsResources
) -> None:
    job_id = await _job_in_review(services, aws)
    review = Review(services.pool, TENANT, "maria", services.queue)
    await review.accept(
        job_id, (await _issue(review, job_id, "EXISTING_CONTACT"))["number"], "skip"
    )
    row = (await review.rows(job_id, after_row=6, limit=1))[0]
    assert (row["row_number"], row["status"]) == (7, "DISCARD")
    company = await services.pool.fetchval(
        "SELECT company FROM contacts WHERE user_id = $1 AND email_normalized = 'old@x.pt'",
        TENANT,
    )
    assert company == "OldCo"


async def test_actions_are_refused_with_reasons_and_change_nothing(
    services: Services, aws: AwsResources
) -> None:
    job_id = await _job_in_review(services, aws)
    review = Review(services.pool, TENANT, "maria", services.queue)
    before = await services.pool.fetch("SELECT * FROM staging WHERE job_id = $1 ORDER BY 2", job_id)
    missing = await _issue(review, job_id, "MISSING_FIELD")
    dup = await _issue(review, job_id, "DUPLICATE_IN_FILE")
    existing = await _issue(review, job_id, "EXISTING_CONTACT")
    with pytest.raises(ActionRefused, match="MISSING_FIELD issue is not accepted"):
        await review.accept(job_id, missing["number"], "skip")
    with pytest.raises(ActionRefused, match="row 3 is not one of this duplicate's rows"):
        await review.accept(job_id, dup["number"], "keep", keep_row=3)
    with pytest.raises(ActionRefused, match="'skip'"):
        await review.accept(job_id, existing["number"], "keep", keep_row=7)
    with pytest.raises(ActionRefused, match="cannot edit raw"):
        await review.edit(job_id, 2, {"raw": "x"})
    with pytest.raises(ActionRefused, match="has no row 99"):
        await review.discard(job_id, 99)
    with pytest.raises(ActionRefused, match="has no issue"):
        await review.accept(job_id, 10**9, "skip")
    await review.discard(job_id, 4)
    with pytest.raises(ActionRefused, match="row 4 is DISCARD"):
        await review.edit(job_id, 4, {"company": "Acme"})
    await services.pool.execute("UPDATE jobs SET status = 'COMPLETED' WHERE id = $1", job_id)
    with pytest.raises(ActionRefused, match="is COMPLETED: rows can be changed only while"):
        await review.discard(job_id, 2)
    after = await services.pool.fetch("SELECT * FROM staging WHERE job_id = $1 ORDER BY 2", job_id)
    changed = [a["row_number"] for a, b in zip(before, after, strict=True) if dict(a) != dict(b)]
    assert changed == [4]
    assert [a["action"] for a in await review.history(job_id)] == ["discard"]


async def test_another_tenant_can_neither_read_nor_change_the_job(
    services: Services, aws: AwsResources
) -> None:
    job_id = await _job_in_review(services, aws)
    owner = Review(services.pool, TENANT, "maria", services.queue)
    stranger = Review(services.pool, "tenant-2", "mallory", services.queue)
    issue = (await owner.issues(job_id))[0]
    snapshot = await services.pool.fetch("SELECT * FROM staging WHERE job_id = $1", job_id)
    attempts = [
        stranger.issues(job_id),
        stranger.rows(job_id),
        stranger.history(job_id),
        stranger.edit(job_id, 1, {"email": "evil@x.pt"}),
        stranger.discard(job_id, 1),
        stranger.accept(job_id, issue["number"], "skip"),
        stranger.request_reprocess(job_id),
    ]
    for attempt in attempts:
        with pytest.raises(ActionRefused, match=f"no job {job_id} for tenant tenant-2"):
            await attempt
    assert await services.pool.fetch("SELECT * FROM staging WHERE job_id = $1", job_id) == snapshot
    assert await services.pool.fetchval("SELECT count(*) FROM review_actions") == 0
    assert aws.queue_messages(wait_s=0) == []


async def test_issues_are_numbered_within_their_job(services: Services, aws: AwsResources) -> None:
    first = await _job_in_review(services, aws)
    second = await submit(
        services, aws, csv_bytes([HEADER, *LOOP_ROWS]), "up/second.csv", tenant="tenant-2"
    )
    await drain(services)
    owner = Review(services.pool, TENANT, "maria", services.queue)
    other = Review(services.pool, "tenant-2", "ana", services.queue)
    # Each job counts its own issues from 1: no other job's or tenant's shows through.
    for review, job_id in ((owner, first), (other, second)):
        listed = await review.issues(job_id, include_resolved=True)
        assert sorted(issue["number"] for issue in listed) == list(range(1, len(listed) + 1))
        numbers = {issue["number"] for issue in listed}
        for row in await review.rows(job_id, status=RowStatus.ISSUE):
            assert {issue["number"] for issue in row["issues"]} <= numbers
    # Accepting by number acts on that job's issue, and the history names it by number.
    dup = await _issue(other, second, "DUPLICATE_IN_FILE")
    same_number = [i for i in await owner.issues(first) if i["number"] == dup["number"]]
    await other.accept(second, dup["number"], "keep", keep_row=dup["rows"][0])
    assert dup["type"] not in {i["type"] for i in await other.issues(second)}
    assert [i for i in await owner.issues(first) if i["number"] == dup["number"]] == same_number
    assert (await other.history(second))[-1]["issue_number"] == dup["number"]

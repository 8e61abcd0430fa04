"""The initial flow against the real PostgreSQL and S3 server, driven by the daemon."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest

from tests.conftest import AwsResources
from tests.support import MIXED, TENANT, csv_bytes, drain, new_worker, snapshot, submit
from worker.messages import JobMessage
from worker.model import Job
from worker.services import Services
from worker.settings import Settings
from worker.store.jobs import fetch_job
from worker.store.queries import sql
from worker.store.staging import finish_checks


async def _add_contact(pool: asyncpg.Pool, tenant: str, email: str) -> None:
    await pool.execute(
        "INSERT INTO contacts (user_id, email, email_normalized) VALUES ($1, $2, lower($2))",
        tenant,
        email,
    )


async def test_the_initial_flow_stages_every_row_and_files_each_problem_once(
    services: Services, aws: AwsResources
) -> None:
    await _add_contact(services.pool, TENANT, "known@example.pt")
    await _add_contact(services.pool, TENANT, "both@example.pt")
    # Another tenant's contacts never count.
    await _add_contact(services.pool, "tenant-2", "other@example.pt")
    job_id = await submit(services, aws, csv_bytes(MIXED), options={"default_country": "PT"})
    await drain(services)

    state = await snapshot(services.pool, job_id)
    job = state["job"]
    assert job["status"] == "NEEDS_REVIEW"
    assert (job["total_rows"], job["processed_rows"]) == (9, 9)
    assert job["detected_encoding"] in ("ascii", "utf-8")
    assert job["column_mapping"]["fields"]["email"]["header"] == "E-mail"
    assert job["header"] == MIXED[0]
    assert job["source_size_bytes"] == job["bytes_read"] == len(csv_bytes(MIXED))
    assert len(job["source_sha256"]) == 64

    rows = {row[0]: row for row in state["staging"]}
    assert sorted(rows) == list(range(2, 11))
    status = {number: row[10] for number, row in rows.items()}
    assert status == {
        2: "READY",
        3: "ISSUE",
        4: "ISSUE",
        5: "ISSUE",
        6: "ISSUE",
        7: "ISSUE",
        8: "ISSUE",
        9: "ISSUE",
        10: "READY",
    }
    # Normalised, originals kept.
    assert rows[2][3:10] == (
        "ana@example.pt",
        "ana@example.pt",
        "Ana",
        "Silva",
        "Acme",
        "+351 912 345 678",
        "+351912345678",
    )
    assert rows[6][3:5] == ("DUP@example.pt", "dup@example.pt")
    assert rows[9][9] == "+351912345679"
    assert rows[10][5:8] == ("Jean Luc", "O'Brien", "Acme, Inc.")
    assert rows[10][2] == "other@example.pt\x1f  jean   luc  \x1fo'brien\x1fAcme,  Inc.\x1f\x1f"

    keys = {issue[0]: issue[1:4] for issue in state["issues"]}
    assert keys == {
        "row:3:INVALID_EMAIL:email": ("INVALID_EMAIL", "email", "'bad-email' has no @"),
        "row:4:MISSING_FIELD:first_name": (
            "MISSING_FIELD",
            "first_name",
            "first name is required but empty",
        ),
        "dup:dup@example.pt": (
            "DUPLICATE_IN_FILE",
            "email",
            "dup@example.pt appears in 2 rows of the file",
        ),
        "dup:both@example.pt": (
            "DUPLICATE_IN_FILE",
            "email",
            "both@example.pt appears in 2 rows of the file",
        ),
        "existing:7": (
            "EXISTING_CONTACT",
            "email",
            "known@example.pt is already one of your contacts",
        ),
        "existing:8": (
            "EXISTING_CONTACT",
            "email",
            "both@example.pt is already one of your contacts",
        ),
        "existing:9": (
            "EXISTING_CONTACT",
            "email",
            "both@example.pt is already one of your contacts",
        ),
    }
    assert state["items"] == sorted(
        [
            ("dup:both@example.pt", 8),
            ("dup:both@example.pt", 9),
            ("dup:dup@example.pt", 5),
            ("dup:dup@example.pt", 6),
            ("existing:7", 7),
            ("existing:8", 8),
            ("existing:9", 9),
            ("row:3:INVALID_EMAIL:email", 3),
            ("row:4:MISSING_FIELD:first_name", 4),
        ]
    )
    assert (job["valid_rows"], job["issue_rows"], job["unresolved_issues"]) == (2, 7, 7)
    assert aws.counts(aws.queues.queue_url) == (0, 0)

    # Running the checks again files nothing twice.
    await finish_checks(
        services.pool, job_id, TENANT, sha256=job["source_sha256"], bytes_read=job["bytes_read"]
    )
    assert await snapshot(services.pool, job_id) == state


async def test_a_clean_file_is_consolidated_in_the_same_delivery(
    services: Services, aws: AwsResources
) -> None:
    rows = [["email", "first_name", "last_name", "company"]] + [
        [f"p{i}@example.com", "Ana", "Silva", "Acme"] for i in range(2500)
    ]
    job_id = await submit(services, aws, csv_bytes(rows, delimiter=";"))
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert (job.status, job.total_rows, job.valid_rows, job.unresolved_issues) == (
        "COMPLETED",
        2500,
        2500,
        0,
    )
    assert job.detected_dialect["dialect"]["delimiter"] == ";"
    assert (
        await services.pool.fetchval("SELECT count(*) FROM contacts WHERE job_id = $1", job_id)
        == 2500
    )


async def test_a_list_with_a_whole_name_column_has_it_split_into_first_and_last(
    services: Services, aws: AwsResources
) -> None:
    # Name,Email,Company: the commonest list people make. It failed for want of a first
    # and a last name column.
    rows = [
        ["Name", "Email", "Company"],
        ["Ana Maria da Silva", "ana@example.pt", "Acme"],
        ["Costa, João", "joao@example.pt", "Beta"],
        ["Dr. Li Wei", "li@example.cn", "Gamma"],
    ]
    job_id = await submit(services, aws, csv_bytes(rows))
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert (job.status, job.total_rows, job.valid_rows) == ("COMPLETED", 3, 3), job.error
    names = await services.pool.fetch(
        "SELECT first_name, last_name FROM contacts WHERE job_id = $1 ORDER BY email", job_id
    )
    assert [tuple(name) for name in names] == [
        ("Ana Maria", "da Silva"),
        ("João", "Costa"),
        ("Li", "Wei"),
    ]


async def test_an_address_book_of_vcards_is_imported(services: Services, aws: AwsResources) -> None:
    # contacts.vcf from a phone: refused before, as no CSV or Excel file.
    cards = "".join(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:{last};{first};;;\r\nFN:{first} {last}\r\n"
        f"ORG:{company}\r\nEMAIL;type=pref:{email}\r\nEND:VCARD\r\n"
        for first, last, company, email in [
            ("Ana", "Silva", "Acme", "ana@example.pt"),
            ("João", "Costa", "Beta", "joao@example.pt"),
        ]
    )
    job_id = await submit(services, aws, cards.encode(), key="up/contacts.vcf")
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert (job.status, job.total_rows, job.valid_rows) == ("COMPLETED", 2, 2), job.error
    assert job.detected_dialect["format"] == "vcard"
    contacts = await services.pool.fetch(
        "SELECT first_name, last_name, company FROM contacts WHERE job_id = $1 ORDER BY email",
        job_id,
    )
    assert [tuple(row) for row in contacts] == [("Ana", "Silva", "Acme"), ("João", "Costa", "Beta")]


async def test_a_tenant_without_contacts_has_no_row_probed_for_them(
    services: Services, aws: AwsResources
) -> None:
    # Another tenant's contacts make the index deep; this tenant has none (its first
    # import): the existing-contact check sees that once and reads none of the job's rows.
    await _add_contact(services.pool, "someone-else", "p1@example.com")
    rows = [["email", "first_name", "last_name", "company"]] + [
        [f"p{i}@example.com", "Ana", "Silva", "Acme"] for i in range(300)
    ]
    rows.append(["not-an-email", "Bo", "Costa", "Acme"])  # held for review: no contacts yet
    job_id = await submit(services, aws, csv_bytes(rows), tenant="first-import")
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.status == "NEEDS_REVIEW"
    plan = await services.pool.fetchval(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + sql("file_existing_contact_issues"),
        job_id,
        "first-import",
    )
    text = json.dumps(plan)
    assert '"One-Time Filter"' in text
    scans = [
        node
        for node in _nodes(json.loads(text)[0]["Plan"])
        if node.get("Relation Name") == "staging"
    ]
    assert scans and all(node["Actual Loops"] == 0 for node in scans), scans
    # A tenant that has the email still gets its issue (the filter is only an early way out).
    await _add_contact(services.pool, "first-import", "p5@example.com")
    await services.pool.execute(sql("file_existing_contact_issues"), job_id, "first-import")
    filed = await services.pool.fetchval(
        "SELECT count(*) FROM issues WHERE job_id = $1 AND type = 'EXISTING_CONTACT'", job_id
    )
    assert filed == 1


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node.get("Plans", []):
        found += _nodes(child)
    return found


async def test_a_stray_quote_is_one_issue_and_every_row_is_staged(
    services: Services, aws: AwsResources
) -> None:
    # A '"' typed at the start of row 252's company, after the detection sample: it used
    # to swallow every row after it into one field.
    stray = '"Smith'
    lines = ["email,first_name,last_name,company"]
    lines += [f"p{n}@x.io,Ana,Silva,{stray if n == 250 else 'Acme'}" for n in range(300)]
    job_id = await submit(services, aws, ("\n".join(lines) + "\n").encode())
    await drain(services)
    state = await snapshot(services.pool, job_id)
    assert [issue[:2] for issue in state["issues"]] == [
        ("row:252:UNCLOSED_QUOTE:", "UNCLOSED_QUOTE")
    ]
    assert state["job"]["total_rows"] == 300
    assert state["staging"][250][7] == '"Smith'
    assert state["staging"][251][3] == "p251@x.io"


async def test_required_fields_are_configurable_per_job(
    services: Services, aws: AwsResources
) -> None:
    rows = [["email", "first_name"], ["a@x.io", "Ana"], ["b@x.io", ""]]
    job_id = await submit(services, aws, csv_bytes(rows), options={"required_fields": ["email"]})
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    # No issue for the empty first name: both rows became contacts.
    assert job is not None and (job.status, job.unresolved_issues) == ("COMPLETED", 0)
    assert (
        await services.pool.fetchval("SELECT count(*) FROM contacts WHERE job_id = $1", job_id) == 2
    )


async def test_reading_problems_become_issues(services: Services, aws: AwsResources) -> None:
    # A UTF-8 file (Zoë, Müller) with one stray cp1252 byte (René's é).
    data = (
        b"email,first_name,last_name,company\n"
        b"a@x.io,Ren\xe9,Dupont,Acme\n"
        b"b@x.io,Bo,Ng,Acme,surplus\n" + "c@x.io,Zoë,Müller,Société\n".encode()
    )
    job_id = await submit(services, aws, data)
    await drain(services)
    state = await snapshot(services.pool, job_id)
    assert [issue[:2] for issue in state["issues"]] == [
        ("row:2:ENCODING:first_name", "ENCODING"),
        ("row:3:RAGGED_ROW:", "RAGGED_ROW"),
    ]
    assert state["staging"][0][5] == "René"
    assert state["staging"][2][5:8] == ("Zoë", "Müller", "Société")


async def _stopped_after(
    services: Services, job_id: uuid.UUID, settings: Settings, checkpoint: int
) -> Job:
    """Run the job again from nothing, stopped once its checkpoint reaches ``checkpoint``
    (a worker killed mid-file, as far as the database can tell); the job as left."""
    await services.pool.execute("DELETE FROM issues WHERE job_id = $1", job_id)
    await services.pool.execute("DELETE FROM staging WHERE job_id = $1", job_id)
    await services.pool.execute(
        "UPDATE jobs SET status = 'PENDING', checkpoint_row = 0, processed_rows = 0,"
        " total_rows = NULL, valid_rows = 0, issue_rows = 0, unresolved_issues = 0,"
        " detected_dialect = NULL WHERE id = $1",
        job_id,
    )
    await services.queue.send(JobMessage(job_id=job_id).body())
    interrupted = new_worker(services, None, settings)
    task = asyncio.create_task(interrupted.run())
    # Polls the database, which no asyncio.Event can signal.
    while (job := await fetch_job(services.pool, job_id)) is None or (  # noqa: ASYNC110
        job.checkpoint_row < checkpoint
    ):
        await asyncio.sleep(0.01)
    interrupted.request_stop()
    await asyncio.wait_for(task, 30)
    partial = await fetch_job(services.pool, job_id)
    assert partial is not None and partial.status == "PROCESSING"
    return partial


async def test_a_resumed_job_ends_exactly_as_an_uninterrupted_one(
    services: Services, aws: AwsResources
) -> None:
    rows = [["email", "first_name", "last_name", "company"]] + [
        [f"p{i % 9000}@example.com", "Ana", "Silva", "" if i % 50 == 0 else "Acme"]
        for i in range(12_000)
    ]
    settings = services.settings.model_copy(update={"batch_size_rows": 1000})
    job_id = await submit(services, aws, csv_bytes(rows))
    await asyncio.wait_for(new_worker(services, None, settings).run(once=True), 120)
    uninterrupted = await snapshot(services.pool, job_id)
    assert uninterrupted["job"]["status"] == "NEEDS_REVIEW"

    # The same job again, stopped after a few batches, then resumed by a new delivery.
    partial = await _stopped_after(services, job_id, settings, 3000)
    assert 3000 <= partial.checkpoint_row < 12_001
    staged = await services.pool.fetchval("SELECT count(*) FROM staging WHERE job_id = $1", job_id)
    assert staged == partial.checkpoint_row - 1  # rows 2..checkpoint, nothing half-written
    await asyncio.wait_for(new_worker(services, None, settings).run(once=True), 120)
    assert await snapshot(services.pool, job_id) == uninterrupted


async def test_a_resumed_vcard_job_ends_exactly_as_an_uninterrupted_one(
    services: Services, aws: AwsResources
) -> None:
    # An address book of 12,000 cards, stopped after a few batches and resumed: the cards
    # are numbered by their BEGIN line, the same on every read.
    cards = "".join(
        f"BEGIN:VCARD\r\nN:Silva;Ana;;;\r\nEMAIL:p{i % 9000}@example.com\r\n"
        f"ORG:{'' if i % 50 == 0 else 'Acme'}\r\nEND:VCARD\r\n"
        for i in range(12_000)
    )
    settings = services.settings.model_copy(update={"batch_size_rows": 1000})
    job_id = await submit(services, aws, cards.encode(), key="up/book.vcf")
    await asyncio.wait_for(new_worker(services, None, settings).run(once=True), 120)
    uninterrupted = await snapshot(services.pool, job_id)
    assert uninterrupted["job"]["status"] == "NEEDS_REVIEW"
    assert uninterrupted["job"]["total_rows"] == 12_000

    partial = await _stopped_after(services, job_id, settings, 15_000)
    staged = await services.pool.fetchval("SELECT count(*) FROM staging WHERE job_id = $1", job_id)
    assert staged == (partial.checkpoint_row - 1) // 5 + 1  # the cards begun by then
    await asyncio.wait_for(new_worker(services, None, settings).run(once=True), 120)
    assert await snapshot(services.pool, job_id) == uninterrupted


async def test_a_resumed_report_with_skipped_lines_ends_as_an_uninterrupted_one(
    services: Services, aws: AwsResources
) -> None:
    # Two reports appended, blank lines among the rows, a footer at the end: what the
    # reading skips is decided the same on every read, so a resumed job ends the same.
    header = "email,first_name,last_name,company\r\n"
    lines = [
        f"p{i % 9000}@example.com,Ana,Silva,{'' if i % 50 == 0 else 'Acme'}\r\n"
        + ("\r\n" if i % 700 == 0 else "")
        for i in range(12_000)
    ]
    footer = "\r\nConfidential Information - Do Not Distribute\r\nGenerated By: Ana\r\n"
    data = (header + "".join(lines[:6000]) + header + "".join(lines[6000:]) + footer).encode()
    settings = services.settings.model_copy(update={"batch_size_rows": 1000})
    job_id = await submit(services, aws, data)
    await asyncio.wait_for(new_worker(services, None, settings).run(once=True), 120)
    uninterrupted = await snapshot(services.pool, job_id)
    assert uninterrupted["job"]["total_rows"] == 12_000
    assert uninterrupted["job"]["detected_dialect"]["skipped"]["headers_again"] == 1

    await _stopped_after(services, job_id, settings, 3000)
    await asyncio.wait_for(new_worker(services, None, settings).run(once=True), 120)
    assert await snapshot(services.pool, job_id) == uninterrupted


async def test_a_file_ascii_in_its_first_mib_is_read_in_the_encoding_of_the_rest(
    services: Services, aws: AwsResources
) -> None:
    # Sorted so that the accented names come after the first MiB, in cp1250: each was an
    # ENCODING issue (read as ASCII) with a cp1252 guess at the name.
    rows = [["email", "first_name", "last_name", "company"]] + [
        [f"user{i}@example.com", "Ann", "Lee", "Acme"] for i in range(40_000)
    ]
    rows += [[f"late{i}@example.com", "Šárka", "Dvořák", "Škoda"] for i in range(30)]
    data = csv_bytes(rows, encoding="cp1250")
    assert data[: 1 << 20].isascii()
    job_id = await submit(services, aws, data)
    await drain(services)

    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.status == "COMPLETED", job
    state = await snapshot(services.pool, job_id)
    assert state["job"]["detected_encoding"] == "cp1250"
    recorded = state["job"]["detected_dialect"]["encoding"]
    assert (recorded["name"], recorded["method"]) == ("cp1250", "ascii, then detector")
    late = [row for row in state["staging"] if row[3].startswith("late")]
    assert len(late) == 30
    assert {(row[5], row[6]) for row in late} == {("Šárka", "Dvořák")}
    assert state["issues"] == []


async def test_a_changed_object_fails_the_resumed_job_with_the_reason(
    services: Services, aws: AwsResources
) -> None:
    job_id = await submit(services, aws, csv_bytes([["email"], ["a@x.io"]]))
    await services.pool.execute(
        "UPDATE jobs SET status = 'PROCESSING', source_etag = 'not-the-etag' WHERE id = $1", job_id
    )
    await services.pool.execute(
        "INSERT INTO staging (job_id, row_number, row_hash, raw, status)"
        " VALUES ($1, 2, '\\x01', 'a@x.io', 'READY')",
        job_id,
    )
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.status == "FAILED"
    assert "changed since the job started" in job.error


async def test_an_unsupported_file_fails_the_job_with_the_reason(
    services: Services, aws: AwsResources
) -> None:
    job_id = await submit(services, aws, b"\x89PNG\r\n\x1a\n" + bytes(64), key="up/x.csv")
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert (job.status, job.error) == (
        "FAILED",
        "the file is a PNG image, not a CSV or Excel file",
    )
    assert aws.counts(aws.queues.queue_url) == (0, 0)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"delimiter": ";;"}, "option delimiter=';;': must be one character"),
        ({"header_row": "abc"}, "option header_row='abc': must be a row number"),
        ({"encoding": "utf-32"}, "cannot be read as utf-32"),
        ({"sheet": 7}, "option sheet=7: must be a sheet's name"),
    ],
)
async def test_a_bad_option_fails_the_job_at_once_with_its_reason(
    services: Services, aws: AwsResources, options: dict[str, Any], reason: str
) -> None:
    # Written by a producer that skipped the check (an old one, a hand-made row).
    data = "email,name\na@x.io,Ana\n".encode("utf-16")
    job_id = await submit(services, aws, data, key="up/opt.csv", options=options)
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert job.status == "FAILED" and reason in job.error, job.error
    assert job.attempts == 1
    assert aws.counts(aws.queues.queue_url) == (0, 0)
    assert aws.counts(aws.queues.dlq_url) == (0, 0)


async def test_a_redelivered_message_after_needs_review_leaves_the_job_as_it_is(
    services: Services, aws: AwsResources
) -> None:
    # A worker that committed NEEDS_REVIEW and died before deleting its message: the same
    # message comes back. The job must end where an uninterrupted run ends.
    job_id = await submit(services, aws, csv_bytes(MIXED))
    await drain(services)
    before = await snapshot(services.pool, job_id)
    assert before["job"]["status"] == "NEEDS_REVIEW"
    await services.queue.send(JobMessage(job_id=job_id).body())
    await drain(services)
    assert await snapshot(services.pool, job_id) == before
    assert aws.counts(aws.queues.queue_url) == (0, 0)

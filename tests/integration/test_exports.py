"""Enriched exports against the real PostgreSQL and S3 server; download over HTTP."""

from __future__ import annotations

import asyncio
import csv
import io
import urllib.request
import uuid
from typing import Any

import asyncpg

from tests.conftest import AwsResources, make_settings
from tests.outage import FailingWrites, database_proxy
from tests.support import clean_file, csv_bytes, drain, eventually, new_worker, running, submit
from tests.unit.test_neutralise import FORMULA_CASES
from worker.flows import FlowContext, ProductFlows
from worker.flows.export import IMPORT_COLUMNS, MultipartWriter, neutralise, write_exports
from worker.jobs import export_links
from worker.model import decode_raw
from worker.services import Services, open_services
from worker.settings import Settings
from worker.store.queries import sql

HEADER = ["E-mail", "Nome", "Apelido", "Empresa", "Telefone", "Notas"]


def _parse(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for spreadsheets
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


def _download(aws: AwsResources, key: str) -> bytes:
    body: bytes = aws.s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read()
    return body


def _http_get(url: str) -> bytes:
    """A plain HTTP GET, as a browser follows a pre-signed URL."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our URL
        body: bytes = response.read()
    return body


async def _staging(services: Services, job_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await services.pool.fetch(
        "SELECT row_number, status, raw, email, first_name, last_name, company,"
        " coalesce(phone_e164, phone) AS phone FROM staging WHERE job_id = $1 ORDER BY 1",
        job_id,
    )
    return [dict(row) for row in rows]


# (cell, as exported): what a spreadsheet could run gets an apostrophe (OWASP's CSV
# injection list); numbers, phone numbers and dates stay as they are.


async def test_the_server_neutralises_cells_as_python_does(db: asyncpg.Connection) -> None:
    """The rows are neutralised by the server (ingest_export_cell), the header by Python:
    the same rule. Empty cells come back NULL, which COPY's CSV writes as nothing."""
    cells = [cell for cell, _ in FORMULA_CASES]
    exported = await db.fetch(
        "SELECT ingest_export_cell(c) AS cell FROM unnest($1::text[]) WITH ORDINALITY AS u(c, n)"
        " ORDER BY n",
        cells,
    )
    assert [row["cell"] or "" for row in exported] == [out for _, out in FORMULA_CASES]
    assert exported[-1]["cell"] is None


async def test_exports_match_staging_with_formulas_neutralised(
    services: Services, aws: AwsResources
) -> None:
    rows = [
        ["ana@x.pt", "Ana", "Silva", "Acme", "+351 912 345 678", '=HYPERLINK("http://x")'],
        ["not-an-email", "Bo", "Costa", "Acme", "", "@SUM(A1)"],
        ["cy@x.pt", "Cy", "Dias", "-Corp", "", 'quoted, "comma"\nand newline'],
        ["dy@x.pt", "Zoë", "Gonçalves", "Acme", "", ""],
    ]
    job_id = await submit(services, aws, csv_bytes([HEADER, *rows]))
    await drain(services)
    job = await services.pool.fetchrow("SELECT status, exports FROM jobs WHERE id = $1", job_id)
    assert job["status"] == "NEEDS_REVIEW"
    exports = job["exports"]
    assert exports["state"] == "written" and exports["status"] == "NEEDS_REVIEW"
    files = exports["files"]
    assert {kind: files[kind]["rows"] for kind in files} == {"all": 4, "valid": 3, "issues": 1}

    everything = _parse(_download(aws, files["all"]["key"]))
    assert everything[0] == [*HEADER, *IMPORT_COLUMNS]
    staged = await _staging(services, job_id)
    assert len(everything) - 1 == len(staged)
    for line, row in zip(everything[1:], staged, strict=True):
        expected = [
            *decode_raw(row["raw"]),
            str(row["row_number"]),
            row["status"],
            "INVALID_EMAIL" if row["status"] == "ISSUE" else "",
        ]
        assert [neutralise(cell) for cell in expected] == line[: len(expected)]
        assert line[len(expected) + 1] == ""  # import_note: no row was discarded
        assert line[len(expected) + 2 :] == [
            neutralise(row[name] or "")
            for name in ("email", "first_name", "last_name", "company", "phone")
        ]
    # The cells a spreadsheet would run are text; everything else is as the file had it.
    assert everything[1][5] == '\'=HYPERLINK("http://x")'
    # A phone number is a phone number, in the cells as read and in the clean field.
    assert everything[1][4] == "+351 912 345 678" and everything[1][-1] == "+351912345678"
    assert everything[2][5] == "'@SUM(A1)"
    assert everything[3][3] == "'-Corp" and everything[3][5] == 'quoted, "comma"\nand newline'
    assert everything[4][1:3] == ["Zoë", "Gonçalves"]
    assert files["all"]["size_bytes"] == len(_download(aws, files["all"]["key"]))

    valid = _parse(_download(aws, files["valid"]["key"]))
    assert [line[0] for line in valid[1:]] == ["ana@x.pt", "cy@x.pt", "dy@x.pt"]
    issues = _parse(_download(aws, files["issues"]["key"]))
    assert [(line[0], line[8], line[9]) for line in issues[1:]] == [
        ("not-an-email", "INVALID_EMAIL", "'not-an-email' has no @")
    ]


async def test_a_second_request_while_one_is_written_writes_nothing(
    services: Services, aws: AwsResources
) -> None:
    job_id = await submit(services, aws, csv_bytes([HEADER, ["bad", "A", "B", "C", "", ""]]))
    await drain(services)
    # A new decision (as a reprocess would make) asks for new exports; two writers race.
    await services.pool.execute("UPDATE jobs SET decided_at = now() WHERE id = $1", job_id)
    settings = services.settings
    first, second = await asyncio.gather(
        write_exports(services.pool, services.s3, settings, job_id),
        write_exports(services.pool, services.s3, settings, job_id),
    )
    assert [first is None, second is None].count(True) == 1
    written = first or second
    assert written is not None and written["state"] == "written"
    # Written for this decision: a third request writes nothing either.
    assert await write_exports(services.pool, services.s3, settings, job_id) is None
    keys = [
        obj["Key"]
        for obj in aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix="exports/").get("Contents", [])
    ]
    # Two decisions, three files each: the first run's and the race winner's.
    assert len(keys) == 6
    # While a live writer holds the export lock, the request path says so instead of
    # asking again; once its session is gone, the claim is abandoned and asked for again.
    await services.pool.execute(
        "UPDATE jobs SET exports = jsonb_set(exports, '{state}', '\"writing\"') WHERE id = $1",
        job_id,
    )
    async with services.pool.acquire() as writer:
        assert await writer.fetchval(sql("lock_exports"), job_id)
        answer = await export_links(
            services.pool, services.s3, services.queue, settings, job_id, tenant=None, actor="t"
        )
        assert answer["state"] == "writing" and "requested" not in answer
        assert aws.queue_messages(wait_s=0) == []
        assert await write_exports(services.pool, services.s3, settings, job_id) is None
        await writer.execute(sql("unlock_exports"), job_id)
    answer = await export_links(
        services.pool, services.s3, services.queue, settings, job_id, tenant=None, actor="t"
    )
    assert answer["state"] == "abandoned" and answer["requested"] is True


async def test_a_large_export_is_uploaded_in_parts_and_a_failed_one_is_recorded(
    database_url: str, aws: AwsResources
) -> None:
    settings: Settings = make_settings(database_url, aws)
    # ~7 MB of rows: more than the 5 MiB minimum part.
    rows = [[f"p{n}@x.pt", "Ana", "Silva", "Acme", "", "x" * 80] for n in range(60_000)]
    async with open_services(settings) as services:
        job_id = await submit(services, aws, csv_bytes([HEADER, *rows]))
        await drain(services)
        exports = await services.pool.fetchval("SELECT exports FROM jobs WHERE id = $1", job_id)
        key = exports["files"]["all"]["key"]
        head = aws.s3.head_object(Bucket=aws.bucket, Key=key)
        assert head["ETag"].strip('"').endswith("-2")  # a multipart object of two parts
        assert head["ContentLength"] == exports["files"]["all"]["size_bytes"]
        assert len(_parse(_download(aws, key))) == 60_001
        assert aws.s3.list_multipart_uploads(Bucket=aws.bucket).get("Uploads", []) == []

        # The bucket goes away: the failure is on the job, its status unchanged.
        await services.pool.execute("UPDATE jobs SET decided_at = now() WHERE id = $1", job_id)
        broken = settings.model_copy(update={"s3_bucket": f"{aws.bucket}-gone"})
        try:
            await write_exports(services.pool, services.s3, broken, job_id)
        except Exception as error:
            assert "NoSuchBucket" in str(error)
        else:
            raise AssertionError("writing to a missing bucket succeeded")
        job = await services.pool.fetchrow("SELECT status, exports FROM jobs WHERE id = $1", job_id)
        assert job["status"] == "COMPLETED"
        assert job["exports"]["state"] == "failed" and "NoSuchBucket" in job["exports"]["error"]


async def test_parts_upload_while_the_next_fills_and_a_failed_part_aborts_the_object(
    database_url: str, aws: AwsResources
) -> None:
    """A full part is uploaded in the background while the next one fills: the object
    is the bytes written, in order, over four parts. A part whose upload fails (S3 refuses
    writes meanwhile) fails the next write or the close, and the abort leaves no upload."""
    part = 5 * 1024 * 1024
    chunks = [bytes([65 + n % 26]) * 700_000 + b"\n" for n in range(35)]  # 8 a part, 3 left
    cut = FailingWrites(aws.emulator.endpoint_url)
    cut.failing = False
    settings = make_settings(database_url, aws, s3_endpoint_url=cut.url)
    try:
        async with open_services(settings) as services:
            writer = MultipartWriter(
                services.s3, aws.bucket, "exports/t/parts.csv", part, "text/csv"
            )
            started = [await writer.write(chunk) for chunk in chunks]
            await writer.close()
            assert sum(started) == 4  # parts 1-4 handed over as they filled; 5 at close
            body = _download(aws, "exports/t/parts.csv")
            assert body == b"".join(chunks)
            head = aws.s3.head_object(Bucket=aws.bucket, Key="exports/t/parts.csv")
            assert head["ETag"].strip('"').endswith("-5")

            writer = MultipartWriter(services.s3, aws.bucket, "exports/t/cut.csv", part, "text/csv")
            written = 0
            while not await writer.write(chunks[written]):  # the upload exists, part 1 goes
                written += 1
            cut.failing = True  # part 1's upload is refused
            try:
                for chunk in chunks:
                    await writer.write(chunk)
                await writer.close()
            except Exception as error:
                assert "AccessDenied" in str(error)
            else:
                raise AssertionError("a refused part went unnoticed")
            await writer.abort()
            assert aws.s3.list_multipart_uploads(Bucket=aws.bucket).get("Uploads", []) == []
            assert "Contents" not in aws.s3.list_objects_v2(
                Bucket=aws.bucket, Prefix="exports/t/cut.csv"
            )
    finally:
        cut.close()


async def test_a_clean_jobs_valid_export_is_its_all_export(
    services: Services, aws: AwsResources
) -> None:
    """Every row valid: valid.csv is all.csv byte for byte (S3 copies it). A job with
    issue rows writes it on its own (test_exports_match_staging_with_formulas_neutralised)."""
    rows = [[f"c{n}@x.pt", "Ana", "Silva", "Acme", "", "=1+1"] for n in range(3)]
    job_id = await submit(services, aws, csv_bytes([HEADER, *rows]))
    await drain(services)
    files = (await services.pool.fetchval("SELECT exports FROM jobs WHERE id = $1", job_id))[
        "files"
    ]
    assert files["valid"]["key"] != files["all"]["key"]
    assert (files["valid"]["rows"], files["valid"]["size_bytes"]) == (
        files["all"]["rows"],
        files["all"]["size_bytes"],
    )
    body = _download(aws, files["all"]["key"])
    assert _download(aws, files["valid"]["key"]) == body
    assert [line[5] for line in _parse(body)[1:]] == ["'=1+1"] * 3


async def test_exports_the_database_loses_are_written_once_it_is_back(
    database_url: str, aws: AwsResources
) -> None:
    """The database goes away between the job's completion and its exports: the failure
    cannot be recorded, so the message is not settled as done; it comes back (the retry
    policy's outage backoff) and the exports are written."""
    proxy, proxied_url = database_proxy(database_url)
    await proxy.up()
    outages = 0

    class DatabaseGoesAtTheExport(ProductFlows):
        async def export(self, context: FlowContext) -> None:
            nonlocal outages
            if outages == 0:
                outages += 1
                await proxy.down()
                asyncio.get_running_loop().call_later(
                    2.0, lambda: asyncio.ensure_future(proxy.up())
                )
            await super().export(context)

    try:
        settings = make_settings(proxied_url(), aws)
        async with open_services(settings) as services:
            job_id = await submit(services, aws, clean_file(50))
            worker = new_worker(services, DatabaseGoesAtTheExport(), settings)
            watch = await asyncpg.connect(database_url)  # not through the proxy
            try:
                async with running(worker):
                    await eventually(
                        lambda: watch.fetchval(
                            "SELECT status = 'COMPLETED' AND exports ->> 'state' = 'written'"
                            " FROM jobs WHERE id = $1",
                            job_id,
                        ),
                        40,
                        "the exports to be written",
                    )
            finally:
                await watch.close()
        assert outages == 1
        assert aws.counts(aws.queues.dlq_url) == (0, 0)
    finally:
        await proxy.down()

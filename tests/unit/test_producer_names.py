"""Upload keys and discovery's file-name patterns, with no services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from worker.discover import PRESETS, file_pattern
from worker.errors import ActionRefused
from worker.producer import safe_name, upload_key


def test_upload_keys_are_unique_and_safe() -> None:
    now = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    first = upload_key("uploads", "tenant-1", "../Contactos Março (1).csv", now)
    second = upload_key("uploads", "tenant-1", "../Contactos Março (1).csv", now)
    assert first != second
    assert first.startswith("uploads/tenant-1/20261122T103000Z_")
    assert first.endswith("_Contactos_Marco_1_.csv")
    assert safe_name("...") == "upload"
    assert len(safe_name("x" * 300 + ".csv")) == 100 and safe_name("x" * 300 + ".csv").endswith(
        ".csv"
    )
    with pytest.raises(ActionRefused, match="cannot be part of an object key"):
        upload_key("uploads", "a/b", "x.csv")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("685146545Appointments_202508180544_202508190544_2508190850", None),
        ("x/y/685146545Patients_202508180544_202508190544_2508190850.csv", None),
        ("685147545Appointments_202508180544_202508190544_2508190850", "PerOrgID 685147"),
        ("685146546Appointments_202508180544_202508190544_2508190850", "PracticeID 546"),
        ("685146545Unicorns_202508180544_202508190544_2508190850", "unknown extract type"),
        ("685146545Patients_202513180544_202508190544_2508190850", "a date is not valid"),
        ("685146545Patients_202508180544_202508190544_2508190500", "before DateTo"),
        ("685146545Patients_202508200544_202508190544_2508190850", "DateTo is before DateFrom"),
    ],
)
def test_the_indici_preset_validates_as_the_seed_says(name: str, problem: str | None) -> None:
    preset = PRESETS["indici"]
    match = preset.regex.search(name)
    assert match is not None
    found = preset.validate(match.groupdict())
    assert found is None if problem is None else problem in (found or "")


def test_a_pattern_is_a_preset_or_a_valid_regex() -> None:
    assert file_pattern("indici") is PRESETS["indici"]
    assert file_pattern(r"(?P<user>\w+)/").regex.pattern == r"(?P<user>\w+)/"
    with pytest.raises(ActionRefused, match="not a valid regular expression"):
        file_pattern("(unclosed")

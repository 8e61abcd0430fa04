"""The compact botocore model loader: the same models, in less memory."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest
from botocore.loaders import create_loader

from worker.aws import CompactJSONFileLoader, compact_session


def _without_documentation(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: "" if key == "documentation" else _without_documentation(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_documentation(item) for item in value]
    return value


def _types(value: Any) -> set[type]:
    if isinstance(value, dict):
        return {type(value)}.union(*(_types(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_types(item) for item in value))
    return set()


@pytest.mark.parametrize(
    ("name", "service_model"),
    [("s3", True), ("sqs", True), ("endpoints", False), ("sdk-default-configuration", False)],
)
def test_compact_models_hold_what_botocore_loads(name: str, service_model: bool) -> None:
    standard = create_loader()
    compact = create_loader()
    compact.file_loader = CompactJSONFileLoader()
    if service_model:
        expected = standard.load_service_model(name, "service-2")
        loaded = compact.load_service_model(name, "service-2")
        assert loaded == _without_documentation(expected)
        assert loaded != expected  # the documentation text is gone
    else:
        expected = standard.load_data(name)
        loaded = compact.load_data(name)
        assert loaded == expected
    assert OrderedDict in _types(expected)
    assert _types(loaded) == {dict}


def test_worker_sessions_load_models_compactly() -> None:
    """(Every test against the S3/SQS server runs on clients of such a session.)"""
    session = compact_session()
    assert isinstance(session.get_component("data_loader").file_loader, CompactJSONFileLoader)

"""aiobotocore clients for S3 and SQS, built the same way against AWS and an emulator."""

from __future__ import annotations

import functools
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.loaders import JSONFileLoader, Loader, create_loader

from worker.settings import Settings

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_sqs import SQSClient


def client_kwargs(settings: Settings, service: str) -> dict[str, Any]:
    """Keyword arguments for ``create_client``: region, endpoint, credentials, retries."""
    endpoint = settings.s3_endpoint_url if service == "s3" else settings.sqs_endpoint_url
    kwargs: dict[str, Any] = {
        "region_name": settings.aws_region,
        "config": AioConfig(
            # The SDK retries throttling and 5xx a few times itself; the job-level policy in
            # worker.retry takes over after that.
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=max(10, settings.concurrency * 2),
            # A long poll holds the connection for wait_time_s; read timeout must exceed it.
            read_timeout=settings.wait_time_s + 40,
            connect_timeout=10,
            s3={"addressing_style": "path"} if endpoint else None,
        ),
    }
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        kwargs["aws_access_key_id"] = settings.aws_access_key_id
        kwargs["aws_secret_access_key"] = settings.aws_secret_access_key.get_secret_value()
    return kwargs


class CompactJSONFileLoader(JSONFileLoader):
    """botocore's model files as plain dicts (botocore builds OrderedDicts, twice the size;
    dicts keep their order anyway) and service models with their documentation text, which
    only ``help()`` shows, emptied (the keys stay: botocore reads some of them). The S3 and
    SQS models and the endpoints table are most of a worker's memory before its first row:
    with this loader a 1M-row job peaked at 89 MB instead of 96 MB."""

    def load_file(self, file_path: str) -> Any:
        """The file's data, compacted (None where botocore's loader finds nothing)."""
        data = super().load_file(file_path)
        if data is None:
            return None
        return _compact(data, strip_documentation=file_path.endswith("service-2"))


def _compact(value: Any, *, strip_documentation: bool) -> Any:
    if isinstance(value, dict):
        return {
            key: ""
            if strip_documentation and key == "documentation"
            else _compact(item, strip_documentation=strip_documentation)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_compact(item, strip_documentation=strip_documentation) for item in value]
    return value


@functools.cache
def _shared_loader(data_path: str | None) -> Loader:
    """One model loader a process: botocore's loader caches every model it has read, and
    reading and compacting the S3 and SQS models took about 0.4 s each time clients were
    opened (every CLI command, every test)."""
    loader = create_loader(data_path)
    loader.file_loader = CompactJSONFileLoader()
    return loader


def compact_session() -> AioSession:
    """An aiobotocore session whose model loader is :class:`CompactJSONFileLoader`, shared
    by the process's sessions (the session itself, with its credentials, is new)."""
    session = get_session()
    session.register_component(
        "data_loader", _shared_loader(session.get_config_variable("data_path"))
    )
    return session


async def open_clients(settings: Settings, stack: AsyncExitStack) -> tuple[S3Client, SQSClient]:
    """Open an S3 and an SQS client that close when ``stack`` does."""
    session = compact_session()
    s3 = await stack.enter_async_context(
        session.create_client("s3", **client_kwargs(settings, "s3"))
    )
    sqs = await stack.enter_async_context(
        session.create_client("sqs", **client_kwargs(settings, "sqs"))
    )
    return s3, sqs

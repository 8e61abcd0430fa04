"""aiobotocore clients for S3 and SQS, built the same way against AWS and an emulator."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

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


async def open_clients(settings: Settings, stack: AsyncExitStack) -> tuple[S3Client, SQSClient]:
    """Open an S3 and an SQS client that close when ``stack`` does."""
    session = get_session()
    s3 = await stack.enter_async_context(
        session.create_client("s3", **client_kwargs(settings, "s3"))
    )
    sqs = await stack.enter_async_context(
        session.create_client("sqs", **client_kwargs(settings, "sqs"))
    )
    return s3, sqs

"""The job queue: receive, delete, extend visibility, release, dead-letter, send.

A thin layer over the SQS client that knows the queue's redrive policy (its dead-letter
queue and receive limit) and turns SQS's answers into the worker's vocabulary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from worker.errors import ConfigError, ServiceUnavailable, StartupCheckError
from worker.settings import (
    SQS_MAX_DELAY_S,
    SQS_MAX_RECEIVE_BATCH,
    SQS_MAX_SEND_BATCH,
    SQS_MAX_VISIBILITY_TIMEOUT_S,
)

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient

# Message attribute that carries why a message was dead-lettered by the worker.
DEAD_LETTER_REASON_ATTRIBUTE = "ingest_dead_letter_reason"
# SQS caps a string message attribute at 256 KiB with the body; keep reasons short.
_MAX_REASON_CHARS = 1000

_QUEUE_MISSING_CODES = frozenset(
    {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue"}
)
_HANDLE_GONE_CODES = frozenset(
    {"ReceiptHandleIsInvalid", "InvalidParameterValue", "MessageNotInflight"}
)


@dataclass(frozen=True)
class ReceivedMessage:
    """One delivery of a message."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    attributes: dict[str, str]

    @classmethod
    def from_sqs(cls, raw: Any) -> ReceivedMessage:
        """Build from a ReceiveMessage entry."""
        attributes = {
            name: str(value.get("StringValue", ""))
            for name, value in (raw.get("MessageAttributes") or {}).items()
        }
        return cls(
            message_id=raw["MessageId"],
            receipt_handle=raw["ReceiptHandle"],
            body=raw.get("Body", ""),
            receive_count=int(raw.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
            attributes=attributes,
        )


def is_receipt_handle_gone(error: BaseException) -> bool:
    """Whether ``error`` says the message is no longer ours (deleted, or received again)."""
    return isinstance(error, ClientError) and (
        error.response.get("Error", {}).get("Code") in _HANDLE_GONE_CODES
    )


class JobQueue:
    """The job queue and its dead-letter queue."""

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        dlq_url: str | None,
        max_receive_count: int,
        has_redrive_policy: bool = False,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.dlq_url = dlq_url
        self.max_receive_count = max_receive_count
        # With a redrive policy SQS itself moves a message to the dead-letter queue once its
        # receive count passes max_receive_count; without one the worker moves it.
        self.has_redrive_policy = has_redrive_policy

    @classmethod
    async def open(
        cls, client: SQSClient, queue_url: str, dlq_url: str | None, default_max_receive_count: int
    ) -> JobQueue:
        """Check the queue exists and read its redrive policy; StartupCheckError if not."""
        try:
            attributes = (
                await client.get_queue_attributes(
                    QueueUrl=queue_url, AttributeNames=["RedrivePolicy", "QueueArn"]
                )
            )["Attributes"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _QUEUE_MISSING_CODES:
                raise StartupCheckError(
                    "INGEST_SQS_QUEUE_URL", f"queue {queue_url} does not exist"
                ) from error
            raise StartupCheckError(
                "INGEST_SQS_QUEUE_URL", f"cannot read queue {queue_url}: {error}"
            ) from error
        except Exception as error:  # connection refused, DNS, bad endpoint URL
            raise StartupCheckError(
                "INGEST_SQS_QUEUE_URL", f"cannot reach queue {queue_url}: {error}"
            ) from error

        max_receive_count = default_max_receive_count
        redrive = attributes.get("RedrivePolicy")
        if redrive:
            policy = json.loads(redrive)
            max_receive_count = int(policy["maxReceiveCount"])
            if dlq_url is None:
                dlq_name = str(policy["deadLetterTargetArn"]).rsplit(":", 1)[-1]
                try:
                    dlq_url = (await client.get_queue_url(QueueName=dlq_name))["QueueUrl"]
                except ClientError as error:
                    raise StartupCheckError(
                        "INGEST_SQS_DLQ_URL",
                        f"the redrive policy names {dlq_name}, which cannot be found: {error}",
                    ) from error
        if dlq_url is not None:
            try:
                await client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
            except ClientError as error:
                raise StartupCheckError(
                    "INGEST_SQS_DLQ_URL", f"dead-letter queue {dlq_url} does not exist"
                ) from error
        return cls(client, queue_url, dlq_url, max_receive_count, has_redrive_policy=bool(redrive))

    async def _count(self, *kinds: str) -> int:
        """The sum of SQS's approximate message counts ``ApproximateNumberOf<kind>``."""
        names: list[Any] = [f"ApproximateNumberOf{kind}" for kind in kinds]
        response = await self.client.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=names
        )
        attributes: dict[Any, str] = dict(response["Attributes"])
        return sum(int(attributes.get(name, "0")) for name in names)

    async def ping(self) -> None:
        """The cheapest request that proves the queue answers (the readiness probe)."""
        await self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])

    async def backlog(self) -> int:
        """Messages waiting to be received: visible now, or sent with a delay."""
        return await self._count("Messages", "MessagesDelayed")

    async def not_yet_received(self) -> int:
        """Messages visible now (one that just came back from someone's timeout, after an
        empty receive), received by someone and not settled, or sent with a delay: what
        a receive may still return."""
        return await self._count("Messages", "MessagesNotVisible", "MessagesDelayed")

    async def receive(
        self, max_messages: int, wait_time_s: int, visibility_timeout_s: int
    ) -> list[ReceivedMessage]:
        """Long-poll for up to ``max_messages`` (at most SQS's 10) messages."""
        count = max(1, min(SQS_MAX_RECEIVE_BATCH, max_messages))
        response = await self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_time_s,
            VisibilityTimeout=visibility_timeout_s,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )
        return [ReceivedMessage.from_sqs(raw) for raw in response.get("Messages", [])]

    async def delete(self, message: ReceivedMessage) -> None:
        """Acknowledge: the message is done and will not be delivered again."""
        await self.client.delete_message(
            QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle
        )

    async def set_visibility(self, message: ReceivedMessage, seconds: float) -> None:
        """Make the message invisible for ``seconds`` from now (0: visible at once)."""
        await self.client.change_message_visibility(
            QueueUrl=self.queue_url,
            ReceiptHandle=message.receipt_handle,
            VisibilityTimeout=max(0, min(SQS_MAX_VISIBILITY_TIMEOUT_S, int(seconds))),
        )

    async def release(self, message: ReceivedMessage) -> None:
        """Give the message back: visible to every worker at once."""
        await self.set_visibility(message, 0)

    async def send(
        self,
        body: str,
        delay_s: int = 0,
        queue_url: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> str:
        """Send ``body`` (to the job queue unless ``queue_url``); returns the message id."""
        kwargs: dict[str, Any] = {
            "QueueUrl": queue_url or self.queue_url,
            "MessageBody": body,
            "DelaySeconds": max(0, min(SQS_MAX_DELAY_S, delay_s)),
        }
        if attributes:
            kwargs["MessageAttributes"] = {
                name: {"DataType": "String", "StringValue": value}
                for name, value in attributes.items()
            }
        response = await self.client.send_message(**kwargs)
        return response["MessageId"]

    async def send_batch(self, bodies: list[str], delay_s: int = 0) -> None:
        """Send ``bodies`` to the job queue, up to ten a request (SendMessageBatch), in
        order; raises if SQS refuses any of them."""
        for start in range(0, len(bodies), SQS_MAX_SEND_BATCH):
            chunk = bodies[start : start + SQS_MAX_SEND_BATCH]
            response = await self.client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "MessageBody": body,
                        "DelaySeconds": max(0, min(SQS_MAX_DELAY_S, delay_s)),
                    }
                    for index, body in enumerate(chunk)
                ],
            )
            failed = response.get("Failed", [])
            if failed:
                raise ServiceUnavailable(
                    f"SQS refused {len(failed)} of {len(chunk)} messages: "
                    f"{failed[0].get('Code')}: {failed[0].get('Message')}"
                )

    async def dead_letter(self, message: ReceivedMessage, reason: str) -> bool:
        """Move ``message`` to the dead-letter queue at once, with ``reason`` as an attribute.

        Returns False when there is no dead-letter queue; the message is then deleted (it
        can never succeed) and the reason is only in the log.
        """
        if self.dlq_url is not None:
            attributes = {
                key: value
                for key, value in message.attributes.items()
                if key != DEAD_LETTER_REASON_ATTRIBUTE
            }
            attributes[DEAD_LETTER_REASON_ATTRIBUTE] = reason[:_MAX_REASON_CHARS]
            # Sent before the delete: a crash in between leaves a copy in each queue,
            # never none.
            await self.send(message.body, queue_url=self.dlq_url, attributes=attributes)
        await self.delete(message)
        return self.dlq_url is not None

    async def receive_dead_letters(
        self, max_messages: int, wait_time_s: int, visibility_timeout_s: int
    ) -> list[ReceivedMessage]:
        """Receive from the dead-letter queue (for ``dlq list`` and ``dlq replay``)."""
        if self.dlq_url is None:
            return []
        response = await self.client.receive_message(
            QueueUrl=self.dlq_url,
            MaxNumberOfMessages=max(1, min(SQS_MAX_RECEIVE_BATCH, max_messages)),
            WaitTimeSeconds=wait_time_s,
            VisibilityTimeout=visibility_timeout_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return [ReceivedMessage.from_sqs(raw) for raw in response.get("Messages", [])]

    async def delete_dead_letter(self, message: ReceivedMessage) -> None:
        """Delete a message received from the dead-letter queue."""
        await self.client.delete_message(
            QueueUrl=self._require_dlq(), ReceiptHandle=message.receipt_handle
        )

    async def release_dead_letter(self, message: ReceivedMessage) -> None:
        """Make a dead-letter message visible again (``dlq list`` only looks)."""
        await self.client.change_message_visibility(
            QueueUrl=self._require_dlq(), ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
        )

    def _require_dlq(self) -> str:
        if self.dlq_url is None:
            raise ConfigError("INGEST_SQS_DLQ_URL: no dead-letter queue is configured")
        return self.dlq_url

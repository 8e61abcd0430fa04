"""Every Prometheus metric, defined once, with bounded labels (never a job id or tenant).

Names end in ``_total``, ``_seconds`` or ``_bytes`` as Prometheus conventions ask; the
label values are closed sets (flows, outcomes, issue types, dead-letter reasons).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NAMESPACE = "ingest"

messages_received_total = Counter(
    "messages_received_total", "Messages received from the job queue.", namespace=NAMESPACE
)
messages_deleted_total = Counter(
    "messages_deleted_total", "Messages deleted (done, or never processable).", namespace=NAMESPACE
)
messages_retried_total = Counter(
    "messages_retried_total",
    "Messages put back with a backoff after a transient error.",
    namespace=NAMESPACE,
)
messages_released_total = Counter(
    "messages_released_total",
    "Messages made visible again (shutdown, lost lease).",
    namespace=NAMESPACE,
)
messages_deferred_total = Counter(
    "messages_deferred_total",
    "Messages of a job another worker holds, sent again with a delay (a fresh copy, so "
    "waiting for a live worker never uses up the receive budget).",
    namespace=NAMESPACE,
)
messages_dead_lettered_total = Counter(
    "messages_dead_lettered_total",
    "Messages sent to the dead-letter queue, by reason.",
    ["reason"],
    namespace=NAMESPACE,
)

jobs_total = Counter(
    "jobs_total", "Flows run, by flow and outcome.", ["flow", "outcome"], namespace=NAMESPACE
)
job_duration_seconds = Histogram(
    "job_duration_seconds",
    "Time a flow ran, by flow.",
    ["flow"],
    namespace=NAMESPACE,
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
jobs_in_flight = Gauge("jobs_in_flight", "Messages being handled now.", namespace=NAMESPACE)
slots_free = Gauge("slots_free", "Slots free to take another message.", namespace=NAMESPACE)

rows_read_total = Counter(
    "rows_read_total", "Data rows read from uploaded files.", namespace=NAMESPACE
)
rows_staged_total = Counter("rows_staged_total", "Rows written to staging.", namespace=NAMESPACE)
issues_total = Counter(
    "issues_total", "Row issues filed while reading, by type.", ["type"], namespace=NAMESPACE
)
s3_read_bytes_total = Counter(
    "s3_read_bytes_total", "Bytes read from S3 objects.", namespace=NAMESPACE
)
exports_total = Counter(
    "exports_total",
    "Export sets (all, valid, issues) written or failed, by outcome.",
    ["outcome"],
    namespace=NAMESPACE,
)
export_bytes_total = Counter(
    "export_bytes_total", "Bytes of export files written to S3.", namespace=NAMESPACE
)

heartbeat_extensions_total = Counter(
    "heartbeat_extensions_total", "Visibility extensions of running messages.", namespace=NAMESPACE
)
jobs_swept_total = Counter(
    "jobs_swept_total",
    "Jobs nothing would have moved, sent again by the sweep, by the action sent.",
    ["action"],
    namespace=NAMESPACE,
)
jobs_stalled = Gauge(
    "jobs_stalled",
    "Running jobs whose progress has not moved for INGEST_STALL_AFTER_S (the log line "
    "job_stalled names each, with its flow).",
    namespace=NAMESPACE,
)
receive_failures_total = Counter(
    "receive_failures_total",
    "Receives from the job queue that failed (the queue unreachable); polling backs off.",
    namespace=NAMESPACE,
)
heartbeat_failures_total = Counter(
    "heartbeat_failures_total", "Visibility extensions that failed.", namespace=NAMESPACE
)
last_poll_timestamp_seconds = Gauge(
    "last_poll_timestamp_seconds", "Unix time of the last completed receive.", namespace=NAMESPACE
)
db_pool_connections = Gauge(
    "db_pool_connections", "Database pool connections, by state.", ["state"], namespace=NAMESPACE
)

# The closed sets of label values, for the dead-letter reasons.
DEAD_LETTER_POISON = "poison"
DEAD_LETTER_GAVE_UP = "gave_up"

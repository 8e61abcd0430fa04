"""The container and process-manager files, checked with the real tools."""

from __future__ import annotations

import asyncio
import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

import worker.metrics  # noqa: F401 - registers every metric the rules may name
from tests.conftest import ROOT, AwsResources, cli_env
from worker.messages import JobMessage
from worker.settings import Settings
from worker.store.jobs import create_job

BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (it comes with the dev extra)")
    return found


def test_hadolint_passes_the_dockerfile() -> None:
    result = subprocess.run(
        [_tool("hadolint"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    final_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM")) :]
    assert any(line.startswith("USER 10001") for line in final_stage)
    assert any(line.startswith("HEALTHCHECK") for line in final_stage)
    assert not any("build" in line and line.startswith("RUN pip") for line in final_stage)


def test_stopwaitsecs_outlasts_the_grace_period_and_the_long_poll() -> None:
    config = configparser.RawConfigParser()
    config.read(ROOT / "supervisord.conf")
    stop_wait = int(config["program:ingest-worker"]["stopwaitsecs"])
    defaults = Settings.model_fields
    assert stop_wait > float(defaults["shutdown_grace_s"].default) + int(
        defaults["wait_time_s"].default
    )


async def test_supervisord_runs_two_workers_and_sigterm_releases_their_messages(
    settings: Settings, aws: AwsResources
) -> None:
    supervisord = _tool("supervisord")
    connection = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        job_ids = [
            await create_job(connection, tenant="t", bucket=aws.bucket, key=f"k{i}")
            for i in range(2)
        ]
    finally:
        await connection.close()
    for job_id in job_ids:
        aws.sqs.send_message(
            QueueUrl=aws.queues.queue_url, MessageBody=JobMessage(job_id=job_id).body()
        )
    env = cli_env(
        settings,
        INGEST_PROCESSES="2",
        INGEST_METRICS_PORT_PREFIX=str(40 + uuid.uuid4().int % 20),
        INGEST_CONCURRENCY="1",
        INGEST_SHUTDOWN_GRACE_S="5",
        INGEST_FLOWS="tests.flows:slow_flows",
        TEST_FLOW_SECONDS="120",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    # Popen returns at once; the test drives supervisord from outside, as an orchestrator.
    process = subprocess.Popen(  # noqa: ASYNC220
        [supervisord, "-c", str(ROOT / "supervisord.conf")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            connection = await asyncpg.connect(settings.database_url.get_secret_value())
            try:
                started = await connection.fetchval("SELECT count(*) FROM jobs WHERE attempts > 0")
            finally:
                await connection.close()
            if started == 2:
                break
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the two workers never took both jobs"
            await asyncio.sleep(0.3)
        # One job each: a worker with concurrency 1 cannot hold both.
        assert aws.counts(aws.queues.queue_url) == (0, 2)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert output.count('"event": "worker_stopped"') == 2, output
    assert aws.counts(aws.queues.queue_url) == (2, 0)


K8S = ROOT / "deploy" / "k8s"
CORE_MANIFESTS = [
    "deployment.yaml",
    "configmap.yaml",
    "secret.example.yaml",
    "pdb.yaml",
    "migrate-job.yaml",
]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _stop_wait_s() -> int:
    config = configparser.RawConfigParser()
    config.read(ROOT / "supervisord.conf")
    return int(config["program:ingest-worker"]["stopwaitsecs"])


def test_kubernetes_manifests_validate_against_the_schemas_offline() -> None:
    result = subprocess.run(
        [_tool("kubernetes-validate"), "--strict", *(str(K8S / name) for name in CORE_MANIFESTS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") + result.stderr.count("passed") == len(CORE_MANIFESTS)


def test_the_deployment_drains_gracefully_and_probes_the_health_endpoints() -> None:
    pod = _yaml(K8S / "deployment.yaml")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > _stop_wait_s()
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_custom_resources_point_at_the_deployment_and_its_ports() -> None:
    deployment = _yaml(K8S / "deployment.yaml")
    ports = {
        port["name"] for port in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    scaled = _yaml(K8S / "keda-scaledobject.yaml")
    assert scaled["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert scaled["spec"]["triggers"][0]["type"] == "aws-sqs-queue"
    monitor = _yaml(K8S / "podmonitor.yaml")
    assert {endpoint["port"] for endpoint in monitor["spec"]["podMetricsEndpoints"]} == ports
    kustomization = _yaml(K8S / "kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource


def test_the_ecs_task_stops_gracefully_and_autoscales_on_queue_depth() -> None:
    task = json.loads((ROOT / "deploy" / "ecs" / "task-definition.json").read_text())
    (container,) = task["containerDefinitions"]
    assert _stop_wait_s() < container["stopTimeout"] <= 120  # ECS's own limit is 120 s
    scaling = json.loads((ROOT / "deploy" / "ecs" / "autoscaling.json").read_text())
    metric = scaling["ScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"][
        "CustomizedMetricSpecification"
    ]
    assert (metric["Namespace"], metric["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )


def test_the_iam_policy_is_least_privilege() -> None:
    policy = json.loads((ROOT / "deploy" / "iam-policy.json").read_text())
    for statement in policy["Statement"]:
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in actions if isinstance(actions, list) else [actions]:
            assert action.split(":")[0] in ("s3", "sqs") and "*" not in action, action
        for resource in resources if isinstance(resources, list) else [resources]:
            assert resource != "*" and not resource.endswith(":*"), resource


def test_the_lifecycle_rule_is_accepted_and_covers_the_export_prefix(aws: AwsResources) -> None:
    rules = json.loads((ROOT / "deploy" / "s3-lifecycle.json").read_text())
    aws.s3.put_bucket_lifecycle_configuration(Bucket=aws.bucket, LifecycleConfiguration=rules)
    applied = aws.s3.get_bucket_lifecycle_configuration(Bucket=aws.bucket)["Rules"]
    aborting = {
        rule["Filter"]["Prefix"]
        for rule in applied
        if rule["Status"] == "Enabled" and "AbortIncompleteMultipartUpload" in rule
    }
    assert {"exports/", "uploads/"} <= aborting
    # The prefixes the worker writes and producers upload under by default.
    assert Settings.model_fields["export_prefix"].default.rstrip("/") + "/" in aborting


def test_alert_rules_use_only_metrics_the_worker_exports() -> None:
    exported = {
        family.name for family in text_string_to_metric_families(generate_latest().decode())
    }
    rules = _yaml(ROOT / "deploy" / "alerts.yaml")["groups"][0]["rules"]
    assert {rule["alert"] for rule in rules} >= {
        "IngestDeadLetterQueueNotEmpty",
        "IngestWorkerNotPolling",
        "IngestJobFailureRatioHigh",
        "IngestQueueOldestMessageAge",
    }
    for rule in rules:
        for name in re.findall(r"\bingest_[a-z_]+", rule["expr"]):
            assert name.removesuffix("_total") in exported or name in exported, name


def test_promtool_accepts_the_rules_and_a_scrape(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip(
            "promtool is not installed (Debian's prometheus package); "
            "the rules' metric names are checked by the test above"
        )
    rules = subprocess.run(
        [promtool, "check", "rules", str(ROOT / "deploy" / "alerts.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    scrape = subprocess.run(
        [promtool, "check", "metrics"],
        input=generate_latest().decode(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert scrape.returncode == 0, scrape.stdout + scrape.stderr

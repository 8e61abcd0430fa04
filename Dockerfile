# syntax=docker/dockerfile:1

# Build the wheel (db/ goes inside it as worker/_db) in a stage of its own, so the final
# image carries no build tools.
FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir build==1.2.2.post1
COPY pyproject.toml README.md ./
COPY worker ./worker
COPY db ./db
RUN python -m build --wheel --outdir /dist

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin ingest
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/*.whl supervisor==4.2.5 && rm -rf /tmp/dist
COPY supervisord.conf /etc/supervisord.conf
# Two worker processes by default; each serves /metrics, /healthz, /readyz on port
# 91NN (NN = its number): 9100, 9101, ...
ENV PYTHONUNBUFFERED=1 \
    INGEST_LOG_FORMAT=json \
    INGEST_PROCESSES=2 \
    INGEST_METRICS_PORT_PREFIX=91
USER 10001
EXPOSE 9100 9101
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=4)"]
# supervisord is PID 1: SIGTERM from the orchestrator reaches every worker, which stops
# receiving, checkpoints and releases its messages within INGEST_SHUTDOWN_GRACE_S.
ENTRYPOINT ["supervisord", "-c", "/etc/supervisord.conf"]

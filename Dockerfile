# syntax=docker/dockerfile:1
# One image for the ingest API and the consumer; the command picks the role:
#   API (default):  uvicorn producer_api.main:app --host 0.0.0.0 --port 8000
#   consumer:       python -m consumer   (with METRICS_HOST=0.0.0.0)
# The base is pinned by exact tag. To pin by digest as well, resolve it where a registry is
# reachable (`docker buildx imagetools inspect python:3.11.11-slim-bookworm`) and build with
# --build-arg PYTHON_IMAGE=python:3.11.11-slim-bookworm@sha256:<digest>.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# --- build: wheels into a self-contained virtualenv --------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first so that source edits do not invalidate this layer. Runtime
# dependencies only: no dev extra, no torch.
COPY pyproject.toml README.md* ./
RUN python - <<'PY' > /tmp/requirements.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY
RUN pip install --requirement /tmp/requirements.txt
COPY core core
COPY runtime runtime
COPY producer_api producer_api
COPY consumer consumer
RUN pip install --no-deps . \
    && python -m compileall -q /opt/venv \
    && ! pip list 2>/dev/null | grep -i '^torch '

# --- runtime ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="civicqc" \
      org.opencontainers.image.description="Civic photo quality control: ingest API and scoring consumer" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 civicqc \
    && useradd --system --uid 10001 --gid civicqc --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin civicqc
COPY --from=build /opt/venv /opt/venv
COPY deploy/docker/healthcheck.py /usr/local/bin/civicqc-healthcheck
WORKDIR /app
USER 10001:10001
# 8000: API (HTTP). 9107: API /metrics, 9108: consumer /metrics (METRICS_PORT of each).
EXPOSE 8000 9107 9108
# The consumer overrides the URL (compose: healthcheck.test; Kubernetes uses probes instead).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "/usr/local/bin/civicqc-healthcheck", "http://127.0.0.1:8000/healthz"]
CMD ["uvicorn", "producer_api.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-server-header"]

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
# The dependencies are the locked, hash-checked versions CI tested (requirements/, made by
# scripts/lock.sh): service.txt, or service-EXTRAS.txt with --build-arg EXTRAS=detect for
# the onnx detection runtime. Torch is never in this image.
ARG EXTRAS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first so that source edits do not invalidate this layer.
COPY requirements/service*.txt /tmp/requirements/
RUN pip install --require-hashes --requirement "/tmp/requirements/service${EXTRAS:+-$EXTRAS}.txt"
COPY pyproject.toml README.md* ./
COPY core core
COPY runtime runtime
COPY producer_api producer_api
COPY consumer consumer
# Then what a service never runs leaves the venv: pip and setuptools, the CLI's entry point
# (civicqc/, the operator's CLI and local stack, is not in the image), and test suites that
# wheels ship (numpy's, pycryptodome's); bytecode is compiled once, as the root filesystem
# is read-only at run time.
RUN pip install --no-deps . \
    && ! pip list 2>/dev/null | grep -i '^torch ' \
    && pip uninstall --yes --quiet pip setuptools wheel \
    && rm /opt/venv/bin/civicqc \
    && rm -rf /opt/venv/lib/python3*/site-packages/numpy/*/tests \
              /opt/venv/lib/python3*/site-packages/Crypto/SelfTest \
    && python -m compileall -q /opt/venv

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

#!/usr/bin/env bash
# Install everything the project needs on a fresh machine, idempotently:
# the Python virtualenv with the package and its dev tools, then the local
# services (Kafka jars, SeaweedFS, Prometheus, kcat) through `civicqc stack install`.
# Downloads are cached under ~/.cache, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/civicqc stack install

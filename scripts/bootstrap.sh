#!/usr/bin/env bash
# Install everything the project needs on a fresh machine, idempotently:
# the Python virtualenv with the package and its dev tools, Debian's chromium (and axe-core from npm) for
# the browser tests, then the local services (Kafka jars, SeaweedFS, Prometheus,
# kcat) through `civicqc stack install`. CIVICQC_WITH_TORCH=1 adds the
# ultralytics/torch extra. Downloads are cached under ~/.cache, so a
# second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
# Optional: the ultralytics (torch) detection backend. PyPI's Linux torch is the CUDA
# build, about 3 GB of wheels, so it stays out of the default install.
if [ "${CIVICQC_WITH_TORCH:-0}" = "1" ]; then
  .venv/bin/python -m pip install --quiet -e '.[dev,ultralytics]'
fi

# Browser tests drive Debian's chromium (never a browser downloaded by a test tool).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; }
  else
    echo "bootstrap: /usr/bin/chromium missing; run 'apt-get install -y chromium' as root" >&2
  fi
fi

# The accessibility checks of the browser tests run axe-core from npm
# (tests/browser/package-lock.json pins it); Debian's nodejs/npm run the install.
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends nodejs npm >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends nodejs npm >/dev/null; }
fi
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tests/browser --no-audit --no-fund --silent
else
  echo "bootstrap: npm missing; run 'apt-get install -y nodejs npm' as root" >&2
fi

.venv/bin/civicqc stack install

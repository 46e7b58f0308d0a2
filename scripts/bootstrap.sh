#!/usr/bin/env bash
# Install everything the project needs on a fresh machine, idempotently:
# the Python virtualenv with the package and its dev tools, Debian's chromium (and axe-core from npm) for
# the browser tests, then the local services (Kafka jars, SeaweedFS, Prometheus,
# kcat) through `civicqc stack install`. CIVICQC_WITH_TORCH=1 adds the
# ultralytics/torch extra. Downloads are cached under ~/.cache, so a
# second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "bootstrap: $*"; }

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
# -qq: errors only. Every setuptools editable mode prints an informational notice
# ("Please be careful with folders ...") that pip shows at warning level; a failed
# install still prints its error.
pip_install() {
  .venv/bin/python -m pip install -qq --disable-pip-version-check "$@"
}
# The exact versions CI tested, hash-checked (requirements/*.txt, made from pyproject.toml
# by scripts/lock.sh), then the package itself, editable, without resolving anything again.
# Optional: the ultralytics (torch) detection backend. PyPI's Linux torch is the CUDA
# build, about 3 GB of wheels, so it stays out of the default install.
lock=requirements/dev.txt
if [ "${CIVICQC_WITH_TORCH:-0}" = "1" ]; then
  say "with the ultralytics/torch detection backend (CIVICQC_WITH_TORCH=1)"
  lock=requirements/dev-torch.txt
fi
say "installing Python packages into .venv: $lock, then the package (editable)"
pip_install --upgrade pip
pip_install --require-hashes --requirement "$lock"
pip_install --no-deps --editable .

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
  say "installing Debian's nodejs and npm (for axe-core, the browser tests' accessibility checker)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends nodejs npm >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends nodejs npm >/dev/null; }
fi
if command -v npm >/dev/null 2>&1; then
  say "installing axe-core (npm ci --prefix tests/browser)"
  npm ci --prefix tests/browser --no-audit --no-fund --silent
else
  echo "bootstrap: npm missing; run 'apt-get install -y nodejs npm' as root" >&2
fi

say "installing the local services (Kafka, SeaweedFS, Prometheus, kcat)"
.venv/bin/civicqc stack install
cat <<'NEXT'
bootstrap: done. Next:
  .venv/bin/civicqc stack up     # run the local stack, then see README "Try the running stack"
  .venv/bin/pytest               # the whole test suite (starts and stops its own services)
  docs/ARCHITECTURE.md           # how the pieces fit
NEXT

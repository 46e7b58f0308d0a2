#!/usr/bin/env bash
# Pin every Python dependency, with its hashes, from pyproject.toml's ranges:
#
#   scripts/lock.sh                          re-pin after editing pyproject.toml (keeps the
#                                            versions already pinned wherever they still fit)
#   scripts/lock.sh --upgrade-package pillow a security release of one package
#   scripts/lock.sh --upgrade                everything to the newest versions the ranges allow
#
# then run CI (`bash .ci/run`): what it passes with is what bootstrap and the image install.
#
#   requirements/dev-torch.txt      dev tools, onnx and ultralytics/torch: CI (CIVICQC_WITH_TORCH=1)
#   requirements/dev.txt            dev tools and onnx: scripts/bootstrap.sh
#   requirements/service.txt        the services alone: the image (Dockerfile)
#   requirements/service-detect.txt the services and onnx: the image with --build-arg EXTRAS=detect
#
# dev-torch.txt holds every package of the others; they are pinned to its versions, so the
# image runs exactly what CI tested. Pins are for CPython 3.11 on x86-64 Linux (glibc 2.28 or
# newer), the image's platform. The resolver (uv) lives in a cache folder, not in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=${CIVICQC_LOCK_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/civicqc/lock-tools}
if [ ! -x "$tools/bin/uv" ]; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install -qq --disable-pip-version-check 'uv>=0.5,<1'
fi

compile() {
  "$tools/bin/uv" pip compile pyproject.toml --quiet --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header \
    --annotation-style line "$@"
}

compile --extra dev --extra detect --extra ultralytics --output-file requirements/dev-torch.txt "$@"
compile --extra dev --extra detect -c requirements/dev-torch.txt --output-file requirements/dev.txt
compile -c requirements/dev-torch.txt --output-file requirements/service.txt
compile --extra detect -c requirements/dev-torch.txt --output-file requirements/service-detect.txt
echo "lock: requirements/*.txt pinned from pyproject.toml; run bash .ci/run before committing"

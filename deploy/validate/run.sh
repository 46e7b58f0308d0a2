#!/usr/bin/env bash
# Validate everything under deploy/, grafana/, docker-compose.yml and the Dockerfile, offline
# except for package registries. Installs are idempotent and cached under ~/.cache/civicqc
# (override with CIVICQC_CACHE); a warm run takes seconds.
#
#   deploy/validate/run.sh            install what is missing, then run every check
#   deploy/validate/run.sh --tools    only install / cache the toolchain
#
# Tools: promtool (Debian prometheus), docker-compose (Debian), kubectl kustomize or a
# kustomize built from the Go module proxy, check-jsonschema and kubernetes-validate (PyPI,
# into .venv), @grafana/schema + ts-json-schema-generator (npm, into the cache), and the
# KEDA / Prometheus Operator CRDs from their Go modules.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
# shellcheck source=versions.env
source deploy/validate/versions.env
cache=${CIVICQC_CACHE:-$HOME/.cache/civicqc}
python=${PYTHON:-$repo/.venv/bin/python}
mkdir -p "$cache/bin" "$cache/schemas" "$cache/npm"
log() { printf 'validate: %s\n' "$*" >&2; }
started=$(date +%s)

apt_install() {  # apt_install PACKAGE... (as root, or via sudo when present)
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    if [ ! -f "$cache/.apt-updated" ]; then
        $sudo apt-get update -qq && touch "$cache/.apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Debian: promtool, docker-compose, Go (for the module proxy), npm --------------------
command -v promtool >/dev/null || { log "installing prometheus (promtool)"; apt_install prometheus; }
command -v docker-compose >/dev/null || { log "installing docker-compose"; apt_install docker-compose; }
command -v go >/dev/null || { log "installing golang-go"; apt_install golang-go; }
command -v npm >/dev/null || { log "installing npm"; apt_install npm; }

# --- PyPI: into the project's virtualenv ----------------------------------------------------
"$python" - <<PY || { log "installing check-jsonschema, kubernetes-validate"; "$python" -m pip install -q "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"; }
from importlib.metadata import version
assert version("check-jsonschema") == "$CHECK_JSONSCHEMA_VERSION"
assert version("kubernetes-validate") == "$KUBERNETES_VALIDATE_VERSION"
PY

# --- Go module proxy: kustomize (only when kubectl lacks it) and the CRDs -------------------
export GOMODCACHE="$cache/gomod" GOCACHE="$cache/gobuild" GOFLAGS=-modcacherw GOTOOLCHAIN=local
if ! kubectl kustomize --help >/dev/null 2>&1 && [ ! -x "$cache/bin/kustomize" ]; then
    log "building kustomize $KUSTOMIZE_VERSION from the Go module proxy"
    GOBIN="$cache/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi
for module in "$KEDA_MODULE@$KEDA_VERSION" "$PROMETHEUS_OPERATOR_MODULE@$PROMETHEUS_OPERATOR_VERSION"; do
    [ -d "$GOMODCACHE/$module" ] || { log "downloading CRDs from $module"; go mod download "$module"; }
done

# --- npm: Grafana's dashboard types -> JSON Schema, at the Grafana version in compose ---------
grafana_version=$(sed -n 's|^ *image: *grafana/grafana:\([0-9][0-9.]*\) *$|\1|p' docker-compose.yml)
[ -n "$grafana_version" ] || { log "no pinned grafana/grafana:X.Y.Z image in docker-compose.yml"; exit 1; }
dashboard_schema="$cache/schemas/grafana-dashboard-$grafana_version.json"
if [ ! -s "$dashboard_schema" ]; then
    log "generating the Grafana $grafana_version dashboard JSON Schema"
    (
        cd "$cache/npm"
        [ -f package.json ] || echo '{"private": true}' > package.json
        npm install --silent --no-audit --no-fund --ignore-scripts --save-exact \
            "@grafana/schema@$grafana_version" "ts-json-schema-generator@$TS_JSON_SCHEMA_GENERATOR_VERSION"
        installed=$(node -p 'require("./node_modules/@grafana/schema/package.json").version')
        [ "$installed" = "$grafana_version" ] || { echo "got @grafana/schema $installed" >&2; exit 1; }
        node_modules/.bin/ts-json-schema-generator --no-type-check --type Dashboard \
            --path node_modules/@grafana/schema/dist/types/raw/dashboard/x/dashboard_types.gen.d.ts \
            --out "$dashboard_schema.tmp"
        mv "$dashboard_schema.tmp" "$dashboard_schema"
    )
fi
log "toolchain ready in $(( $(date +%s) - started ))s (cache: $cache)"

[ "${1:-}" = "--tools" ] && exit 0
export CIVICQC_CACHE="$cache"
exec "$python" -m tests.deploy.validators

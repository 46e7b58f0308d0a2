"""The object store over HTTPS, with a certificate from a city's own CA.

The real store behind a TLS-terminating proxy that presents a certificate for 127.0.0.1
signed by a CA made for the test: both clients (the SDK's and the signed requests) must
verify it through ``S3_SSL_CAFILE``, and refuse it without.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from minio.helpers import MIN_PART_SIZE
from pydantic import ValidationError

from runtime.object_store import ObjectStore, StorageUnavailableError, store_client
from runtime.settings import CommonSettings
from tests.builders.latency_proxy import LatencyProxy
from tests.builders.tls import Certificates, make_certificates, server_context
from tests.fixtures.services import S3Service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("s3-tls"))


@pytest.fixture
def https_endpoint(s3_service: S3Service, certificates: Certificates) -> Iterator[str]:
    """The session's store, reached over HTTPS."""
    host, port = s3_service.endpoint.rsplit(":", 1)
    proxy = LatencyProxy(host, int(port), tls=server_context(certificates)).start()
    try:
        yield proxy.endpoint
    finally:
        proxy.stop()


def _store(settings: CommonSettings, bucket: str) -> ObjectStore:
    client = store_client(settings, connect_timeout_s=2.0, read_timeout_s=15.0, pool_size=2)
    return ObjectStore(client, bucket, max_workers=2, part_size=MIN_PART_SIZE)


async def test_both_clients_verify_the_store_with_the_citys_ca(
    s3_service: S3Service,
    make_bucket: Callable[[], str],
    https_endpoint: str,
    certificates: Certificates,
) -> None:
    settings = s3_service.settings(
        s3_endpoint=https_endpoint, s3_secure=True, s3_ssl_cafile=certificates.ca
    )
    store = _store(settings, make_bucket())
    try:
        await store.check()  # the SDK
        photo = os.urandom(300_000)
        digest = await store.put_whole("photos/a.jpg", [photo], "image/jpeg")  # signed PUT
        assert digest == hashlib.sha256(photo).hexdigest()
        assert await store.fetch("photos/a.jpg") == photo  # signed GET
        await store.tag("photos/a.jpg", {"civicqc-verdict": "accepted"})  # signed tagging
        large = os.urandom(MIN_PART_SIZE + 1)
        await store.put_stream("photos/b.jpg", io.BytesIO(large), "image/jpeg")  # multipart
        assert await store.fetch("photos/b.jpg") == large
        assert await store.first_key("photos/b") == "photos/b.jpg"  # the SDK's listing
    finally:
        store.close()


@pytest.mark.parametrize("trusted", ["system", "stranger"])
async def test_a_store_certificate_no_trusted_ca_signed_is_refused(
    s3_service: S3Service,
    make_bucket: Callable[[], str],
    https_endpoint: str,
    certificates: Certificates,
    trusted: str,
) -> None:
    cafile = certificates.stranger_ca if trusted == "stranger" else None
    # What an operator reads: the certificate's problem, whichever client sent the request.
    reason = r"certificate verify failed \((unable to get local issuer certificate|self.signed certificate in certificate chain)\)"
    settings = s3_service.settings(s3_endpoint=https_endpoint, s3_secure=True, s3_ssl_cafile=cafile)
    store = _store(settings, make_bucket())
    try:
        with pytest.raises(StorageUnavailableError, match=reason):
            await store.put_whole("photos/a.jpg", [b"photo"], "image/jpeg")
        with pytest.raises(StorageUnavailableError, match=reason):
            await store.check()
    finally:
        store.close()


def test_a_ca_file_without_tls_or_unreadable_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="S3_SSL_CAFILE set, but S3_SECURE=false"):
        CommonSettings(s3_ssl_cafile=tmp_path / "ca.pem")
    settings = CommonSettings(s3_secure=True, s3_ssl_cafile=tmp_path / "missing.pem")
    with pytest.raises(ValueError, match="cannot load the TLS files of S3_SSL_CAFILE"):
        store_client(settings, connect_timeout_s=1.0, read_timeout_s=1.0, pool_size=1)
    assert CommonSettings(s3_ssl_cafile="").s3_ssl_cafile is None

"""The one object store client, against the real store: both services see the same error kinds."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator, Callable

import pytest
from minio.helpers import MIN_PART_SIZE
from pydantic import SecretStr

from runtime.object_store import (
    DIGEST_METADATA,
    ObjectMissingError,
    ObjectStore,
    ObjectTooLargeError,
    StorageUnavailableError,
    StoreClient,
    store_client,
)
from runtime.settings import CommonSettings
from tests.builders.get_responses import recorded_gets
from tests.builders.sent_headers import recorded_requests
from tests.fixtures.services import S3Service

pytestmark = pytest.mark.integration


def _client(settings: CommonSettings) -> StoreClient:
    return store_client(settings, connect_timeout_s=2.0, read_timeout_s=15.0, pool_size=2)


def _store(settings: CommonSettings, bucket: str) -> ObjectStore:
    return ObjectStore(_client(settings), bucket, max_workers=2)


@pytest.fixture
async def store(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> AsyncIterator[ObjectStore]:
    opened = _store(s3_service.settings(), make_bucket())
    yield opened
    opened.close()


async def test_put_fetch_copy_delete_round_trip(store: ObjectStore) -> None:
    await store.put("incoming/a.jpg", b"photo", "image/jpeg")
    await store.copy("incoming/a.jpg", "accepted/a.jpg")
    await store.delete("incoming/a.jpg")
    assert await store.fetch("accepted/a.jpg") == b"photo"
    assert await store.first_key("accepted/a.") == "accepted/a.jpg"
    assert await store.fetch_if_exists("incoming/a.jpg") is None
    await store.delete("incoming/a.jpg")  # already gone: still fine, so retries are safe


async def test_a_missing_key_is_one_error_kind_whatever_the_call(store: ObjectStore) -> None:
    with pytest.raises(ObjectMissingError):
        await store.fetch("verdicts/nothing.json")
    with pytest.raises(ObjectMissingError):
        await store.copy("incoming/nothing.jpg", "accepted/nothing.jpg")
    assert await store.first_key("verdicts/nothing") is None
    await store.check()


async def test_empty_credentials_are_anonymous_and_refused_as_unavailable(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> None:
    anonymous = _store(
        s3_service.settings(s3_access_key=SecretStr(""), s3_secret_key=SecretStr("")),
        make_bucket(),
    )
    try:
        with pytest.raises(StorageUnavailableError) as refused:
            await anonymous.put("incoming/a.jpg", b"photo", "image/jpeg")
        assert s3_service.secret_key not in str(refused.value)
    finally:
        anonymous.close()


async def test_an_unreachable_store_is_unavailable_not_a_hang(s3_service: S3Service) -> None:
    dead = _store(s3_service.settings(s3_endpoint="127.0.0.1:9"), "any")
    try:
        with pytest.raises(StorageUnavailableError):
            await dead.check()
    finally:
        dead.close()


async def test_a_streamed_upload_is_multipart_through_the_sdk_and_vouches_for_nothing(
    s3_service: S3Service, make_bucket: Callable[[], str]
) -> None:
    """Only a body longer than a part is streamed: the SDK's own multipart upload, its parts
    signed by the SDK, no digest kept; a copy keeps none either."""
    client = _client(s3_service.settings())
    store = ObjectStore(client, make_bucket(), max_workers=1, part_size=MIN_PART_SIZE)
    photo = b"\xff\xd8" + bytes(range(256)) * (MIN_PART_SIZE // 256 + 40)
    try:
        await store.put_stream(
            "photos/a.jpg", io.BytesIO(photo), "image/jpeg", {"civicqc-verdict": "pending"}
        )
        assert await store.fetch_vouched("photos/a.jpg") == (photo, None)
        await store.copy("photos/a.jpg", "photos/b.jpg", {"civicqc-verdict": "accepted"})
        assert await store.fetch_vouched("photos/b.jpg") == (photo, None)
    finally:
        store.close()
    stat = client.sdk.stat_object(store.bucket, "photos/a.jpg")
    assert (stat.size, stat.content_type) == (len(photo), "image/jpeg")
    tags = client.sdk.get_object_tags(store.bucket, "photos/a.jpg")
    assert dict(tags or {}) == {"civicqc-verdict": "pending"}


async def test_a_whole_upload_is_one_put_signed_with_the_digest_taken_once(
    s3_service: S3Service, make_bucket: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(s3_service.settings())
    store = ObjectStore(client, make_bucket(), max_workers=1)
    chunks = [b"\xff\xd8", bytes(range(256)) * 40, b"\xff\xd9"]
    photo = b"".join(chunks)
    digest = hashlib.sha256(photo).hexdigest()
    sent = recorded_requests(monkeypatch)
    try:
        assert await store.put_whole("photos/w.jpg", chunks, "image/jpeg", {"civicqc-verdict": "x"})
        assert await store.put_whole("photos/w.jpg", chunks, "image/jpeg") == digest
        assert await store.put_whole("photos/one.jpg", [photo], "image/png") == digest
        await store.put_whole("photos/t.jpg", chunks, "image/jpeg", {"civicqc-verdict": "pending"})
    finally:
        store.close()
    monkeypatch.undo()
    # One PUT each, carrying the digest as the signed payload hash and as metadata.
    assert [request.line.split(" ")[0] for request in sent] == ["PUT"] * 4
    for request in sent:
        assert request.headers["x-amz-content-sha256"] == digest
        assert request.headers[f"x-amz-meta-{DIGEST_METADATA}"] == digest
    reader = _store(s3_service.settings(), store.bucket)
    try:
        assert await reader.fetch_vouched("photos/w.jpg") == (photo, digest)
    finally:
        reader.close()
    sdk = client.sdk
    assert sdk.get_object_tags(store.bucket, "photos/w.jpg") is None  # replaced, untagged
    assert dict(sdk.get_object_tags(store.bucket, "photos/t.jpg") or {}) == {
        "civicqc-verdict": "pending"
    }
    stat = sdk.stat_object(store.bucket, "photos/one.jpg")
    assert (stat.size, stat.content_type) == (len(photo), "image/png")


async def test_a_bounded_fetch_refuses_a_larger_object_from_its_length_unread(
    s3_service: S3Service, make_bucket: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GET's Content-Length refuses it: not a byte of the body is read, no HEAD first."""
    answered = recorded_gets(monkeypatch)
    store = ObjectStore(_client(s3_service.settings()), make_bucket(), max_workers=1)
    limit = 64 * 1024
    at_limit, over = bytes(range(256)) * (limit // 256), b"\xff" * (4 * limit)
    try:
        await store.put("photos/fits.jpg", at_limit, "image/jpeg")
        await store.put("photos/big.jpg", over, "image/jpeg")
        assert await store.fetch_vouched("photos/fits.jpg", max_bytes=limit) == (at_limit, None)
        with pytest.raises(ObjectTooLargeError) as refused:
            await store.fetch_vouched("photos/big.jpg", max_bytes=limit)
        assert await store.fetch("photos/big.jpg") == over, "unbounded reads are unchanged"
    finally:
        store.close()
    assert (refused.value.key, refused.value.size, refused.value.max_bytes) == (
        "photos/big.jpg",
        4 * limit,
        limit,
    )
    assert [read.bytes for read in answered] == [limit, 0, 4 * limit]

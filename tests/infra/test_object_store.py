"""Real S3 through the minio SDK, as the application uses it."""

from __future__ import annotations

import io
import urllib.request
import uuid

import pytest
from minio import Minio
from minio.error import S3Error

pytestmark = pytest.mark.integration

PAYLOAD = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # JPEG magic + 10 KiB


def _put(client: Minio, bucket: str, key: str, data: bytes = PAYLOAD) -> None:
    client.put_object(
        bucket_name=bucket,
        object_name=key,
        data=io.BytesIO(data),
        length=len(data),
        content_type="image/jpeg",
        metadata={"x-amz-meta-tenant": "springfield"},
    )


def test_put_stat_get_presign_list_delete(s3_client: Minio, make_bucket) -> None:
    bucket = make_bucket()
    _put(s3_client, bucket, "incoming/2026/11/26/a.jpg")
    _put(s3_client, bucket, "incoming/2026/11/26/b.jpg", b"second")
    _put(s3_client, bucket, "accepted/c.jpg", b"third")

    stat = s3_client.stat_object(bucket_name=bucket, object_name="incoming/2026/11/26/a.jpg")
    assert stat.size == len(PAYLOAD)
    assert stat.content_type == "image/jpeg"
    assert stat.metadata is not None
    assert stat.metadata.get("x-amz-meta-tenant") == "springfield"

    response = s3_client.get_object(bucket_name=bucket, object_name="incoming/2026/11/26/a.jpg")
    try:
        assert response.read() == PAYLOAD
    finally:
        response.close()
        response.release_conn()

    url = s3_client.presigned_get_object(bucket_name=bucket, object_name="accepted/c.jpg")
    with urllib.request.urlopen(url, timeout=10) as http:
        assert http.status == 200
        assert http.read() == b"third"

    listed = s3_client.list_objects(bucket_name=bucket, prefix="incoming/", recursive=True)
    assert sorted(o.object_name for o in listed) == [
        "incoming/2026/11/26/a.jpg",
        "incoming/2026/11/26/b.jpg",
    ]

    s3_client.remove_object(bucket_name=bucket, object_name="incoming/2026/11/26/b.jpg")
    with pytest.raises(S3Error) as missing:
        s3_client.stat_object(bucket_name=bucket, object_name="incoming/2026/11/26/b.jpg")
    assert missing.value.code in ("NoSuchKey", "ResponseError")
    remaining = s3_client.list_objects(bucket_name=bucket, recursive=True)
    assert sorted(o.object_name for o in remaining) == [
        "accepted/c.jpg",
        "incoming/2026/11/26/a.jpg",
    ]


def test_behaves_like_minio_on_missing_and_non_empty_buckets(s3_client: Minio, make_bucket) -> None:
    bucket = make_bucket()
    _put(s3_client, bucket, "x.jpg")
    with pytest.raises(S3Error) as not_empty:
        s3_client.remove_bucket(bucket_name=bucket)
    assert not_empty.value.code == "BucketNotEmpty"
    with pytest.raises(S3Error) as no_bucket:
        _put(s3_client, f"absent-{uuid.uuid4().hex}", "x.jpg")
    assert no_bucket.value.code == "NoSuchBucket"


def test_wrong_secret_is_rejected(s3_service) -> None:
    intruder = Minio(
        s3_service.endpoint,
        access_key=s3_service.access_key,
        secret_key="not-the-secret",
        secure=s3_service.secure,
    )
    with pytest.raises(S3Error) as denied:
        intruder.list_buckets()
    assert denied.value.code == "SignatureDoesNotMatch"


def test_object_survives_storage_restart(
    s3_client: Minio, make_bucket, object_store_control
) -> None:
    bucket = make_bucket()
    _put(s3_client, bucket, "incoming/durable.jpg")

    object_store_control.restart()

    response = s3_client.get_object(bucket_name=bucket, object_name="incoming/durable.jpg")
    try:
        assert response.read() == PAYLOAD
    finally:
        response.close()
        response.release_conn()

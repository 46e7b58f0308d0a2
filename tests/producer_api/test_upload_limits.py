"""Slow clients cannot hold the upload slots: a whole-upload deadline and a per-key cap.

Real uvicorn on loopback, clients on raw sockets sending a few bytes at a time (the
review's "16 clients, one byte every 29 s", scaled down to sub-second settings so
each test ends within seconds). The object store is a closed port: an upload that
gets a slot and finishes its body answers 503 ``object_storage_unavailable``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry

from producer_api.main import create_app
from producer_api.settings import Settings
from runtime.apikeys import KeyRole
from tests.producer_api.conftest import Keys, jpeg_bytes, secured
from tests.producer_api.served import Trickle, served

IMAGE = jpeg_bytes()


@contextlib.contextmanager
def _limited(settings: Settings, keys: Keys, *, idle_s: float, deadline_s: float) -> Iterator[str]:
    settings = secured(settings, keys).model_copy(
        update={
            "max_concurrent_uploads": 4,
            "max_concurrent_uploads_per_key": 2,
            "upload_idle_timeout_s": idle_s,
            "upload_timeout_s": deadline_s,
        }
    )
    with served(create_app(settings, CollectorRegistry(), json_logs=False)) as url:
        yield url


def _trickle(url: str, key: str) -> Trickle:
    headers = {"Content-Type": "image/jpeg", "X-API-Key": key}
    return Trickle(url, headers, length=len(IMAGE))


def test_a_trickling_upload_gets_408_at_the_whole_upload_deadline(
    offline_settings: Settings, keys: Keys
) -> None:
    with _limited(offline_settings, keys, idle_s=1.0, deadline_s=2.0) as url:
        upload = _trickle(url, keys.add("springfield"))
        started = time.monotonic()
        sent = 0
        # A byte every 0.4 s stays inside the 1 s idle timeout; the body would take 20 s.
        while sent < 50 and upload.send(IMAGE[sent : sent + 1]):
            sent += 1
            time.sleep(0.4)
        status, body = upload.answer()
        elapsed = time.monotonic() - started
        upload.close()
    assert (status, body["code"]) == (408, "upload_timeout"), body
    assert "UPLOAD_TIMEOUT_S" in str(body["detail"])
    assert 1.8 < elapsed < 5.0, elapsed


def test_one_key_cannot_take_every_upload_slot(offline_settings: Settings, keys: Keys) -> None:
    with _limited(offline_settings, keys, idle_s=10.0, deadline_s=20.0) as url:
        page_key = keys.add("springfield", KeyRole.PUBLIC)
        slow = [_trickle(url, page_key) for _ in range(4)]
        try:
            for upload in slow:
                upload.send(IMAGE[:1])
            # Two hold their slots (idle for up to 10 s); the other two are refused at once.
            deadline = time.monotonic() + 8.0
            while sum(u.answered() for u in slow) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            refused = [upload.answer() for upload in slow if upload.answered()]
            assert [(status, body["code"]) for status, body in refused] == [
                (429, "too_many_uploads"),
                (429, "too_many_uploads"),
            ]
            # Another key still gets a slot: its upload goes as far as the (closed) store.
            other = _trickle(url, keys.add("shelbyville"))
            other.send(IMAGE)
            status, body = other.answer()
            other.close()
            assert (status, body["code"]) == (503, "object_storage_unavailable"), body
        finally:
            for upload in slow:
                upload.close()

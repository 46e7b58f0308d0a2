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

import pytest
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


@pytest.mark.parametrize(
    ("idle_s", "deadline_s", "sent_bytes", "pause_s", "detail", "min_s"),
    [
        # A byte every 0.4 s stays inside the 1 s idle timeout; the body would take 20 s.
        (1.0, 2.0, 50, 0.4, "did not complete within 2 s (UPLOAD_TIMEOUT_S)", 1.8),
        # Ten bytes, then nothing.
        (0.5, 20.0, 10, 0.0, "no data for 0.5 s", 0.4),
    ],
    ids=["trickling-past-the-deadline", "silent-past-the-idle-timeout"],
)
def test_a_slow_or_silent_client_gets_408(
    offline_settings: Settings,
    keys: Keys,
    idle_s: float,
    deadline_s: float,
    sent_bytes: int,
    pause_s: float,
    detail: str,
    min_s: float,
) -> None:
    with _limited(offline_settings, keys, idle_s=idle_s, deadline_s=deadline_s) as url:
        upload = _trickle(url, keys.add("springfield"))
        started = time.monotonic()
        sent = 0
        while sent < sent_bytes and upload.send(IMAGE[sent : sent + 1]):
            sent += 1
            time.sleep(pause_s)
        status, body = upload.answer()
        elapsed = time.monotonic() - started
        upload.close()
    assert (status, body["code"]) == (408, "upload_timeout"), body
    assert detail in str(body["detail"])
    assert min_s < elapsed < 5.0, elapsed


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


def test_a_replica_with_every_slot_taken_answers_503_busy(
    offline_settings: Settings, keys: Keys
) -> None:
    with _limited(offline_settings, keys, idle_s=10.0, deadline_s=20.0) as url:
        holders = [_trickle(url, key) for key in (keys.add("a"), keys.add("b")) for _ in range(2)]
        try:
            for upload in holders:
                upload.send(IMAGE[:1])
            # MAX_CONCURRENT_UPLOADS is 4: a fifth upload, from a key with no upload yet.
            deadline = time.monotonic() + 8.0
            while True:
                late = _trickle(url, keys.add("c"))
                late.send(IMAGE)
                status, body = late.answer()
                late.close()
                if body["code"] == "busy" or time.monotonic() > deadline:
                    break
                time.sleep(0.1)  # the holders had not all reached the upload path yet
            assert (status, body["code"]) == (503, "busy"), body
            assert not any(upload.answered() for upload in holders)
        finally:
            for upload in holders:
                upload.close()

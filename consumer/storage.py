"""The consumer's object store client: one pool sized to the in-flight bound.

The client and its two error kinds are :mod:`runtime.object_store`'s, shared
with the API; the keys are :mod:`runtime.layout`'s. Only the sizes are the
consumer's: one thread and connection per event in flight, and a read timeout
long enough for a 30 MB photo.
"""

from __future__ import annotations

from consumer.settings import ConsumerSettings
from runtime.object_store import ObjectStore, store_client

#: How long opening a connection may take before the request is retried.
_CONNECT_TIMEOUT_S = 2.0


def open_store(settings: ConsumerSettings) -> ObjectStore:
    client = store_client(
        settings,
        connect_timeout_s=_CONNECT_TIMEOUT_S,
        read_timeout_s=settings.s3_timeout_s,
        pool_size=settings.max_in_flight,
    )
    return ObjectStore(client, settings.s3_bucket, max_workers=settings.max_in_flight)

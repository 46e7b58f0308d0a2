"""Every consumer metric, recorded in the main process only.

Scoring runs in worker processes, but they return timings as data and the main
process records them, so plain in-process metrics stay correct without
prometheus_client's multiprocess mode. Label sets are bounded: verdicts and DLQ
reasons are enums, checks are the engine's (``core.rules.Checks``), tenants are the configured
municipalities, partitions are the topic's.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

#: Scoring a 12 MP photo takes a few hundred ms on one core; small ones far less.
_SCORING_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Submit-to-verdict spans queueing as well: the SLO is 1 s at p99, alerts look above it.
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class ConsumerMetrics:
    """The consumer's metrics on one registry (tests pass a fresh ``CollectorRegistry``)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.images_scored = Counter(
            "civicqc_images_scored",
            "Images scored, by outcome and tenant.",
            ["verdict", "tenant"],
            registry=registry,
        )
        self.check_failures = Counter(
            "civicqc_check_failures",
            "Failed quality checks, by check.",
            ["check"],
            registry=registry,
        )
        self.scoring_duration = Histogram(
            "civicqc_scoring_duration_seconds",
            "Engine time to score one image (decode and checks), as the engine reports it.",
            buckets=_SCORING_BUCKETS,
            registry=registry,
        )
        self.end_to_end_latency = Histogram(
            "civicqc_end_to_end_latency_seconds",
            "From the event's submitted_at to its verdict being published.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.inflight_images = Gauge(
            "civicqc_inflight_images",
            "Events this replica has taken from Kafka and not finished yet.",
            registry=registry,
        )
        self.retries = Counter(
            "civicqc_retries",
            "Retries of transient failures, by operation.",
            ["operation"],
            registry=registry,
        )
        self.dlq_messages = Counter(
            "civicqc_dlq_messages",
            "Events sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "civicqc_consumer_lag_messages",
            "End offset minus committed offset of each partition this replica owns.",
            ["topic", "partition"],
            registry=registry,
        )
        self.pool_busy_workers = Gauge(
            "civicqc_worker_pool_busy_workers",
            "Scoring processes working on an image right now.",
            registry=registry,
        )
        self.pool_workers = Gauge(
            "civicqc_worker_pool_workers",
            "Scoring processes in this replica's pool.",
            registry=registry,
        )

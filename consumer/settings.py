"""Consumer settings: the shared names of :class:`CommonSettings` plus the knobs of one replica.

Built once in :func:`consumer.main.main` and passed down; nothing else reads the environment.
"""

from __future__ import annotations

from pydantic import Field

from core.privacy import ExifDisclosure
from runtime.cpus import usable_cores
from runtime.settings import CommonSettings


class ConsumerSettings(CommonSettings):
    consumer_group: str = Field(
        default="civicqc-scorers", description="Kafka consumer group shared by all replicas."
    )
    worker_processes: int = Field(
        default_factory=usable_cores, ge=1, description="Scoring processes per replica (CPU-bound)."
    )
    worker_memory_headroom_mb: int = Field(
        # A 12 MP photo, scored and redacted, needs ~220 MiB; 2 workers x (base + this)
        # stay inside the 2 GiB a replica gets in deploy/k8s.
        default=512,
        ge=0,
        description="Address space (RLIMIT_AS) each scoring process may add to what it holds "
        "after loading; an input that needs more fails in that worker alone. 0: no limit.",
    )
    worker_task_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="A scoring process still busy with one image after this long is killed "
        "and replaced; the image is charged a failed attempt.",
    )
    dedupe_exact: bool = Field(
        default=True,
        description="Give identical bytes of the same tenant, scored with the same rules, the "
        "stored verdict of their first copy (marked duplicate_of) instead of scoring again.",
    )
    topic_fingerprints: str = Field(
        default="images.fingerprints",
        description="Compacted topic of photo fingerprints every replica reads; when it does "
        "not exist, near-duplicate search is off.",
    )
    near_duplicate_max_distance: int = Field(
        default=16, ge=0, le=64, description="Most fingerprint bits a near-duplicate differs in."
    )
    near_duplicate_window_days: float = Field(
        default=7.0, gt=0, description="How far back near-duplicates are looked for."
    )
    near_duplicate_max_metres: float = Field(
        default=50.0,
        gt=0,
        description="When both photos carry a location, how far apart a near-duplicate may be.",
    )
    near_duplicate_fetch_wait_ms: int = Field(
        default=500,
        ge=0,
        le=30_000,
        description="How long the broker holds a read of the fingerprint topic while it has "
        "less than 64 KiB to return: one request per this long per replica, not one per "
        "photo, and this much more before a replica knows another's photos.",
    )
    max_in_flight: int = Field(
        default=8,
        ge=1,
        description="Events one replica works on at once; partitions pause beyond this.",
    )
    max_retries: int = Field(
        default=2,
        ge=0,
        description="Retries of an event whose scoring worker failed on it (raised, died, "
        "overran WORKER_TASK_TIMEOUT_S) before it is DLQ'd as worker_crashed. Outages are "
        "not counted: they are retried until the dependency is back.",
    )
    retry_backoff: float = Field(
        default=0.5, gt=0, description="First retry delay in seconds; doubles per retry."
    )
    retry_backoff_max: float = Field(
        default=10.0,
        gt=0,
        description="Cap of one retry delay: how long after an outage ends a waiting event "
        "notices, at most.",
    )
    missing_object_grace_s: float = Field(
        default=30.0,
        ge=0,
        description="How long a submitted object may be missing (a lagging store replica) "
        "before its event is DLQ'd as object_missing.",
    )
    commit_interval_s: float = Field(
        default=0.5,
        ge=0,
        description="Least time between offset commits: fewer broker writes, at the cost of "
        "that much more redelivered (identical) verdicts after a crash.",
    )
    s3_timeout_s: float = Field(
        default=10.0, gt=0, description="Read timeout of one object-store request."
    )
    kafka_session_timeout_ms: int = Field(
        default=10_000,
        ge=6_000,
        description="How long a dead replica keeps its partitions before the group moves them.",
    )
    shutdown_timeout_s: float = Field(
        default=30.0, gt=0, description="How long SIGTERM waits for in-flight work to finish."
    )
    lag_interval_s: float = Field(
        default=5.0, gt=0, description="How often consumer lag is read from the broker."
    )
    metrics_port: int = Field(
        default=9108, ge=0, le=65535, description="Prometheus /metrics port; 0 picks a free one."
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address of the metrics endpoint; 0.0.0.0 in containers for the scraper.",
    )
    exif_in_verdicts: ExifDisclosure = Field(
        default=ExifDisclosure.COARSE,
        description="EXIF in verdict events and stored verdicts: full, coarse (GPS to ~1 km, "
        "no altitude, capture date only) or off (presence and orientation only).",
    )

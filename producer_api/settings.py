"""Settings of the ingest API, built once at startup (``Settings()``) and passed down.

Only this class reads the environment, so every knob the API has is listed here,
typed, with the name an operator sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from minio.helpers import MIN_PART_SIZE
from pydantic import Field, HttpUrl, model_validator

from runtime.settings import CatalogueSettings, CommonSettings


class Settings(CommonSettings, CatalogueSettings):
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    metrics_port: int = Field(
        default=9107,
        ge=0,
        le=65535,
        description="Port of the API's Prometheus /metrics, a listener of its own: the public "
        "port never serves metrics. 0 picks a free one.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address of the metrics listener; 0.0.0.0 in containers for the scraper.",
    )
    public_base_url: HttpUrl | None = Field(
        default=None,
        description="Base of the status URLs handed to clients (e.g. https://qc.example.org). "
        "Unset: derived from the request, which is wrong behind a proxy that rewrites Host.",
    )
    replica_id: str | None = Field(
        default=None,
        description="Names this replica in Kafka client ids and logs; defaults to a random id.",
    )

    upload_part_size: int = Field(
        default=MIN_PART_SIZE,
        ge=MIN_PART_SIZE,
        description="Bytes buffered per S3 part: the memory one upload may hold at a time.",
    )
    max_concurrent_uploads: int = Field(
        default=16,
        ge=1,
        description="Uploads streamed at once; more get 503 at once rather than queueing, "
        "which bounds memory to about this times UPLOAD_PART_SIZE.",
    )
    max_concurrent_uploads_per_key: int = Field(
        default=4,
        ge=1,
        description="Uploads one API key may stream at once (operator keys excepted); more "
        "get 429, so one key's slow clients cannot take every slot of MAX_CONCURRENT_UPLOADS.",
    )
    upload_idle_timeout_s: float = Field(
        default=30.0, gt=0, description="A client that sends nothing for this long gets 408."
    )
    upload_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="The whole body must arrive within this long, however steadily it "
        "trickles; else 408. 120 s carries a 4 MB photo at 270 kbit/s.",
    )

    s3_connect_timeout_s: float = Field(default=0.5, gt=0)
    s3_read_timeout_s: float = Field(
        default=1.0,
        gt=0,
        description="Per socket operation of small requests (status, records, probes), so a "
        "hung store cannot hang the API.",
    )
    s3_upload_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Per socket operation while uploading a part: the store may take a few "
        "seconds to acknowledge 5 MiB under load. A down store still fails within "
        "S3_CONNECT_TIMEOUT_S.",
    )
    kafka_send_timeout_s: float = Field(
        default=1.0, gt=0, description="How long a publish may wait before the upload gets 503."
    )
    readiness_timeout_s: float = Field(default=0.8, gt=0, le=5)

    # -- security (producer_api/security.py, docs/SECURITY.md) -------------------------
    auth_enabled: bool = Field(
        default=True,
        description="Require an API key (X-API-Key or Authorization: Bearer). Turn off only "
        "for local development.",
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="Keys file written by `civicqc keys`; re-read on change. Unset with auth "
        "on: every request gets 401.",
    )
    api_keys_reload_s: float = Field(
        default=1.0, gt=0, description="How often the keys file is checked for changes."
    )
    rate_limit_per_s: float = Field(
        default=10.0,
        gt=0,
        description="Requests per second per key and replica (keys may override).",
    )
    rate_limit_burst: int = Field(default=30, ge=1, description="Token bucket size per key.")
    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description="Origins of upload pages allowed to call the API, JSON list, e.g. "
        '["https://report.springfield.example"]. Empty: no CORS headers.',
    )
    content_security_policy: str = Field(
        default="default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'",
        description="CSP of HTML answers (the upload page); JSON answers get default-src 'none'.",
    )
    legacy_validate_wait_s: float = Field(
        default=10.0,
        ge=0,
        le=60,
        description="How long POST /api/validate (the reference system's synchronous "
        "endpoint) waits for the verdict before answering 202 with the status URL.",
    )

    @model_validator(mode="after")
    def _reject_hanging_timeouts(self) -> Self:
        """The API promises 503 within about a second when a dependency is down."""
        slow = {
            name: value
            for name, value in (
                ("KAFKA_SEND_TIMEOUT_S", self.kafka_send_timeout_s),
                ("S3_CONNECT_TIMEOUT_S", self.s3_connect_timeout_s),
                ("S3_READ_TIMEOUT_S", self.s3_read_timeout_s),
            )
            if value > 10
        }
        if self.s3_upload_timeout_s > 60:
            slow["S3_UPLOAD_TIMEOUT_S"] = self.s3_upload_timeout_s
        if slow:
            raise ValueError(f"{slow} over 10 s would let uploads hang on a dead dependency")
        return self

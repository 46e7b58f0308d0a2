"""Settings of the ingest API, built once at startup (``Settings()``) and passed down.

Only this class reads the environment, so every knob the API has is listed here,
typed, with the name an operator sets.
"""

from __future__ import annotations

from typing import Self

from minio.helpers import MIN_PART_SIZE
from pydantic import Field, HttpUrl, model_validator

from civicqc.settings import CommonSettings

MiB = 1024 * 1024


class Settings(CommonSettings):
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    public_base_url: HttpUrl | None = Field(
        default=None,
        description="Base of the status URLs handed to clients (e.g. https://qc.example.org). "
        "Unset: derived from the request, which is wrong behind a proxy that rewrites Host.",
    )
    replica_id: str | None = Field(
        default=None,
        description="Names this replica in Kafka client ids and logs; defaults to a random id.",
    )

    max_content_length: int = Field(
        default=32 * MiB, ge=1, description="Largest request body accepted; beyond it 413."
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
    upload_idle_timeout_s: float = Field(
        default=30.0, gt=0, description="A client that sends nothing for this long gets 408."
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

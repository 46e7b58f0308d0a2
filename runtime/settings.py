"""Settings shared by the ingest API, the consumers and the CLI: one environment variable per setting.

Each service subclasses :class:`CommonSettings` (``producer_api/settings.py``,
``consumer/settings.py``) and builds it once at startup; nothing else reads the
environment. Names match the reference system where it had one.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.rules import ENV_OVERRIDES
from runtime.kafka_connection import (
    KafkaConnection,
    SaslMechanism,
    SecurityProtocol,
    check_kafka_security,
    kafka_connection,
)

MiB = 1024 * 1024
#: The region MinIO and SeaweedFS answer unless configured otherwise.
DEFAULT_S3_REGION = "us-east-1"


class RuleOverrides(BaseSettings):
    """The reference system's threshold variables; each set one overrides every profile.

    A class of its own so that ``civicqc score`` reads these and nothing else.
    The field names are the keys of :data:`core.rules.ENV_OVERRIDES` (a test keeps
    the two in step).
    """

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    blur_threshold: float | None = Field(default=None, description="Blur check threshold.")
    min_brightness: float | None = Field(default=None, description="Darkest mean brightness.")
    max_brightness: float | None = Field(default=None, description="Brightest mean brightness.")
    min_resolution_width: int | None = Field(default=None, description="Pixels.")
    min_resolution_height: int | None = Field(default=None, description="Pixels.")
    min_megapixels: float | None = Field(default=None, description="Megapixels.")
    metadata_completeness: float | None = Field(
        default=None, description="Percent of the key EXIF fields present."
    )

    @field_validator(*(name.lower() for name in ENV_OVERRIDES), mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``BLUR_THRESHOLD=`` (set but empty) leaves the profile's value, as before."""
        return None if isinstance(value, str) and not value.strip() else value

    def rule_overrides(self) -> dict[str, str]:
        """``VARIABLE -> value`` of the overrides that are set, as core's helper takes them."""
        values = self.model_dump(include={name.lower() for name in ENV_OVERRIDES})
        return {name.upper(): str(value) for name, value in values.items() if value is not None}


class CatalogueSettings(BaseSettings):
    """Where a city keeps its own message catalogues; read by the API and ``civicqc score``."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    message_catalogues_dir: Path | None = Field(
        default=None,
        description="Folder of a city's own <language>.po catalogues: new languages, or its "
        "wording for some of the built-in texts (runtime/locales).",
    )


class CommonSettings(RuleOverrides):
    # A refused combination must not echo the environment: it holds the S3 and Kafka secrets.
    model_config = SettingsConfigDict(
        extra="ignore", case_sensitive=False, hide_input_in_errors=True
    )

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT",
        description="PLAINTEXT, SSL (TLS, optionally with a client certificate), SASL_SSL "
        "or SASL_PLAINTEXT; every Kafka client of the API, the consumers and the CLI uses it.",
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        default="SCRAM-SHA-512",
        description="With SASL_*: SCRAM-SHA-512 (Strimzi's), SCRAM-SHA-256 or PLAIN.",
    )
    kafka_sasl_username: str = Field(default="", description="With SASL_*: the Kafka user.")
    kafka_sasl_password: SecretStr = Field(
        default=SecretStr(""), description="With SASL_*: its password (from a Secret)."
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="With SSL or SASL_SSL: PEM file of the CA that signed the brokers' "
        "certificates; unset: the system's trusted CAs.",
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="With SSL: PEM client certificate, for brokers that ask one."
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None, description="With SSL: the client certificate's PEM private key."
    )
    topic_submitted: str = "images.submitted"
    topic_verdicts: str = "images.verdicts"
    topic_dlq: str = "images.submitted.dlq"

    s3_endpoint: str = "127.0.0.1:8333"
    s3_access_key: SecretStr = SecretStr("")
    s3_secret_key: SecretStr = SecretStr("")
    s3_secure: bool = False
    s3_ssl_cafile: Path | None = Field(
        default=None,
        description="With S3_SECURE=true: PEM file of the CA that signed the store's "
        "certificate (a city's own CA); unset: the system's trusted CAs.",
    )
    s3_region: str = Field(
        default=DEFAULT_S3_REGION,
        description="The store's region, signed into every request (nothing asks the store "
        "for it): MinIO's and SeaweedFS's unless configured otherwise.",
    )
    s3_bucket: str = "civicqc-images"

    max_content_length: int = Field(
        default=32 * MiB,
        ge=1,
        description="Largest photo in bytes: the API answers 413 to a larger upload, and the "
        "consumer gives a larger stored object an error verdict (too_large) without reading it.",
    )

    rule_profile: str = Field(
        default="default", description="Profile for tenants without their own: a built-in name."
    )
    rule_profiles_dir: Path | None = Field(
        default=None, description="Folder of extra *.toml profiles, one per municipality."
    )
    tenant_profiles: dict[str, str] = Field(
        default_factory=dict,
        description='JSON object tenant -> profile name, e.g. {"springfield": "strict"}.',
    )

    shadow_profiles: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object tenant -> candidate profile scored beside the live one, its "
        'verdicts published to TOPIC_VERDICTS_SHADOW only, e.g. {"springfield": "strict-next"}.',
    )
    shadow_sample_rate: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Share of a shadowed tenant's photos scored with its candidate too, chosen "
        "by image id (the same photo is always in or out).",
    )
    topic_verdicts_shadow: str = Field(
        default="images.verdicts.shadow",
        description="Where shadow verdicts go; nothing acts on them.",
    )

    log_level: str = "INFO"

    @field_validator(
        "kafka_ssl_cafile",
        "kafka_ssl_certfile",
        "kafka_ssl_keyfile",
        "s3_ssl_cafile",
        mode="before",
    )
    @classmethod
    def _blank_path_is_unset(cls, value: object) -> object:
        """``KAFKA_SSL_CAFILE=`` (set but empty) is unset, not the current folder."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _security_agrees(self) -> CommonSettings:
        check_kafka_security(
            self.kafka_security_protocol,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password.get_secret_value(),
            ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile,
            ssl_keyfile=self.kafka_ssl_keyfile,
        )
        if self.s3_ssl_cafile is not None and not self.s3_secure:
            raise ValueError(
                "S3_SSL_CAFILE set, but S3_SECURE=false: the store is reached without TLS"
            )
        return self

    def kafka(self) -> KafkaConnection:
        """Brokers, TLS and SASL for every Kafka client (the TLS files are read now)."""
        return kafka_connection(
            self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password.get_secret_value(),
            ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile,
            ssl_keyfile=self.kafka_ssl_keyfile,
        )

    @field_validator("s3_region", mode="before")
    @classmethod
    def _blank_region_is_the_default(cls, value: object) -> object:
        """``S3_REGION=`` (set but empty) means the default, as unset does."""
        return DEFAULT_S3_REGION if isinstance(value, str) and not value.strip() else value

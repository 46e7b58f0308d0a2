"""Settings shared by the ingest API and the consumers: one environment variable per setting.

Each service subclasses :class:`CommonSettings` (``producer_api/settings.py``,
``consumer/settings.py``) and builds it once at startup; nothing else reads the
environment. Names match the reference system where it had one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.profiles import BUILTIN_PROFILES, builtin_profile
from core.rules import Rules, rules_from_toml, with_env_overrides


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_submitted: str = "images.submitted"
    topic_verdicts: str = "images.verdicts"
    topic_dlq: str = "images.submitted.dlq"

    s3_endpoint: str = "127.0.0.1:8333"
    s3_access_key: SecretStr = SecretStr("")
    s3_secret_key: SecretStr = SecretStr("")
    s3_secure: bool = False
    s3_region: str | None = None
    s3_bucket: str = "civicqc-images"

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

    log_level: str = "INFO"


def load_rulebook(
    settings: CommonSettings, env: Mapping[str, str] | None = None
) -> dict[str, Rules]:
    """All profiles by name: built-ins plus ``RULE_PROFILES_DIR``, with the reference env overrides.

    The reference system's variables (``BLUR_THRESHOLD`` ...) apply to every profile,
    and the profile version gains ``+env`` so verdicts say so.
    """
    environ = os.environ if env is None else env
    profiles = {name: builtin_profile(name) for name in BUILTIN_PROFILES}
    if settings.rule_profiles_dir is not None:
        for path in sorted(settings.rule_profiles_dir.glob("*.toml")):
            rules = rules_from_toml(path.read_text(encoding="utf-8"))
            profiles[rules.name] = rules
    missing = {settings.rule_profile, *settings.tenant_profiles.values()} - profiles.keys()
    if missing:
        raise ValueError(f"unknown rule profile(s) {sorted(missing)}; known: {sorted(profiles)}")
    return {name: with_env_overrides(rules, environ) for name, rules in profiles.items()}


def profile_for_tenant(settings: CommonSettings, tenant: str) -> str:
    return settings.tenant_profiles.get(tenant, settings.rule_profile)

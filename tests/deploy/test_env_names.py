"""Every environment variable in compose and Kubernetes is declared by a settings class.

The api / civicqc-api containers are checked against producer_api.settings, the consumer /
civicqc-consumer ones against consumer.settings; both include runtime.settings.CommonSettings.
While a service's settings module can't be imported, only CommonSettings counts for it.
"""

from __future__ import annotations

import pytest

from tests.deploy import validators as v

pytestmark = pytest.mark.usefixtures("toolchain")


def test_env_names_match_settings() -> None:
    result = v.check_env_names()
    assert result.ok, "\n".join(result.problems)


def test_settings_classes_are_the_services_own() -> None:
    assert "runtime.settings:CommonSettings" in v.settings_env("api").classes
    assert "KAFKA_BOOTSTRAP_SERVERS" in v.settings_env("consumer").names
    for container in ("api", "consumer"):
        env = v.settings_env(container)
        if not env.common_only:
            assert len(env.classes) >= 2, env.classes


def test_an_unknown_name_is_reported() -> None:
    problems = v._unknown_env("consumer", {"KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BROKERS"})
    assert problems == ["consumer: KAFKA_BROKERS is not declared by any settings class"]


def test_configmap_keys_are_settings_names() -> None:
    prod = v.kustomize_build(v.K8S_DIR / "overlays" / "prod")
    declared = v.settings_env("api").names | v.settings_env("consumer").names
    for configmap in (o for o in prod if o["kind"] == "ConfigMap"):
        assert set(configmap["data"]) <= declared, configmap["metadata"]["name"]

"""docker-compose.yml: Compose-spec schema, docker-compose config, and the issue's shape."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.deploy import validators as v

pytestmark = pytest.mark.usefixtures("toolchain")


@pytest.mark.parametrize(
    "check", [v.check_compose_schema, v.check_compose_config], ids=lambda c: c.__name__
)
def test_check_passes(check) -> None:
    result = check()
    assert result.ok, "\n".join(result.problems)


def test_services_and_pins() -> None:
    services = v.load_compose()["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    assert "KAFKA_ZOOKEEPER_CONNECT" not in services["kafka"]["environment"]
    for name, svc in services.items():
        image = str(svc.get("image", ""))
        assert not image.endswith(":latest") and ":" in image, f"{name} image not pinned"
    assert re.fullmatch(r"minio/minio:RELEASE\.[0-9TZ-]+", services["minio"]["image"])
    assert services["consumer"]["deploy"]["replicas"] == 3
    assert services["api"]["image"] == services["consumer"]["image"]  # one image, two commands
    assert services["api"]["command"] != services["consumer"]["command"]
    assert v.compose_partitions() >= services["consumer"]["deploy"]["replicas"]
    for app in ("api", "consumer"):
        depends = services[app]["depends_on"]
        assert depends["init-topics"]["condition"] == "service_completed_successfully"
        assert depends["init-bucket"]["condition"] == "service_completed_successfully"


def test_no_secret_values_committed() -> None:
    text = v.COMPOSE_FILE.read_text()
    for secret in ("PASSWORD", "SECRET_KEY", "ACCESS_KEY"):
        for line in text.splitlines():
            if secret in line and ":" in line and not line.lstrip().startswith("#"):
                value = line.split(":", 1)[1].strip()
                assert (value.startswith("${") and ":?" in value) or "$$" in value, line


def test_scrape_jobs_use_the_services_metrics_ports() -> None:
    config = yaml.safe_load(v.PROMETHEUS_CONFIG.read_text())
    assert v.compose_scrape_problems(config) == []
    api_job = next(j for j in config["scrape_configs"] if j["job_name"] == "civicqc-api")
    api_job["dns_sd_configs"][0]["port"] = 8000  # the public port
    assert v.compose_scrape_problems(config) == [
        "scrape job civicqc-api: port 8000 is not the service's METRICS_PORT 9107"
    ]

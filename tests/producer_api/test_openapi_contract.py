"""schemathesis against the OpenAPI document of the real API process on real Kafka and S3.

Every operation gets generated requests (bounded: ``MAX_EXAMPLES`` each, no shrinking
past a deadline), sent over HTTP to ``uvicorn producer_api.main:app`` with auth on and
an operator key. No answer may be a 5xx other than a documented 503, and every answer
must match the documented status codes, content types and schemas.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok

from civicqc.stack.context import free_port
from runtime.apikeys import KeyRole, KeysFile, new_key, write_keys
from tests.builders.stream import ApiProcess
from tests.builders.stream_fixtures import private_stream
from tests.fixtures.services import KafkaService, S3Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAX_EXAMPLES = 30
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def contract_api(
    kafka_service: KafkaService,
    s3_service: S3Service,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ApiProcess, str]]:
    """One API process for the whole module (operations share it), auth on."""
    with private_stream("contract", kafka_service.bootstrap_servers, s3_service) as stream:
        folder: Path = tmp_path_factory.mktemp("contract")
        key, record = new_key("*", KeyRole.OPERATOR, rate_per_s=10_000, burst=10_000)
        write_keys(folder / "keys.json", KeysFile(keys=[record]))
        env = stream.env(
            AUTH_ENABLED="true",
            API_KEYS_FILE=str(folder / "keys.json"),
            LEGACY_VALIDATE_WAIT_S="0.2",
            MAX_CONTENT_LENGTH=str(256 * 1024),
        )
        process = ApiProcess(env, folder / "api.log", free_port())
        try:
            process.wait_ready(timeout_s=60)
            yield process, key
        finally:
            process.stop()


def test_api_matches_its_openapi_document(contract_api: tuple[ApiProcess, str]) -> None:
    """Operation by operation (the schemathesis pytest plugin does not load on pytest 9)."""
    process, key = contract_api
    api_schema = schemathesis.openapi.from_url(f"{process.url}/openapi.json")
    failures: dict[str, str] = {}
    tested = 0
    statuses: Counter[int] = Counter()
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def exercise(case: Any) -> None:
            response = case.call_and_validate(
                base_url=process.url,
                headers={"X-API-Key": key},
                timeout=10,
                checks=CHECKS,
            )
            statuses[response.status_code] += 1

        try:
            exercise()
        except Exception as failure:  # report every operation, not just the first
            failures[operation.label] = f"{type(failure).__name__}: {failure}"[:2000]
        tested += 1
    assert tested >= 5
    assert sum(statuses.values()) >= tested * 5, statuses
    print(f"{tested} operations, answers by status: {dict(sorted(statuses.items()))}")
    assert failures == {}

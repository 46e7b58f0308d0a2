"""bench.stack_requests reads the broker's request log and SeaweedFS's metrics as they are written."""

from __future__ import annotations

import json
from typing import Any

from bench.stack_requests import kafka_requests, store_requests


def _logged(api: str, client: str, request: dict[str, Any], response: dict[str, Any]) -> str:
    body = {
        "isForwarded": False,
        "requestHeader": {"requestApiKeyName": api, "clientId": client, "correlationId": 7},
        "request": request,
        "response": response,
        "totalTimeMs": 0.4,
    }
    return f"[2026-11-30 18:31:59,287] DEBUG Completed request:{json.dumps(body)} (kafka.request.logger)"


def _fetch(topic: str, sizes: list[int]) -> tuple[dict[str, Any], dict[str, Any]]:
    partitions = [{"partition": i} for i in range(len(sizes))]
    answered = [{"partitionIndex": i, "recordsSizeInBytes": n} for i, n in enumerate(sizes)]
    return (
        {"maxWaitMs": 500, "topics": [{"topic": topic, "partitions": partitions}]},
        {"responses": [{"topic": topic, "partitions": answered}]},
    )


def test_requests_are_counted_by_api_client_and_topic_and_empty_fetches_apart() -> None:
    lines = [
        _logged("FETCH", "aiokafka-0.14.0", *_fetch("images.submitted", [0, 452])),
        _logged("FETCH", "aiokafka-0.14.0", *_fetch("images.submitted", [0, 0])),
        _logged("FETCH", "aiokafka-0.14.0", *_fetch("images.fingerprints", [0])),
        _logged(
            "PRODUCE",
            "civicqc-api-9da93cf2",
            {"topicData": [{"name": "images.submitted"}]},
            {"responses": []},
        ),
        _logged("BROKER_HEARTBEAT", "1", {}, {}),
        "[2026-11-30 18:31:59,290] INFO [Broker id=1] something else (kafka.server)",
    ]
    requests, empty = kafka_requests(lines)
    assert requests == {
        ("FETCH", "aiokafka", "images.submitted"): 2,
        ("FETCH", "aiokafka", "images.fingerprints"): 1,
        ("PRODUCE", "civicqc-api", "images.submitted"): 1,
        ("BROKER_HEARTBEAT", "1", ""): 1,
    }
    assert empty == {
        ("FETCH", "aiokafka", "images.submitted"): 1,
        ("FETCH", "aiokafka", "images.fingerprints"): 1,
    }


def test_store_requests_sum_the_counter_by_method_and_status() -> None:
    text = "\n".join(
        [
            "# TYPE SeaweedFS_s3_request_total counter",
            'SeaweedFS_s3_request_total{bucket="civicqc-images",code="200",type="GET"} 83',
            'SeaweedFS_s3_request_total{bucket="other",code="200",type="GET"} 2',
            'SeaweedFS_s3_request_total{bucket="civicqc-images",code="404",type="GET"} 90',
            'SeaweedFS_s3_request_total{bucket="civicqc-images",code="200",type="PUT"} 3.21e+02',
            'SeaweedFS_s3_request_time_seconds_bucket{le="0.1",type="GET"} 5',
        ]
    )
    assert store_requests(text) == {"GET 200": 85, "GET 404": 90, "PUT 200": 321}

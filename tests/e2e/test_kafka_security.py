"""The services on a Kafka that wants TLS and credentials, as a city's cluster does (and
an object store reached over HTTPS with a certificate from the city's own CA).

A real broker with SASL_SSL and mutual-TLS listeners (``secured_kafka``), a CA of the
test's own, and the real API, consumer and CLI processes configured only through the
``KAFKA_*`` variables an operator sets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from civicqc.stack import kafka
from civicqc.stack.context import free_port
from core.events import ImageSubmitted
from producer_api.publisher import Publisher, PublishUnavailable
from runtime.ids import new_image_id
from runtime.kafka_connection import KafkaConnection, SaslMechanism, kafka_connection
from tests.builders import images
from tests.builders.latency_proxy import LatencyProxy
from tests.builders.refs import announced_event
from tests.builders.stream import ApiProcess, ConsumerProcess, civicqc
from tests.builders.stream_fixtures import private_stream
from tests.builders.tls import server_context
from tests.fixtures.services import S3Service, SecuredKafka

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def topic(secured_kafka: SecuredKafka) -> str:
    name = f"t.secured.{new_image_id().hex[:10]}"
    kafka.run_sync(kafka.create_topics(secured_kafka.plaintext, {name: 1}))
    return name


async def _publish_and_read(connection: KafkaConnection, topic: str) -> tuple[str, list[str]]:
    """Publish one event with the API's publisher, read the topic back with the same
    connection: the event's id, and the ids read."""
    publisher = Publisher(connection, topic, client_id="t-secured", send_timeout_s=20.0)
    event = announced_event()
    await publisher.start()
    try:
        await publisher.publish_submitted(event)
    finally:
        await publisher.stop()
    reader = AIOKafkaConsumer(
        topic, **connection.options(), auto_offset_reset="earliest", enable_auto_commit=False
    )
    await reader.start()
    try:
        batch = await reader.getmany(timeout_ms=10_000)
    finally:
        await reader.stop()
    read = [
        ImageSubmitted.model_validate_json(r.value).image_id for rs in batch.values() for r in rs
    ]
    return event.image_id, read


MECHANISMS: tuple[SaslMechanism, ...] = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_each_sasl_mechanism_publishes_and_reads_over_tls(
    secured_kafka: SecuredKafka, topic: str, mechanism: SaslMechanism
) -> None:
    connection = kafka_connection(
        secured_kafka.sasl_ssl,
        security_protocol="SASL_SSL",
        sasl_mechanism=mechanism,
        sasl_username=secured_kafka.user,
        sasl_password=secured_kafka.password,
        ssl_cafile=secured_kafka.certificates.ca,
    )
    sent, read = asyncio.run(_publish_and_read(connection, topic))
    assert sent in read


def test_a_client_certificate_is_enough_on_a_mutual_tls_listener(
    secured_kafka: SecuredKafka, topic: str
) -> None:
    certificates = secured_kafka.certificates
    connection = kafka_connection(
        secured_kafka.mtls,
        security_protocol="SSL",
        ssl_cafile=certificates.ca,
        ssl_certfile=certificates.client_cert,
        ssl_keyfile=certificates.client_key,
    )
    sent, read = asyncio.run(_publish_and_read(connection, topic))
    assert sent in read


async def _refused(connection: KafkaConnection, topic: str) -> str:
    """The reason the API's publisher gives when the broker will not have it."""
    publisher = Publisher(connection, topic, client_id="t-refused", send_timeout_s=5.0)
    await publisher.start()
    try:
        with pytest.raises(PublishUnavailable) as refused:
            await publisher.publish_submitted(announced_event())
        return str(refused.value)
    finally:
        await publisher.stop()


def test_a_wrong_password_a_stranger_ca_or_no_client_certificate_is_refused(
    secured_kafka: SecuredKafka, topic: str, caplog: pytest.LogCaptureFixture
) -> None:
    certificates = secured_kafka.certificates

    def sasl(password: str, ca: Path) -> KafkaConnection:
        return kafka_connection(
            secured_kafka.sasl_ssl,
            security_protocol="SASL_SSL",
            sasl_username=secured_kafka.user,
            sasl_password=password,
            ssl_cafile=ca,
        )

    cases = {
        "SaslAuthenticationFailed": sasl("not-" + secured_kafka.password, certificates.ca),
        "CERTIFICATE_VERIFY_FAILED": sasl(secured_kafka.password, certificates.stranger_ca),
        "closed": kafka_connection(
            secured_kafka.mtls, security_protocol="SSL", ssl_cafile=certificates.ca
        ),
    }
    for reason, connection in cases.items():
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert "not connected" in asyncio.run(_refused(connection, topic))
        # What the operator reads in the API's log: why the broker said no.
        assert reason in caplog.text, (reason, caplog.text)
        assert secured_kafka.password not in caplog.text


def test_a_photo_is_scored_end_to_end_with_tls_everywhere(
    secured_kafka: SecuredKafka, s3_service: S3Service, tmp_path: Path
) -> None:
    """The API, a consumer replica and ``civicqc verdicts tail``, each configured through
    the environment only: Kafka on the SASL_SSL listener (SCRAM-SHA-512), the object store
    over HTTPS, both with certificates from the test's own CA."""
    host, port = s3_service.endpoint.rsplit(":", 1)
    certificates = secured_kafka.certificates
    https = LatencyProxy(host, int(port), tls=server_context(certificates)).start()
    with private_stream("secured", secured_kafka.plaintext, s3_service) as stream:
        env = stream.env(
            **secured_kafka.sasl_env(),
            S3_ENDPOINT=https.endpoint,
            S3_SECURE="true",
            S3_SSL_CAFILE=str(certificates.ca),
        )
        consumer = ConsumerProcess(env, tmp_path / "consumer.log")
        api = ApiProcess({**env, "AUTH_ENABLED": "false"}, tmp_path / "api.log", free_port())
        try:
            api.wait_ready(timeout_s=60)
            consumer.wait_for_log("partitions assigned", timeout_s=60)
            image_id = api.submit(images.encode(images.sharp_photo(1600, 1200)))
            tail = ("verdicts", "tail", "--from-beginning", "--max", "1", "--timeout", "60")
            verdict = json.loads(civicqc(env, *tail, timeout_s=90))
        finally:
            api.stop()
            consumer.terminate()
            https.stop()
    assert verdict["image_id"] == image_id
    assert verdict["outcome"] == "accepted"
    assert secured_kafka.password not in consumer.log()
    assert secured_kafka.password not in api.log_file.read_text(encoding="utf-8")


def test_a_refused_login_stops_a_consumer_and_keeps_the_api_unready(
    secured_kafka: SecuredKafka, s3_service: S3Service, tmp_path: Path
) -> None:
    """What docs/OPERATIONS.md promises an operator who mistyped the password."""
    with private_stream("refused", secured_kafka.plaintext, s3_service) as stream:
        env = stream.env(**secured_kafka.sasl_env(KAFKA_SASL_PASSWORD="wrong-password"))
        consumer = ConsumerProcess(env, tmp_path / "consumer.log")
        api = ApiProcess({**env, "AUTH_ENABLED": "false"}, tmp_path / "api.log", free_port())
        try:
            code = consumer.popen.wait(timeout=60)
            deadline = time.monotonic() + 30
            while "SaslAuthenticationFailed" not in api.log_file.read_text(encoding="utf-8"):
                assert time.monotonic() < deadline, api.log_file.read_text(encoding="utf-8")
                time.sleep(0.2)
            ready = api.client.get("/readyz")
        finally:
            api.stop()
            consumer.terminate()
    assert code == 1
    assert "SaslAuthenticationFailed" in consumer.log()
    last = json.loads(consumer.log().strip().splitlines()[-1])
    assert last["level"] == "ERROR"
    assert last["message"].startswith("consumer stopped: Kafka is unreachable or refused it")
    assert ready.status_code == 503
    assert "kafka" in ready.text.lower()

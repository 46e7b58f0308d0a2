"""Apache Kafka as one KRaft node (broker and controller in one JVM), from Maven jars.

The jars come from :func:`civicqc.stack.install.kafka_lib_dir`. Storage is formatted
only when the data folder has no ``meta.properties`` yet, so a restart keeps every
topic and offset — the fault tests rely on that. Readiness is a real metadata
request, not an open port: the socket accepts connections seconds before the broker
can serve one.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import functools
import logging
import subprocess
import uuid
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from civicqc.stack.context import (
    LOOPBACK,
    ServiceDefinition,
    StackContext,
    deploy_dir,
    port_in_use,
)
from civicqc.stack.install import JAVA, kafka_lib_dir
from civicqc.stack.process import ProcessSpec

logger = logging.getLogger(__name__)

NAME = "kafka"
HEAP = "512m"

#: Topics of the photo stream and their default partition counts. Six partitions on
#: ``images.submitted`` let up to six consumer replicas share the work.
STREAM_TOPICS: Mapping[str, int] = {
    "images.submitted": 6,
    "images.verdicts": 3,
    "images.submitted.dlq": 1,
    "images.fingerprints": 1,
    "images.verdicts.shadow": 3,
}
#: Topic settings besides the broker's defaults, as deploy/k8s's KafkaTopics set them: the
#: fingerprint topic keeps the latest record of each image id (compacted) and drops
#: records after the 7-day near-duplicate window plus a day.
STREAM_TOPIC_CONFIGS: Mapping[str, Mapping[str, str]] = {
    "images.fingerprints": {"cleanup.policy": "compact,delete", "retention.ms": "691200000"},
}

T = TypeVar("T")


@dataclass(frozen=True)
class SecuredListeners:
    """Two more client listeners, as a city's cluster would have them (tests use them).

    ``SASL_SSL`` (ports ``kafka_sasl_ssl``) takes PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
    logins of ``users``; ``SSL`` (port ``kafka_mtls``) wants a client certificate signed by
    the CA in ``truststore``. ``keystore`` is one PEM file: the broker's unencrypted PKCS#8
    key and its certificate chain. The PLAINTEXT listener stays, for the broker itself.
    """

    keystore: Path
    truststore: Path
    users: Mapping[str, str] = field(default_factory=dict)

    @property
    def ports(self) -> tuple[str, ...]:
        return ("kafka_sasl_ssl", "kafka_mtls")

    def properties(self) -> list[str]:
        plain = " ".join(f'user_{name}="{password}"' for name, password in self.users.items())
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        return [
            "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            "listener.name.sasl_ssl.plain.sasl.jaas.config="
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain};",
            f"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config={scram}",
            f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={scram}",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={self.keystore}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={self.truststore}",
            "listener.name.ssl.ssl.client.auth=required",
        ]

    def scram_users(self) -> list[str]:
        """``kafka-storage format`` arguments that create the SCRAM credentials."""
        return [
            f"--add-scram={mechanism}=[name={name},password={password}]"
            for name, password in self.users.items()
            for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512")
        ]


def bootstrap_servers(ctx: StackContext, listener: str = "kafka") -> str:
    """``host:port`` of a client listener: ``kafka`` (PLAINTEXT), or with
    :class:`SecuredListeners` ``kafka_sasl_ssl`` or ``kafka_mtls``."""
    return f"{LOOPBACK}:{ctx.port(listener)}"


def _server_properties(ctx: StackContext, secured: SecuredListeners | None = None) -> str:
    port, controller = ctx.port("kafka"), ctx.port("kafka_controller")
    listeners = [f"PLAINTEXT://{LOOPBACK}:{port}"]
    protocols = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    if secured is not None:
        listeners += [
            f"SASL_SSL://{LOOPBACK}:{ctx.port('kafka_sasl_ssl')}",
            f"SSL://{LOOPBACK}:{ctx.port('kafka_mtls')}",
        ]
        protocols += ",SASL_SSL:SASL_SSL,SSL:SSL"
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{LOOPBACK}:{controller}",
            f"listeners={','.join(listeners)},CONTROLLER://{LOOPBACK}:{controller}",
            f"advertised.listeners={','.join(listeners)}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            f"listener.security.protocol.map={protocols}",
            *([] if secured is None else secured.properties()),
            f"log.dirs={ctx.layout.data(NAME)}",
            "num.partitions=3",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=10",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "transaction.state.log.num.partitions=5",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # A lone test consumer should not wait 3 s for company before its first rebalance.
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            # A restarted node re-registers faster than the default 9 s session expiry.
            "broker.heartbeat.interval.ms=500",
            "broker.session.timeout.ms=3000",
            "",
        ]
    )


def _config_path(ctx: StackContext) -> Path:
    return ctx.layout.config(NAME) / "server.properties"


def _java_argv(ctx: StackContext, main: str, *args: str, heap: str = HEAP) -> list[str]:
    return [
        JAVA,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={deploy_dir() / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={ctx.layout.logs(NAME)}",
        "-cp",
        f"{kafka_lib_dir()}/*",
        main,
        *args,
    ]


def prepare(ctx: StackContext, secured: SecuredListeners | None = None) -> None:
    """Write the broker config (ports may differ per run) and format storage once."""
    config = _config_path(ctx)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(_server_properties(ctx, secured), encoding="utf-8")
    data = ctx.layout.data(NAME)
    if (data / "meta.properties").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    ctx.layout.logs(NAME).mkdir(parents=True, exist_ok=True)
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    argv = _java_argv(
        ctx,
        "kafka.tools.StorageTool",
        "format",
        f"--cluster-id={cluster_id}",
        "-c",
        str(config),
        *([] if secured is None else secured.scram_users()),
        heap="256m",
    )
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"kafka storage format failed:\n{result.stdout}\n{result.stderr}")


def spec(ctx: StackContext) -> ProcessSpec:
    servers = bootstrap_servers(ctx)
    return ProcessSpec(
        name=NAME,
        argv=_java_argv(ctx, "kafka.Kafka", str(_config_path(ctx))),
        log_file=ctx.layout.log_file(NAME),
        pid_file=ctx.layout.pid_file(NAME),
        health=lambda: metadata_ready(servers),
        start_timeout_s=90.0,
        stop_timeout_s=30.0,
        die_with_parent=ctx.die_with_parent,
    )


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running loop.

    Always in a worker thread: ``asyncio.run`` in the main thread takes over SIGINT,
    and a Ctrl-C that lands in a health probe would be swallowed with it.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _metadata_ready(servers: str) -> bool:
    host, _, port = servers.split(",")[0].rpartition(":")
    if not port_in_use(int(port), host):
        return False  # keeps aiokafka from logging a connection error per poll
    admin = AIOKafkaAdminClient(
        bootstrap_servers=servers, request_timeout_ms=3000, connections_max_idle_ms=10000
    )
    try:
        await asyncio.wait_for(admin.start(), timeout=5)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout=5)
        return bool(cluster.get("brokers")) and cluster.get("controller_id", -1) >= 0
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()


def metadata_ready(servers: str) -> bool:
    """True once the broker answers a metadata request with a broker and a controller."""
    return run_sync(_metadata_ready(servers))


async def create_topics(
    servers: str,
    topics: Mapping[str, int],
    replication_factor: int = 1,
    timeout_s: float = 30.0,
    configs: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Create ``{name: partitions}`` topics if missing, with ``configs[name]`` (topic
    settings), and wait until every partition has a leader (so a producer right after
    this call does not race the controller)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(
                name=name,
                num_partitions=count,
                replication_factor=replication_factor,
                topic_configs=dict((configs or {}).get(name, {})),
            )
            for name, count in topics.items()
            if name not in existing
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            described = await admin.describe_topics(list(topics))
            ready = all(
                t["error_code"] == 0
                and len(t["partitions"]) >= topics[t["topic"]]
                and all(p["leader"] >= 0 for p in t["partitions"])
                for t in described
            )
            if ready:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"topics not ready after {timeout_s}s: {described}")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def delete_topics(servers: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=10000)
    await admin.start()
    try:
        present = set(await admin.list_topics())
        doomed = [name for name in names if name in present]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


def _after_start(ctx: StackContext) -> None:
    run_sync(create_topics(bootstrap_servers(ctx), STREAM_TOPICS, configs=STREAM_TOPIC_CONFIGS))


def _env(ctx: StackContext) -> dict[str, str]:
    return {"KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers(ctx)}


def service(
    create_stream_topics: bool = True, secured: SecuredListeners | None = None
) -> ServiceDefinition:
    """Kafka for the stack; tests pass ``create_stream_topics=False`` and make their own,
    and ``secured`` for a broker that also takes TLS and SASL clients."""
    return ServiceDefinition(
        name=NAME,
        spec=spec,
        ports=("kafka", "kafka_controller", *([] if secured is None else secured.ports)),
        env=_env,
        prepare=functools.partial(prepare, secured=secured),
        after_start=_after_start if create_stream_topics else None,
    )

"""deploy/k8s: builds, core schemas, CRD schemas and cross-references, per overlay."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from civicqc.stack import kafka
from tests.deploy import validators as v

pytestmark = pytest.mark.usefixtures("toolchain")


@pytest.mark.parametrize(
    "check",
    [v.check_kustomize, v.check_kubernetes_validate, v.check_crds, v.check_cross_references],
    ids=lambda c: c.__name__,
)
def test_check_passes(check) -> None:
    result = check()
    assert result.ok, "\n".join(result.problems)


@pytest.fixture(scope="module")
def prod() -> list[dict[str, Any]]:
    return v.kustomize_build(v.K8S_DIR / "overlays" / "prod")


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_prod_has_the_issue_resources(prod) -> None:
    kinds = {(o["kind"], o["metadata"]["name"]) for o in prod}
    for wanted in [
        ("Deployment", "civicqc-api"),
        ("Service", "civicqc-api"),
        ("HorizontalPodAutoscaler", "civicqc-api"),
        ("PodDisruptionBudget", "civicqc-api"),
        ("Deployment", "civicqc-consumer"),
        ("ScaledObject", "civicqc-consumer"),
        ("ServiceMonitor", "civicqc-api"),
        ("ServiceMonitor", "civicqc-consumer"),
        ("PrometheusRule", "civicqc"),
        ("NetworkPolicy", "civicqc-default-deny"),
    ]:
        assert wanted in kinds
    # the consumer is scaled by KEDA only
    hpa_targets = {
        o["spec"]["scaleTargetRef"]["name"] for o in prod if o["kind"] == "HorizontalPodAutoscaler"
    }
    assert "civicqc-consumer" not in hpa_targets
    assert not [o for o in prod if o["kind"] == "Secret"], "secrets must not be in the repo"
    assert all(
        o["metadata"].get("namespace") == "civicqc" for o in prod if o["kind"] != "Namespace"
    )


def test_strimzi_topics_have_enough_partitions() -> None:
    objects = v.kustomize_build_with_component("prod", v.STRIMZI_COMPONENT)
    topic = _one(objects, "KafkaTopic", "images.submitted")
    scaled = _one(objects, "ScaledObject", "civicqc-consumer")
    assert topic["spec"]["partitions"] >= scaled["spec"]["maxReplicaCount"]


def test_the_fingerprint_topic_is_compacted_alike_in_k8s_compose_and_the_local_stack() -> None:
    objects = v.kustomize_build_with_component("prod", v.STRIMZI_COMPONENT)
    k8s = _one(objects, "KafkaTopic", "images.fingerprints")["spec"]["config"]
    init = v.load_compose()["services"]["init-topics"]["command"][0]
    creation = init[init.index("--topic images.fingerprints") :].split("\n/")[0]
    compose = dict(re.findall(r"--config ([\w.]+)=(\S+)", creation))
    stack = dict(kafka.STREAM_TOPIC_CONFIGS["images.fingerprints"])

    assert stack == {"cleanup.policy": "compact,delete", "retention.ms": str(8 * 86_400_000)}
    assert {name: str(k8s[name]) for name in stack} == stack
    assert compose == stack


def test_prometheusrule_is_the_rule_files(prod) -> None:
    rule = _one(prod, "PrometheusRule", "civicqc")
    assert rule["spec"] == v.prometheusrule_manifest()["spec"]


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (
            lambda o: _one(o, "Service", "civicqc-api")["spec"]["selector"].update(
                {"app.kubernetes.io/name": "nope"}
            ),
            "Service/civicqc-api: selector matches no Deployment",
        ),
        (
            lambda o: _one(o, "ScaledObject", "civicqc-consumer")["spec"]["scaleTargetRef"].update(
                {"name": "gone"}
            ),
            "scaleTargetRef 'gone' does not exist",
        ),
        (
            lambda o: _one(o, "ScaledObject", "civicqc-consumer")["spec"]["triggers"][0][
                "metadata"
            ].update({"consumerGroup": "other"}),
            "consumerGroup differs from CONSUMER_GROUP",
        ),
        (
            lambda o: _one(o, "Deployment", "civicqc-consumer")["spec"]["template"]["spec"][
                "containers"
            ][0]["securityContext"].update({"readOnlyRootFilesystem": False}),
            "root filesystem is writable",
        ),
        (
            lambda o: _one(o, "ServiceMonitor", "civicqc-consumer")["spec"]["endpoints"][0].update(
                {"port": "web"}
            ),
            "port 'web' not on Service/civicqc-consumer",
        ),
        (
            lambda o: o.append(
                {
                    "kind": "HorizontalPodAutoscaler",
                    "metadata": {"name": "x"},
                    "spec": {"scaleTargetRef": {"name": "civicqc-consumer"}},
                }
            ),
            "civicqc-consumer is also scaled by an HPA",
        ),
    ],
)
def test_cross_references_catch(prod, break_it, expected: str) -> None:
    objects = copy.deepcopy(prod)
    assert v.cross_reference_problems(objects) == []
    break_it(objects)
    assert any(expected in p for p in v.cross_reference_problems(objects))


@pytest.fixture(scope="module")
def prod_kafka_auth() -> list[dict[str, Any]]:
    return v.kustomize_build_with_component("prod", v.KAFKA_AUTH_COMPONENT)


def test_the_kafka_auth_component_logs_every_client_in_alike(prod_kafka_auth) -> None:
    """The API, the consumers and KEDA's trigger: one listener, TLS, SCRAM, one Secret."""
    configmaps = {
        o["metadata"]["name"]: o["data"] for o in prod_kafka_auth if o["kind"] == "ConfigMap"
    }
    for name in ("civicqc-api", "civicqc-consumer"):
        deployment = _one(prod_kafka_auth, "Deployment", name)
        env = v._container_env(deployment, configmaps)
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        pod = deployment["spec"]["template"]["spec"]
        secrets = {
            e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
            for e in pod["containers"][0]["env"]
            if "valueFrom" in e
        }
        assert secrets["KAFKA_SASL_USERNAME"] == secrets["KAFKA_SASL_PASSWORD"] == "civicqc-kafka"
        mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
        volume = next(vol for vol in pod["volumes"] if vol["name"] == "kafka-ca")
        assert volume["secret"]["secretName"] == "civicqc-kafka"
        ca_path = f"{mounts['kafka-ca']}/{volume['secret']['items'][0]['path']}"
        assert env["KAFKA_SSL_CAFILE"] == ca_path
    auth = _one(prod_kafka_auth, "TriggerAuthentication", "civicqc-kafka")
    assert {ref["name"] for ref in auth["spec"]["secretTargetRef"]} == {"civicqc-kafka"}
    assert v.cross_reference_problems(copy.deepcopy(prod_kafka_auth)) == []


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (
            lambda o: _one(o, "ScaledObject", "civicqc-consumer")["spec"]["triggers"][0][
                "metadata"
            ].pop("tls"),
            "tls does not match KAFKA_SECURITY_PROTOCOL",
        ),
        (
            lambda o: _one(o, "ScaledObject", "civicqc-consumer")["spec"]["triggers"][0][
                "metadata"
            ].update({"sasl": "scram_sha256"}),
            "sasl does not match KAFKA_SASL_MECHANISM",
        ),
        (
            lambda o: o.remove(_one(o, "TriggerAuthentication", "civicqc-kafka")),
            "logs in without a TriggerAuthentication",
        ),
    ],
)
def test_a_trigger_that_would_read_the_lag_another_way_is_caught(
    prod_kafka_auth, break_it, expected: str
) -> None:
    objects = copy.deepcopy(prod_kafka_auth)
    break_it(objects)
    assert any(expected in p for p in v.cross_reference_problems(objects))


def test_crd_schema_rejects_unknown_fields(prod) -> None:
    import jsonschema

    scaled = copy.deepcopy(_one(prod, "ScaledObject", "civicqc-consumer"))
    scaled["spec"]["maxReplicas"] = 3  # a typo for maxReplicaCount
    schema = v.crd_schemas()[("keda.sh/v1alpha1", "ScaledObject")]
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(scaled))
    assert any("maxReplicas" in e.message for e in errors)


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (
            lambda o: _one(o, "ServiceMonitor", "civicqc-api")["spec"]["endpoints"][0].update(
                {"port": "http"}
            ),
            "ServiceMonitor/civicqc-api: scrapes port 'http'",
        ),
        (
            lambda o: _one(o, "Deployment", "civicqc-api")["spec"]["template"]["spec"][
                "containers"
            ][0].update({"ports": [{"name": "http", "containerPort": 8000}]}),
            "Deployment/civicqc-api: no container port named 'metrics'",
        ),
    ],
)
def test_metrics_port_checks_catch(prod, break_it, expected: str) -> None:
    objects = copy.deepcopy(prod)
    assert v.metrics_port_problems(objects) == []
    break_it(objects)
    assert any(expected in p for p in v.metrics_port_problems(objects))


def test_only_the_monitoring_namespace_reaches_the_metrics_ports(prod) -> None:
    for name, metrics_port in (("civicqc-api", 9107), ("civicqc-consumer", 9108)):
        policy = _one(prod, "NetworkPolicy", name)
        rules = [
            rule
            for rule in policy["spec"]["ingress"]
            if any(p["port"] == metrics_port for p in rule.get("ports", []))
        ]
        assert rules, name
        for rule in rules:
            sources = [s["namespaceSelector"]["matchLabels"] for s in rule["from"]]
            assert sources == [{"kubernetes.io/metadata.name": "monitoring"}], name

"""The operators' pages name only what the code has: settings, metrics, rules, routes, files, topics.

A city's IT team runs civicqc from README.md and docs/ for years, and changes made
elsewhere let claims drift (a module that became a package, a test file that moved).
Each check here turns one kind of name the pages use into a lookup in the code, so a
rename fails CI instead of leaving a page that lies. Measurements (SCORING, ACCURACY,
CAPACITY, HOSTILE_INPUT) are not names and are not checked here; SECURITY.md's named
tests are checked by tests/test_security_doc.py, the JSON Schemas by
tests/core/test_published_schemas.py.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from civicqc.cli import build_parser
from civicqc.schemas import PUBLISHED
from civicqc.stack.kafka import STREAM_TOPICS
from consumer.metrics import ConsumerMetrics
from consumer.settings import ConsumerSettings
from core.events import DeadLetter, FingerprintRecord, ImageSubmitted, ShadowVerdict, VerdictEvent
from producer_api.main import create_app
from producer_api.metrics import ApiMetrics
from producer_api.settings import Settings

REPO = Path(__file__).resolve().parent.parent
PAGES = (
    "README.md",
    "docs/ARCHITECTURE.md",
    "docs/OPERATIONS.md",
    "docs/LOCAL_STACK.md",
    "docs/SECURITY.md",
    "docs/DETECTION.md",
    "docs/LEGACY_API.md",
    "docs/TRANSLATIONS.md",
    "docs/asyncapi.yaml",
)
#: Where a name that is not a setting must still occur: the code, deploy files, scripts (not
#: the tests, which may still set a setting that is gone).
SOURCES = ("core", "runtime", "producer_api", "consumer", "civicqc", "deploy", "scripts", "bench")
SOURCE_FILES = ("docker-compose.yml", "Dockerfile", ".env.example", "pyproject.toml", ".ci/run")
SOURCE_SUFFIXES = {".py", ".yml", ".yaml", ".sh", ".toml", ".env", ".template", ".txt", ".xml"}
#: Files that name things only to say they are gone.
NOT_SOURCES = {"tests/test_docs_facts.py", "tests/test_security_doc.py"}
#: Top-level folders of the repository: a backticked path starting with one must exist.
REPO_FOLDERS = (*SOURCES, "grafana", "docs", "tests")
#: Paths the pages name that are not ours: the reference system's own documentation.
FOREIGN_PATHS = {"docs/API_v2.md"}
#: The model each topic setting's messages carry: what docs/asyncapi.yaml must say.
TOPIC_PAYLOADS: dict[str, type[BaseModel]] = {
    "topic_submitted": ImageSubmitted,
    "topic_verdicts": VerdictEvent,
    "topic_dlq": DeadLetter,
    "topic_fingerprints": FingerprintRecord,
    "topic_verdicts_shadow": ShadowVerdict,
}

ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
#: The same on a page, where ``docs/HOSTILE_INPUT.md`` is a file, not a name.
PAGE_NAME = re.compile(r"(?<![\w/])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b(?!\.md)")
METRIC = re.compile(r"(?<![\w:])civicqc_[a-z0-9_]+(?![\w:])")
RULE = re.compile(r"`(civicqc[a-z_]*:[a-z0-9_:]+)`")
ALERT = re.compile(r"\bCivicQC[A-Z]\w+")
ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) `?(/[^\s`),;:]*)")
PATH = re.compile(r"`([\w.-]+/[^\s`]*)`")
ITALIC = re.compile(r"(?<![*\w])\*([A-Z][^*]*?)\*(?![*\w])")
HEADING = re.compile(r"^#+ (.+)$", re.MULTILINE)
DOTTED = re.compile(r"`((?:core|runtime|producer_api|consumer|civicqc)(?:\.\w+)+)(?:\([^`]*\))?`")
#: Dotted names on the pages that are not Python: rule files and groups.
COMMAND_LINE = re.compile(r"\bcivicqc ([a-z][^`\n|#;)]*)")
NOT_PYTHON = re.compile(r"\.(yml|yaml|json|toml|py)$|^civicqc\.thresholds$")


def page(name: str) -> str:
    return (REPO / name).read_text(encoding="utf-8")


@cache
def source_words() -> frozenset[str]:
    paths = [REPO / name for name in SOURCE_FILES]
    for folder in SOURCES:
        paths += [p for p in (REPO / folder).rglob("*") if p.suffix in SOURCE_SUFFIXES]
    words: set[str] = set()
    for path in paths:
        if path.is_file() and str(path.relative_to(REPO)) not in NOT_SOURCES:
            words.update(ENV_NAME.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(words)


def settings_names() -> set[str]:
    return {name.upper() for cls in (Settings, ConsumerSettings) for name in cls.model_fields}


def unknown_names(text: str) -> set[str]:
    """Upper-case names that no settings class declares and no source file uses."""
    return set(PAGE_NAME.findall(text)) - settings_names() - source_words()


@cache
def exported_metrics() -> frozenset[str]:
    """Every series name the API and the consumers expose (``_total``, ``_bucket``...)."""
    registry = CollectorRegistry()
    ApiMetrics(registry)
    ConsumerMetrics(registry)
    suffixes = {"counter": ("_total",), "histogram": ("", "_bucket", "_sum", "_count")}
    return frozenset(
        family.name + suffix
        for family in registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    )


def unexported_metrics(text: str) -> set[str]:
    return set(METRIC.findall(text)) - exported_metrics()


@cache
def rule_names() -> tuple[frozenset[str], frozenset[str]]:
    """Recording rules and alerts of deploy/prometheus/rules."""
    records, alerts = set(), set()
    for path in (REPO / "deploy" / "prometheus" / "rules").glob("*.rules.yml"):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            records |= {rule["record"] for rule in group["rules"] if "record" in rule}
            alerts |= {rule["alert"] for rule in group["rules"] if "alert" in rule}
    return frozenset(records), frozenset(alerts)


def unknown_rules(text: str) -> set[str]:
    records, alerts = rule_names()
    return (set(RULE.findall(text)) - records) | (set(ALERT.findall(text)) - alerts)


def _template(path: str) -> str:
    """``/v1/images/<id>`` and ``{image_id}`` alike -> ``/v1/images/{}``."""
    return re.sub(r"\{[^}]*\}|<[^>]*>", "{}", path.rstrip("."))


@cache
def routes() -> frozenset[tuple[str, str]]:
    """The operations of the API's OpenAPI document, the contract clients code against."""
    openapi = create_app(Settings(), CollectorRegistry(), json_logs=False).openapi()
    return frozenset(
        (method.upper(), _template(path))
        for path, operations in openapi["paths"].items()
        for method in operations
    )


def missing_routes(text: str) -> set[str]:
    """``GET /v1|v2/images/{id}`` names both versions."""
    missing = set()
    for method, path in ROUTE.findall(text):
        for one in {path.replace("v1|v2", "v1"), path.replace("v1|v2", "v2")}:
            if (method, _template(one)) not in routes():
                missing.add(f"{method} {one}")
    return missing


def missing_paths(text: str) -> set[str]:
    """Backticked repository paths (``a/b.py``, ``tests/x.py::test``) that do not exist."""
    missing = set()
    for token in PATH.findall(text):
        path = token.split("::")[0]
        if path.split("/")[0] not in REPO_FOLDERS or re.search(r"[{}<>*]|\.\.\.", path):
            continue
        if path not in FOREIGN_PATHS and not (REPO / path).exists():
            missing.add(path)
    return missing


def _titles(panels: list[dict[str, Any]]) -> set[str]:
    found = set()
    for panel in panels:
        found.add(str(panel.get("title", "")))
        found |= _titles(panel.get("panels", []))
    return found


@cache
def dashboard_titles() -> frozenset[str]:
    """Every dashboard's, row's and panel's title under grafana/dashboards."""
    titles = set()
    for path in (REPO / "grafana" / "dashboards").glob("*.json"):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        titles |= {dashboard["title"], *_titles(dashboard["panels"])}
    return frozenset(titles)


@cache
def headings() -> frozenset[str]:
    return frozenset(heading for name in PAGES for heading in HEADING.findall(page(name)))


def unknown_panels(text: str) -> set[str]:
    """``*Replicas up*``: a capitalised italic names a panel, a row or a section (its start)."""
    unknown = set()
    for phrase in (" ".join(found.split()) for found in ITALIC.findall(text)):
        if not any(title.startswith(phrase) for title in headings() | dashboard_titles()):
            unknown.add(phrase)
    return unknown


def _resolves(name: str) -> bool:
    """``core.redact.redacted_jpeg``: the longest importable module, then attributes."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        for attr in parts[end:]:
            if not hasattr(found, attr):
                return False
            found = getattr(found, attr)
        return True
    return False


def unresolved_code(text: str) -> set[str]:
    """Backticked modules, functions and classes (``runtime.detectors.detector_for``)."""
    return {
        name for name in DOTTED.findall(text) if not NOT_PYTHON.search(name) and not _resolves(name)
    }


@cache
def cli() -> argparse.ArgumentParser:
    return build_parser()


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def unknown_flags(text: str) -> set[str]:
    """``civicqc stack up --free-ports``: the options exist for that command (``kubectl -n
    civicqc create`` is not one)."""
    unknown = set()
    for line in COMMAND_LINE.findall(text):
        parser, path, options = cli(), ["civicqc"], set()
        if line.split()[0] not in _subcommands(parser):
            continue
        for word in line.split():
            if word in _subcommands(parser):
                parser = _subcommands(parser)[word]
                path.append(word)
                options |= {flag for action in parser._actions for flag in action.option_strings}
            elif word.startswith("--") and word.split("=")[0] not in options:
                unknown.add(f"{' '.join(path)} {word}")
    return unknown


CHECKS = {
    "setting": unknown_names,
    "metric": unexported_metrics,
    "rule": unknown_rules,
    "route": missing_routes,
    "path": missing_paths,
    "panel": unknown_panels,
    "code": unresolved_code,
    "cli": unknown_flags,
}


@pytest.mark.parametrize("kind", sorted(CHECKS))
def test_every_name_the_pages_use_exists(kind: str) -> None:
    problems = {f"{name}: {found}" for name in PAGES for found in CHECKS[kind](page(name))}
    assert problems == set()


@pytest.mark.parametrize(
    ("kind", "stale"),
    [
        ("setting", "set `METRICS_ALLOW_NETWORKS` to the scraper's range"),
        ("metric", "`civicqc_api_uploads_total` counts uploads"),
        ("rule", "`civicqc:verdicts:rate5m` and CivicQCKafkaDown"),
        ("route", "GET /v1/verdicts/<id> answers it"),
        ("path", "the shapes are in `producer_api/legacy.py`"),
        ("panel", "look at *Replica count* on the dashboard"),
        ("code", "the pages are rendered by `runtime.advice.render_page()`"),
        ("cli", "run `civicqc verdicts tail --outcome rejected`"),
    ],
)
def test_a_stale_name_is_caught(kind: str, stale: str) -> None:
    """Names that were true once (or never): each check must see them on a page."""
    assert CHECKS[kind](stale) != set()


def test_every_setting_is_named_on_an_operators_page() -> None:
    """The other way round: a setting no page names is a knob a city never learns of."""
    named = {name for doc in PAGES for name in PAGE_NAME.findall(page(doc))}
    assert settings_names() - named == set()


#: ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` in a compose file.
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)")


def test_env_example_offers_every_variable_compose_reads() -> None:
    """``cp .env.example .env`` is the operator's start: each variable is there, set or
    commented out with its default, so none is found only by reading docker-compose.yml."""
    offered = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", page(".env.example"), re.MULTILINE))
    compose = re.sub(r"^\s*#.*$", "", page("docker-compose.yml"), flags=re.MULTILINE)
    assert set(COMPOSE_VARIABLE.findall(compose)) - offered == set()


def topic_settings() -> dict[str, str]:
    """Setting name -> default topic, for every ``topic_*`` setting of either service."""
    return {
        name: str(field.default)
        for cls in (Settings, ConsumerSettings)
        for name, field in cls.model_fields.items()
        if name.startswith("topic_")
    }


def test_asyncapi_gives_every_topic_its_payload_schema_and_key() -> None:
    assert set(topic_settings()) == set(TOPIC_PAYLOADS), "a new topic: name its payload here"
    doc = yaml.safe_load(page("docs/asyncapi.yaml"))
    channels = {channel["address"]: key for key, channel in doc["channels"].items()}
    schema_files = {model: name for name, model in PUBLISHED.items()}
    sent = {op["channel"]["$ref"] for op in doc["operations"].values() if op["action"] == "send"}
    for setting, topic in topic_settings().items():
        channel = doc["channels"][channels[topic]]
        (message_ref,) = (ref["$ref"] for ref in channel["messages"].values())
        message = doc["components"]["messages"][message_ref.rsplit("/", 1)[1]]
        assert message["payload"]["$ref"] == f"schemas/{schema_files[TOPIC_PAYLOADS[setting]]}"
        assert message["bindings"]["kafka"]["key"]["type"] == "string", topic
        assert f"#/channels/{channels[topic]}" in sent, f"nothing sends to {topic}"


def test_every_topic_is_in_the_operators_tables_and_created_everywhere() -> None:
    topics = set(topic_settings().values())
    strimzi = REPO / "deploy" / "k8s" / "components" / "strimzi-topics" / "kafkatopics.yaml"
    kafka_topics = yaml.safe_load_all(strimzi.read_text(encoding="utf-8"))
    compose = yaml.safe_load(page("docker-compose.yml"))
    init_topics = compose["services"]["init-topics"]["command"][0]
    for name in ("docs/OPERATIONS.md", "docs/ARCHITECTURE.md"):
        rows = set(re.findall(r"^\| `([\w.]+)` \| image id \|", page(name), re.MULTILINE))
        assert rows == topics, name
    assert set(STREAM_TOPICS) == topics
    assert {t["metadata"]["name"] for t in kafka_topics} == topics
    assert {t for t in topics if re.search(rf"(?<![\w.]){re.escape(t)}(?![\w.])", init_topics)} == (
        topics
    )

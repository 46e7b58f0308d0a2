"""Dependencies, declared once as ``Annotated`` aliases so a route's signature lists its needs.

Everything long-lived is built in :func:`producer_api.main.lifespan` and kept on
``app.state``; these aliases hand it to routes. Tests swap the state, not globals.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from core.rules import Rules
from producer_api.idempotency import checked_key
from producer_api.metrics import ApiMetrics
from producer_api.publisher import Publisher
from producer_api.settings import Settings
from producer_api.storage import ObjectStore
from producer_api.submissions import METADATA_FIELDS, Submitter
from producer_api.tally import VerdictFollower


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.store
    return store


def _publisher(request: Request) -> Publisher:
    publisher: Publisher = request.app.state.publisher
    return publisher


def _submitter(request: Request) -> Submitter:
    submitter: Submitter = request.app.state.submitter
    return submitter


def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


def _rulebook(request: Request) -> dict[str, Rules]:
    rulebook: dict[str, Rules] = request.app.state.rulebook
    return rulebook


def _follower(request: Request) -> VerdictFollower:
    follower: VerdictFollower = request.app.state.follower
    return follower


def _idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Retrying with the same key returns the first upload's id "
            "(scoped to the tenant)."
        ),
    ] = None,
) -> str | None:
    return checked_key(idempotency_key)


def _header_metadata(request: Request) -> dict[str, str]:
    """``X-Tenant``, ``X-Reporter-Id``... the raw-body way to send what forms send as fields."""
    values = {}
    for name in METADATA_FIELDS:
        value = request.headers.get("x-" + name.replace("_", "-"))
        if value is not None:
            values[name] = value
    return values


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ObjectStore, Depends(_store)]
PublisherDep = Annotated[Publisher, Depends(_publisher)]
SubmitterDep = Annotated[Submitter, Depends(_submitter)]
MetricsDep = Annotated[ApiMetrics, Depends(_metrics)]
RulebookDep = Annotated[dict[str, Rules], Depends(_rulebook)]
FollowerDep = Annotated[VerdictFollower, Depends(_follower)]
IdempotencyKeyDep = Annotated[str | None, Depends(_idempotency_key)]
HeaderMetadataDep = Annotated[dict[str, str], Depends(_header_metadata)]

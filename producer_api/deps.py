"""Dependencies, declared once as ``Annotated`` aliases so a route's signature lists its needs.

Everything long-lived is built in :func:`producer_api.main.lifespan` and kept on
``app.state``; these aliases hand it to routes. Tests swap the state, not globals.

Every dependency is ``async def``: none blocks (the key ring stats its file at most
once a second), and FastAPI runs a plain ``def`` dependency in a worker thread, a
thread hop per dependency per request that cost an upload more CPU than its JSON.
Running on the event loop also makes the rate limiter's bucket update atomic.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers

from core.rules import Rules
from producer_api.errors import ApiError
from producer_api.idempotency import HEADER as IDEMPOTENCY_HEADER
from producer_api.publisher import Publisher
from producer_api.security import ANONYMOUS, KeyRing, Principal, RateLimiter
from producer_api.settings import Settings
from producer_api.submissions import METADATA_FIELDS, Submitter
from producer_api.tally import VerdictFollower
from runtime.advice import Advice
from runtime.apikeys import KeyRole
from runtime.catalogues import FALLBACK, Catalogues
from runtime.object_store import ObjectStore


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.store
    return store


async def _publisher(request: Request) -> Publisher:
    publisher: Publisher = request.app.state.publisher
    return publisher


async def _submitter(request: Request) -> Submitter:
    submitter: Submitter = request.app.state.submitter
    return submitter


async def _rulebook(request: Request) -> dict[str, Rules]:
    rulebook: dict[str, Rules] = request.app.state.rulebook
    return rulebook


async def _follower(request: Request) -> VerdictFollower:
    follower: VerdictFollower = request.app.state.follower
    return follower


async def _advice(request: Request, response: Response) -> Advice:
    """Texts in the caller's language (``Accept-Language``), which the answer then names."""
    catalogues: Catalogues = request.app.state.catalogues
    language = catalogues.negotiate(request.headers.get("accept-language"))
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    return Advice(catalogues, language)


async def _english(request: Request) -> Advice:
    """English texts whatever the caller asks: ``GET /v1/images/{id}`` wrote English in 0.1.0."""
    catalogues: Catalogues = request.app.state.catalogues
    return Advice(catalogues, FALLBACK)


_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")


#: The ``Idempotency-Key`` header as a parameter named ``idempotency_key`` (its OpenAPI
#: entry); check the value with :func:`usable_idempotency_key`.
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        description="Retrying with the same key returns the first upload's id "
        "(scoped to the API key and tenant).",
    ),
]


def usable_idempotency_key(value: str | None) -> str | None:
    """The header value if usable; 400 for one that is empty, too long or not ASCII."""
    if value is not None and not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ApiError(
            400,
            "bad_idempotency_key",
            f"{IDEMPOTENCY_HEADER} must be 1-255 printable ASCII characters",
        )
    return value


#: Metadata header names (``X-Tenant``, ``X-Reporter-Id``...) by metadata field.
_METADATA_HEADERS = tuple((name, "x-" + name.replace("_", "-")) for name in METADATA_FIELDS)


def header_metadata(headers: Headers) -> dict[str, str]:
    """``X-Tenant``, ``X-Reporter-Id``... the raw-body way to send what forms send as fields."""
    values = {}
    for name, header in _METADATA_HEADERS:
        value = headers.get(header)
        if value is not None:
            values[name] = value
    return values


async def _header_metadata(request: Request) -> dict[str, str]:
    return header_metadata(request.headers)


_API_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key from `civicqc keys add`."
)
_BEARER = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")
_UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="civicqc"'}


async def _principal(
    request: Request,
    api_key: Annotated[str | None, Depends(_API_KEY)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Principal:
    """401 without a known key, 429 once its bucket is empty (per replica)."""
    settings: Settings = request.app.state.settings
    if not settings.auth_enabled:
        return ANONYMOUS
    presented = api_key or (bearer.credentials if bearer is not None else None)
    if not presented:
        raise ApiError(401, "missing_api_key", "send an API key in X-API-Key", _UNAUTHENTICATED)
    keyring: KeyRing = request.app.state.keyring
    record = keyring.lookup(presented.strip())
    if record is None:
        raise ApiError(401, "invalid_api_key", "unknown or revoked API key", _UNAUTHENTICATED)
    principal = Principal.of(record)
    limiter: RateLimiter = request.app.state.rate_limiter
    wait_s = limiter.wait_s(
        principal.key_id,
        principal.rate_per_s or settings.rate_limit_per_s,
        principal.burst or settings.rate_limit_burst,
    )
    if wait_s > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"rate limit of key {principal.key_id} reached; retry later",
            {"Retry-After": str(max(1, math.ceil(wait_s)))},
        )
    return principal


async def _tenant_key(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    """Any key but a public (page-embedded) one."""
    if principal.role is KeyRole.PUBLIC:
        raise ApiError(403, "forbidden", "a public upload key may only upload and poll status")
    return principal


async def _operator(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    """Keys that act for every tenant."""
    if principal.role is not KeyRole.OPERATOR:
        raise ApiError(403, "forbidden", "this needs an operator key (tenant '*')")
    return principal


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ObjectStore, Depends(_store)]
PublisherDep = Annotated[Publisher, Depends(_publisher)]
SubmitterDep = Annotated[Submitter, Depends(_submitter)]
RulebookDep = Annotated[dict[str, Rules], Depends(_rulebook)]
FollowerDep = Annotated[VerdictFollower, Depends(_follower)]
HeaderMetadataDep = Annotated[dict[str, str], Depends(_header_metadata)]
#: Texts in the language ``Accept-Language`` asks for (English when none fits).
AdviceDep = Annotated[Advice, Depends(_advice)]
#: English texts, for the 0.1.0 shape of ``GET /v1/images/{id}``.
EnglishDep = Annotated[Advice, Depends(_english)]
#: Any valid key (public page keys included), rate limited; 401/429 otherwise.
PrincipalDep = Annotated[Principal, Depends(_principal)]
#: A tenant or operator key; public keys get 403.
TenantKeyDep = Annotated[Principal, Depends(_tenant_key)]
#: An operator key (tenant ``*``); others get 403.
OperatorDep = Annotated[Principal, Depends(_operator)]
#: For ``include_router(..., dependencies=[AUTHENTICATED])``: the same check as PrincipalDep
#: (FastAPI runs it once per request even when a route also asks for PrincipalDep).
AUTHENTICATED = Depends(_principal)

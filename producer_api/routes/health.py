"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from fastapi import APIRouter, Response

from producer_api.deps import PublisherDep, SettingsDep, StoreDep
from producer_api.publisher import PublishUnavailable
from producer_api.schemas import Liveness, Readiness
from runtime.object_store import StorageUnavailableError

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Liveness)
async def healthz() -> Liveness:
    """The event loop answers: nothing else, so a dependency outage never restarts the pod."""
    return Liveness()


async def _probe(check: Awaitable[None], timeout_s: float) -> str:
    try:
        async with asyncio.timeout(timeout_s):
            await check
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except (StorageUnavailableError, PublishUnavailable) as exc:
        # The reason (endpoint, bucket name, error text) is for the logs, not the public.
        logger.warning("readiness probe failed: %s", exc)
        return "unreachable"
    return "ok"


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is unreachable."}},
)
async def readyz(
    response: Response, settings: SettingsDep, store: StoreDep, publisher: PublisherDep
) -> Readiness:
    """Both dependencies are probed at once, each bounded, so the answer comes within ~1 s."""
    timeout_s = settings.readiness_timeout_s
    kafka, object_store = await asyncio.gather(
        _probe(publisher.check(timeout_s), timeout_s),
        _probe(store.check(), timeout_s),
    )
    checks = {"kafka": kafka, "object_storage": object_store}
    ready = all(result == "ok" for result in checks.values())
    if not ready:
        response.status_code = 503
    return Readiness(status="ready" if ready else "unavailable", checks=checks)

"""``/v1/summary``: fleet-wide verdict counts, read from the verdict topic (see :mod:`producer_api.tally`)."""

from __future__ import annotations

import time

from fastapi import APIRouter

from producer_api.deps import FollowerDep, OperatorDep
from producer_api.errors import ApiError
from producer_api.schemas import ErrorBody, Summary
from producer_api.tally import DAY_S, HOUR_S

router = APIRouter(prefix="/v1", tags=["summary"])


@router.get(
    "/summary",
    response_model=Summary,
    responses={
        401: {"model": ErrorBody, "description": "Missing or unknown API key."},
        403: {"model": ErrorBody, "description": "Needs an operator key (counts of all tenants)."},
        429: {"model": ErrorBody, "description": "Rate limited; see Retry-After."},
        503: {"model": ErrorBody, "description": "The verdict topic was never read yet."},
    },
)
async def get_summary(follower: FollowerDep, _operator: OperatorDep) -> Summary:
    """Counts and acceptance rate for the last hour and day, overall and per tenant.

    Pure in-memory reads (``async``, no I/O); ``complete`` is false while this replica
    is still reading the day of verdicts that existed when it started.
    """
    if follower.polled_at is None:
        raise ApiError(
            503,
            "summary_unavailable",
            "not connected to the verdict topic yet; retry shortly",
            {"Retry-After": "2"},
        )
    now = time.time()
    return Summary(
        as_of=follower.polled_at,
        complete=follower.complete,
        last_hour=follower.tally.window(now, HOUR_S),
        last_day=follower.tally.window(now, DAY_S),
    )

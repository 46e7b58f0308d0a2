"""``/v1/rules``: the rule profiles the consumers apply, so clients can explain verdicts."""

from __future__ import annotations

from fastapi import APIRouter

from producer_api.deps import RulebookDep, SettingsDep, TenantKeyDep
from producer_api.schemas import ErrorBody, RulesPublic

router = APIRouter(prefix="/v1", tags=["rules"])


@router.get(
    "/rules",
    response_model=RulesPublic,
    responses={
        401: {"model": ErrorBody, "description": "Missing or unknown API key."},
        403: {"model": ErrorBody, "description": "Public upload keys may not read rules."},
        429: {"model": ErrorBody, "description": "Rate limited; see Retry-After."},
    },
)
async def get_rules(
    settings: SettingsDep, rulebook: RulebookDep, _key: TenantKeyDep
) -> RulesPublic:
    """The rulebook was loaded at startup (a bad profile stops the API from booting)."""
    return RulesPublic(
        default_profile=settings.rule_profile,
        tenant_profiles=settings.tenant_profiles,
        profiles=rulebook,
    )

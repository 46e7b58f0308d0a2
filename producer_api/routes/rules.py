"""``/v1/rules``: the rule profiles the consumers apply, so clients can explain verdicts."""

from __future__ import annotations

from fastapi import APIRouter

from producer_api.deps import RulebookDep, SettingsDep
from producer_api.schemas import RulesPublic

router = APIRouter(prefix="/v1", tags=["rules"])


@router.get("/rules", response_model=RulesPublic)
async def get_rules(settings: SettingsDep, rulebook: RulebookDep) -> RulesPublic:
    """The rulebook was loaded at startup (a bad profile stops the API from booting)."""
    return RulesPublic(
        default_profile=settings.rule_profile,
        tenant_profiles=settings.tenant_profiles,
        profiles=rulebook,
    )

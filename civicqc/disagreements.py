"""Where a candidate profile and the live one disagree on a photo, and why, per check.

Pure: ``civicqc shadow report`` reads the two topics and hands each photo's live
:class:`~core.events.VerdictEvent` and :class:`~core.events.ShadowVerdict` here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.events import ShadowVerdict, VerdictEvent
from core.schema import CheckResult


@dataclass(frozen=True, slots=True)
class CheckDifference:
    """One check the two profiles judged differently (or that only one of them ran)."""

    check: str
    live: CheckResult | None
    shadow: CheckResult | None

    def describe(self) -> str:
        """``blur: live passed, shadow failed (too_blurry); sharpness 43.69; threshold 32.0 -> 44.7``."""
        parts = [f"{self.check}: live {_state(self.live)}, shadow {_state(self.shadow)}"]
        known = self.live or self.shadow
        if known is not None and known.values:
            parts.append(", ".join(f"{k} {v}" for k, v in known.values.items()))
        moved = _moved_thresholds(self.live, self.shadow)
        if moved:
            parts.append(moved)
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A photo whose outcome, or the result of some check, differs between the profiles."""

    live: VerdictEvent
    shadow: ShadowVerdict
    checks: tuple[CheckDifference, ...]

    @property
    def outcome_differs(self) -> bool:
        return self.live.outcome != self.shadow.outcome

    def describe(self) -> list[str]:
        """The photo's line, then one indented line per check that differs."""
        live, shadow = self.live, self.shadow
        head = (
            f"{live.image_id} tenant {live.metadata.tenant}: "
            f"live {live.rules.name} {live.rules.version} {live.outcome.value} {live.score}"
            f" -> shadow {shadow.rules.name} {shadow.rules.version} "
            f"{shadow.outcome.value} {shadow.score}"
        )
        return [head, *(f"    {difference.describe()}" for difference in self.checks)]


def disagreement(live: VerdictEvent, shadow: ShadowVerdict) -> Disagreement | None:
    """How the two verdicts of one photo differ; None when they agree on every check."""
    names = list(live.checks) + [n for n in shadow.checks if n not in live.checks]
    differences = tuple(
        CheckDifference(name, live.checks.get(name), shadow.checks.get(name))
        for name in names
        if _passed(live.checks.get(name)) != _passed(shadow.checks.get(name))
    )
    if not differences and live.outcome == shadow.outcome:
        return None
    return Disagreement(live, shadow, differences)


def _passed(check: CheckResult | None) -> bool | None:
    return None if check is None else check.passed


def _state(check: CheckResult | None) -> str:
    if check is None:
        return "did not run it"
    state = "passed" if check.passed else "failed"
    return f"{state} ({check.reason_code})" if check.reason_code else state


def _moved_thresholds(live: CheckResult | None, shadow: CheckResult | None) -> str:
    if live is None or shadow is None:
        return ""
    names = [n for n in shadow.thresholds if live.thresholds.get(n) != shadow.thresholds[n]]
    return ", ".join(f"{n} {live.thresholds.get(n)} -> {shadow.thresholds[n]}" for n in names)

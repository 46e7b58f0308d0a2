"""The civicqc scoring engine: a pure library. Bytes and rules in, a :class:`Verdict` out.

Public surface::

    from core import score, builtin_profile
    verdict = score(image_bytes, builtin_profile("default"), image_id="...")

A profile with the privacy or subject check also needs a detector, built once per
worker process by the shell (see :mod:`core.detect` and docs/DETECTION.md)::

    verdict = score(image_bytes, rules, detector=detector)

No I/O, no globals, no logging or metrics setup: the API, the consumers and the
CLI are thin shells around :func:`score`.
"""

from core.engine import error_verdict, score, score_batch, score_pair
from core.profiles import BUILTIN_PROFILES, builtin_profile, rules_from_toml
from core.rules import Rules, with_env_overrides
from core.schema import CheckResult, ErrorCode, Outcome, Quality, Verdict
from core.version import ENGINE_VERSION

__all__ = [
    "BUILTIN_PROFILES",
    "ENGINE_VERSION",
    "CheckResult",
    "ErrorCode",
    "Outcome",
    "Quality",
    "Rules",
    "Verdict",
    "builtin_profile",
    "error_verdict",
    "rules_from_toml",
    "score",
    "score_batch",
    "score_pair",
    "with_env_overrides",
]

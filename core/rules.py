"""Rule profiles: every threshold and weight as typed, versioned data.

A profile is a TOML document (see ``core/profiles/*.toml``). Several profiles
coexist, one per municipality, and every verdict records the name and version
of the profile that produced it, so an audit can replay a decision.

Nothing here reads the environment: shells pass their environment mapping to
:func:`with_env_overrides`, which applies the reference system's variable names.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckRule(_Rule):
    weight: float = Field(ge=0, description="Weight in the total score (weights are normalised).")
    veto_below: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Blocking: a failed check scoring below this rejects the photo whatever "
        "its total. None means the check only contributes to the weighted score.",
    )


class BlurRule(CheckRule):
    threshold: float = Field(gt=0, description="Minimum sharpness (Laplacian variance).")
    tile_size: int = Field(
        default=64, ge=16, description="Tile edge in analysis pixels for the texture-aware measure."
    )
    top_fraction: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Share of most-detailed tiles whose variance is the sharpness; 1.0 is the "
        "reference system's whole-image variance.",
    )


class ResolutionRule(CheckRule):
    min_width: int = Field(ge=1)
    min_height: int = Field(ge=1)
    min_megapixels: float = Field(ge=0)
    any_orientation: bool = Field(
        default=True,
        description="Compare long/short sides, so a portrait 600x800 photo meets 800x600.",
    )


class BrightnessRule(CheckRule):
    min: float = Field(ge=0, le=255)
    max: float = Field(ge=0, le=255)

    @model_validator(mode="after")
    def _ordered(self) -> BrightnessRule:
        if self.min >= self.max:
            raise ValueError("brightness.min must be below brightness.max")
        return self


class ExposureRule(CheckRule):
    min_dynamic_range: float = Field(ge=0, le=255, description="p99.5 - p0.5 of luminance.")
    max_shadow_clip: float = Field(ge=0, le=1, description="Max share of pixels <= shadow_level.")
    max_highlight_clip: float = Field(
        ge=0, le=1, description="Max share of pixels >= highlight_level."
    )
    shadow_level: int = Field(default=0, ge=0, le=254)
    highlight_level: int = Field(default=255, ge=1, le=255)
    clip_penalty: bool = Field(
        default=False,
        description="Scale a failed score by allowed/actual clipping, so that large clipped "
        "areas score low enough to veto. The reference scores on dynamic range alone.",
    )


class MetadataRule(CheckRule):
    min_completeness: float = Field(ge=0, le=100, description="Percent of key EXIF fields.")


class CompressionRule(CheckRule):
    min_quality: float = Field(
        ge=1, le=100, description="Minimum JPEG quality estimated from the quantisation tables."
    )
    max_blockiness: float = Field(
        default=1.6,
        gt=0,
        description="For images without quantisation tables: max ratio of 8x8 block-edge "
        "gradients to interior gradients.",
    )


class Checks(_Rule):
    blur: BlurRule
    resolution: ResolutionRule
    brightness: BrightnessRule
    exposure: ExposureRule
    metadata: MetadataRule
    compression: CompressionRule | None = None


class Rules(_Rule):
    """One named, versioned rule profile."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    version: str = Field(min_length=1)
    description: str = ""
    accept_score: float = Field(default=65, ge=0, le=100)
    max_pixels: int = Field(default=100_000_000, ge=1, description="Decompression-bomb limit.")
    analysis_long_side: int = Field(
        default=1000,
        ge=0,
        description="Long side, in pixels, of the grey image the pixel checks measure; a fixed "
        "scale makes thresholds mean the same for 2 MP and 48 MP photos. 0 = full resolution.",
    )
    checks: Checks

    @model_validator(mode="after")
    def _usable_scale(self) -> Rules:
        if 0 < self.analysis_long_side < 64:
            raise ValueError("analysis_long_side must be 0 (full resolution) or at least 64")
        return self


def rules_from_toml(text: str) -> Rules:
    """Parse and validate one profile; raises ``ValueError`` with every problem listed."""
    data: dict[str, Any] = tomllib.loads(text)
    return Rules.model_validate(data)


#: The reference system's environment variables and the rule fields they set.
ENV_OVERRIDES: Mapping[str, tuple[str, str]] = {
    "BLUR_THRESHOLD": ("blur", "threshold"),
    "MIN_BRIGHTNESS": ("brightness", "min"),
    "MAX_BRIGHTNESS": ("brightness", "max"),
    "MIN_RESOLUTION_WIDTH": ("resolution", "min_width"),
    "MIN_RESOLUTION_HEIGHT": ("resolution", "min_height"),
    "MIN_MEGAPIXELS": ("resolution", "min_megapixels"),
    "METADATA_COMPLETENESS": ("metadata", "min_completeness"),
}


def with_env_overrides(rules: Rules, env: Mapping[str, str]) -> Rules:
    """Apply the reference system's variables; the version gains ``+env`` when any applied.

    The suffix keeps verdicts honest: a verdict scored with overridden thresholds
    never claims the pristine profile version.
    """
    data = rules.model_dump()
    applied = False
    for variable, (check, field) in ENV_OVERRIDES.items():
        raw = env.get(variable)
        if raw is None or raw.strip() == "":
            continue
        data["checks"][check][field] = raw.strip()
        applied = True
    if not applied:
        return rules
    data["version"] = f"{rules.version}+env"
    return Rules.model_validate(data)

"""Rule profiles: every threshold and weight as typed, versioned data.

A profile is a TOML document (see ``core/profiles/*.toml``), read by
:func:`core.profiles.rules_from_toml`, which resolves ``extends``. Several profiles
coexist, one per municipality, and every verdict records the name and version
of the profile that produced it, so an audit can replay a decision.

Nothing here reads the environment: shells pass their environment mapping to
:func:`with_env_overrides`, which applies the reference system's variable names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

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
    threshold: float = Field(gt=0, description="Minimum sharpness, in the unit of ``measure``.")
    measure: Literal["laplacian_variance", "edge_slope"] = Field(
        default="laplacian_variance",
        description="laplacian_variance: the reference system's variance of the Laplacian "
        "(squared grey levels). edge_slope: steepness of the sharpest edges in percent of "
        "local contrast per analysis pixel, second worst of four edge orientations (docs/SCORING.md).",
    )
    tile_size: int = Field(
        default=64, ge=16, description="laplacian_variance: tile edge in analysis pixels."
    )
    analysis_long_side: int = Field(
        default=0,
        ge=0,
        description="edge_slope: long side, in pixels, of the finer grey image sharpness is "
        "measured on (from the same decode); 0: the profile's analysis scale. A blur of "
        "2 px on a 2.5k photo is 0.8 px at 1000 px, too little to tell from sharp.",
    )
    top_fraction: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="laplacian_variance: share of most-detailed tiles whose variance is the "
        "sharpness; 1.0 is the reference system's whole-image variance. edge_slope: share of "
        "the strongest edge pixels, per orientation, that are measured. Unset: the "
        "measure's own default (0.2 of the tiles, 0.05 of the edge pixels).",
    )
    edge_window: int = Field(
        default=7,
        ge=3,
        le=31,
        description="edge_slope: window (pixels) over which local contrast is measured; it "
        "must span the blurred edges to detect.",
    )
    edge_min_contrast: int = Field(
        default=40,
        ge=1,
        le=255,
        description="edge_slope: minimum local grey-level range for a pixel to count as an "
        "edge; keeps smooth areas and noise out.",
    )
    edge_percentile: float = Field(
        default=90.0,
        gt=0,
        le=100,
        description="edge_slope: percentile of slope/contrast over the measured edge pixels.",
    )
    coarse_threshold: float = Field(
        default=0.0,
        ge=0,
        description="edge_slope with a finer scale: minimum sharpness at the profile's "
        "analysis scale too; 0: not checked. Sensor noise on a blurred photo steepens its "
        "edges at the fine scale only, and averaging two fine pixels into one removes it.",
    )


class ResolutionRule(CheckRule):
    min_width: int = Field(ge=1)
    min_height: int = Field(ge=1)
    min_megapixels: float = Field(ge=0)
    any_orientation: bool = Field(
        default=True,
        description="Compare long/short sides, so a portrait 600x800 photo meets 800x600.",
    )
    stored_orientation: bool = Field(
        default=False,
        description="Compare width and height as stored, before EXIF orientation (the "
        "reference reads them that way); off: as displayed.",
    )
    credit_megapixels: float | None = Field(
        default=None,
        gt=0,
        description="Megapixels that earn the full 80 of a failed check's partial credit; "
        "None: min_megapixels. The reference passes at 1.0 MP but credits against 0.5.",
    )


class BrightnessRule(CheckRule):
    min: float = Field(ge=0, le=255)
    max: float = Field(ge=0, le=255)
    min_quality_score: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="The reference system's brightness quality score (closeness of the mean to "
        "128, contrast from the standard deviation, minus penalties for many dark or bright "
        "pixels; docs/SCORING.md) must also reach this percentage. None: off (our profile).",
    )

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
    washed_min_near_white: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Washed out also needs more than this share of near-white pixels (>= 231): "
        "a pale but detailed scene (light wood, frost) has a light darkest tone and no white. "
        "None: the dark end decides alone.",
    )
    dark_scene_mean: float | None = Field(
        default=None,
        ge=0,
        le=255,
        description="A photo darker than this on average must keep lights of at least "
        "dark_scene_min_bright_end: a night scene keeps its lamps, a photo pushed down does not.",
    )
    dark_scene_min_bright_end: float | None = Field(default=None, ge=0, le=255)
    credit_dynamic_range: float | None = Field(
        default=None,
        gt=0,
        le=255,
        description="Dynamic range that earns the full 70 of a failed check's partial credit; "
        "None: min_dynamic_range. The reference passes at 120 but credits against 100.",
    )
    clip_penalty: bool = Field(
        default=False,
        description="Scale a failed score by allowed/actual clipping, so that large clipped "
        "areas score low enough to veto. The reference scores on dynamic range alone.",
    )
    min_bright_end: float | None = Field(
        default=None,
        ge=0,
        le=255,
        description="Under-exposure: the 99.5th percentile of luminance (the brightest tones) "
        "must reach this. A dark night scene keeps its lights and passes; a whole photo "
        "pushed down, whose highlights stay grey, fails. None turns it off (the reference).",
    )
    max_dark_end: float | None = Field(
        default=None,
        ge=0,
        le=255,
        description="Over-exposure: the 0.5th percentile of luminance (the darkest tones) must "
        "stay at or below this. A photo washed out so far that nothing in it is dark fails, "
        "even when its colour channels clip before its luminance does. None: off (reference).",
    )
    max_colour_clip: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Over-exposure: max share of pixels with at least two colour channels "
        "blown (>= 250). A brightened photo clips its colours long before its grey does. "
        "Measured on JPEGs from the same decode (its chroma planes); None: off (reference).",
    )
    max_channel_clip: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Over-exposure: max share of pixels with at least one colour channel "
        "blown (>= 250). A x2.5 copy of a normal photo blows every pixel whose brightest "
        "channel was above 102. Measured as max_colour_clip; None: off (reference).",
    )
    max_flat_blown: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Over-exposure: max share of the frame in flat_blown_block-pixel tiles "
        "blown flat (every pixel >= highlight_level), leaving out blown tiles joined to the "
        "top edge (a sky). A face, the moon's disc or a lit wall blown to one white loses "
        "whole tiles; a good photo's glints and lamps leave each tile some detail. "
        "None: off (reference).",
    )
    flat_blown_block: int = Field(
        default=16,
        ge=2,
        le=256,
        description="Tile side, in pixels at the analysis scale, of max_flat_blown.",
    )
    channel_clip_min_colour: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="max_channel_clip fails a photo only when more than this share also has "
        "two channels blown: a bright, nearly white subject (wool, snow) blows one channel of "
        "its tinted white over a large area and no second one.",
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


class PrivacyRule(CheckRule):
    """Find people and vehicles so a published copy can be redacted."""

    classes: list[str] = Field(
        default_factory=lambda: ["person", "car", "truck", "bus", "motorcycle", "bicycle"],
        min_length=1,
        description="Labels (after the detector's class map) that must be redacted.",
    )
    min_confidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Confidence from which a box counts; None uses the detector's threshold.",
    )
    fail_when_found: bool = Field(
        default=False,
        description="Treat a photo showing people or vehicles as failed (score "
        "found_score), e.g. where redaction is not possible downstream. By default "
        "the check passes and only sets redaction_required.",
    )
    found_score: float = Field(default=0, ge=0, le=100)


class SubjectRule(CheckRule):
    """Confirm that the photo shows what was reported, with a municipality's own model."""

    required: list[str] = Field(min_length=1, description="Labels of which one must be present.")
    require_all: bool = Field(default=False, description="Every label must be present, not one.")
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    on_missing: Literal["warn", "penalise"] = Field(
        default="warn",
        description="warn: the check passes and says so in its reason; penalise: it fails "
        "with missing_score, which may veto.",
    )
    missing_score: float = Field(default=0, ge=0, le=100)


class DetectorRule(_Rule):
    """The object detector shared by the privacy and subject checks.

    The shell loads ``model`` once per worker process and passes the detector to
    :func:`core.score`; the thresholds apply per call, so profiles sharing one
    model can differ in them.
    """

    backend: Literal["onnx", "ultralytics"] = "onnx"
    model: str = Field(
        min_length=1,
        description="Model file: an ultralytics-exported .onnx for 'onnx'; anything "
        "ultralytics loads (.pt, .onnx, OpenVINO folder) for 'ultralytics'. A relative "
        "path is resolved by the shell.",
    )
    classes: dict[int, str] | None = Field(
        default=None,
        description="Model class index -> label; unmapped indices keep the model's own "
        "names. Lets a fine-tuned model's 'Normal'/'Fall' both count as 'person'.",
    )
    confidence: float = Field(default=0.25, gt=0, le=1)
    iou: float = Field(default=0.45, gt=0, le=1, description="NMS overlap threshold.")
    input_size: int = Field(
        default=640, ge=32, description="Model input side in pixels (multiple of 32)."
    )
    max_detections: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _stride_multiple(self) -> DetectorRule:
        if self.input_size % 32:
            raise ValueError("detector.input_size must be a multiple of 32")
        return self


class Checks(_Rule):
    blur: BlurRule
    resolution: ResolutionRule
    brightness: BrightnessRule
    exposure: ExposureRule
    metadata: MetadataRule
    compression: CompressionRule | None = None
    privacy: PrivacyRule | None = None
    subject: SubjectRule | None = None


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
    near_margin: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="A check whose deciding value lies within this fraction of its threshold "
        "is near the line: its result says so, and so does the citizen's advice.",
    )
    checks: Checks
    detector: DetectorRule | None = Field(
        default=None, description="Object detector; required by the privacy and subject checks."
    )

    @model_validator(mode="after")
    def _usable_scale(self) -> Rules:
        if 0 < self.analysis_long_side < 64:
            raise ValueError("analysis_long_side must be 0 (full resolution) or at least 64")
        return self

    @model_validator(mode="after")
    def _detector_when_needed(self) -> Rules:
        if (self.checks.privacy or self.checks.subject) and self.detector is None:
            raise ValueError("the privacy and subject checks need a [detector] section")
        return self

    @property
    def detection_enabled(self) -> bool:
        """Whether scoring runs the detector (a detector alone, without a check, does not)."""
        return self.detector is not None and bool(self.checks.privacy or self.checks.subject)


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

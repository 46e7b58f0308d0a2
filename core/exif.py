"""EXIF parsing with piexif, tolerant of the garbage that real uploads carry.

A broken EXIF block is common (editing apps, messengers, hostile clients). It
must never fail the photo or crash the engine: it simply counts as absent.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import piexif

from core.schema import ExifSummary, GeoPoint

_IFD0, _EXIF, _GPS = "0th", "Exif", "GPS"
_TAG_MAKE, _TAG_MODEL, _TAG_ORIENTATION, _TAG_DATETIME = 271, 272, 274, 306
_TAG_EXPOSURE_TIME, _TAG_FNUMBER, _TAG_ISO, _TAG_DATETIME_ORIGINAL = 33434, 33437, 34855, 36867
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_ALT_REF, _GPS_ALT = 1, 2, 3, 4, 5, 6

#: The reference system's metadata fields; completeness is the share present.
METADATA_FIELDS: tuple[str, ...] = (
    "timestamp",
    "camera_make_model",
    "orientation",
    "iso",
    "shutter_speed",
    "aperture",
)

#: What piexif raises on malformed blocks; anything else is a bug and propagates.
_PARSE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    struct.error,
    piexif.InvalidImageDataError,
)


@dataclass(frozen=True, slots=True)
class ExifData:
    """Parsed EXIF: the reference fields found, and the summary carried in the verdict."""

    present: bool
    fields: frozenset[str] = field(default_factory=frozenset)
    summary: ExifSummary = field(default_factory=lambda: ExifSummary(present=False))

    @property
    def completeness(self) -> float:
        """Percent of :data:`METADATA_FIELDS` present, 0-100."""
        return 100.0 * len(self.fields) / len(METADATA_FIELDS)


def parse_exif(raw: bytes | None) -> ExifData:
    """Parse an EXIF block (with or without the ``Exif\\0\\0`` prefix); never raises on bad data."""
    if not raw:
        return ExifData(present=False)
    try:
        tags: dict[str, dict[int, Any]] = piexif.load(_with_prefix(raw))
    except _PARSE_ERRORS:
        return ExifData(present=False)
    ifd0, exif, gps = tags.get(_IFD0) or {}, tags.get(_EXIF) or {}, tags.get(_GPS) or {}

    make, model = _text(ifd0.get(_TAG_MAKE)), _text(ifd0.get(_TAG_MODEL))
    captured = _timestamp(exif.get(_TAG_DATETIME_ORIGINAL)) or _timestamp(ifd0.get(_TAG_DATETIME))
    orientation = _int(ifd0.get(_TAG_ORIENTATION))
    if orientation is not None and not 1 <= orientation <= 8:
        orientation = None
    present_fields = {
        name
        for name, value in (
            ("timestamp", captured),
            ("camera_make_model", make or model),
            ("orientation", orientation),
            ("iso", _int(exif.get(_TAG_ISO))),
            ("shutter_speed", _rational(exif.get(_TAG_EXPOSURE_TIME))),
            ("aperture", _rational(exif.get(_TAG_FNUMBER))),
        )
        if value is not None
    }
    summary = ExifSummary(
        present=True,
        camera_make=make,
        camera_model=model,
        captured_at=captured,
        orientation=orientation,
        gps=_gps(gps),
    )
    return ExifData(present=True, fields=frozenset(present_fields), summary=summary)


def _with_prefix(raw: bytes) -> bytes:
    return raw if raw.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + raw


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
    if isinstance(value, str):
        value = value.strip()
        return value[:128] or None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, tuple) and value:
        value = value[0]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _rational(value: Any) -> float | None:
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) for v in value)
        and value[1] != 0
    ):
        return float(value[0]) / float(value[1])
    return None


def _timestamp(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def _degrees(value: Any) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    parts = [_rational(v) for v in value]
    if any(p is None for p in parts):
        return None
    d, m, s = (p for p in parts if p is not None)
    return d + m / 60 + s / 3600


def _gps(gps: dict[int, Any]) -> GeoPoint | None:
    lat, lon = _degrees(gps.get(_GPS_LAT)), _degrees(gps.get(_GPS_LON))
    if lat is None or lon is None:
        return None
    if _text(gps.get(_GPS_LAT_REF)) == "S":
        lat = -lat
    if _text(gps.get(_GPS_LON_REF)) == "W":
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    alt = _rational(gps.get(_GPS_ALT))
    if alt is not None and _int(gps.get(_GPS_ALT_REF)) == 1:
        alt = -alt
    return GeoPoint(latitude=round(lat, 7), longitude=round(lon, 7), altitude_m=alt)

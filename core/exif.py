"""EXIF parsing, tolerant of the garbage that real uploads carry.

A broken EXIF block is common (editing apps, messengers, hostile clients). It
must never fail the photo or crash the engine: it simply counts as absent, and
a hostile one costs no more than its own bytes (:mod:`core.ifd` reads it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.ifd import DirectorySpec, Value, read_directories
from core.schema import ExifSummary, GeoPoint

_IFD0, _EXIF, _GPS = "0th", "Exif", "GPS"
_EXIF_POINTER, _GPS_POINTER = 0x8769, 0x8825
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

_NO_FOLLOW: dict[int, tuple[str, DirectorySpec]] = {}
#: The only directories and tags the engine reads: Interop, IFD1 and MakerNotes are never parsed.
_WANTED = DirectorySpec(
    tags=frozenset({_TAG_MAKE, _TAG_MODEL, _TAG_ORIENTATION, _TAG_DATETIME}),
    follow={
        _EXIF_POINTER: (
            _EXIF,
            DirectorySpec(
                tags=frozenset(
                    {_TAG_EXPOSURE_TIME, _TAG_FNUMBER, _TAG_ISO, _TAG_DATETIME_ORIGINAL}
                ),
                follow=_NO_FOLLOW,
            ),
        ),
        _GPS_POINTER: (
            _GPS,
            DirectorySpec(
                tags=frozenset(
                    {_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_ALT_REF, _GPS_ALT}
                ),
                follow=_NO_FOLLOW,
            ),
        ),
    },
)
_ORIENTATION_ONLY = DirectorySpec(tags=frozenset({_TAG_ORIENTATION}), follow=_NO_FOLLOW)


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
    """Parse an EXIF block (with or without the ``Exif\\0\\0`` prefix); never raises on bad data.

    A TIFF file is itself such a block: its IFD0 holds the camera tags.
    """
    tags = read_directories(_without_prefix(raw), _WANTED) if raw else {}
    if _IFD0 not in tags:
        return ExifData(present=False)
    ifd0, exif, gps = tags[_IFD0], tags.get(_EXIF, {}), tags.get(_GPS, {})

    make, model = _text(ifd0.get(_TAG_MAKE)), _text(ifd0.get(_TAG_MODEL))
    captured = _timestamp(exif.get(_TAG_DATETIME_ORIGINAL)) or _timestamp(ifd0.get(_TAG_DATETIME))
    orientation = _orientation(ifd0.get(_TAG_ORIENTATION))
    present_fields = {
        name
        for name, value in (
            # The capture time only, as the reference counts it: an editor's save time
            # (IFD0 DateTime) is shown in the summary but is no evidence of the shot.
            ("timestamp", _timestamp(exif.get(_TAG_DATETIME_ORIGINAL))),
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


def exif_orientation(raw: bytes | None) -> int:
    """The EXIF orientation (1-8) of IFD0, 1 when absent or invalid; reads nothing else."""
    tags = read_directories(_without_prefix(raw), _ORIENTATION_ONLY) if raw else {}
    return _orientation(tags.get(_IFD0, {}).get(_TAG_ORIENTATION)) or 1


def _without_prefix(raw: bytes) -> memoryview:
    """A view, not a copy: a PNG or WebP EXIF block may be as large as the upload."""
    view = memoryview(raw)
    return view[6:] if raw.startswith(b"Exif\x00\x00") else view


def _orientation(value: Value | None) -> int | None:
    orientation = _int(value)
    return orientation if orientation is not None and 1 <= orientation <= 8 else None


def _text(value: Value | None) -> str | None:
    if not isinstance(value, bytes):
        return None
    text = value.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
    return text[:128] or None


def _int(value: Value | None) -> int | None:
    if isinstance(value, tuple) and value and isinstance(value[0], int):
        return value[0]
    return None


def _rational(value: Value | tuple[int, int] | None) -> float | None:
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        value = value[0]
    if isinstance(value, tuple) and len(value) == 2:
        numerator, denominator = value
        if isinstance(numerator, int) and isinstance(denominator, int) and denominator != 0:
            return float(numerator) / float(denominator)
    return None


def _timestamp(value: Value | None) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def _degrees(value: Value | None) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    parts = [_rational(v) if isinstance(v, tuple) else None for v in value]
    if any(p is None for p in parts):
        return None
    d, m, s = (p for p in parts if p is not None)
    return d + m / 60 + s / 3600


def _gps(gps: dict[int, Value]) -> GeoPoint | None:
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

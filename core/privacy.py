"""How much of a photo's EXIF a verdict may carry before it leaves the scorer.

Verdict events go to every subscriber of the verdict topic and to anyone who can
read ``GET /v1/images/{id}``, so the camera's own GPS fix and capture time are
personal data there. :func:`redact_exif` applies the operator's choice to a
:class:`~core.schema.Verdict`; scoring itself always sees the full EXIF.

Pure: a verdict in, a verdict out. The reporter's chosen location in the
submission metadata is not EXIF and is not touched here.
"""

from __future__ import annotations

from enum import StrEnum

from core.schema import ExifSummary, GeoPoint, Verdict

#: Decimal places kept in ``coarse`` mode: 0.01 degree is about 1.1 km of latitude
#: (and at most that of longitude), enough to route a report to a district.
COARSE_DECIMALS = 2


class ExifDisclosure(StrEnum):
    """What of a photo's EXIF goes into verdict events."""

    #: Everything the summary holds: camera, capture time, exact GPS with altitude.
    FULL = "full"
    #: GPS rounded to :data:`COARSE_DECIMALS` (~1 km) without altitude, capture date only.
    COARSE = "coarse"
    #: Only whether EXIF was present and the orientation that was applied.
    OFF = "off"


def redact_exif(verdict: Verdict, mode: ExifDisclosure) -> Verdict:
    """``verdict`` with its EXIF summary reduced to what ``mode`` allows.

    Parameters
    ----------
    verdict
        A verdict from :func:`core.score`; returned unchanged when it has no EXIF
        summary or ``mode`` is ``full``.
    mode
        How much to disclose (see :class:`ExifDisclosure`).

    Examples
    --------
    >>> from core.schema import ExifSummary, GeoPoint
    >>> exif = ExifSummary(present=True, gps=GeoPoint(latitude=52.51234, longitude=13.38765))
    >>> _coarse(exif).gps
    GeoPoint(latitude=52.51, longitude=13.39, altitude_m=None)
    """
    exif = verdict.exif
    if exif is None or mode is ExifDisclosure.FULL:
        return verdict
    reduced = _coarse(exif) if mode is ExifDisclosure.COARSE else _minimal(exif)
    return verdict.model_copy(update={"exif": reduced})


def _coarse(exif: ExifSummary) -> ExifSummary:
    gps = None
    if exif.gps is not None:
        gps = GeoPoint(
            latitude=round(exif.gps.latitude, COARSE_DECIMALS),
            longitude=round(exif.gps.longitude, COARSE_DECIMALS),
        )
    captured = exif.captured_at[:10] if exif.captured_at else None
    return exif.model_copy(update={"gps": gps, "captured_at": captured})


def _minimal(exif: ExifSummary) -> ExifSummary:
    return ExifSummary(present=exif.present, orientation=exif.orientation)

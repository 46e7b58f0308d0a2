"""Near-duplicate search: the earlier photos of one tenant whose fingerprints are close.

An in-memory index of :func:`core.fingerprint.fingerprint` values, one per tenant and
replica, fed by the shells (the consumer reads a compacted topic into it). Columns are
flat numpy arrays (fingerprint, time, location, image id as 16 bytes: 40 bytes a photo),
so a lookup is one vectorised XOR and popcount over the tenant's fingerprints followed
by the time and distance filters on the few close ones.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True, slots=True)
class Place:
    """A location in degrees."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Match:
    """An earlier photo close to the one looked up."""

    image_id: str
    distance: int
    at: float
    """When it was submitted, in seconds since the epoch."""


@dataclass(frozen=True, slots=True)
class SearchRule:
    """What counts as a near-duplicate."""

    max_distance: int = 16
    window_s: float = 7 * 86_400.0
    max_metres: float | None = 50.0
    """When both photos carry a location, how far apart they may be; None: no limit."""
    limit: int = 10


class FingerprintIndex:
    """The fingerprints of one tenant's photos, in arrival order."""

    def __init__(self, capacity: int = 1024) -> None:
        self._size = 0
        self._prints: NDArray[np.uint64] = np.zeros(capacity, np.uint64)
        self._at: NDArray[np.float64] = np.zeros(capacity, np.float64)
        self._places: NDArray[np.float32] = np.full((capacity, 2), np.nan, np.float32)
        self._ids: NDArray[np.uint8] = np.zeros((capacity, 16), np.uint8)
        self._known: set[bytes] = set()

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Memory the columns hold (their capacity); the set of known ids comes on top
        (the bench measures both)."""
        columns = (self._prints, self._at, self._places, self._ids)
        return sum(column.nbytes for column in columns)

    def add(self, image_id: str, fingerprint: int, at: float, place: Place | None) -> None:
        """Remember a photo; one already known (a replayed record) is ignored."""
        raw = uuid.UUID(image_id).bytes
        if raw in self._known:
            return
        if self._size == len(self._prints):
            self._grow()
        i = self._size
        self._prints[i] = fingerprint
        self._at[i] = at
        self._places[i] = (place.latitude, place.longitude) if place else (np.nan, np.nan)
        self._ids[i] = np.frombuffer(raw, np.uint8)
        self._known.add(raw)
        self._size += 1

    def _grow(self) -> None:
        capacity = 2 * len(self._prints)
        self._prints = np.resize(self._prints, capacity)
        self._at = np.resize(self._at, capacity)
        places = np.full((capacity, 2), np.nan, np.float32)
        places[: self._size] = self._places[: self._size]
        self._places = places
        self._ids = np.resize(self._ids, (capacity, 16))

    def search(
        self, fingerprint: int, at: float, place: Place | None, rule: SearchRule
    ) -> list[Match]:
        """Earlier photos within ``rule``, closest first (search before adding the photo).

        Candidates are visited closest first and only until ``rule.limit`` qualify, so a
        photo sent a thousand times costs a lookup no more than one sent twice.
        """
        distances = np.bitwise_count(self._prints[: self._size] ^ np.uint64(fingerprint))
        close = np.flatnonzero(distances <= rule.max_distance)
        # Closest first, the newest first among equals (ids are in arrival order).
        order = close[np.lexsort((-self._at[close], distances[close]))]
        matches: list[Match] = []
        for i in order:
            if not at - rule.window_s <= self._at[i] <= at or not self._near(int(i), place, rule):
                continue
            raw = self._ids[i].tobytes()
            matches.append(Match(str(uuid.UUID(bytes=raw)), int(distances[i]), float(self._at[i])))
            if len(matches) == rule.limit:
                break
        return matches

    def _near(self, i: int, place: Place | None, rule: SearchRule) -> bool:
        latitude, longitude = (float(v) for v in self._places[i])
        if rule.max_metres is None or place is None or math.isnan(latitude):
            return True
        return metres_between(place, Place(latitude, longitude)) <= rule.max_metres


def metres_between(a: Place, b: Place) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(h))

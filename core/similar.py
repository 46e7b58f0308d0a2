"""Near-duplicate search: the earlier photos of one tenant whose fingerprints are close.

An in-memory index of :func:`core.fingerprint.fingerprint` values, one per tenant and
replica, fed by the shells (the consumer reads a compacted topic into it) and pruned by
them as photos leave the search window. Columns are contiguous numpy arrays in arrival
order (fingerprint, time, location, image id as 16 bytes: 40 bytes a photo). A lookup
scans the fingerprints :data:`_BLOCK` rows at a time through two work buffers of that
size (one XOR and one popcount per block, in cache, allocating nothing in proportion to
the index), then applies the time, location and replay filters to the few close rows.

Memory is what a consumer pod's limit is sized by (docs/CAPACITY.md), so the columns grow
by a quarter, not by doubling, and one column at a time: an index holds at most 1.25
times its rows' bytes once grown, and a growth briefly adds one new column, not a second
copy of them all.

Why a scan and not a multi-index hash: at the default threshold of 16 bits out of 64,
the pigeonhole bound leaves one of four 16-bit bands within 4 bits, i.e. 2,517 probes a
band and, at a million random fingerprints, about 150,000 candidates to check, more
work than the scan, and every add and prune would maintain four more tables. Nor sorted
time: pruning keeps the index close to the window, so a window slice would skip little,
while a sorted insert costs a shift for every record replayed out of order (three
partitions interleave). Replays are told apart by the latest ids only (a set of every
id cost 85 bytes a photo, more than the columns).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

_EARTH_RADIUS_M = 6_371_000.0
#: A test of rows ``start`` to ``end``, written into ``out`` (one flag a row).
_BlockTest = Callable[[int, int, NDArray[np.bool_]], NDArray[np.bool_]]
_Scalar = TypeVar("_Scalar", bound=np.generic)
#: How many of the latest ids an add compares with, to keep a replayed record once.
REPLAY_HORIZON = 1024


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


#: Rows a lookup scans at a time: its work buffers (9 bytes a row) stay this size.
_BLOCK = 1 << 16
#: Capacity an index keeps however few rows it holds (it starts there by default).
_MIN_CAPACITY = 1024

#: Flags per row of capacity in the table of copy keys: at capacity, a key never added
#: is flagged (and scanned for) about once in this many lookups.
_SEEN_PER_ROW = 8


class FingerprintIndex:
    """The fingerprints of one tenant's photos, in arrival order.

    A record replayed within the last :data:`REPLAY_HORIZON` adds (a replica reading
    back the photo it just added) is kept once. One replayed later (a photo published
    twice after a redelivery) takes a second row until it is pruned; searches still list
    each photo once.

    A row may also carry a *copy key*: a nonzero 64-bit number the caller derives from
    the photo's exact bytes (and whatever else must match), so :meth:`copy_of` finds an
    earlier photo with the same bytes. A key is a hash, so the caller checks what it
    finds. A table of :data:`_SEEN_PER_ROW` flags a row (by the key's low bits) answers
    most lookups of a key never added at once; the others scan the key column. 16 bytes
    a photo in all, instead of a map of its own (about 120 bytes a photo as a Python dict).
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._size = 0
        self._prints: NDArray[np.uint64] = np.zeros(0, np.uint64)
        self._at: NDArray[np.float64] = np.zeros(0, np.float64)
        self._places: NDArray[np.float32] = np.zeros((0, 2), np.float32)
        self._ids: NDArray[np.uint8] = np.zeros((0, 16), np.uint8)
        self._copies: NDArray[np.uint64] = np.zeros(0, np.uint64)
        self._seen: NDArray[np.bool_] = np.zeros(0, np.bool_)
        self._xor: NDArray[np.uint64] = np.empty(_BLOCK, np.uint64)
        self._bits: NDArray[np.uint8] = np.empty(_BLOCK, np.uint8)
        #: The latest ids added, oldest first (a dict keeps insertion order).
        self._recent: dict[bytes, None] = {}
        self._allocate(max(1, capacity))

    def _allocate(self, capacity: int) -> None:
        """Columns of ``capacity`` rows holding the current rows. Each column is copied and
        its old array dropped before the next is made, so a growth holds one column twice
        at most, not the whole index (its flags are rebuilt once the old table is gone)."""
        self._prints = _resized(self._prints, self._size, capacity)
        self._at = _resized(self._at, self._size, capacity)
        self._places = _resized(self._places, self._size, capacity)
        self._ids = _resized(self._ids, self._size, capacity)
        self._copies = _resized(self._copies, self._size, capacity)
        self._seen = np.zeros(0, np.bool_)
        self._seen = np.zeros(capacity * _SEEN_PER_ROW, np.bool_)
        self._mark_seen()

    def __len__(self) -> int:
        return self._size

    @property
    def capacity(self) -> int:
        return len(self._prints)

    @property
    def nbytes(self) -> int:
        """Memory the columns and work buffers hold (the columns' capacity, not only the rows)."""
        arrays = (
            self._prints,
            self._at,
            self._places,
            self._ids,
            self._copies,
            self._seen,
            self._xor,
            self._bits,
        )
        return sum(array.nbytes for array in arrays)

    def add(
        self, image_id: str, fingerprint: int, at: float, place: Place | None, copy: int = 0
    ) -> None:
        """Remember a photo; one added again among the latest rows is ignored. ``copy``:
        its copy key, 0 for none."""
        raw = uuid.UUID(image_id).bytes
        if raw in self._recent:
            return
        self._recent[raw] = None
        if len(self._recent) > REPLAY_HORIZON:
            del self._recent[next(iter(self._recent))]
        if self._size == self.capacity:
            self._allocate(max(self.capacity + 1, self.capacity * 5 // 4))
        i = self._size
        self._prints[i] = fingerprint
        self._at[i] = at
        self._places[i] = (place.latitude, place.longitude) if place else (np.nan, np.nan)
        self._ids[i] = np.frombuffer(raw, np.uint8)
        self._copies[i] = copy
        if copy:
            self._seen[copy % len(self._seen)] = True
        self._size += 1

    def copy_of(self, copy: int) -> str | None:
        """The latest photo added with copy key ``copy`` (nonzero); None if there is none."""
        if not self._seen[copy % len(self._seen)]:
            return None
        key = np.uint64(copy)
        rows = self._rows_where(
            lambda start, end, out: np.equal(self._copies[start:end], key, out=out)
        )
        if rows.size == 0:
            return None
        latest = rows[np.argmax(self._at[rows])]
        return str(uuid.UUID(bytes=self._ids[latest].tobytes()))

    def prune(self, before: float) -> int:
        """Forget the photos submitted before ``before``; how many were forgotten. Once half
        the capacity or less is used, it shrinks to a quarter more than the rows left, so
        memory follows a falling rate."""
        n = self._size
        kept = np.flatnonzero(self._at[:n] >= before)
        gone = n - len(kept)
        if gone == 0:
            return 0
        for column in (self._prints, self._at, self._places, self._ids, self._copies):
            column[: len(kept)] = column[kept]
        self._size = len(kept)
        capacity = max(_MIN_CAPACITY, self._size * 5 // 4)
        if self._size <= self.capacity // 2 and capacity < self.capacity:
            self._allocate(capacity)
        else:
            self._mark_seen()
        return gone

    def _mark_seen(self) -> None:
        """Flag the copy keys of the current rows only (forgotten rows' flags go)."""
        self._seen[:] = False
        flags = np.uint64(len(self._seen))
        for start in range(0, self._size, _BLOCK):  # temporaries of a block, not the index
            keys = self._copies[start : min(start + _BLOCK, self._size)]
            self._seen[keys[keys != 0] % flags] = True

    def search(
        self, fingerprint: int, at: float, place: Place | None, rule: SearchRule
    ) -> list[Match]:
        """Earlier photos within ``rule``, closest first (search before adding the photo)."""
        value = np.uint64(fingerprint)

        def close_in(start: int, end: int, out: NDArray[np.bool_]) -> NDArray[np.bool_]:
            xor, bits = self._xor[: end - start], self._bits[: end - start]
            np.bitwise_xor(self._prints[start:end], value, out=xor)
            np.bitwise_count(xor, out=bits)
            return np.less_equal(bits, rule.max_distance, out=out)

        close = self._rows_where(close_in)
        times = self._at[close]
        close = close[(times >= at - rule.window_s) & (times <= at)]
        if place is not None and rule.max_metres is not None:
            close = close[self._within(close, place, rule.max_metres)]
        distances = np.bitwise_count(self._prints[close] ^ value)
        order = np.lexsort((-self._at[close], distances))
        matches: list[Match] = []
        listed: set[bytes] = set()
        for i, bits_off in zip(close[order], distances[order], strict=True):
            if len(matches) == rule.limit:  # a photo sent 1,000 times costs no more than 10
                break
            raw = self._ids[i].tobytes()
            if raw not in listed:
                listed.add(raw)
                matches.append(Match(str(uuid.UUID(bytes=raw)), int(bits_off), float(self._at[i])))
        return matches

    def _rows_where(self, test: _BlockTest) -> NDArray[np.intp]:
        """The rows, in order, for which ``test(start, end, out)`` sets ``out``: a block of
        :data:`_BLOCK` rows at a time, into the bits buffer (the test may use the XOR one)."""
        found = [np.zeros(0, np.intp)]
        for start in range(0, self._size, _BLOCK):
            end = min(start + _BLOCK, self._size)
            rows = np.flatnonzero(test(start, end, self._bits[: end - start].view(np.bool_)))
            if rows.size:
                found.append(rows + start)
        return np.concatenate(found)

    def _within(self, rows: NDArray[np.intp], place: Place, max_metres: float) -> NDArray[np.bool_]:
        """Which rows are within ``max_metres`` of ``place``, or carry no location."""
        spots = self._places[rows].astype(np.float64)
        unknown = np.isnan(spots[:, 0])
        metres = _haversine_m(place, spots[:, 0], spots[:, 1])
        return np.asarray(unknown | (metres <= max_metres))


def _resized(column: NDArray[_Scalar], rows: int, capacity: int) -> NDArray[_Scalar]:
    """A new array of ``capacity`` rows holding the first ``rows`` of ``column``; unset
    rows are zero, except locations (NaN: none)."""
    grown = np.empty((capacity, *column.shape[1:]), column.dtype)
    grown[:rows] = column[:rows]
    grown[rows:] = np.nan if column.dtype == np.float32 else 0
    return grown


def _haversine_m(
    a: Place, latitudes: NDArray[np.float64], longitudes: NDArray[np.float64]
) -> NDArray[np.float64]:
    p1, p2 = math.radians(a.latitude), np.radians(latitudes)
    dp, dl = p2 - p1, np.radians(longitudes - a.longitude)
    h = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def metres_between(a: Place, b: Place) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(h))

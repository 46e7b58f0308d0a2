"""What decoding an image may cost, decided from its headers before any pixel is decoded.

Why: the engine promises a verdict within 2 s and 300 MB above a worker's baseline
for any upload, and ``max_pixels`` alone can't keep that promise. A 100 MP PNG is
fine for the pixel limit but costs 400 MB as Pillow RGB and seconds of inflate; a
progressive JPEG holds every DCT coefficient in memory and decodes every scan
over the whole image; a TIFF can split itself into a million tiles. So each
decode path estimates its own peak from what the header announces, and refuses
(an ``error`` verdict) what would exceed :data:`DECODE_BUDGET_BYTES` or the
matching time budget. The constants were measured with ``python -m bench.hostile``.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import TooComplexError, TooManyPixelsError

#: Peak bytes one decode may allocate (pixels, conversions, coefficients), with
#: headroom under the 300 MB bound for allocator slack and the checks.
DECODE_BUDGET_BYTES = 240 * 2**20

#: Progressive JPEG: (8x8 block, scan) pairs libjpeg may decode: each scan walks
#: every block of its components. About 0.6 s of CPU at the measured rate (a
#: 48 MP progressive photo with 20 scans is 22 M).
SCAN_BLOCK_BUDGET = 40_000_000

#: Tiles (or strips) Pillow decodes one by one, each a round trip through Python.
MAX_TILES = 50_000

#: Bytes per pixel of Pillow's in-memory modes (everything not listed takes 4).
_PILLOW_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}

#: Extra bytes per pixel beyond the decoded image: the grey copy and its array
#: (2), and a full-size RGB array when a detector needs colour (3).
_GREY_EXTRA, _COLOUR_EXTRA = 2, 3

#: Pillow opens every WebP with libwebp's animation decoder: two RGBA canvases
#: (current and previous frame), then its own RGBA copy (measured: 15 bytes/pixel
#: with the grey copies).
_WEBP_BYTES = 13

#: libheif's decode: 4:2:0 planes (1.5) while it converts to interleaved RGB (3),
#: then the grey copy; measured 5 bytes/pixel on a 51 MP grid image.
_HEIF_BYTES = 5.0

#: Coefficient storage of one 8x8 block in a progressive JPEG (64 x int16).
_BLOCK_BYTES = 128

#: Longest side Pillow may decode in full. Pillow keeps a pointer per row and copies
#: an image out through a buffer of 4 bytes per column: a 1 x 79 000 000 grey PNG
#: peaked at 817 MB and a 53 000 000 x 1 one at 804 MB (measured), for 79 and 53 MB of
#: pixels. JPEG allows no more than this; a real panorama is a few tens of thousands.
MAX_SIDE = 65_535

#: Pillow decodes RLE-compressed BMPs in a Python loop: measured 0.12 us per pixel
#: (end-of-line padding is written a byte at a time) and 0.5 us per 2-byte code, so
#: both the image and its data are capped: at most about 0.8 s together.
MAX_RLE_PIXELS = 2_000_000
MAX_RLE_BYTES = 2 * 2**20


@dataclass(frozen=True, slots=True)
class JpegFrame:
    """What a JPEG's frame header (SOF) and marker scan announce."""

    width: int
    height: int
    progressive: bool
    #: (horizontal, vertical) sampling factors per component.
    sampling: tuple[tuple[int, int], ...]
    scans: int
    #: A sequential JPEG whose first scan holds fewer components than the frame:
    #: libjpeg buffers it whole, like a progressive one.
    multi_scan: bool = False

    @property
    def buffered(self) -> bool:
        """Whether libjpeg holds every coefficient and decodes every scan before output."""
        return self.progressive or self.multi_scan

    @property
    def blocks(self) -> int:
        """8x8 blocks over all components, as libjpeg allocates them."""
        h_max = max(h for h, _ in self.sampling)
        v_max = max(v for _, v in self.sampling)
        total = 0
        for h, v in self.sampling:
            columns = -(-self.width * h // (8 * h_max))
            rows = -(-self.height * v // (8 * v_max))
            total += columns * rows
        return total


def check_pillow_decode(
    mode: str,
    width: int,
    height: int,
    *,
    colour: bool,
    tiles: int,
    webp: bool = False,
    tiff: bool = False,
) -> None:
    """Refuse a full decode (PNG, TIFF, WebP, BMP) over the memory, side or tile budget.

    libtiff decodes a strip into a buffer of its own before Pillow unpacks it, and a
    TIFF may be one strip: its image is counted twice.
    """
    image_bytes = _WEBP_BYTES if webp else _PILLOW_BYTES.get(mode, 4) * (2 if tiff else 1)
    if max(width, height) > MAX_SIDE:
        raise TooManyPixelsError(
            f"{width}x{height} has a side over the {MAX_SIDE} px limit of a full decode"
        )
    per_pixel = image_bytes + _GREY_EXTRA + (_COLOUR_EXTRA if colour else 0)
    _check_bytes(width, height, per_pixel, f"a {mode} image")
    if tiles > MAX_TILES:
        raise TooComplexError(
            f"the image is split into {tiles} tiles or strips, over the limit of {MAX_TILES}"
        )


def check_heif_decode(width: int, height: int, *, colour: bool) -> None:
    per_pixel = _HEIF_BYTES + (_COLOUR_EXTRA if colour else 0)
    _check_bytes(width, height, per_pixel, "a HEIF image")


def check_jpeg_decode(frame: JpegFrame) -> None:
    """Buffered JPEGs keep all coefficients and re-walk them per scan; single-scan ones stream.

    Progressive and multi-scan sequential files are buffered (:attr:`JpegFrame.buffered`).
    """
    if not frame.buffered:
        return
    blocks = frame.blocks
    kind = "progressive" if frame.progressive else "multi-scan"
    if blocks * _BLOCK_BYTES > DECODE_BUDGET_BYTES:
        raise TooManyPixelsError(
            f"a {kind} {frame.width}x{frame.height} JPEG needs "
            f"{blocks * _BLOCK_BYTES / 2**20:.0f} MB of coefficients to decode, over the "
            f"{DECODE_BUDGET_BYTES / 2**20:.0f} MB budget; send it as a single-scan baseline JPEG"
        )
    if blocks * frame.scans > SCAN_BLOCK_BUDGET:
        raise TooComplexError(
            f"a {kind} {frame.width}x{frame.height} JPEG with {frame.scans} scans is over "
            f"the decoding budget ({SCAN_BLOCK_BUDGET // max(blocks, 1)} scans at this size)"
        )


def check_bmp_rle(width: int, height: int, data_bytes: int) -> None:
    """Refuse an RLE-compressed BMP that Pillow's Python decoder would take seconds over."""
    if width * height > MAX_RLE_PIXELS or data_bytes > MAX_RLE_BYTES:
        raise TooComplexError(
            f"an RLE-compressed BMP of {width}x{height} in {data_bytes} bytes is over the "
            f"limit of {MAX_RLE_PIXELS / 1e6:.0f} MP and {MAX_RLE_BYTES >> 20} MiB for this "
            "compression; send it uncompressed or as a PNG"
        )


#: A full-resolution derivative (the redacted copy): the Pillow image while its RGB
#: array is filled (4 + 3), then the array, Pillow's copy for the encoder and
#: libjpeg's coefficient buffer for Huffman optimisation (3 + 4 + 3). Measured 10.6
#: bytes per pixel on a 12 MP and a 48 MP JPEG.
_DERIVATIVE_BYTES = 11

#: What a derivative may take: a scoring worker's default headroom is 512 MiB, and a
#: copy that cannot fit fails the worker (and the event with it) instead of the copy.
DERIVATIVE_BUDGET_BYTES = 2 * DECODE_BUDGET_BYTES


def check_derivative(width: int, height: int) -> None:
    """Refuse a full-resolution copy (the redacted JPEG) over :data:`DERIVATIVE_BUDGET_BYTES`."""
    needed = width * height * _DERIVATIVE_BYTES
    if needed > DERIVATIVE_BUDGET_BYTES:
        raise TooManyPixelsError(
            f"a full-resolution copy of {width}x{height} needs about {needed / 2**20:.0f} MB, "
            f"over the {DERIVATIVE_BUDGET_BYTES / 2**20:.0f} MB budget "
            f"({DERIVATIVE_BUDGET_BYTES / _DERIVATIVE_BYTES / 1e6:.0f} MP)"
        )


def check_tag_values(value_bytes: int, file_bytes: int) -> None:
    """Refuse a TIFF whose first directory's values overlap to exceed the file.

    Pillow reads and keeps the value of every tag of the first directory when it
    opens a TIFF, so 2000 tags that all point at one 1 MiB region cost 2 GB.
    Values that do not share bytes cannot add up to more than the file.
    """
    if value_bytes > file_bytes:
        raise TooComplexError(
            f"the TIFF's first directory announces {value_bytes / 2**20:.0f} MB of tag values "
            f"in a file of {file_bytes / 2**20:.1f} MB: its tags share their bytes"
        )


def _check_bytes(width: int, height: int, per_pixel: float, what: str) -> None:
    needed = width * height * per_pixel
    if needed > DECODE_BUDGET_BYTES:
        raise TooManyPixelsError(
            f"{what} of {width}x{height} needs about {needed / 2**20:.0f} MB to decode, over "
            f"the {DECODE_BUDGET_BYTES / 2**20:.0f} MB budget "
            f"({DECODE_BUDGET_BYTES / per_pixel / 1e6:.0f} MP for this format)"
        )

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

#: Arithmetic-coded JPEG data: libjpeg decodes it at 110 ns a byte (baseline) to 145
#: (progressive), measured on 29 and 22 MB photos (3.1 and 3.3 s): at most about 0.9 s.
MAX_ARITHMETIC_BYTES = 6 * 2**20

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
#: A lossless (``VP8L``) WebP: libwebp's lossless decoder also holds the frame as ARGB
#: (measured: 288 MB for a 16.7 MP lossless RGBA one, first frame of an animation, 257 MB
#: without alpha, where the budget counted 252).
_VP8L_ARGB_BYTES = 4

#: libheif's decode: 4:2:0 planes (1.5) while it converts to interleaved RGB (3),
#: then the grey copy; measured 5 bytes/pixel on a 51 MP grid image.
_HEIF_BYTES = 5.0

#: Bytes per pixel of the planes of an 8-bit 4:2:0 image, which :data:`_HEIF_BYTES` holds.
_HEIF_PLANES = 1.5
#: Chroma planes per pixel of each subsampling libheif reports (none: monochrome).
_HEIF_CHROMA = {420: 0.5, 422: 1.0, 444: 2.0}

#: Coefficient storage of one 8x8 block in a progressive JPEG (64 x int16).
_BLOCK_BYTES = 128

#: Longest side Pillow may decode in full. Pillow keeps a pointer per row and copies
#: an image out through a buffer of 4 bytes per column: a 1 x 79 000 000 grey PNG
#: peaked at 817 MB and a 53 000 000 x 1 one at 804 MB (measured), for 79 and 53 MB of
#: pixels. JPEG allows no more than this; a real panorama is a few tens of thousands.
MAX_SIDE = 65_535

#: PNG scanlines Pillow inflates and un-filters, whatever the mode it stores: measured
#: about 5.5 ns a byte with a Paeth filter on every row (a 39 MP 16-bit RGBA PNG, 312 MB
#: of scanlines: 1.9 s of CPU; interlaced, 2.4 s), while its RGBA image fits the memory
#: budget. At most about 1.1 s: every 8-bit PNG the memory budget allows is below it; a
#: 16-bit RGB one up to 28 MP, a 16-bit RGBA one up to 21 MP.
MAX_PNG_SCANLINE_BYTES = 160 * 2**20

#: Pillow converts a CIELab image (a TIFF's photometric 8) to RGB at about 76 ns a pixel
#: (measured), against 1 to 5 for every other mode: a 24 MP one took 2.7 s. The grey
#: copy, and the detector's RGB copy when asked for, each convert once.
MAX_LAB_CONVERTED_PIXELS = 8_000_000

#: Pillow decodes RLE-compressed BMPs in a Python loop: measured 0.12 us per pixel
#: (end-of-line padding is written a byte at a time) and 0.5 us per 2-byte code, so
#: both the image and its data are capped: at most about 0.8 s together.
MAX_RLE_PIXELS = 2_000_000
MAX_RLE_BYTES = 2 * 2**20

#: TIFF's LZMA compression (34925): libtiff's liblzma decodes about 25 ns a byte of
#: samples (measured: a 24 MP RGB TIFF, 72 MB of samples, 2.3 s of CPU with the rest of
#: the decode; zlib, LZW or ZSTD take 1 to 5 ns a byte). At most about 0.6 s.
TIFF_LZMA = 34_925
MAX_LZMA_BYTES = 24 * 2**20


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
    #: Arithmetic-coded (SOF9-SOF11, SOF13-SOF15) rather than Huffman-coded.
    arithmetic: bool = False
    #: Bytes from the first scan to the end of the file.
    entropy_bytes: int = 0

    @property
    def buffered(self) -> bool:
        """Whether libjpeg holds every coefficient and decodes every scan before output."""
        return self.progressive or self.multi_scan

    @property
    def coefficient_bytes(self) -> int:
        """What libjpeg holds for the whole decode: every coefficient of a buffered JPEG."""
        return self.blocks * _BLOCK_BYTES if self.buffered else 0

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
    lossless: bool = False,
    tiff: bool = False,
    sample_bytes: float = 0.0,
    held_bytes: int = 0,
) -> None:
    """Refuse a full decode (PNG, TIFF, WebP, BMP) over the memory, side or tile budget.

    libtiff decodes a strip into a buffer of its own before Pillow unpacks it, and a
    TIFF may be one strip: its image is counted twice, or once plus its stored samples
    (``sample_bytes`` a pixel) when those are wider. A 16-bit RGBA TIFF is 8 bytes a pixel
    in libtiff's buffer for Pillow's 4 (measured: 271 MB at 24 MP). ``held_bytes`` stay
    allocated while the image is decoded: a progressive JPEG's coefficients, decoded at
    full size by a profile that analyses every pixel (a 6000 x 6000 4:4:4 one: 216 MB of
    coefficients and 144 MB of image, measured 336 MB). A ``lossless`` WebP adds libwebp's
    ARGB copy of its frame.
    """
    image_bytes: float = _PILLOW_BYTES.get(mode, 4)
    if webp:
        image_bytes = _WEBP_BYTES + (_VP8L_ARGB_BYTES if lossless else 0)
    elif tiff:
        image_bytes += max(image_bytes, sample_bytes)
    if max(width, height) > MAX_SIDE:
        raise TooManyPixelsError(
            f"{width}x{height} has a side over the {MAX_SIDE} px limit of a full decode"
        )
    per_pixel = image_bytes + _GREY_EXTRA + (_COLOUR_EXTRA if colour else 0)
    _check_bytes(width, height, per_pixel, f"a {mode} image")
    if held_bytes:
        with_held = image_bytes + held_bytes / max(1, width * height)
        _check_bytes(width, height, with_held, f"a {mode} image with its coefficients")
    if mode == "LAB" and width * height * (2 if colour else 1) > MAX_LAB_CONVERTED_PIXELS:
        raise TooComplexError(
            f"a CIELab image of {width}x{height} is over the {MAX_LAB_CONVERTED_PIXELS / 1e6:.0f} "
            "MP limit for converting Lab colour; send it as RGB"
        )
    if tiles > MAX_TILES:
        raise TooComplexError(
            f"the image is split into {tiles} tiles or strips, over the limit of {MAX_TILES}"
        )


def check_heif_decode(
    width: int,
    height: int,
    *,
    colour: bool,
    alpha: bool = False,
    bit_depth: int = 8,
    chroma: int | None = 420,
) -> None:
    """Refuse a HEIF decode over the memory budget, from its size and plane layout.

    Deeper samples, full chroma and an alpha plane each add planes that the decoder
    holds twice (its picture and libheif's copy) while it interleaves them: measured
    7.3 bytes a pixel with alpha, 6.8 at 10 bits, 7.7 in 4:4:4, 10.8 for 10-bit RGBA and
    13.7 for 10-bit 4:4:4 (12 MP single images), against 5 for 8-bit 4:2:0.
    """
    chroma_planes = 0.0 if chroma is None else _HEIF_CHROMA.get(chroma, 2.0)
    planes = (1 + chroma_planes + alpha) * (2 if bit_depth > 8 else 1)
    per_pixel = _HEIF_BYTES + 2 * (planes - _HEIF_PLANES) + alpha
    _check_bytes(width, height, per_pixel + (_COLOUR_EXTRA if colour else 0), "a HEIF image")


def check_png_scanlines(scanline_bytes: int) -> None:
    """Refuse a PNG whose scanlines would take over a second to inflate and un-filter."""
    if scanline_bytes > MAX_PNG_SCANLINE_BYTES:
        raise TooManyPixelsError(
            f"the PNG's image data inflates to {scanline_bytes / 2**20:.0f} MB, over the "
            f"{MAX_PNG_SCANLINE_BYTES / 2**20:.0f} MB limit; send it with 8 bits per sample"
        )


def check_jpeg_decode(frame: JpegFrame) -> None:
    """Buffered JPEGs keep all coefficients and re-walk them per scan; single-scan ones stream.

    Progressive and multi-scan sequential files are buffered (:attr:`JpegFrame.buffered`).
    Arithmetic-coded data is decoded from one buffer (libjpeg's arithmetic decoder cannot
    wait for more data), about ten times slower per byte than Huffman data.
    """
    if frame.arithmetic and frame.entropy_bytes > MAX_ARITHMETIC_BYTES:
        raise TooComplexError(
            f"an arithmetic-coded JPEG of {frame.entropy_bytes / 2**20:.1f} MB is over the "
            f"{MAX_ARITHMETIC_BYTES >> 20} MB limit for that coding; send it Huffman-coded"
        )
    if not frame.buffered:
        return
    blocks = frame.blocks
    kind = "progressive" if frame.progressive else "multi-scan"
    if frame.coefficient_bytes > DECODE_BUDGET_BYTES:
        raise TooManyPixelsError(
            f"a {kind} {frame.width}x{frame.height} JPEG needs "
            f"{frame.coefficient_bytes / 2**20:.0f} MB of coefficients to decode, over the "
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


def check_tiff_lzma(compression: int, sample_bytes: int) -> None:
    """Refuse an LZMA-compressed TIFF whose samples would take over half a second to decode."""
    if compression == TIFF_LZMA and sample_bytes > MAX_LZMA_BYTES:
        raise TooComplexError(
            f"an LZMA-compressed TIFF of {sample_bytes / 2**20:.0f} MB of samples is over the "
            f"{MAX_LZMA_BYTES >> 20} MB limit for that compression; send it deflate-compressed"
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

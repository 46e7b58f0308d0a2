"""Well-formed files with one hostile field get the exact refusal, before any decode.

Each case was found by building it (bench/hostile_inputs.py holds the generators;
docs/HOSTILE_INPUT.md the before/after figures). Before the fixes these files
crashed the worker (thin images: ``cv2.error`` or ``ZeroDivisionError``; a
lossless JPEG: a segfault in the decoder), or broke the 300 MB or 2 s bound
(multi-scan JPEGs, junk hiding a frame, TIFF tag values, run-length BMPs,
floods of PNG chunks or JPEG fill bytes). Each input here is built in
milliseconds and refused from its headers, so the file runs in about a second.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image

from bench.hostile_inputs import (
    animated_webp_cut,
    bmp_rle,
    carrier,
    deflate_tiff,
    heif_described,
    heif_grid,
    heif_overlay,
    jpeg_with_segments,
    padded_zlib,
    photoshop_blocks,
    png_chunk,
    png_filtered,
    png_ihdr,
    png_image,
    png_with_chunks,
    progressive_zero_jpeg,
    riff,
    saved,
    tiff_image,
    tiff_lab,
    tiff_lzma,
    vp8l_stream,
    webp_chunk,
    zero_jpeg,
    zeros_zlib,
)
from core import Outcome, builtin_profile, score
from core.budget import (
    MAX_ARITHMETIC_BYTES,
    MAX_LAB_CONVERTED_PIXELS,
    MAX_LZMA_BYTES,
    MAX_PNG_SCANLINE_BYTES,
    MAX_RLE_PIXELS,
    MAX_SIDE,
    check_heif_decode,
    check_pillow_decode,
)
from core.decode import decode_image
from core.deflate import MAX_DEFLATE_BLOCKS, UNCHECKED_BYTES, DeflateStream, count_blocks
from core.errors import TooComplexError, TooManyPixelsError
from core.headers import (
    MAX_JPEG_GAP,
    MAX_JPEG_SEGMENTS,
    MAX_PHOTOSHOP_BLOCKS,
    MAX_PNG_CHUNKS,
    MAX_PNG_COMPRESSED_CHUNKS,
    jpeg_frame,
    png_scanline_bytes,
)
from core.heif import MAX_METADATA_BYTES, MAX_TOP_BOXES, declared_canvas
from core.ifd import first_directory_value_bytes
from core.schema import ErrorCode
from core.vp8l import MAX_CHUNKS, MAX_GROUPS, MAX_SYMBOLS

DEFAULT = builtin_profile("default")


def _error(data: bytes) -> ErrorCode | None:
    verdict = score(data, DEFAULT)
    return verdict.error.code if verdict.error is not None else None


def _after_app0(jpeg: bytes, inserted: bytes) -> bytes:
    (app0,) = struct.unpack_from(">H", jpeg, 4)
    return jpeg[: 4 + app0] + inserted + jpeg[4 + app0 :]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "BMP"])
@pytest.mark.parametrize("size", [(3000, 2), (2, 3000), (16_000, 1), (1, 1)])
def test_images_a_pixel_or_two_thin_are_rejected_for_resolution(
    fmt: str, size: tuple[int, int]
) -> None:
    # Before: the JPEG draft divided by a 0 px target, the 2x2 halving asked OpenCV for 0 rows.
    data = saved(Image.new("RGB", size, (120, 130, 140)), fmt)
    verdict = score(data, DEFAULT)
    assert verdict.verdict is Outcome.REJECTED
    assert verdict.checks["resolution"].reason_code == "too_small"
    decoded = decode_image(
        data, max_pixels=10**8, analysis_long_side=1000, colour_long_side=640, fine_long_side=2000
    )
    assert decoded.rgb is not None and min(decoded.rgb.shape[:2]) >= 1
    assert (decoded.width, decoded.height) == size


def test_a_lossless_jpeg_is_refused_before_the_decoder_sees_it() -> None:
    # Before: libjpeg ignores DCT scaling for lossless data and overran Pillow's
    # scaled buffer: a 172-byte 10000 x 10000 file killed the process (SIGSEGV).
    data = zero_jpeg(2500, 2500, 3, [[0]], sof=0xC3, spectral=(1, 0))
    assert _error(data) is ErrorCode.UNSUPPORTED_FORMAT


def test_a_multi_scan_sequential_jpeg_is_budgeted_like_a_progressive_one() -> None:
    # One scan per component: libjpeg buffers every coefficient (588 MB measured at
    # 10000 x 10000) and decodes every scan up to EOI.
    small = zero_jpeg(800, 600, 3, [[0], [1], [2]])
    frame = jpeg_frame(small)
    assert frame is not None and frame.multi_scan and not frame.progressive
    assert frame.scans == 3
    assert score(small, DEFAULT).verdict is not Outcome.ERROR
    interleaved = jpeg_frame(zero_jpeg(800, 600, 3, [[0, 1, 2]]))
    assert interleaved is not None and not interleaved.buffered
    assert _error(zero_jpeg(7000, 7000, 3, [[0], [1], [2]])) is ErrorCode.TOO_MANY_PIXELS
    assert _error(zero_jpeg(2000, 2000, 3, [[0], [1], [2]] * 300)) is ErrorCode.TOO_COMPLEX


def test_junk_before_the_frame_does_not_hide_it_from_the_budget() -> None:
    # libjpeg and Pillow skip junk between segments; the header walk used to stop there.
    head = zero_jpeg(7000, 7000, 3, [[0, 1, 2]], sof=0xC2, spectral=(0, 0), junk=b"\x00\x17")
    assert _error(head) is ErrorCode.TOO_MANY_PIXELS
    scans = zero_jpeg(2000, 1500, 3, [[0], [1], [2]] * 500, sof=0xC2, junk=b"\x00")
    assert _error(scans) is ErrorCode.TOO_COMPLEX


def test_a_few_junk_bytes_are_tolerated_and_a_flood_is_refused() -> None:
    jpeg = saved(carrier(1600, 1200), "JPEG", quality=90)
    clean = score(jpeg, DEFAULT)
    junk = score(_after_app0(jpeg, b"\x00\x01\xff\xff\xff"), DEFAULT)
    assert junk.verdict is clean.verdict and junk.score == clean.score
    # Before: Pillow walked 30 MB of 0xFF fill a byte at a time (15 s of CPU).
    assert _error(_after_app0(jpeg, b"\xff" * (MAX_JPEG_GAP + 2))) is ErrorCode.CORRUPT
    assert _error(_after_app0(jpeg, b"\xff\x00" * MAX_JPEG_GAP)) is ErrorCode.CORRUPT
    restarts = _after_app0(jpeg, b"\xff\xd0" * (MAX_JPEG_SEGMENTS + 1))
    assert _error(restarts) is ErrorCode.TOO_COMPLEX


def test_a_flood_of_photoshop_resources_is_refused_before_pillow_parses_it() -> None:
    # Before: 2.6 M empty 8BIM blocks in 480 APP13 segments took 1.3 s of Pillow's Python.
    over = photoshop_blocks(MAX_PHOTOSHOP_BLOCKS + 1)
    assert _error(jpeg_with_segments([(0xFFED, body) for body in over])) is ErrorCode.TOO_COMPLEX
    (few,) = photoshop_blocks(50)
    assert _error(jpeg_with_segments([(0xFFED, few)])) is None


def test_tiff_tags_that_share_their_values_are_refused() -> None:
    # Before: Pillow read and kept 2000 copies of one 1 MiB region at open (MemoryError at 2 GB).
    region = 1 << 20
    extra = [(0x8000 + i, 7, region, 8) for i in range(300)]
    data = tiff_image(64, 48, extra=extra, prefix=bytes(8 + region))
    assert first_directory_value_bytes(data) == 300 * region
    assert _error(data) is ErrorCode.TOO_COMPLEX
    plain = saved(carrier(300, 200), "TIFF", compression="tiff_deflate")
    assert 0 < first_directory_value_bytes(plain) <= len(plain)
    assert _error(plain) is None


def test_run_length_bmps_are_capped_where_pillow_decodes_them_in_python() -> None:
    # Before: one pixel and an end-of-line code per row made Pillow pad each row a
    # byte at a time (80 MP: 9.5 s of CPU from a 41 kB file).
    width, height = 3000, MAX_RLE_PIXELS // 3000 + 1
    line_ends = bmp_rle(width, height, b"\x01\x10\x00\x00" * height + b"\x00\x01")
    assert _error(line_ends) is ErrorCode.TOO_COMPLEX
    rows = (b"\xc8\x40" * 2 + b"\x00\x00") * 300 + b"\x00\x01"
    small = score(bmp_rle(400, 300, rows), DEFAULT)
    assert small.verdict is Outcome.REJECTED and small.checks["resolution"].passed is False
    rle4 = bmp_rle(400, 300, (b"\xc8\x12" * 2 + b"\x00\x00") * 300 + b"\x00\x01", rle4=True)
    assert score(rle4, DEFAULT).verdict is not Outcome.ERROR


def test_a_flood_of_png_chunks_is_refused_before_pillow_walks_it() -> None:
    # Before: two million empty chunks took 5 s of CPU and 230 MB.
    flood = png_chunk(b"prVt", b"") * (MAX_PNG_CHUNKS + 1)
    assert _error(png_with_chunks([flood])) is ErrorCode.TOO_COMPLEX
    assert _error(png_with_chunks([png_chunk(b"prVt", b"")] * 1000)) is None


def test_a_png_longer_than_the_side_limit_is_refused_before_decoding() -> None:
    # Before: 1 x 79 000 000 grey peaked at 817 MB (a pointer per row) and
    # 53 000 000 x 1 at 804 MB (a 4-byte-per-column copy buffer), then OpenCV crashed.
    for size in ((1, MAX_SIDE + 1), (30_000_000, 1)):
        verdict = score(png_image(*size, 8, 0), DEFAULT)
        assert verdict.error is not None and verdict.error.code is ErrorCode.TOO_MANY_PIXELS
        assert f"{MAX_SIDE} px" in verdict.error.message
    longest = score(png_image(MAX_SIDE, 1, 8, 0), DEFAULT)
    assert longest.verdict is Outcome.REJECTED
    assert longest.checks["resolution"].reason_code == "too_small"


def test_a_16_bit_png_is_refused_by_the_scanlines_it_would_unfilter() -> None:
    # Before: a 39 MP 16-bit RGBA PNG with Paeth rows fit the memory budget (Pillow keeps
    # 8 bits) but took 1.9 s of CPU to inflate and un-filter its 312 MB; interlaced, 2.4 s.
    deep = png_filtered(6400, 6100, 16, 6, filter_type=4, interlace=True)
    scanlines = png_scanline_bytes(deep)
    assert scanlines is not None and scanlines > MAX_PNG_SCANLINE_BYTES
    assert _error(deep) is ErrorCode.TOO_MANY_PIXELS
    eight_bit = png_filtered(6400, 6100, 8, 2, filter_type=4)
    assert (png_scanline_bytes(eight_bit) or 0) <= MAX_PNG_SCANLINE_BYTES
    small = score(png_filtered(900, 700, 16, 6, filter_type=4, interlace=True), DEFAULT)
    assert small.verdict is not Outcome.ERROR


def test_a_cielab_tiff_is_capped_where_pillow_converts_it_slowly() -> None:
    # Before: 24 MP of Lab took 2.7 s of CPU (Pillow converts Lab to RGB at 76 ns a pixel).
    width = 4000
    assert _error(tiff_lab(width, MAX_LAB_CONVERTED_PIXELS // width + 1)) is ErrorCode.TOO_COMPLEX
    small = score(tiff_lab(900, 700), DEFAULT)
    assert small.verdict is not Outcome.ERROR


def test_a_10_bit_monochrome_heif_is_scored_in_8_bits() -> None:
    # Before: libheif handed its samples over as 16-bit whatever was asked, and the
    # reference profile's Laplacian raised cv2.error: no verdict.
    data = heif_grid(3, 4, 256, "L;16")
    decoded = decode_image(data, max_pixels=10**8, analysis_long_side=0)
    assert decoded.grey.dtype == np.uint8 and decoded.grey.shape == (768, 1024)
    assert 100 < int(decoded.grey.max()) <= 255
    verdict = score(data, builtin_profile("reference"))
    assert verdict.verdict is not Outcome.ERROR


def test_heif_planes_deeper_than_8_bit_4_2_0_count_against_the_budget() -> None:
    # Measured: 7.3 bytes a pixel with alpha, 6.8 at 10 bits (12 MP), against 5 for the
    # 8-bit 4:2:0 the budget assumed: a 48 MP RGBA HEIF peaked at 350 MB.
    width, height = 6656, 6144  # 40.9 MP: 204 MB as 8-bit 4:2:0
    check_heif_decode(width, height, colour=False)
    for deeper in ({"alpha": True}, {"bit_depth": 10}, {"chroma": 444}):
        with pytest.raises(TooManyPixelsError):
            check_heif_decode(width, height, colour=False, **deeper)
    assert _error(heif_grid(12, 13, 512, "RGB;16")) is ErrorCode.TOO_MANY_PIXELS


def _lossless_webp(side: int, groups: int, block_bits: int) -> bytes:
    header = struct.pack("<I", (side - 1) | (side - 1) << 14)
    return riff(
        [webp_chunk(b"VP8L", b"\x2f" + header + vp8l_stream(side, side, groups, block_bits))]
    )


def test_a_lossless_webp_asking_for_thousands_of_huffman_groups_is_refused() -> None:
    # Before: libwebp built the tables of all 65 536 groups of a 295 kB 1 MP file before
    # its first pixel: 361 MB (468 MB at 14 MP); as a lossy photo's lossless alpha, 363 MB.
    assert _error(_lossless_webp(1024, 65_536, 2)) is ErrorCode.TOO_COMPLEX
    at_limit = score(_lossless_webp(256, MAX_GROUPS, 2), DEFAULT)  # a 64 x 64 meta image
    assert at_limit.verdict is not Outcome.ERROR
    assert _error(_lossless_webp(260, MAX_GROUPS + 1, 2)) is ErrorCode.TOO_COMPLEX  # 65 x 65
    # A meta image too large to read within the symbol budget (libwebp's encoder keeps
    # its meta image to 2600 pixels).
    wide = 4 * int(MAX_SYMBOLS**0.5 + 8)
    assert _error(_lossless_webp(wide, 1000, 2)) is ErrorCode.TOO_COMPLEX
    real = score(saved(carrier(900, 700), "WEBP", lossless=True), DEFAULT)
    assert real.verdict is not Outcome.ERROR


def test_a_tiff_of_wide_samples_counts_libtiffs_buffer_of_them() -> None:
    # Before: libtiff's strip of a 16-bit RGBA TIFF holds 8 bytes a pixel for Pillow's 4,
    # and the budget counted Pillow's twice: a 24 MP one peaked at 271 MB, 31 MB past it.
    deep = deflate_tiff(6000, 4000, bits=16, samples=4, photometric=2)
    assert _error(deep) is ErrorCode.TOO_MANY_PIXELS
    check_pillow_decode("RGBA", 6000, 4000, colour=False, tiles=1, tiff=True, sample_bytes=4)
    with pytest.raises(TooManyPixelsError):
        check_pillow_decode("RGBA", 6000, 4000, colour=False, tiles=1, tiff=True, sample_bytes=8)
    small = score(deflate_tiff(900, 700, bits=16, samples=4, photometric=2), DEFAULT)
    assert small.verdict is not Outcome.ERROR


def test_a_progressive_jpeg_decoded_at_full_size_counts_its_coefficients_with_its_image() -> None:
    # Before: each fit the budget alone (216 MB of coefficients, 6 bytes a pixel of image),
    # and the reference profile, which decodes every pixel, held both: 315 MB.
    data = progressive_zero_jpeg(6000, 1)
    frame = jpeg_frame(data)
    assert frame is not None and frame.coefficient_bytes == 6000 * 6000 * 3 * 2
    verdict = score(data, builtin_profile("reference"))
    assert verdict.error is not None and verdict.error.code is ErrorCode.TOO_MANY_PIXELS
    check_pillow_decode("RGB", 6000, 6000, colour=False, tiles=1)
    with pytest.raises(TooManyPixelsError, match="coefficients"):
        check_pillow_decode(
            "RGB", 6000, 6000, colour=False, tiles=1, held_bytes=frame.coefficient_bytes
        )


def test_a_heif_canvas_larger_than_its_announced_size_is_what_the_limits_see() -> None:
    # Before: libheif reported the item's ispe (640 x 480) and composed the descriptor's
    # canvas: a 222 MP grid took 320 MB and 1.6 s of CPU (332 MB through an iden item),
    # a 200 MP overlay 572 MB, a 309 MP one 884 MB.
    grid = heif_grid(5, 170, 512, ispe=(640, 480))
    assert declared_canvas(grid) == (87_040, 2560)
    assert _error(grid) is ErrorCode.TOO_MANY_PIXELS
    shown = heif_grid(5, 170, 512, ispe=(640, 480), identity=True)  # through an iden item
    assert declared_canvas(shown) == (87_040, 2560)
    assert _error(shown) is ErrorCode.TOO_MANY_PIXELS
    overlay = heif_overlay(20_000, 10_000, 4, 256, (640, 480))
    assert declared_canvas(overlay) == (20_000, 10_000)
    assert _error(overlay) is ErrorCode.TOO_MANY_PIXELS
    honest = score(heif_overlay(1600, 1200, 4, 256, (1600, 1200)), DEFAULT)
    assert honest.verdict is not Outcome.ERROR


def test_an_arithmetic_coded_jpeg_is_decoded_from_one_buffer_within_a_byte_limit() -> None:
    # Before: an arithmetic-coded JPEG whose data crossed Pillow's 64 KiB reads was corrupt
    # (libjpeg's arithmetic decoder cannot wait for more data): a 12 MP photo of 4.5 MB too.
    # Fed whole, its data decodes at 110 to 145 ns a byte, so it is capped.
    noise = np.random.default_rng(0).integers(0, 255, 300_000, dtype=np.uint8).tobytes()
    head = zero_jpeg(2000, 1500, 3, [[0, 1, 2]], sof=0xC9)[:-3]  # up to the scan's data
    frame = jpeg_frame(head + noise + b"\xff\xd9")
    assert frame is not None and frame.arithmetic and not frame.buffered
    assert score(head + noise + b"\xff\xd9", DEFAULT).verdict is not Outcome.ERROR
    over = head + bytes(MAX_ARITHMETIC_BYTES) + b"\xff\xd9"
    assert _error(over) is ErrorCode.TOO_COMPLEX


def test_the_walk_to_a_heifs_meta_box_is_bounded() -> None:
    # libheif walks two million empty boxes before 'meta' in 0.07 s; in Python, 0.5 s.
    grid = heif_grid(2, 3, 256)
    ftyp = struct.unpack_from(">I", grid, 0)[0]
    flood = grid[:ftyp] + b"\x00\x00\x00\x08free" * (MAX_TOP_BOXES + 1) + grid[ftyp:]
    with pytest.raises(TooComplexError):
        declared_canvas(flood)
    assert _error(flood) is ErrorCode.TOO_COMPLEX
    few = grid[:ftyp] + b"\x00\x00\x00\x08free" * (MAX_TOP_BOXES - 2) + grid[ftyp:]
    assert declared_canvas(few) == (768, 512)


def test_the_walk_to_a_webps_lossless_stream_is_bounded() -> None:
    # Four million empty chunks before the image: libwebp walks them in C, the
    # group reader took 1.5 s of Python over them.
    image = saved(carrier(), "WEBP", lossless=True)[12:]
    header = b"VP8X" + struct.pack("<I", 10) + bytes(4) + (319).to_bytes(3, "little")
    header += (239).to_bytes(3, "little")
    empty = b"XYZW" + bytes(4)
    flood = riff([header, empty * (MAX_CHUNKS + 1), image])
    assert _error(flood) is ErrorCode.TOO_COMPLEX
    assert _error(riff([header, empty * (MAX_CHUNKS - 2), image])) is None


#: Empty deflate blocks past the walk's budget once the unwalked tail is left out (11.5 bytes each).
_OVER_BUDGET_BLOCKS = MAX_DEFLATE_BLOCKS + UNCHECKED_BYTES // 11 + 1000


def _png_grey(width: int, height: int, stream: bytes, extra: list[bytes] | None = None) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_ihdr(width, height, 8, 0)
        + b"".join(extra or [])
        + png_chunk(b"IDAT", stream)
        + png_chunk(b"IEND", b"")
    )


def test_the_walk_counts_every_deflate_block_of_a_stream() -> None:
    rows = b"".join(b"\x00" + bytes(range(64)) for _ in range(64))
    counts = []
    for padding in (1000, 2000):
        stream = padded_zlib(rows, padding, at=100)
        counts.append(
            count_blocks(stream, [DeflateStream([(0, len(stream))], 10**6)], 10**6, 10**9)
        )
    assert counts[1] - counts[0] == 1000
    split = padded_zlib(rows, 1000, at=100)  # the same stream in pieces, as IDAT chunks hold it
    pieces = [(at, min(7, len(split) - at)) for at in range(0, len(split), 7)]
    assert count_blocks(split, [DeflateStream(pieces, 10**6)], 10**6, 10**9) == counts[0]
    assert count_blocks(split, [DeflateStream(pieces, 10**6)], 500, 10**9) == 501  # stops there
    # Pieces outside the bytes (a length or offset a mutated file announces) are cut, never read.
    outside = [(-5, 40), (len(split) - 3, 10**6), (len(split) + 7, 9)]
    assert count_blocks(split, [DeflateStream(outside, 10**6)], 10**6, 10**9) <= 1


def test_deflate_streams_padded_with_empty_blocks_are_refused_from_their_block_count() -> None:
    # Before: 2.8 M empty dynamic blocks (32 MB) among a 64 x 64 PNG's pixels took 2.3 s of
    # zlib in Pillow, in a zTXt or iCCP chunk 2.4 to 2.5 s, in a TIFF strip 2.5 s.
    rows = b"".join(b"\x00" + bytes(range(64)) for _ in range(64))
    padded = _png_grey(64, 64, padded_zlib(rows, _OVER_BUDGET_BLOCKS, at=1000))
    assert _error(padded) is ErrorCode.TOO_COMPLEX
    text = padded_zlib(b"text", _OVER_BUDGET_BLOCKS)
    for chunk in (
        png_chunk(b"zTXt", b"Comment\x00\x00" + text),
        png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + text),
        png_chunk(b"iCCP", b"icc\x00\x00" + text),
    ):
        assert _error(png_with_chunks([chunk])) is ErrorCode.TOO_COMPLEX
    strip = padded_zlib(bytes(1500 * 1500), _OVER_BUDGET_BLOCKS, at=5000)
    assert _error(deflate_tiff(1500, 1500, strip=strip)) is ErrorCode.TOO_COMPLEX
    # Padding in the unwalked tail costs at most 0.17 s: scored.
    tail = _png_grey(64, 64, padded_zlib(rows, UNCHECKED_BYTES // 12, at=len(rows) - 65))
    assert _error(tail) is None


def test_honest_deflate_data_over_the_unwalked_tail_is_walked_and_scored() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (1000, 1400, 3), dtype=np.uint8)
    png = saved(Image.fromarray(noise), "PNG", compress_level=1)
    tiff = saved(Image.fromarray(noise), "TIFF", compression="tiff_adobe_deflate")
    for data in (png, tiff):
        assert len(data) > UNCHECKED_BYTES
        assert score(data, DEFAULT).verdict is not Outcome.ERROR


def test_an_lzma_tiff_is_capped_where_liblzma_decodes_it_slowly() -> None:
    # Before: 72 MB of samples (a 24 MP RGB TIFF) took 2.3 s of CPU, a 60 MP grey one 2.0 s.
    width = 6000
    over = deflate_tiff(width, MAX_LZMA_BYTES // width + 1, strip=b"", compression=34925)
    assert _error(over) is ErrorCode.TOO_COMPLEX
    assert score(tiff_lzma(900, 700), DEFAULT).verdict is not Outcome.ERROR


def test_a_rotated_heif_is_budgeted_by_its_pixels_not_by_its_longer_side_squared() -> None:
    # Before: the canvas check took the larger of each side of libheif's (rotated) size and
    # of the descriptor's canvas, so a grid turned by irot counted as a square of its longer
    # side: a portrait 47 MP photo as 59 MP, refused (too_many_pixels) though it decodes in
    # 188 MB, like its landscape twin.
    for rotation in (0, 1, 3):
        data = heif_grid(2, 8, 256, rotation=rotation)  # 2048 x 512, 1 MP
        decoded = decode_image(data, max_pixels=4_000_000, analysis_long_side=1000)
        turned = rotation % 2 == 1
        assert (decoded.width, decoded.height) == ((512, 2048) if turned else (2048, 512))
        assert decoded.grey.shape == ((1000, 250) if turned else (250, 1000))
    lie = heif_grid(4, 8, 256, ispe=(512, 2048))  # a 2 MP canvas announced as 1 MP
    with pytest.raises(TooManyPixelsError):  # the canvas still counts when it is larger
        decode_image(lie, max_pixels=2_000_000, analysis_long_side=0)


def test_a_lossless_webp_counts_the_argb_copy_its_decoder_holds() -> None:
    # Before: a 16.7 MP lossless WebP fit the budget (two RGBA canvases and a copy) but
    # libwebp's lossless decoder also holds the frame as ARGB: 288 MB measured (an
    # animation's first frame, RGBA), 257 MB without alpha.
    side = 3800  # 14.4 MP: inside the budget of a lossy WebP, not of a lossless one
    header = struct.pack("<I", (side - 1) | (side - 1) << 14)
    lossless = riff([webp_chunk(b"VP8L", b"\x2f" + header + bytes(64))])
    assert _error(lossless) is ErrorCode.TOO_MANY_PIXELS
    check_pillow_decode("RGBA", side, side, colour=False, tiles=1, webp=True)
    with pytest.raises(TooManyPixelsError):
        check_pillow_decode("RGBA", side, side, colour=False, tiles=1, webp=True, lossless=True)
    small = score(saved(carrier(900, 700), "WEBP", lossless=True), DEFAULT)
    assert small.verdict is not Outcome.ERROR


def test_a_flood_of_compressed_icc_chunks_is_refused_before_pillow_inflates_them() -> None:
    # Before: Pillow inflated every iCCP chunk up to 1 MiB (its 64 MiB cap is for text):
    # 20 000 chunks of 1 KiB, each 1 MiB of zeros, took 45 s of CPU; 2000, 4.7 s.
    bomb = png_chunk(b"iCCP", b"icc\x00\x00" + zeros_zlib((1 << 20) - 16))
    assert (
        _error(png_with_chunks([bomb] * (MAX_PNG_COMPRESSED_CHUNKS + 1))) is ErrorCode.TOO_COMPLEX
    )
    text = png_chunk(b"zTXt", b"Comment\x00\x00" + zeros_zlib(1000))
    assert (
        _error(png_with_chunks([text] * (MAX_PNG_COMPRESSED_CHUNKS + 1))) is ErrorCode.TOO_COMPLEX
    )
    assert _error(png_with_chunks([text] * MAX_PNG_COMPRESSED_CHUNKS)) is None


def test_heif_metadata_items_sharing_one_extent_are_refused_before_libheif_copies_them() -> None:
    # Before: pillow-heif copied every Exif item describing the image at open: 20 items
    # sharing one 16 MB extent took 692 MB, 200 sharing 30 MB 2 GB (then "Out of memory").
    assert _error(heif_described(20, MAX_METADATA_BYTES // 16)) is ErrorCode.TOO_COMPLEX  # 1.25 x
    assert _error(heif_described(1, 1 << 20)) is None  # one 1 MB Exif: scored


def test_a_heif_without_a_size_property_is_corrupt_not_an_exception() -> None:
    # Before: without an ispe property libheif reported 0 x 0 and decoded the coded image
    # anyway; no limit applied, and the verdict's 0 px size failed validation (score raised).
    for data in (heif_described(1, 100), heif_grid(2, 2, 256)):
        unsized = data.replace(b"ispe", b"xspe")
        assert _error(unsized) is ErrorCode.CORRUPT
        assert _error(data) is None


def test_an_animated_webp_cut_inside_its_first_frame_gets_a_verdict() -> None:
    # Before: the lossless-stream reader trusted the frame's size and read past the file:
    # struct.error out of core.score (found by mutating animated WebPs).
    for within in (0, 6, 7, 13):
        assert _error(animated_webp_cut(within)) is ErrorCode.CORRUPT

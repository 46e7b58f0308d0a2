"""Decode an upload exactly once into what every check needs.

Why this shape:

* Resolution, orientation, EXIF and JPEG quantisation tables come from the
  header, before any pixel is decoded; the decompression-bomb guard runs there too.
* The pixel checks only need luminance at a fixed analysis scale, so JPEGs are
  decoded with DCT scaling (Pillow's ``draft``) straight to grey at 1/2, 1/4 or
  1/8 size. Huffman decoding is then the whole cost of the engine.
* EXIF orientation is applied to the small grey array (a free view), not to the
  full-size image.
* Object detection needs colour at about 640 px. Only when a caller asks for it
  (``colour_long_side > 0``) does the same single decode keep colour: JPEGs are then
  drafted to YCbCr, whose Y plane is bit-identical to the grey draft, so the
  grey checks see the same pixels whether detection is on or off.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image, ImageFile, JpegImagePlugin

from core.budget import (
    JpegFrame,
    check_bmp_rle,
    check_derivative,
    check_heif_decode,
    check_jpeg_decode,
    check_pillow_decode,
    check_png_scanlines,
    check_tag_values,
    check_tiff_lzma,
)
from core.deflate import DeflateStream, check_deflate_blocks
from core.errors import (
    CorruptImageError,
    EmptyImageError,
    TooManyPixelsError,
    UnsupportedFormatError,
)
from core.exif import exif_orientation
from core.formats import SNIFF_BYTES, ImageFormat, sniff_format
from core.headers import (
    jpeg_frame,
    jpeg_without_pillow_only_metadata,
    png_deflate_streams,
    png_scanline_bytes,
    png_size,
    png_without_pillow_only_metadata,
    tiff_coding,
    tiff_layout,
    webp_size,
)
from core.heif import check_metadata, declared_canvas
from core.ifd import first_directory_value_bytes
from core.pixels import (
    SCALE_SLACK,
    GreyImage,
    RGBImage,
    blown_channel_shares,
    eight_bit,
    luma_plane,
    orient,
    resize,
    rgb_to_grey,
    scaled,
    to_grey,
    to_rgb,
)
from core.vp8l import check_vp8l_groups, first_image_lossless

if TYPE_CHECKING:
    from pillow_heif import HeifFile


_PIL_FORMATS: dict[ImageFormat, str] = {  # a JPEG is opened as such (_pillow_image)
    ImageFormat.PNG: "PNG",
    ImageFormat.WEBP: "WEBP",
    ImageFormat.TIFF: "TIFF",
    ImageFormat.BMP: "BMP",
}
#: The 8x8-blocking measure of lossless images reads at most this many full-size
#: pixels (a centred, grid-aligned window): its float copies of a whole 80 MP
#: image would be about 1 GB.
BLOCKINESS_MAX_PIXELS = 4096 * 3072
#: Lossless containers that may hold a re-saved, heavily compressed JPEG.
_LOSSLESS = frozenset({ImageFormat.PNG, ImageFormat.TIFF, ImageFormat.BMP})


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """One decoded upload.

    ``grey`` is uint8 luminance (ITU-R 601 weights, 0-255), shape ``(H, W)``,
    already in display orientation, at the analysis scale. ``full_grey`` is the
    same at full resolution, kept only for lossless formats whose compression
    history must be read from 8x8 blocking. ``rgb`` is uint8 RGB ``(H, W, 3)`` in
    display orientation, long side at most ``colour_long_side``; ``None`` unless
    a detector needs it. ``fine_grey`` is luminance at the finer scale the blur check
    asks for (long side at most ``fine_long_side``), from the same decode; ``None``
    when none was asked for. ``colour_clip`` is the share of pixels with at least two
    colour channels blown, read from a JPEG's chroma planes in the same decode when
    asked for; ``None`` otherwise (other formats, grey JPEGs). ``channel_clip`` is the
    share with at least one channel blown, from the same sample.
    """

    format: ImageFormat
    width: int
    height: int
    size_bytes: int
    grey: GreyImage
    full_grey: GreyImage | None
    exif: bytes | None
    orientation: int
    quantization: dict[int, list[int]] | None
    rgb: RGBImage | None = None
    fine_grey: GreyImage | None = None
    colour_clip: float | None = None
    channel_clip: float | None = None

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


def decode_image(
    data: bytes,
    *,
    max_pixels: int,
    analysis_long_side: int,
    colour_long_side: int = 0,
    fine_long_side: int = 0,
    colour_clip: bool = False,
) -> DecodedImage:
    """Decode ``data`` once; ``analysis_long_side == 0`` keeps full resolution.

    ``colour_long_side > 0`` also keeps an RGB array of at most that long side
    (for the detector), and ``fine_long_side > 0`` a grey one (for the blur check),
    from the same decode. ``colour_clip`` measures blown colour channels on JPEGs.

    Raises a :class:`core.errors.ImageError` subclass for anything that is not a
    scorable image, including decompression bombs (more than ``max_pixels``).
    """
    if not data:
        raise EmptyImageError("the upload is empty (0 bytes)")
    fmt = sniff_format(data[:SNIFF_BYTES])
    if fmt is None:
        raise UnsupportedFormatError(
            "not a supported image: expected JPEG, PNG, WebP, HEIC/HEIF, TIFF or BMP"
        )
    if fmt is ImageFormat.HEIF:
        image = _decode_heif(
            data,
            max_pixels=max_pixels,
            analysis_long_side=analysis_long_side,
            colour_long_side=colour_long_side,
            fine_long_side=fine_long_side,
        )
    else:
        image = _decode_pillow(
            data,
            fmt,
            max_pixels=max_pixels,
            analysis_long_side=analysis_long_side,
            colour_long_side=colour_long_side,
            fine_long_side=fine_long_side,
            colour_clip=colour_clip,
        )
    return image


def upright_rgb(data: bytes, fmt: ImageFormat, *, max_pixels: int) -> RGBImage:
    """Full-resolution uint8 RGB in display orientation, for a derivative (the redacted copy).

    The orientation is the one scoring read (:func:`core.exif.exif_orientation`), not
    Pillow's ``exif_transpose``, which takes the last of duplicate Orientation entries
    and falls back to XMP: boxes from a verdict must land on the pixels the detector
    saw. Pixels are copied out a band at a time (7 bytes per pixel at the peak; Pillow's
    transpose, convert and ``np.array`` held 14). A copy over
    :data:`core.budget.DERIVATIVE_BUDGET_BYTES` is refused (``TooManyPixelsError``), so
    a worker keeps its verdict. Not for HEIF.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.simplefilter("ignore", UserWarning)
        frame = _refuse_announced_bomb(data, fmt, max_pixels)
        whole = frame is not None and frame.arithmetic
        rgb, orientation = _full_rgb(data, fmt, max_pixels, whole=whole)
    return orient(rgb, orientation)


def _full_rgb(
    data: bytes, fmt: ImageFormat, max_pixels: int, *, whole: bool
) -> tuple[RGBImage, int]:
    """Stored-orientation RGB and the EXIF orientation; the Pillow image is gone on return."""
    with _opened(data, fmt, whole=whole) as image:
        width, height = image.size
        if width * height > max_pixels:
            raise _too_many_pixels(width, height, max_pixels)
        check_derivative(width, height)
        _, orientation = _exif_and_orientation(image, fmt, data)
        try:
            _load(image, fmt)  # before its size is read: a TIFF may turn as it loads
            return to_rgb(image), orientation
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
            raise CorruptImageError(f"the {fmt.value} data is damaged: {exc}") from exc


def _decode_pillow(
    data: bytes,
    fmt: ImageFormat,
    *,
    max_pixels: int,
    analysis_long_side: int,
    colour_long_side: int = 0,
    fine_long_side: int = 0,
    colour_clip: bool = False,
) -> DecodedImage:
    with warnings.catch_warnings():
        # Our own max_pixels check below is the bomb guard; Pillow's warning is noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        # Pillow warns (UserWarning) on malformed EXIF; parse_exif treats it as absent.
        warnings.simplefilter("ignore", UserWarning)
        frame = _refuse_announced_bomb(data, fmt, max_pixels)
        held = 0 if frame is None else frame.coefficient_bytes
        with _opened(data, fmt, whole=frame is not None and frame.arithmetic) as image:
            stored_w, stored_h = image.size
            if stored_w * stored_h > max_pixels:
                raise _too_many_pixels(stored_w, stored_h, max_pixels)
            drafted = fmt is ImageFormat.JPEG and analysis_long_side > 0
            if not drafted:
                _check_full_decode(image, fmt, data, colour=colour_long_side > 0, held=held)
            exif_raw, orientation = _exif_and_orientation(image, fmt, data)
            quantization = _quantization(image) if fmt is ImageFormat.JPEG else None
            grey, rgb, clipped = _read_pixels(
                image,
                fmt,
                draft_long_side=max(analysis_long_side, colour_long_side, fine_long_side)
                if drafted
                else 0,
                colour=colour_long_side > 0,
                colour_clip=colour_clip and drafted,
            )
            if not drafted:  # the size as decoded: Pillow may turn a TIFF as it loads it
                stored_w, stored_h = image.size
    full_grey = orient(_blockiness_window(grey), orientation) if fmt in _LOSSLESS else None
    fine_unoriented = resize(grey, fine_long_side, SCALE_SLACK) if fine_long_side else None
    analysis = orient(scaled(grey, fine_unoriented, analysis_long_side), orientation)
    fine = None if fine_unoriented is None else orient(fine_unoriented, orientation)
    width, height = (stored_h, stored_w) if orientation >= 5 else (stored_w, stored_h)
    colour = None if rgb is None else orient(resize(rgb, colour_long_side), orientation)
    return DecodedImage(
        format=fmt,
        width=width,
        height=height,
        size_bytes=len(data),
        grey=analysis,
        full_grey=full_grey,
        exif=exif_raw,
        orientation=orientation,
        quantization=quantization,
        rgb=colour,
        fine_grey=fine,
        colour_clip=None if clipped is None else clipped[1],
        channel_clip=None if clipped is None else clipped[0],
    )


def _check_full_decode(
    image: ImageFile.ImageFile, fmt: ImageFormat, data: bytes, *, colour: bool, held: int
) -> None:
    """Refuse, before any pixel is read, a full-size decode that would not fit the budget
    (memory, with ``held`` bytes the decoder keeps meanwhile, or a lossless WebP's own
    copy; tiles; or the bytes Pillow's Python RLE decoder would walk)."""
    width, height = image.size
    lossless = fmt is ImageFormat.WEBP and first_image_lossless(data)
    check_pillow_decode(
        image.mode,
        width,
        height,
        colour=colour,
        tiles=len(image.tile),
        webp=fmt is ImageFormat.WEBP,
        lossless=lossless,
        tiff=fmt is ImageFormat.TIFF,
        sample_bytes=_tiff_sample_bytes(image) if fmt is ImageFormat.TIFF else 0.0,
        held_bytes=held,
    )
    if image.tile and image.tile[0].codec_name == "bmp_rle":
        check_bmp_rle(width, height, len(data))


def _tiff_sample_bytes(image: Image.Image) -> float:
    """Bytes a pixel of a TIFF's stored samples (SamplesPerPixel x BitsPerSample / 8)."""
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return 0.0
    bits, samples = tags.get(258, 8), tags.get(277, 1)
    widest = max(bits) if isinstance(bits, tuple) and bits else bits
    if not (isinstance(widest, int) and isinstance(samples, int)):
        return 0.0
    return samples * widest / 8


def _opened(data: bytes, fmt: ImageFormat, *, whole: bool = False) -> ImageFile.ImageFile:
    """The image with only its header read; a header Pillow refuses is corrupt.

    Pillow also parses metadata at open that its decoder does not need, and refuses
    the file when that is malformed: such a file is read once more with that metadata
    hidden (:data:`_WITHOUT_PILLOW_ONLY_METADATA`), so the picture still gets scored.

    ``whole`` hands the decoder all the data at once instead of 64 KiB at a time:
    libjpeg's arithmetic decoder cannot wait for more, and called every arithmetic-coded
    JPEG over 64 KiB corrupt.
    """
    try:
        try:
            image = _pillow_image(data, fmt)
        except (OSError, SyntaxError, ValueError):
            hide = _WITHOUT_PILLOW_ONLY_METADATA.get(fmt)
            hidden = None if hide is None else hide(data)
            if hidden is None:
                raise
            image = _pillow_image(hidden, fmt)
        if whole:
            image.decodermaxblock = max(image.decodermaxblock, len(data))
        return image
    except Image.DecompressionBombError as exc:
        raise TooManyPixelsError(f"image dimensions exceed the pixel limit: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImageError(f"cannot read the {fmt.value} header: {exc}") from exc


def _pillow_image(data: bytes, fmt: ImageFormat) -> ImageFile.ImageFile:
    """Pillow's reader of ``fmt`` on ``data``; a JPEG as the picture it starts with.

    Image.open would first parse a JPEG's Multi-Picture index (APP2) to make an MPO of
    it, and refuses the whole file when that index lists fewer pictures than it
    declares; the other pictures (a camera's preview, a second view) are never scored.
    The pixel limits are ours (_refuse_announced_bomb, then each caller's size check),
    not Pillow's.
    """
    if fmt is ImageFormat.JPEG:
        return JpegImagePlugin.JpegImageFile(io.BytesIO(data))
    image = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt]])
    if fmt is ImageFormat.TIFF:
        _drop_tiff_metadata_pillow_cannot_load(image)
    return image


#: Where Pillow keeps a TIFF's XMP tag (700), which it searches as bytes.
_TIFF_XMP = "xmp"


def _drop_tiff_metadata_pillow_cannot_load(image: Image.Image) -> None:
    """Forget the TIFF metadata on which Pillow's ``load`` raises, after it has decoded
    the pixels (Pillow 12.3, ``TiffImageFile.load_end``): an XMP tag of a numeric type,
    which it searches for an orientation (``TypeError``), and an Interoperability
    pointer (40965) in the image's directory without an Exif pointer, which it looks
    up in the Exif directory (``KeyError``). An XMP tag typed ASCII is kept, as bytes:
    its orientation still turns the image.
    """
    xmp = image.info.get(_TIFF_XMP)
    if isinstance(xmp, str):  # typed ASCII, which Pillow decodes as Latin-1
        image.info[_TIFF_XMP] = xmp.encode("latin-1", "replace")
    elif xmp is not None and not isinstance(xmp, bytes):
        del image.info[_TIFF_XMP]
    exif = image.getexif()  # what load_end reads; kept, so load does not read it again
    if ExifTags.IFD.Interop in exif and ExifTags.IFD.Exif not in exif:
        del exif[ExifTags.IFD.Interop]


#: Copies of a file with the metadata that only Pillow reads hidden, by format: what
#: libjpeg does not read in a JPEG, the ancillary chunks scoring does not use in a PNG.
_WITHOUT_PILLOW_ONLY_METADATA: dict[ImageFormat, Callable[[bytes], bytes | None]] = {
    ImageFormat.JPEG: jpeg_without_pillow_only_metadata,
    ImageFormat.PNG: png_without_pillow_only_metadata,
}


def _read_pixels(
    image: Image.Image, fmt: ImageFormat, *, draft_long_side: int, colour: bool, colour_clip: bool
) -> tuple[GreyImage, RGBImage | None, tuple[float, float] | None]:
    """Grey, RGB when ``colour`` and the blown-channel shares when ``colour_clip``, from one decode.

    ``draft_long_side > 0`` lets a JPEG decode at a DCT-reduced scale of at least that
    long side. Damaged pixel data is a :class:`CorruptImageError`.
    """
    stored_w, stored_h = image.size
    try:
        if draft_long_side:
            scale = max(stored_w, stored_h) / draft_long_side
            # At full scale too (no size): libjpeg then skips the conversion to RGB, and
            # the chroma planes altogether for "L", and every JPEG's grey is its Y plane
            # whatever its size, not Y for a large photo and RGB-then-grey for a small one.
            image.draft(
                _draft_mode(image, colour=colour or colour_clip),
                # At least 1 px a side: Pillow divides by the requested size.
                (max(1, int(stored_w / scale)), max(1, int(stored_h / scale)))
                if scale > 1
                else None,
            )
        # Decoded before any size is read: Pillow turns a TIFF upright as it loads it, and
        # one whose orientation only its XMP holds changes size then (the bands were cut
        # from the size at open: a quarter-turned one was called damaged, or raised).
        _load(image, fmt)
        if (colour or colour_clip) and image.mode == "YCbCr":
            # The Y plane is exactly what a grey draft would have produced.
            grey = luma_plane(image)
        else:
            grey = to_grey(image)
        clipped = blown_channel_shares(image) if colour_clip else None
        return grey, to_rgb(image) if colour else None, clipped
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise CorruptImageError(f"the {fmt.value} data is damaged: {exc}") from exc


def _load(image: Image.Image, fmt: ImageFormat) -> None:
    """Decode the pixels; Pillow's other exceptions are the caller's to map.

    Pillow reads some metadata as it loads the pixels, and its readers raise on cases
    not yet met (_drop_tiff_metadata_pillow_cannot_load has those met): a verdict, not
    an exception that costs the event its verdict. A palette image needs its palette:
    Pillow opens a PNG of colour type 3 without a PLTE chunk, and its conversion to RGB
    then asserts (with a tRNS chunk) or invents grey (without).
    """
    try:
        image.load()
    except (TypeError, KeyError, IndexError, AttributeError) as exc:
        raise CorruptImageError(
            f"the {fmt.value} metadata is unreadable: {type(exc).__name__}: {exc}"
        ) from exc
    if image.mode in ("P", "PA") and image.palette is None:
        raise CorruptImageError(f"the {fmt.value} image is indexed but has no palette")


#: The component ids by which libjpeg knows an RGB-coded JPEG that has neither a JFIF
#: nor an Adobe marker: "R", "G", "B".
_RGB_COMPONENT_IDS = (82, 71, 66)


def _draft_mode(image: Image.Image, *, colour: bool) -> str | None:
    """The mode to ask libjpeg for: ``"YCbCr"`` when colour is needed, ``"L"`` otherwise.

    libjpeg converts YCbCr to either, but an RGB-coded JPEG (an Adobe marker saying so,
    as Photoshop and ``cjpeg -rgb`` write, or components named R, G, B) only to grey or
    RGB: asking it for YCbCr fails the decode, and a valid photo would be reported
    damaged. Such a file keeps its RGB (``None``) and its grey is converted from that.
    The test is libjpeg's own (``jdapimin.c``): a JFIF marker means YCbCr, then the
    Adobe transform (0 is RGB), then the component ids.
    """
    if not colour:
        return "L"
    info = image.info
    if "jfif" in info:
        return "YCbCr"
    if "adobe_transform" in info:
        return "YCbCr" if info["adobe_transform"] != 0 else None
    layers = getattr(image, "layer", [])
    return None if tuple(layer[0] for layer in layers[:3]) == _RGB_COMPONENT_IDS else "YCbCr"


def _blockiness_window(grey: GreyImage) -> GreyImage:
    """A centred view of at most :data:`BLOCKINESS_MAX_PIXELS`, on the stored 8x8 grid."""
    height, width = grey.shape
    if height * width <= BLOCKINESS_MAX_PIXELS:
        return grey
    scale = (BLOCKINESS_MAX_PIXELS / (height * width)) ** 0.5
    rows, columns = max(8, int(height * scale) // 8 * 8), max(8, int(width * scale) // 8 * 8)
    top, left = (height - rows) // 16 * 8, (width - columns) // 16 * 8
    return grey[top : top + rows, left : left + columns]


def _too_many_pixels(width: int, height: int, max_pixels: int) -> TooManyPixelsError:
    return TooManyPixelsError(
        f"{width}x{height} is {width * height / 1e6:.1f} MP, over the {max_pixels / 1e6:.0f} MP limit"
    )


def _refuse_announced_bomb(data: bytes, fmt: ImageFormat, max_pixels: int) -> JpegFrame | None:
    """Apply the limits to what the headers announce, before Pillow parses or allocates.

    A bare bomb header is still a bomb; libwebp allocates its canvas when opened;
    a progressive JPEG's cost is its coefficients times its scans; a deflate stream's,
    its blocks. Returns a JPEG's frame (what its decoder will hold besides the image,
    and how its data is coded).
    """
    size, frame, streams = None, None, []
    if fmt is ImageFormat.PNG:
        size = png_size(data)
        streams = png_deflate_streams(data)
        scanlines = png_scanline_bytes(data)
        if scanlines is not None and size is not None and size[0] * size[1] <= max_pixels:
            check_png_scanlines(scanlines)
    elif fmt is ImageFormat.WEBP:
        size = webp_size(data)
        if size is not None and size[0] * size[1] <= max_pixels:
            lossless = first_image_lossless(data)
            check_pillow_decode("RGBA", *size, colour=False, tiles=1, webp=True, lossless=lossless)
        if size is None or size[0] * size[1] <= max_pixels:
            check_vp8l_groups(data)
    elif fmt is ImageFormat.TIFF:
        size, streams = _refuse_tiff_layout(data, max_pixels)
    elif fmt is ImageFormat.JPEG:
        frame = jpeg_frame(data)
        if frame is not None:
            size = frame.width, frame.height
            if size[0] * size[1] <= max_pixels:
                check_jpeg_decode(frame)
    if size is not None and size[0] * size[1] > max_pixels:
        raise _too_many_pixels(*size, max_pixels)
    check_deflate_blocks(data, streams)
    return frame


def _refuse_tiff_layout(
    data: bytes, max_pixels: int
) -> tuple[tuple[int, int] | None, list[DeflateStream]]:
    """A TIFF's size and deflate streams, after the checks its first directory allows."""
    check_tag_values(first_directory_value_bytes(data), len(data))
    layout = tiff_layout(data)
    if layout is None or layout[0] * layout[1] > max_pixels:
        return (None, []) if layout is None else (layout[:2], [])
    check_pillow_decode("L", *layout[:2], colour=False, tiles=layout[2], tiff=True)
    coding = tiff_coding(data)
    if coding is None:
        return layout[:2], []
    check_tiff_lzma(coding.compression, coding.sample_bytes)
    return layout[:2], coding.streams


def _decode_heif(
    data: bytes,
    *,
    max_pixels: int,
    analysis_long_side: int,
    colour_long_side: int = 0,
    fine_long_side: int = 0,
) -> DecodedImage:
    import pillow_heif  # only HEIF photos pay for libheif's start (~20 ms)

    check_metadata(data)  # pillow-heif copies every metadata item when it opens the file
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        width, height = _check_heif_decode(heif, data, max_pixels, colour=colour_long_side > 0)
        exif_raw = heif.info.get("exif")
        # libheif applies the container's rotation (irot/imir) while decoding, so the
        # pixels are already upright whatever the EXIF orientation tag says. Its RGB
        # buffer is read in place: a Pillow copy would double the peak memory.
        pixels: NDArray[np.uint8] = eight_bit(np.asarray(heif))
        if pixels.ndim == 2:  # monochrome
            pixels = pixels[:, :, None].repeat(3, axis=2) if colour_long_side else pixels
        grey = pixels if pixels.ndim == 2 else rgb_to_grey(pixels)
        rgb = (
            resize(np.ascontiguousarray(pixels[..., :3]), colour_long_side)
            if colour_long_side
            else None
        )
    except (OSError, SyntaxError, ValueError, RuntimeError, EOFError, IndexError) as exc:
        # libheif reports damage as EOFError/RuntimeError, and an empty container as IndexError.
        raise CorruptImageError(f"the HEIF data is damaged: {exc}") from exc
    fine = resize(grey, fine_long_side, SCALE_SLACK) if fine_long_side else None
    return DecodedImage(
        format=ImageFormat.HEIF,
        width=width,
        height=height,
        size_bytes=len(data),
        grey=scaled(grey, fine, analysis_long_side),
        full_grey=None,
        exif=exif_raw if isinstance(exif_raw, bytes) else None,
        orientation=1,
        quantization=None,
        rgb=rgb,
        fine_grey=fine,
    )


def _check_heif_decode(
    heif: HeifFile, data: bytes, max_pixels: int, *, colour: bool
) -> tuple[int, int]:
    """The HEIF image's size, once the decode it announces is within the limits (``heif``:
    pillow-heif's opened file, nothing decoded yet)."""
    width, height = heif.size
    if width < 1 or height < 1:
        # No size property (ispe): libheif decodes whatever size the coded image has,
        # so no limit would apply before it did.
        raise CorruptImageError(f"the HEIF image announces no size ({width}x{height})")
    # A grid or overlay is composed on the canvas its descriptor declares, whatever
    # its ispe says: the limits apply to the larger.
    canvas = declared_canvas(data) or (0, 0)
    # The larger of the two images, not of each side: libheif reports the size after
    # a rotation (irot), so a portrait 48 MP photo's canvas is its size turned.
    budget_w, budget_h = canvas if canvas[0] * canvas[1] > width * height else (width, height)
    if budget_w * budget_h > max_pixels:
        raise _too_many_pixels(budget_w, budget_h, max_pixels)
    chroma = heif.info.get("chroma")
    check_heif_decode(
        budget_w,
        budget_h,
        colour=colour,
        alpha=bool(heif.has_alpha),
        bit_depth=int(heif.info.get("bit_depth") or 8),
        chroma=chroma if isinstance(chroma, int) else None,
    )
    return int(width), int(height)


def _exif_and_orientation(
    image: Image.Image, fmt: ImageFormat, data: bytes
) -> tuple[bytes | None, int]:
    """The raw EXIF block and the orientation left to apply to Pillow's pixels, read by our
    bounded parser, not Pillow's.

    A TIFF file is its own EXIF block (its IFD0 holds the camera tags), and its orientation
    is already applied: Pillow turns a TIFF upright itself as it loads it (its Orientation
    tag, or an XMP one, through ``ImageOps.exif_transpose``), and reports a quarter-turned
    one's size turned from the moment it opens it. Turning it again measured every oriented
    TIFF mirrored or upside down, a quarter-turned one with its width and height swapped,
    and put the redacted copy's boxes on the wrong pixels. So a TIFF counts as upright, as
    a HEIF whose rotation libheif applies does.
    """
    raw = data if fmt is ImageFormat.TIFF else image.info.get("exif")
    if not isinstance(raw, bytes) or not raw:
        return None, 1
    return raw, 1 if fmt is ImageFormat.TIFF else exif_orientation(raw)


def _quantization(image: Image.Image) -> dict[int, list[int]] | None:
    tables = getattr(image, "quantization", None)
    if not tables:
        return None
    return {int(k): [int(v) for v in table] for k, table in tables.items()}

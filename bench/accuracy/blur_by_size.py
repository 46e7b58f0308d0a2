"""Does a Gaussian blur of 2 px at native size stay visible on photos larger than ours?

The review set blurs photos 1920-5000 px wide by sigma 2 px at their native size; the
blur check measures at 2000 px, where that blur shrinks to ``2 * 2000 / width`` px. The
labelled set has no photo above 2560 px, so this simulates one: each ``tune`` photo of
at least 2000 px is blurred by ``2 * width / target`` px at its own size, which is the
same blur at the 2000 px scale as 2 px on a photo ``target`` px wide, and scored with
``default`` (JPEG quality 92). It prints the sharpness per photo and target width, and
the share caught (recall) per target width::

    .venv/bin/python -m bench.accuracy.blur_by_size [--cache DIR] [--split tune]

A larger real photo is sharper at 2000 px than a 2.5k one, so its blurred copy reads
higher still: the recall printed is an upper bound.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bench.accuracy.build_dataset import DEFAULT_CACHE
from core import builtin_profile
from core.checks.blur import blur_finding
from core.decode import decode_image

TARGETS = (2560, 3000, 4000, 5000, 6000)


def _sharpness(data: bytes) -> float:
    """The blur check's reported sharpness (with its coarse-scale gate), as it decides."""
    rules = builtin_profile("default")
    image = decode_image(
        data,
        max_pixels=rules.max_pixels,
        analysis_long_side=rules.analysis_long_side,
        fine_long_side=rules.checks.blur.analysis_long_side,
    )
    finding = blur_finding(image.grey, rules.checks.blur, image.fine_grey)
    return float(finding.values["sharpness"])  # type: ignore[arg-type]


def _blurred_jpeg(rgb: np.ndarray, sigma: float) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(cv2.GaussianBlur(rgb, (0, 0), sigma))).save(
        buffer, "JPEG", quality=92
    )
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--split", default="tune")
    args = parser.parse_args(argv)
    threshold = builtin_profile("default").checks.blur.threshold
    with (args.cache / "labels.csv").open(newline="") as handle:
        originals = [
            row["file"]
            for row in csv.DictReader(handle)
            if row["param"] == "original" and row["split"] == args.split
        ]
    caught = {target: [0, 0] for target in TARGETS}
    print("photo width sharp " + " ".join(f"{t}px" for t in TARGETS))
    for name in originals:
        with Image.open(args.cache / name) as image:
            rgb = np.asarray(image.convert("RGB"))
        width = max(rgb.shape[:2])
        if width < 2000:
            continue
        cells = []
        for target in TARGETS:
            value = _sharpness(_blurred_jpeg(rgb, 2.0 * width / target))
            caught[target][0] += value < threshold
            caught[target][1] += 1
            cells.append(f"{value:5.1f}")
        sharp = _sharpness((args.cache / name).read_bytes())
        print(f"{Path(name).name.split('__')[0]} {width} {sharp:5.1f} " + " ".join(cells))
    for target, (hits, total) in caught.items():
        print(f"sigma 2 px on a {target} px photo: caught {hits}/{total} (threshold {threshold})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

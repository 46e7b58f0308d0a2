"""Phone-like test photos for benchmarks: real content, 12 MP, realistic JPEG entropy.

An upscaled photo is too smooth and would make Huffman decoding look cheaper than
on a real phone JPEG, so we add sensor-like noise until the file is as large as a
phone's (about 3-5 MB for 12 MP at quality 90).
"""

from __future__ import annotations

import argparse
import io

import numpy as np
from PIL import Image
from skimage import data as skdata

SOURCES = ("astronaut", "coffee", "chelsea", "rocket")


def photo_bench_args(doc: str | None) -> argparse.Namespace:
    """``--repeat`` (rounds over the photos) and ``--photos`` (how many of SOURCES)."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--photos", type=int, default=len(SOURCES))
    return parser.parse_args()


def phone_jpeg(name: str, width: int = 4000, height: int = 3000, *, seed: int = 0) -> bytes:
    base = getattr(skdata, name)()[..., :3]
    big = np.asarray(
        Image.fromarray(base).resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32
    )
    rng = np.random.default_rng(seed)
    big += rng.normal(0.0, 6.0, size=big.shape).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(big, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()

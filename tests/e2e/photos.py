"""The end-to-end corpus: real photos and the degradations citizens send, mostly small."""

from __future__ import annotations

from functools import cache

from tests.builders import images


@cache
def distinct_photos() -> tuple[bytes, ...]:
    """About twenty distinct encodings; submissions cycle through them."""
    out: list[bytes] = []
    for name in ("astronaut", "coffee", "chelsea"):
        photo = images.real_photo(name)
        out += [
            images.encode(photo, quality=90),
            images.encode(images.resized(photo, 960, 720), quality=85),
            images.encode(images.gaussian_blurred(photo, 4.0)),
            images.encode(images.with_brightness(photo, 0.15)),
            images.encode(images.with_brightness(photo, 1.0, 140.0)),
            images.encode(images.resized(photo, 160, 120)),
            images.encode(photo, "PNG"),
        ]
    out.append(
        images.encode(images.sharp_photo(1280, 960), exif=images.exif_bytes(gps=(52.5, 13.4)))
    )
    return tuple(out)


def corpus(count: int) -> list[bytes]:
    photos = distinct_photos()
    return [photos[i % len(photos)] for i in range(count)]

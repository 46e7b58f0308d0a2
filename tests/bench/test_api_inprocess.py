"""bench.api_inprocess drives real uploads through the app, with only the network stubbed."""

from __future__ import annotations

from bench.api_inprocess import _SHAPES, _measure


async def test_every_shape_is_uploaded_and_a_photo_costs_more_than_a_tiny_body() -> None:
    figures = await _measure(8)  # raises unless every upload was answered 202
    assert figures.keys() == _SHAPES.keys()
    # 2.7 MB are hashed (SHA-256) and sent in 13 chunks: never as cheap as 2 kB.
    assert 0 < figures["tiny"] < figures["2.7 MB"]

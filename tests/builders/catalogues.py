"""A city's own message catalogue, written as a translator's tool would write it."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po


def write_catalogue(path: Path, language: str, texts: dict[str, str]) -> None:
    """``path``: a ``.po`` file of ``texts`` (key -> text) for ``language``."""
    catalog = Catalog(locale=language.replace("-", "_"))
    for key, text in texts.items():
        catalog.add(key, text)
    with path.open("wb") as handle:
        write_po(handle, catalog)

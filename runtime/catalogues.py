"""Message catalogues: every text a citizen reads, per language, as gettext ``.po`` files.

The built-in catalogues are ``runtime/locales/<language>.po``; ``en.po`` is the source
and the fallback. Each entry's ``msgid`` is a key (``blur.too_blurry``,
``blur.too_blurry.advice``, ``error.corrupt``, ``page.take``...) and its ``msgstr`` the
text, with ``{placeholders}`` for the verdict's values. A translator edits a ``.po``
file with any gettext tool; no code changes.

A city adds its own folder of ``<language>.po`` files (``MESSAGE_CATALOGUES_DIR``):
a new language, or its own wording for some keys of ours. The files are read straight
from disk when a service starts (Babel's ``.po`` reader, no compile step), so a fresh
clone and the service image need nothing built.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import PoFileError, read_po

BUILTIN_DIR = Path(__file__).resolve().parent / "locales"
FALLBACK = "en"
#: The variable naming a city's folder (:class:`runtime.settings.CatalogueSettings`).
DIR_VARIABLE = "MESSAGE_CATALOGUES_DIR"


def language_tag(name: str) -> str:
    """``pt_BR``, ``pt-BR`` and ``pt-br`` are one language: ``pt-br``."""
    return name.strip().replace("_", "-").lower()


def _read(path: Path) -> dict[str, str]:
    """The translated entries of one ``.po`` file (fuzzy and empty ones are left out)."""
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, abort_invalid=True)
    except (OSError, PoFileError, UnicodeDecodeError) as exc:
        raise ValueError(f"message catalogue {path}: {exc}") from exc
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy
    }


def _accepted(header: str) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (q=0 dropped)."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            weighted.append((-quality, position, language_tag(tag)))
    return [tag for _, _, tag in sorted(weighted)]


def _candidates(accept_language: str) -> frozenset[str]:
    """Every tag :meth:`Catalogues.negotiate` or :meth:`Catalogues.text` may look up."""
    tags = _accepted(accept_language)
    return frozenset({FALLBACK, *tags, *(tag.split("-")[0] for tag in tags)})


class Catalogues:
    """Every language's texts: the built-in catalogues, a city's on top, English underneath."""

    def __init__(
        self,
        extra_dir: Path | None = None,
        builtin_dir: Path = BUILTIN_DIR,
        *,
        only_for: str | None = None,
    ) -> None:
        """Read every catalogue, or with ``only_for`` (an ``Accept-Language`` header or a
        ``--lang``) only those :meth:`negotiate` and :meth:`text` can use for it.

        A service serves every language and reads them all at startup; one run of
        ``civicqc score`` speaks one, and parsing the others is most of its ~20 ms here.
        """
        if extra_dir is not None and not extra_dir.is_dir():
            raise ValueError(f"{DIR_VARIABLE} {extra_dir} is not a folder")
        wanted = None if only_for is None else _candidates(only_for)
        self._texts: dict[str, dict[str, str]] = {}
        for folder in (builtin_dir, extra_dir):  # the city's last: its texts win
            for path in sorted(folder.glob("*.po")) if folder is not None else ():
                tag = language_tag(path.stem)
                if wanted is None or tag in wanted:
                    self._texts.setdefault(tag, {}).update(_read(path))
        if FALLBACK not in self._texts:
            raise ValueError(f"no {FALLBACK}.po in {builtin_dir}")

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._texts))

    def negotiate(self, accept_language: str | None) -> str:
        """The best language for an ``Accept-Language`` header (or a ``--lang``); else English.

        A regional tag falls back to its language (``es-MX`` gets ``es``) unless a
        catalogue of that region exists.
        """
        for tag in _accepted(accept_language or ""):
            for candidate in (tag, tag.split("-")[0]):
                if candidate in self._texts:
                    return candidate
        return FALLBACK

    def text(self, language: str, key: str) -> str | None:
        """``key`` in ``language``, else in its base language, else in English; None if nowhere."""
        for candidate in (language, language.split("-")[0], FALLBACK):
            found = self._texts.get(candidate, {}).get(key)
            if found is not None:
                return found
        return None

    def keys(self, language: str) -> frozenset[str]:
        """The keys ``language``'s own catalogues translate (no fallback)."""
        return frozenset(self._texts.get(language, {}))

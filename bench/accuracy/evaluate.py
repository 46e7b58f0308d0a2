"""Score the labelled accuracy set with ``default`` and ``reference``; report the validation split.

Reads ``labels.csv`` and ``sources.csv`` written by ``build_dataset.py``, runs
:func:`core.score` on every file with both profiles and the reference oracle
(:mod:`bench.accuracy.reference_oracle`), and writes ``docs/ACCURACY.md``: figures
on the validation photos only, each with its 95 % Wilson interval, recall per
degradation, hard good photos accepted, the photos still misjudged, and how often
the ``reference`` profile agrees with the reference's own decision, check by check.
Per-file values go to ``<cache>/results.csv``::

    .venv/bin/python bench/accuracy/build_dataset.py
    .venv/bin/python bench/accuracy/evaluate.py [--jobs 2] [--no-docs]
"""

from __future__ import annotations

import argparse
import csv
import platform
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bench.accuracy.reference_oracle import reference_decision
from bench.accuracy.sources import HOLDOUT_BATCHES, SOURCES, HoldoutBatch
from bench.accuracy.stats import Proportion, balanced_accuracy
from core import ENGINE_VERSION, Outcome, builtin_profile, score

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = ROOT / ".cache" / "accuracy"
DOC = ROOT / "docs" / "ACCURACY.md"
PROFILES = ("default", "reference")
PARITY_CHECKS = ("blur", "brightness", "resolution", "exposure", "metadata")
_VALUES = (
    ("blur", "sharpness"),
    ("exposure", "dark_end"),
    ("exposure", "bright_end"),
    ("exposure", "highlight_clip_fraction"),
    ("exposure", "shadow_clip_fraction"),
    ("exposure", "channel_clip_fraction"),
    ("exposure", "colour_clip_fraction"),
    ("brightness", "mean_brightness"),
    ("compression", "jpeg_quality"),
    ("compression", "blockiness"),
)


@dataclass(frozen=True)
class Row:
    """One labelled file, what each profile decided, and the reference parity."""

    item: dict[str, str]  # the labels.csv line
    decisions: dict[str, str]  # profile -> "accept" | "reject"
    detail: dict[str, str]  # default-profile values, for calibration and the misjudged list
    parity: dict[str, bool]  # check (and "verdict") -> reference profile agrees with the oracle

    @property
    def file(self) -> str:
        return self.item["file"]

    @property
    def source(self) -> str:
        return self.item["source"]

    @property
    def split(self) -> str:
        return self.item["split"]

    @property
    def kind(self) -> str:
        return self.item["kind"]

    @property
    def param(self) -> str:
        return self.item["param"]

    @property
    def label(self) -> str:
        return self.item["label"]

    @property
    def hard(self) -> str:
        return self.item.get("hard", "")

    def right(self, profile: str) -> bool:
        return self.decisions[profile] == self.item["label"]


def _score_one(args: tuple[Path, dict[str, str], bool]) -> Row:
    cache, item, parity_too = args
    data = (cache / item["file"]).read_bytes()
    decisions: dict[str, str] = {}
    detail: dict[str, str] = {}
    reference_checks: dict[str, bool] = {}
    for name in PROFILES if parity_too else ("default",):
        verdict = score(data, builtin_profile(name), image_id=item["file"])
        decisions[name] = "accept" if verdict.verdict is Outcome.ACCEPTED else "reject"
        if name == "reference":
            reference_checks = {n: c.passed for n, c in verdict.checks.items()}
            continue
        detail["failed"] = "+".join(n for n, c in verdict.checks.items() if not c.passed)
        detail["near"] = "+".join(
            n for n, c in verdict.checks.items() if getattr(c, "near_threshold", False)
        )
        detail["total_ms"] = f"{verdict.timings.total_ms}"
        for check, key in _VALUES:
            result = verdict.checks.get(check)
            value = result.values.get(key) if result else None
            detail[f"{check}.{key}"] = "" if value is None else f"{value}"
    if not parity_too:  # a quick look at `default` alone (e.g. an older engine)
        decisions["reference"] = "n/a"
        return Row(item, decisions, detail, {})
    oracle = reference_decision(data)
    parity = {c: reference_checks.get(c) is oracle.checks[c][0] for c in PARITY_CHECKS}
    parity["verdict"] = (decisions["reference"] == "accept") is oracle.accepted
    return Row(item, decisions, detail, parity)


def evaluate(cache: Path, jobs: int, *, parity: bool = True) -> list[Row]:
    with (cache / "labels.csv").open(newline="") as handle:
        items = list(csv.DictReader(handle))
    work = [(cache, item, parity) for item in items]
    if jobs <= 1:
        return [_score_one(w) for w in tqdm(work, desc="scoring", unit="img")]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        mapped = pool.map(_score_one, work, chunksize=4)
        return list(tqdm(mapped, total=len(work), desc="scoring", unit="img"))


def replay(path: Path) -> list[Row]:
    """Rows from a results file this script wrote, to rewrite the report without re-scoring."""
    with path.open(newline="") as handle:
        lines = list(csv.DictReader(handle))
    rows = []
    for line in lines:
        keys = list(line)
        labels = keys[: keys.index(PROFILES[0])]
        details = keys[keys.index("parity") + 1 :]
        failed = set(line["parity"].split("+")) if line["parity"] not in ("ok", "") else set()
        parity = {c: c not in failed for c in (*PARITY_CHECKS, "verdict")}
        rows.append(
            Row(
                {k: line[k] for k in labels},
                {p: line[p] for p in PROFILES},
                {k: line[k] for k in details},
                parity if line["parity"] else {},
            )
        )
    return rows


#: The degradations the review set uses (at native size), and its good copies.
REVIEW_VARIANTS = frozenset(
    {"original", "q92", "q92+exif", "sigma2px", "sigma4px", "q10", "640x480", "320x240", "x2.5",
     "x0.25"}
)  # fmt: skip


def _right(rows: Iterable[Row], profile: str) -> Proportion:
    rows = list(rows)
    return Proportion(sum(r.right(profile) for r in rows), len(rows))


def summary_table(rows: Sequence[Row]) -> str:
    """Balanced accuracy, good photos rejected and bad photos accepted, with intervals."""
    lines = ["| | `default` | `reference` |", "|---|---|---|"]
    cells: dict[str, list[str]] = defaultdict(list)
    for profile in PROFILES:
        accept = _right((r for r in rows if r.label == "accept"), profile)
        reject = _right((r for r in rows if r.label == "reject"), profile)
        ba, low, high = balanced_accuracy(accept, reject)
        cells["balanced accuracy"].append(f"**{100 * ba:.1f}%** [{100 * low:.1f}-{100 * high:.1f}]")
        cells["good photos rejected"].append(
            Proportion(accept.total - accept.hits, accept.total).cell()
        )
        cells["bad photos accepted"].append(
            Proportion(reject.total - reject.hits, reject.total).cell()
        )
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in cells.items()]
    return "\n".join(lines) + "\n"


def _grouped(
    rows: Sequence[Row], key: Callable[[Row], tuple[str, ...]], head: str, profiles: Sequence[str]
) -> str:
    groups: dict[tuple[str, ...], list[Row]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for group_key, group in sorted(groups.items()):
        cells = [_right(group, p).cell() for p in profiles]
        lines.append("| " + " | ".join((*group_key, *cells)) + " |")
    return "\n".join(lines) + "\n"


def before_after_table(rows: Sequence[Row], before: dict[str, str]) -> str:
    """The `default` profile of an earlier engine (a ``--default-only`` results file) and now."""
    earlier = [
        Row(r.item, {"default": before[r.file]}, r.detail, r.parity)
        for r in rows
        if r.file in before
    ]
    now = [r for r in rows if r.file in before]
    return columns_table("| validation split | before | now |", (earlier, now))


def columns_table(head: str, columns: Sequence[Sequence[Row]]) -> str:
    """`default`'s headline figures and per-kind share right, one column per set of rows."""
    lines = [head, "|" + "---|" * len(head.split("|")[1:-1])]
    cells: dict[str, list[str]] = defaultdict(lambda: ["-"] * len(columns))
    for column, rows in enumerate(columns):
        accept = _right((r for r in rows if r.label == "accept"), "default")
        reject = _right((r for r in rows if r.label == "reject"), "default")
        ba, low, high = balanced_accuracy(accept, reject)
        cells["balanced accuracy"][column] = f"{100 * ba:.1f}% [{100 * low:.1f}-{100 * high:.1f}]"
        cells["good photos rejected"][column] = Proportion(
            accept.total - accept.hits, accept.total
        ).cell()
        cells["bad photos accepted"][column] = Proportion(
            reject.total - reject.hits, reject.total
        ).cell()
    kinds = sorted({f"{r.label}: {r.kind}" for rows in columns for r in rows})
    for column, rows in enumerate(columns):
        for kind in kinds:
            group = [r for r in rows if f"{r.label}: {r.kind}" == kind]
            if group:
                cells[kind][column] = _right(group, "default").cell()
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in cells.items()]
    return "\n".join(lines) + "\n"


def kind_table(rows: Sequence[Row]) -> str:
    """Share decided right per kind of degradation (recall for the reject kinds)."""
    head = "| expected | kind | `default` right | `reference` right |"
    return _grouped(rows, lambda r: (r.label, r.kind), head, PROFILES)


def variant_table(rows: Sequence[Row]) -> str:
    head = "| expected | kind | variant | `default` right | `reference` right |"
    return _grouped(rows, lambda r: (r.label, r.kind, r.param), head, PROFILES)


def hard_table(rows: Sequence[Row]) -> str:
    """Per kind of hard good photo: the photos as shipped, and all their good variants."""
    hard = [r for r in rows if r.hard and r.label == "accept"]
    lines = [
        "| hard kind | photos | as shipped, accepted | all good variants, accepted |",
        "|---|---|---|---|",
    ]
    by_kind: dict[str, list[Row]] = defaultdict(list)
    for r in hard:
        by_kind[r.hard].append(r)
    for kind, group in sorted(by_kind.items()):
        photos = ", ".join(sorted({r.source for r in group}))
        shipped = [r for r in group if r.param == "original"]
        lines.append(
            f"| {kind} | {photos} | {_right(shipped, 'default').cell()} "
            f"| {_right(group, 'default').cell()} |"
        )
    return "\n".join(lines) + "\n"


def misjudged(rows: Sequence[Row]) -> str:
    wrong = [r for r in rows if not r.right("default")]
    if not wrong:
        return "None.\n"
    lines = ["| file | expected | failed checks | sharpness | dark end | bright end | clip "
             "| blown 1 / 2 channels | blockiness |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in sorted(wrong, key=lambda r: r.file):
        d = r.detail
        lines.append(
            f"| {Path(r.file).name} | {r.label} | {d['failed'] or '-'} | {d['blur.sharpness']} "
            f"| {d['exposure.dark_end']} | {d['exposure.bright_end']} "
            f"| {d['exposure.highlight_clip_fraction']} "
            f"| {d.get('exposure.channel_clip_fraction') or '-'} / "
            f"{d.get('exposure.colour_clip_fraction') or '-'} "
            f"| {d.get('compression.blockiness') or '-'} |"
        )
    return "\n".join(lines) + "\n"


def parity_table(rows: Sequence[Row]) -> str:
    lines = ["| check | `reference` profile agrees with the reference |", "|---|---|"]
    for check in (*PARITY_CHECKS, "verdict"):
        agree = Proportion(sum(r.parity[check] for r in rows), len(rows))
        lines.append(f"| {check} | {agree.hits} of {agree.total} |")
    return "\n".join(lines) + "\n"


def _sources_text(caches: Sequence[Path]) -> tuple[str, int, int]:
    sources: list[dict[str, str]] = []
    for cache in caches:
        with (cache / "sources.csv").open(newline="") as handle:
            sources += csv.DictReader(handle)
    lines = ["| photo | split | hard kind | package | licence |", "|---|---|---|---|---|"]
    for s in sources:
        lines.append(
            f"| {s['source']} | {s['split']} | {s['hard'] or '-'} | {s['package']} | {s['licence']} |"
        )
    packages = {s["package"].split("==")[0] for s in sources}
    return "\n".join(lines) + "\n", len(sources), len(packages)


def read_before(path: Path) -> dict[str, str]:
    """File -> `default` decision, from a results file of an earlier engine."""
    with path.open(newline="") as handle:
        return {line["file"]: line["default"] for line in csv.DictReader(handle)}


def write_doc(
    rows: Sequence[Row],
    caches: Sequence[Path],
    path: Path,
    before: dict[str, str] | None = None,
) -> None:
    valid = [r for r in rows if r.split == "validate"]
    sources, n_photos, n_packages = _sources_text(caches)
    text = f"""{_intro(len(rows), len(valid), n_photos, n_packages)}
## Validation split

{summary_table(valid)}
### The review set's variants only

The photos as shipped, re-saved at quality 92 (with and without EXIF), and the
degradations the review set applies (Gaussian 2 and 4 px, quality 10, 640x480 and
320x240 copies, 2.5x over- and 0.25x under-exposure), on the validation photos:

{summary_table([r for r in valid if r.param in REVIEW_VARIANTS])}
{_before_section(valid, before)}## Recall per kind (validation)

{kind_table(valid)}
## Hard good photos (validation)

{hard_table(valid)}
## Still misjudged by `default` (validation)

{misjudged(valid)}
## `reference` against the reference system (all {len(rows)} files)

The reference's decision is restated independently in
`bench/accuracy/reference_oracle.py` (OpenCV decode, its formulas, piexif).

{parity_table(rows)}
## Per variant (validation)

{variant_table(valid)}
{holdout_section(rows)}## The photos

{sources}"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _intro(n_files: int, n_valid: int, n_photos: int, n_packages: int) -> str:
    """The page's title, how to rebuild it and what the set is."""
    default, reference = builtin_profile("default"), builtin_profile("reference")
    return f"""# Accuracy on real photos

Generated by `bench/accuracy/evaluate.py`; do not edit by hand. Rebuild with:

```sh
.venv/bin/python -m bench.accuracy.build_dataset      # fetch photos from packages, make variants
.venv/bin/python -m bench.accuracy.evaluate --jobs 2  # score, rewrite this file
```

Engine {ENGINE_VERSION}; profiles `{default.name}` {default.version} and
`{reference.name}` {reference.version}; Python {platform.python_version()}.

## The set

{n_files} files made from {n_photos} real photographs that ship inside {n_packages} packages
(listed below with their licences); no photo is committed to the repository. Each
photo at or above 800x600 is shipped as is and gets the degradations below;
photos below the floor are low-resolution negatives. The set is split by photo:
thresholds were chosen looking at the `tune` photos only, and **every figure here
is measured on the {n_valid} files of the `validate` photos**, except the last
section's, which is measured on the `holdout` photos: added after the engine was
frozen, from packages no other photo comes from, and never tuned on. Intervals are
95 % Wilson score intervals. See `bench/accuracy/build_dataset.py` for each degradation.
"""


#: The holdout's batches, oldest first (a photo the list does not know counts in the first).
_BATCH_ORDER: tuple[HoldoutBatch, ...] = tuple(dict.fromkeys(HOLDOUT_BATCHES.values()))


def _holdout_batches(held: Sequence[Row]) -> dict[HoldoutBatch, list[Row]]:
    """The holdout's rows by the batch their photo came in, oldest batch first."""
    batches: dict[HoldoutBatch, list[Row]] = defaultdict(list)
    for r in held:
        batches[HOLDOUT_BATCHES.get(r.source, _BATCH_ORDER[0])].append(r)
    return {batch: batches[batch] for batch in _BATCH_ORDER if batch in batches}


def _label(batch: HoldoutBatch) -> str:
    return f"{batch.name} batch ({batch.added})"


def holdout_section(rows: Sequence[Row]) -> str:
    """The `holdout` split's figures: photos the engine had never met when it was frozen."""
    held = [r for r in rows if r.split == "holdout"]
    if not held:
        return ""
    valid = [r for r in rows if r.split == "validate"]
    photos = len({r.source for r in held})
    batches = _holdout_batches(held)
    dates = " and ".join(sorted({batch.added for batch in batches}))
    return f"""## Holdout split (added {dates}, after the engine was frozen)

These {photos} photos ({len(held)} files) were added on {dates}, after engine
{ENGINE_VERSION} and `default` {builtin_profile("default").version} were frozen, from
packages that no `tune` or `validate` photo comes from. Nothing was tuned on them: no
threshold changed after they were first scored, and the one later change to what the
engine measures (2026-12-02: every JPEG read as its Y plane, whatever its size, for the
RGB-coded JPEGs that were refused) was made for a decoding error, not for a figure: it
moved 2 holdout verdicts, one each way (SCORING.md). They get the
same degradations and labels as the other photos. Where these figures are worse than
the validation split's, they are the better estimate of what a city will see.
{_batches_text(batches)}{_holdout_caveats(valid, held)}
`default` on the validation split and on the holdout, side by side:

{_side_by_side(valid, held, batches)}
Both profiles on the holdout:

{summary_table(held)}
### The review set's variants only (holdout)

{summary_table([r for r in held if r.param in REVIEW_VARIANTS])}
### Recall per kind (holdout)

{kind_table(held)}
### Hard good photos (holdout)

{hard_table(held)}
### Misjudged by `default` (holdout)

{misjudged(held)}
### Per variant (holdout)

{variant_table(held)}
"""


def _side_by_side(
    valid: Sequence[Row], held: Sequence[Row], batches: dict[HoldoutBatch, list[Row]]
) -> str:
    """Validate and the holdout; with several batches, the holdout before each and each alone."""
    if len(batches) == 1:
        return columns_table("| `default` | validate | holdout |", (valid, held))
    head = ["validate"]
    columns: list[Sequence[Row]] = [valid]
    so_far: list[Row] = []
    for number, (batch, rows) in enumerate(batches.items()):
        if number:
            head.append(f"holdout before the {batch.name} batch")
            columns.append(list(so_far))
            head.append(f"{_label(batch)} alone")
            columns.append(rows)
        so_far += rows
    head.append("holdout, all")
    columns.append(held)
    return columns_table("| `default` | " + " | ".join(head) + " |", columns)


def _batches_text(batches: dict[HoldoutBatch, list[Row]]) -> str:
    """Where the holdout came in batches: what each holds, and how each later one compares
    with the holdout before it."""
    if len(batches) == 1:
        return ""
    said = [
        f"\nIt came in {len(batches)} batches, each later one added, with the engine still "
        "frozen, for what the earlier ones lacked:"
    ]
    said += [
        f"- the {_label(batch)}, {len({r.source for r in rows})} photos: {batch.holds}."
        for batch, rows in batches.items()
    ]
    before: list[Row] = []
    for number, (batch, rows) in enumerate(batches.items()):
        if number:
            said.append(
                f"\nThe {batch.name} batch ({batch.added}; {len({r.source for r in rows})} "
                f"photos, {len(rows)} files) against the holdout before it: "
                f"{_compared(before, rows, f'on the {batch.name} batch')}"
            )
        before += rows
    return "\n".join(said) + "\n"


def _rates(rows: Sequence[Row]) -> tuple[float, float, float]:
    """`default`'s balanced accuracy, good photos rejected and bad photos accepted."""
    accept = _right((r for r in rows if r.label == "accept"), "default")
    reject = _right((r for r in rows if r.label == "reject"), "default")
    ba = balanced_accuracy(accept, reject)[0]
    return ba, 1 - accept.hits / max(1, accept.total), 1 - reject.hits / max(1, reject.total)


def _compared(valid: Sequence[Row], held: Sequence[Row], where: str = "on the holdout") -> str:
    """Say in words, from the figures, where ``held`` is worse than ``valid``."""
    names = ("balanced accuracy", "good photos rejected", "bad photos accepted")
    higher_is_better = (True, False, False)
    worse: list[str] = []
    better: list[str] = []
    for name, up, v, h in zip(names, higher_is_better, _rates(valid), _rates(held), strict=True):
        text = f"{name} {100 * h:.1f}% against {100 * v:.1f}%"
        if h != v:
            (better if (h > v) == up else worse).append(text)
    said = [f"**Worse {where}**: {'; '.join(worse)}." if worse else ""]
    said.append(f"Better {where}: {'; '.join(better)}." if better else "")
    return " ".join(x for x in said if x) or f"Equal figures {where}."


def _holdout_caveats(valid: Sequence[Row], held: Sequence[Row]) -> str:
    """What the holdout's size and make-up allow one to conclude, from the rows themselves."""
    photos = {r.source for r in held}
    wrong = [r for r in held if not r.right("default")]
    by_photo: dict[str, int] = defaultdict(int)
    for r in wrong:
        by_photo[r.source] += 1
    spread = ", ".join(f"{name} {count}" for name, count in sorted(by_photo.items()))
    phone = {r.source for r in held if r.item.get("scale") == "12mp"}
    return (
        f"\n{_compared(valid, held)}\n\nIt is small ({len(photos)} photos), so its intervals are wide; its misjudged "
        f"files come from {len(by_photo)} photo(s) ({spread or 'none'}), so one hard photo "
        f"moves its figures far. {len(phone)} of its photos get 12 MP variants (only half "
        f"of those of at least 2000 px do). {_make_up(photos)}\n"
    )


#: Photo -> the package it ships in, without its version pin.
_PACKAGE = {s.name: s.package.split("==")[0] for s in SOURCES}


def _make_up(photos: set[str]) -> str:
    """How lopsided the holdout is: how many packages, and the largest one's share."""
    per_package: dict[str, int] = defaultdict(int)
    for name in photos:
        per_package[_PACKAGE.get(name, name)] += 1
    package, most = max(per_package.items(), key=lambda item: (item[1], item[0]))
    return (
        f"It is lopsided: its photos come from {len(per_package)} package(s), and "
        f"{most} of its {len(photos)} from one ({package})."
    )


def _before_section(rows: Sequence[Row], before: dict[str, str] | None) -> str:
    if not before:
        return ""
    return (
        "## Before and after (validation)\n\n`default` of engine v0.1 (profile 2026.11.2, "
        "the results file given with `--before`) against now, on the same files.\n\n"
        f"{before_after_table(rows, before)}\n"
    )


def write_results(rows: Sequence[Row], path: Path) -> None:
    keys = list(rows[0].detail) if rows else []
    label_keys = list(rows[0].item) if rows else []
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*label_keys, *PROFILES, "parity", *keys])
        for r in rows:
            writer.writerow(
                [*r.item.values(), *(r.decisions[p] for p in PROFILES),
                 "+".join(c for c, ok in r.parity.items() if not ok) or ("ok" if r.parity else ""),
                 *(r.detail[k] for k in keys)]
            )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache",
        type=Path,
        action="append",
        help="a built set (repeat to report several, e.g. the holdout's own cache; "
        f"default {DEFAULT_CACHE.relative_to(ROOT)})",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--no-docs", action="store_true", help="don't rewrite docs/ACCURACY.md")
    parser.add_argument("--results", type=Path, help="per-file CSV (default <cache>/results.csv)")
    parser.add_argument("--before", type=Path, help="results.csv of an earlier engine, to compare")
    parser.add_argument(
        "--default-only",
        action="store_true",
        help="score with `default` alone, no reference parity (implies --no-docs)",
    )
    parser.add_argument(
        "--replay", action="store_true", help="rewrite the report from <cache>/results.csv"
    )
    args = parser.parse_args(argv)
    caches: list[Path] = args.cache or [DEFAULT_CACHE]
    if args.results and len(caches) > 1:
        parser.error("--results names one cache's results; give one --cache with it")
    rows: list[Row] = []
    for cache in caches:
        results = args.results or cache / "results.csv"
        if args.replay:
            rows += replay(results)
            continue
        scored = evaluate(cache, args.jobs, parity=not args.default_only)
        write_results(scored, results)
        rows += scored
    for split in ("validate", "holdout"):
        in_split = [r for r in rows if r.split == split]
        if in_split:
            print(f"{split}:\n{summary_table(in_split)}\n{kind_table(in_split)}")
    if args.default_only:
        return 0
    print(parity_table(rows))
    before = read_before(args.before) if args.before else None
    if before:
        print(before_after_table([r for r in rows if r.split == "validate"], before))
    if not args.no_docs:
        write_doc(rows, caches, DOC, before)
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

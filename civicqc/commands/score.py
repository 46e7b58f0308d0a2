"""``civicqc score PATH...``: score files and folders with the engine, in parallel.

The exit status is 0 whatever the verdicts (a rejected photo is a result, not a
failure) and 2 only for usage errors, so scripts can tell the two apart.

The process pool and the progress bar are imported only when used: scoring one
photo should cost the engine's imports and little else.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from core import BUILTIN_PROFILES, Rules, error_verdict, score
from core.detect import Detector
from core.rules import ENV_OVERRIDES, Checks
from core.schema import ErrorCode, Outcome, Verdict
from runtime.advice import Advice
from runtime.catalogues import DIR_VARIABLE, Catalogues
from runtime.cpus import usable_cores
from runtime.detectors import detector_for
from runtime.rulebook import load_profile

if TYPE_CHECKING:
    from runtime.settings import RuleOverrides

FORMATS = ("table", "jsonl", "csv")
#: Columns in the engine's order: every check a profile can configure.
CHECK_ORDER = tuple(Checks.model_fields)

#: Rules of the current worker process, set once by :func:`_init_worker`.
_worker_rules: Rules | None = None
#: The profile's detector, loaded once per worker process; None when it runs none.
_worker_detector: Detector | None = None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score image files or folders (recursively)",
        description="Score images with the engine. Exit status 0 even when images are "
        "rejected; 2 for usage errors.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or folder")
    parser.add_argument(
        "--profile",
        default="default",
        help=f"built-in profile ({', '.join(BUILTIN_PROFILES)}) or a path to a .toml profile",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument(
        "--jobs",
        type=_positive_int,
        default=usable_cores(),
        help="worker processes (default: all cores; 1 scores in this process)",
    )
    parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    parser.add_argument(
        "--lang",
        default="en",
        help="language of the reasons and advice, e.g. es or pt-BR (default: en; English "
        "when no catalogue has it)",
    )
    parser.add_argument(
        "--messages",
        type=Path,
        default=None,
        metavar="DIR",
        help="a city's own <language>.po catalogues (default: $MESSAGE_CATALOGUES_DIR)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        overrides, messages = _settings()
        rules = load_profile(args.profile, overrides)
        files = list(collect_files(args.paths))
        detector_for(rules)  # fail here, once, rather than in every worker
        catalogues = Catalogues(args.messages or messages, only_for=args.lang)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"civicqc score: error: {_message(exc)}", file=sys.stderr)
        return 2
    results: Iterable[dict[str, Any]] = score_files(files, rules, jobs=args.jobs)
    if not args.no_progress and sys.stderr.isatty() and len(files) > 1:
        from tqdm import tqdm

        results = tqdm(results, total=len(files), unit="img", file=sys.stderr)
    advice = Advice(catalogues, catalogues.negotiate(args.lang))
    reasons = args.format == "jsonl"  # the only format that shows them
    advised = (with_advice(result, advice, reasons=reasons) for result in results)
    write_results(advised, args.format, sys.stdout)
    return 0


def _settings() -> tuple[RuleOverrides | None, Path | None]:
    """The rule overrides and the city's catalogue folder, as the environment sets them.

    With none of their variables set (the usual case) both are at their defaults, and
    pydantic-settings, which imports asyncio and ssl, is not loaded at all: ~45 ms of a
    one-photo run. The settings read names case-insensitively, and so does this check.
    """
    names = {name.lower() for name in (*ENV_OVERRIDES, DIR_VARIABLE)}
    if not any(variable.lower() in names for variable in os.environ):
        return None, None
    from runtime.settings import CatalogueSettings, RuleOverrides

    return RuleOverrides(), CatalogueSettings().message_catalogues_dir


def collect_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and every file under given folders (sorted, hidden entries skipped).

    The format is sniffed from the bytes later, so no file is skipped by its name.
    """
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and not any(part.startswith(".") for part in relative):
                    yield child
        elif path.exists():
            yield path
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")


def score_files(files: list[Path], rules: Rules, *, jobs: int) -> Iterator[dict[str, Any]]:
    """Verdicts as JSON-ready dicts, in input order, scored on ``jobs`` processes."""
    if jobs == 1 or len(files) <= 1:
        _init_worker(rules)
        yield from map(_score_path, files)
        return
    from concurrent.futures import ProcessPoolExecutor

    chunksize = max(1, min(16, len(files) // (jobs * 8)))
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_init_worker, initargs=(rules,)
    ) as executor:
        yield from executor.map(_score_path, files, chunksize=chunksize)


def _init_worker(rules: Rules) -> None:
    global _worker_rules, _worker_detector
    _worker_rules = rules
    _worker_detector = detector_for(rules)


def _score_path(path: Path) -> dict[str, Any]:
    rules = _worker_rules
    assert rules is not None, "worker not initialised"
    try:
        data = path.read_bytes()
    except OSError as exc:
        verdict = error_verdict(ErrorCode.UNREADABLE, f"cannot read {path}: {exc.strerror}", rules)
    else:
        verdict = score(data, rules, image_id=path.name, detector=_worker_detector)
    return {"path": str(path), **verdict.model_dump(mode="json")}


def write_results(results: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "jsonl":
        for result in results:
            out.write(json.dumps(result, separators=(",", ":")) + "\n")
            out.flush()
    elif fmt == "csv":
        _write_csv(results, out)
    else:
        _write_table(results, out)


def with_advice(result: dict[str, Any], advice: Advice, *, reasons: bool = True) -> dict[str, Any]:
    """``result`` plus ``advice``: its reasons and what to do, in ``advice``'s language.

    The verdict itself stays as the engine made it (codes and values). ``reasons=False``
    leaves the reasons out, for the table and the CSV, which show only what to do: the
    reasons write numbers the locale's way, and Babel's locale data costs ~20 ms to load.
    """
    verdict = Verdict.model_validate({k: v for k, v in result.items() if k != "path"})
    unreadable = verdict.verdict is Outcome.ERROR
    texts: dict[str, Any] = {"language": advice.language}
    if reasons:
        texts["reasons"] = {name: advice.reason(check) for name, check in verdict.checks.items()}
    texts["recommendations"] = (
        [advice.error_advice(verdict.error)] if unreadable else advice.recommendations(verdict)
    )
    return result | {"advice": texts}


def _summary_row(result: dict[str, Any]) -> dict[str, Any]:
    checks = result.get("checks") or {}
    row: dict[str, Any] = {
        "path": result["path"],
        "verdict": result["verdict"],
        "score": "" if result["score"] is None else f"{result['score']:.1f}",
        "quality": result["quality"] or "",
    }
    for name in CHECK_ORDER:
        check = checks.get(name)
        row[f"{name}_passed"] = "" if check is None else str(check["passed"]).lower()
        row[f"{name}_score"] = "" if check is None else f"{check['score']:.1f}"
    row["vetoed_by"] = ";".join(result.get("vetoed_by") or [])
    error = result.get("error")
    row["error"] = f"{error['code']}: {error['message']}" if error else ""
    row["advice"] = " / ".join(result["advice"]["recommendations"]) if "advice" in result else ""
    return row


def _write_csv(results: Iterable[dict[str, Any]], out: TextIO) -> None:
    writer: csv.DictWriter[str] | None = None
    for result in results:
        row = _summary_row(result)
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow(row)


def _write_table(results: Iterable[dict[str, Any]], out: TextIO) -> None:
    header = f"{'VERDICT':<9} {'SCORE':>6} {'QUALITY':<9} {'FAILED CHECKS / ERROR':<40} PATH"
    out.write(header + "\n")
    counts: dict[str, int] = {}
    for result in results:
        counts[result["verdict"]] = counts.get(result["verdict"], 0) + 1
        row = _summary_row(result)
        failed = [
            name + ("!" if name in (result.get("vetoed_by") or []) else "")
            for name in CHECK_ORDER
            if row[f"{name}_passed"] == "false"
        ]
        detail = row["error"] or ", ".join(failed) or "-"
        out.write(
            f"{row['verdict']:<9} {row['score']:>6} {row['quality']:<9} {detail[:40]:<40} {row['path']}\n"
        )
        if result["verdict"] != "accepted":
            for line in result.get("advice", {}).get("recommendations", []):
                out.write(f"{'':<10}- {line}\n")
    total = sum(counts.values())
    summary = ", ".join(
        f"{counts[k]} {k}" for k in ("accepted", "rejected", "error") if k in counts
    )
    out.write(f"\n{total} image(s): {summary or 'none'}   (! = vetoed by a blocking check)\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else str(exc)

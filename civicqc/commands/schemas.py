"""``civicqc schemas``: regenerate the committed JSON Schemas after a model change."""

from __future__ import annotations

import argparse
from pathlib import Path

from civicqc.schemas import SCHEMA_DIR, write_schemas


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("schemas", help="write the JSON Schemas of events and verdicts")
    parser.add_argument("--out", type=Path, default=SCHEMA_DIR, help="target folder")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    for path in write_schemas(args.out):
        print(path)
    return 0

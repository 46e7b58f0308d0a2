"""``civicqc models pull NAME``: fetch official YOLO weights on a machine with internet access.

Workers never download at run time (the ultralytics backend is pinned offline),
so weights are fetched ahead of time, by an operator or an image build, and the
profile's ``[detector] model`` points at the file. On a machine without access
the command says so and exits 1, with no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

#: ultralytics' public release assets: official COCO-trained detection weights.
RELEASE_URL = "https://github.com/ultralytics/assets/releases/download/v8.3.0/{name}.pt"
OFFICIAL_MODELS: tuple[str, ...] = (
    "yolov8n",
    "yolov8s",
    "yolov8m",
    "yolo11n",
    "yolo11s",
    "yolo11m",
)
DEFAULT_DEST = Path(".cache") / "models"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "models",
        help="fetch detection model weights (needs internet access)",
        description="Manage the YOLO weights used by the privacy and subject checks.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    pull = actions.add_parser("pull", help="download official weights, optionally export ONNX")
    pull.add_argument("name", choices=OFFICIAL_MODELS, help="model name")
    pull.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="target folder")
    pull.add_argument(
        "--onnx",
        action="store_true",
        help="also export <name>.onnx for the onnx backend (needs the ultralytics extra)",
    )
    pull.add_argument("--timeout", type=float, default=30.0, help="network timeout, seconds")
    pull.set_defaults(handler=run_pull)


def run_pull(args: argparse.Namespace) -> int:
    target: Path = args.dest / f"{args.name}.pt"
    if not target.exists():
        try:
            download(RELEASE_URL.format(name=args.name), target, timeout=args.timeout)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            print(
                f"civicqc models pull: cannot download {args.name}: {reason}\n"
                "This machine has no access to the model host. Run the command where it "
                "has, then copy the file; see docs/DETECTION.md.",
                file=sys.stderr,
            )
            return 1
    print(target)
    if args.onnx:
        try:
            print(export_onnx(target, args.dest))
        except ImportError:
            print(
                "civicqc models pull: --onnx needs the ultralytics extra: "
                "pip install 'civicqc[ultralytics]'",
                file=sys.stderr,
            )
            return 1
    return 0


def download(url: str, target: Path, *, timeout: float) -> None:
    """Fetch ``url`` to ``target`` through a temporary file, so a broken transfer leaves nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:  # noqa: S310 (fixed https URL)
            while chunk := response.read(1 << 20):
                out.write(chunk)
        if not zipfile.is_zipfile(partial):  # a torch checkpoint is a zip archive
            raise ValueError(f"{url} did not return a PyTorch checkpoint")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def export_onnx(weights: Path, dest: Path) -> Path:
    """Export with ultralytics' own exporter, whose output the onnx backend decodes."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "false"
    os.environ.setdefault("YOLO_CONFIG_DIR", str((dest / "ultralytics-config").resolve()))
    from ultralytics import YOLO

    exported = YOLO(str(weights)).export(format="onnx", dynamic=True, simplify=True)
    return Path(str(exported))

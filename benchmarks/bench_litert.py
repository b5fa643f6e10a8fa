"""Frames per second of the whole path and of the network alone: TensorFlow float32 / bfloat16 and
LiteRT float32 / float16 / dynamic-range int8 (the bundled mobilenet_thin, `tfpose export --format
tflite`), all in one run, interleaved rounds, medians.

    python benchmarks/bench_litert.py [--frames 20] [--rounds 5] [--threads 2]

Whole path: ``Estimator.estimate`` / ``LiteRTEstimator.estimate`` on video.avi frames (OpenPose's
sizing, 1 scale). Network alone: one 1x368x656x3 input. Achieved GFLOP/s: 15.09 GFLOP per
656x368 network input (TensorFlow's profiler, multiply and add counted as 2) scaled by the input
area, over the network's median time. Peak: cores x clock (/proc/cpuinfo "cpu MHz") x FLOP per
cycle per core: 64 for float32 (two AVX-512 FMA units x 16 lanes x 2), 1024 for AMX bf16
(Intel's figure for a Sapphire Rapids core, where the CPU has amx_bf16). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import cv2
import numpy as np

from _common import SHARED  # noqa: E402  (the one data-location rule)

GFLOP_656x368 = 15.09


def _clock_ghz() -> float:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1]) / 1000
    return float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args(argv)
    import tensorflow as tf

    import tfpose
    from tfpose import precision
    from tfpose.export_tflite import export_tflite
    from tfpose.litert import LiteRTEstimator

    import _common

    cap = cv2.VideoCapture(str(SHARED / "data/images/openpose_media/video.avi"))
    frames = []
    while len(frames) < args.frames:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    tmp = tempfile.mkdtemp(prefix="tfpose_litert_")
    runners = {"TensorFlow float32": tfpose.Estimator(precision="float32")}
    if set(precision.BF16_CPU_FLAGS) & precision.cpu_flags():
        runners["TensorFlow bfloat16 (Grappler)"] = tfpose.Estimator(precision="bfloat16")
    for q in ("float32", "float16", "int8"):
        path = export_tflite(None, os.path.join(tmp, f"{q}.tflite"), q)
        runners[f"LiteRT {q}"] = LiteRTEstimator(path, num_threads=args.threads)
    x = np.random.default_rng(0).uniform(0, 255, (368, 656, 3)).astype(np.float32)

    def net_alone(est):
        if isinstance(est, LiteRTEstimator):
            return lambda: est.network_output(x)
        fn = tf.function(lambda t: est.network(t))
        xt = tf.constant(x[None])

        def run():
            with precision.precision_scope(est.precision):
                return fn(xt).numpy()

        return run

    nets = {k: net_alone(e) for k, e in runners.items()}
    for k, e in runners.items():  # warm up: tracing, allocation
        e.estimate(frames[0])
        nets[k]()
    whole = {k: [] for k in runners}
    alone = {k: [] for k in runners}
    for _ in range(args.rounds):
        for k, e in runners.items():
            t = time.perf_counter()
            for f in frames:
                e.estimate(f)
            whole[k].append((time.perf_counter() - t) / len(frames))
            t = time.perf_counter()
            nets[k]()
            alone[k].append(time.perf_counter() - t)
    ghz = _clock_ghz()
    cores = os.cpu_count()
    peak32 = cores * ghz * 64
    amx = "amx_bf16" in precision.cpu_flags()
    peak16 = cores * ghz * 1024 if amx else float("nan")
    net_hw = runners["TensorFlow float32"].sizing(frames[0].shape).net_hw[0]
    print(
        f"{_common.machine_line()}; {cores} cores at {ghz:.2f} GHz; load average "
        f"{os.getloadavg()[0]:.1f} at the end (other jobs shared the machine); video.avi "
        f"{frames[0].shape[1]}x{frames[0].shape[0]} -> net {net_hw[1]}x{net_hw[0]}; {len(frames)} frames x "
        f"{args.rounds} rounds, interleaved; peak float32 {peak32:.0f} GFLOP/s, AMX bf16 {peak16:.0f} GFLOP/s"
    )
    print("\n| runtime | frames/s (whole path) | network alone ms (368x656) | GFLOP/s | % of peak |")
    print("|---|---|---|---|---|")
    for k in runners:
        w, a = np.median(whole[k]), np.median(alone[k])
        gflops = GFLOP_656x368 / a
        peak = peak16 if ("bfloat16" in k and amx) else peak32
        print(f"| {k} | {1 / w:.2f} | {1e3 * a:.0f} | {gflops:.0f} | {100 * gflops / peak:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Times resize-and-merge on a COCO-sized net output (1 x 46 x 82 x 57 -> 368 x 656, 55 MB out).

Compares tfpose's numpy entry point and TF op with OpenPose's CPU build (one cv2.resize INTER_CUBIC
per channel, channel-first, IPP off as in Debian's OpenCV) and with the floor of writing the output
(np.empty + fill). Reports the minimum and median of --reps runs; the machine is shared, so only the
minimum means much. Usage: python benchmarks/bench_resize_and_merge.py [--reps 15] [--no-tf]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def timeit(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * min(ts), 1e3 * float(np.median(ts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--no-tf", action="store_true")
    args = ap.parse_args()

    from tfpose import numpy_ops

    rng = np.random.default_rng(0)
    x = rng.random((1, 46, 82, 57), dtype=np.float32)
    x1 = rng.random((1, 34, 60, 57), dtype=np.float32)
    x2 = rng.random((1, 22, 40, 57), dtype=np.float32)
    rows = []
    rows.append(("write floor: np.empty + fill (55 MB)",
                 timeit(lambda: np.empty((1, 368, 656, 57), np.float32).fill(1.0), args.reps)))
    for t in (1, 2):
        rows.append((f"numpy_ops cpu, 1 scale, threads={t}",
                     timeit(lambda: numpy_ops.resize_and_merge(x, threads=t), args.reps)))
        rows.append((f"numpy_ops cuda, 1 scale, threads={t}",
                     timeit(lambda: numpy_ops.resize_and_merge(x, openpose_build="cuda", threads=t), args.reps)))
        rows.append((f"numpy_ops cpu, 3 scales, threads={t}",
                     timeit(lambda: numpy_ops.resize_and_merge([x, x1, x2], [1, .75, .5], threads=t),
                            args.reps)))
    try:
        import cv2

        chw = np.ascontiguousarray(x[0].transpose(2, 0, 1))
        cv2.ipp.setUseIPP(False)
        rows.append(("cv2.resize per channel (OpenPose CPU, IPP off), 1 thread",
                     timeit(lambda: [cv2.resize(c, (656, 368), interpolation=cv2.INTER_CUBIC) for c in chw],
                            args.reps)))
        cv2.ipp.setUseIPP(True)
    except ImportError:
        pass
    if not args.no_tf:
        import tensorflow as tf
        from tfpose import ops

        xt = tf.constant(x)
        f = tf.function(lambda a: ops.resize_and_merge(a))
        rows.append(("TF op cpu, 1 scale, eager (no .numpy(): that copy costs ~10 ms)",
                     timeit(lambda: ops.resize_and_merge(xt), args.reps)))
        rows.append(("TF op cpu, 1 scale, tf.function", timeit(lambda: f(xt), args.reps)))
    for name, (mn, med) in rows:
        print(f"{name:64s} min {mn:7.2f} ms   median {med:7.2f} ms")


if __name__ == "__main__":
    main()

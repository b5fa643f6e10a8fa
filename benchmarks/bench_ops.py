"""Per-op timings of tfpose's dense ops against the baselines OpenPose's CPU build uses, in one run.

resize-and-merge vs cv2.resize(INTER_CUBIC) per channel (OpenPose's CPU resize) and the numpy
reference; NMS vs a cv2.dilate 3x3 local-max NMS and the numpy reference; maximum vs
cv2.minMaxLoc per channel (OpenPose's CPU maximum) and numpy argmax; placement of the 1280x720
frame on the 656x368 canvas vs cv2.warpAffine (OpenPose's) and the TF-graph placement tfpose used
before its C++ op. Input: mobilenet_thin's real
output on a 1280x720 video frame (82x46x57 -> 656x368). Medians over repeats; ratios are
baseline / tfpose in the same run. Regenerates its table in benchmarks/README.md.

    python benchmarks/bench_ops.py [--repeats 15] [--no-write]
"""

from __future__ import annotations

import argparse

import numpy as np

import _common as C


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--no-write", action="store_true", help="print only, leave README.md alone")
    args = ap.parse_args()

    import cv2
    import tensorflow as tf

    import tfpose.ops as tfops
    from tfpose import numpy_ops

    from reference.maximum_ref import maximum_ref
    from reference.nms_ref import nms_ref
    from reference.resize_ref import resize_and_merge_ref

    net, _ = C.real_frame_output()
    _, h, w, c = net.shape
    H, W = 8 * h, 8 * w
    P = 18
    r = args.repeats
    cv2.setNumThreads(1)

    # OpenPose resizes each channel into its preallocated blob; so does the baseline (dst=), else it
    # would mostly time page faults of 57 fresh outputs.
    net_chw = np.ascontiguousarray(net[0].transpose(2, 0, 1))
    blob = np.empty((c, H, W), np.float32)

    def cv2_resize():
        for k in range(c):
            cv2.resize(net_chw[k], (W, H), dst=blob[k], interpolation=cv2.INTER_CUBIC)
        return blob

    maps = numpy_ops.resize_and_merge(net)
    heat = np.ascontiguousarray(maps[..., :P])
    heat_chw = np.ascontiguousarray(heat[0].transpose(2, 0, 1))
    net_t = tf.constant(net)
    heat_t = tf.constant(heat)

    def cv2_nms():
        out = []
        for k in range(P):
            m = heat_chw[k]
            dil = cv2.dilate(m, np.ones((3, 3), np.uint8))
            ys, xs = np.nonzero((m >= dil) & (m > 0.05))
            out.append((xs, ys))
        return out

    def cv2_maximum():
        return [cv2.minMaxLoc(heat_chw[k]) for k in range(P)]

    rows = []

    def add(op, impl, fn, base_ms=None, reps=r):
        ms = C.median_ms(fn, repeats=reps)
        rows.append([op, impl, ms, "" if base_ms is None else f"{base_ms / ms:.1f}x"])
        print(f"{op:18s} {impl:45s} {ms:9.3f} ms", flush=True)
        return ms

    # Resize: the baseline first, then tfpose, ratio = cv2 / tfpose.
    op = f"resize {w}x{h}x{c} -> {W}x{H}"
    base = add(op, "cv2.resize INTER_CUBIC per channel into a preallocated blob, 1 thread", cv2_resize)
    # OpenPose's CPU build links the distribution's OpenCV, built without Intel's IPP; the PyPI wheel
    # routes INTER_CUBIC through IPP, so both are shown.
    cv2.ipp.setUseIPP(False)
    add(op, "same, IPP off (as Debian's OpenCV under OpenPose)", cv2_resize, base)
    cv2.ipp.setUseIPP(True)
    add(op, "memory floor: np.empty + fill of the output", lambda: np.empty((1, H, W, c), np.float32).fill(1.0), base)
    add(op, "tfpose numpy entry, 1 thread", lambda: numpy_ops.resize_and_merge(net, threads=1), base)
    add(op, "tfpose numpy entry, 2 threads", lambda: numpy_ops.resize_and_merge(net, threads=2), base)
    add(
        op,
        "tfpose TF op (eager, intra-op pool; includes the .numpy() copy of 55 MB)",
        lambda: tfops.resize_and_merge(net_t).numpy(),
        base,
    )
    add(op, "numpy reference", lambda: resize_and_merge_ref([net]), base, reps=3)

    op = f"NMS {W}x{H}x{P}"
    base = add(op, "cv2.dilate 3x3 + compare per channel", cv2_nms)
    add(op, "tfpose numpy entry, 1 thread", lambda: numpy_ops.nms(heat, threads=1), base)
    add(op, "tfpose numpy entry, 2 threads", lambda: numpy_ops.nms(heat, threads=2), base)
    add(op, "tfpose TF op (eager)", lambda: [t.numpy() for t in tfops.nms(heat_t)], base)
    add(op, "numpy reference", lambda: nms_ref(heat), base, reps=3)

    op = f"maximum {W}x{H}x{P}"
    base = add(op, "cv2.minMaxLoc per channel", cv2_maximum)
    add(op, "tfpose numpy entry, 1 thread", lambda: numpy_ops.maximum(heat, threads=1), base)
    add(op, "tfpose TF op (eager)", lambda: tfops.maximum(heat_t).numpy(), base)
    add(op, "numpy reference", lambda: maximum_ref(heat), base, reps=3)

    # Placement: OpenPose's cv::warpAffine against tfpose's op and the TF-graph version it replaced.
    from tfpose import placement, sizing

    from reference import placement_ref

    cap = cv2.VideoCapture(str(C.DATA / "images/openpose_media/video.avi"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 60)
    frame = cap.read()[1]
    cap.release()
    g = sizing.compute_sizing(frame.shape)
    s, (nw, nh) = g.scale_ratios[0], g.net_wh[0]
    m = np.array([[s, 0, 0], [0, s, 0]], np.float64)
    batch = frame[None]
    place_ref = tf.function(
        lambda x: placement_ref.warp_top_left(x, tf.constant(s, tf.float64), tf.constant([nh, nw], tf.int32))
    )
    place_op = tf.function(lambda x: placement.warp_top_left(x, s, [nh, nw]))
    op = f"placement {frame.shape[1]}x{frame.shape[0]} -> {nw}x{nh}"
    base = add(
        op,
        "cv2.warpAffine INTER_AREA (OpenPose's), 1 thread",
        lambda: cv2.warpAffine(frame, m, (nw, nh), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT),
    )
    add(op, "tfpose numpy entry, 1 thread", lambda: numpy_ops.resize_fixed_aspect_ratio(batch, s, (nh, nw), 1), base)
    add(op, "tfpose numpy entry, 2 threads", lambda: numpy_ops.resize_fixed_aspect_ratio(batch, s, (nh, nw), 2), base)
    add(op, "tfpose TF op in tf.function", lambda: place_op(batch).numpy(), base)
    add(op, "previous TF-graph placement (tests/reference/placement_ref.py)", lambda: place_ref(batch).numpy(), base)

    body = (
        "## Dense ops (`benchmarks/bench_ops.py`)\n\n"
        f"Machine: {C.machine_line()}. Input: mobilenet_thin output of frame 60 of "
        "`video.avi` (1280x720, several people); placement: that frame itself. Median ms over repeats; speed-up = baseline / row, "
        "baseline = first row of each op, all measured in one run.\n\n"
        + C.markdown_table(["op", "implementation", "median ms", "speed-up vs baseline"], rows)
    )
    print(body)
    if not args.no_write:
        C.write_section("bench_ops", body)


if __name__ == "__main__":
    main()

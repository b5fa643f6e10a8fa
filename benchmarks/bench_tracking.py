"""Cost of person tracking (tfpose.PoseTracker) and One-Euro smoothing per frame, for 1 to 40 people,
against the post-processing of a frame with as many people, measured in the same run.

  post-processing   tfpose.numpy_ops.net_output_to_people(fast=True, 1 thread) on mobilenet_thin's
                    output of a 1280x720 frame of OpenPose's sample video (656x368 net input), and
                    on synthetic net outputs of the same size with k people (benchmarks/synthetic.py,
                    as in bench_pipeline.py's people table)
  tracker           PoseTracker.update per frame: optimal (scipy linear_sum_assignment) and greedy
                    assignment, and optimal + smoothing (One-Euro filter on every keypoint)
  peers             the schemes of lightweight-openpose and OpenPose's PersonIdExtractor
                    (benchmarks/peer_trackers.py; the extractor without its optical flow, as
                    these sequences have no images)

People are COCO_18 poses from the real frame's people, replicated over the image, each walking at
its own constant velocity with 1.5 px Gaussian keypoint noise and ~10% of parts missing per frame,
so every frame matches every person. Medians over 200 frames after 20 warm-up frames.

Usage: python benchmarks/bench_tracking.py [--quick]   (writes its table into benchmarks/README.md)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import _common

PEOPLE = (1, 5, 10, 20, 40)


def sequence(base: np.ndarray, n: int, frames: int, seed: int = 0):
    """Lists of Person for `frames` frames with n people built from real poses `base` [M, 18, 3]."""
    from tfpose.types import Person

    rng = np.random.default_rng(seed)
    pick = base[rng.integers(0, len(base), n)].astype(np.float64)
    for i in range(n):  # centre each pose, then spread the people over a 1280x720 image in a grid
        vis = pick[i, :, 2] > 0
        pick[i, vis, :2] -= pick[i, vis, :2].mean(0)
    cols = int(np.ceil(np.sqrt(n * 16 / 9)))
    start = np.array(
        [[(i % cols + 0.5) * 1280 / cols, (i // cols + 0.5) * 720 / max(1, int(np.ceil(n / cols)))] for i in range(n)]
    )
    vel = rng.normal(0, 3, (n, 2))
    out = []
    for t in range(frames):
        people = []
        for i in range(n):
            k = pick[i].copy()
            vis = (k[:, 2] > 0) & (rng.random(18) > 0.1)
            k[vis, :2] += start[i] + vel[i] * t + rng.normal(0, 1.5, (vis.sum(), 2))
            k[~vis] = 0
            people.append(Person(k.astype(np.float32), 1.0))
        out.append(people)
    return out


def time_tracker(frames, make=None, **kw) -> tuple[float, int]:
    """Median ms per update and the number of ids given (= n when no identity is lost); make: a
    tracker factory (default PoseTracker("COCO_18", **kw))."""
    from tfpose.tracking import PoseTracker

    tr = make() if make is not None else PoseTracker("COCO_18", **kw)
    times = []
    for i, people in enumerate(frames):
        t0 = time.perf_counter()
        tr.update(people)
        if i >= 20:
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), tr.next_id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer frames (a smoke run; table not written)")
    args = ap.parse_args()
    from tfpose import numpy_ops

    out, image_hw = _common.real_frame_output()
    kw = dict(net_input_size=(368, 656), image_size=image_hw, threads=1)
    keypoints, _, num = numpy_ops.net_output_to_people(out, fast=True, **kw)
    base = keypoints[0, : int(num[0])]
    post_ms = _common.median_ms(lambda: numpy_ops.net_output_to_people(out, fast=True, **kw), repeats=50)
    from peer_trackers import LightweightOpenposeTracker, OpenposeIdExtractor

    import synthetic

    n_frames = 60 if args.quick else 220
    rows = []
    for n in PEOPLE:
        synth = synthetic.render(n)[0]
        post_n = _common.median_ms(
            lambda synth=synth: numpy_ops.net_output_to_people(synth, fast=True, **kw), repeats=50
        )
        frames = sequence(base, n, n_frames)
        opt, ids_opt = time_tracker(frames)
        greedy, ids_greedy = time_tracker(frames, assignment="greedy")
        smooth, _ = time_tracker(frames, smooth=True)
        lw, _ = time_tracker(frames, LightweightOpenposeTracker)
        opx, _ = time_tracker(frames, OpenposeIdExtractor)
        rows.append(
            [
                n,
                post_n,
                opt,
                greedy,
                smooth,
                opt / post_n,
                smooth / post_n,
                smooth / post_ms,
                lw,
                opx,
                f"{ids_opt} / {ids_greedy}",
            ]
        )
        print(
            f"{n:3d} people: post-processing {post_n:.3f} ms; optimal {opt:.3f} ms, greedy {greedy:.3f} ms, "
            f"optimal+smooth {smooth:.3f} ms; ids {ids_opt}/{ids_greedy}",
            flush=True,
        )
    load = os.getloadavg()
    body = (
        f"`python benchmarks/bench_tracking.py` — {_common.machine_line()}; load average "
        f"{load[0]:.1f} during the run. Post-processing of the same real frame (fast path, 1 thread, "
        f"{len(base)} people found), measured in this run: **{post_ms:.3f} ms**; *post-processing, k "
        f"people*: the same on a synthetic net output of that size with k people. Tracker times are "
        f"medians per frame over {n_frames - 20} frames; every person is visible in every frame, so "
        f"the ids column (optimal / greedy) equals the people count when no identity was lost.\n\n"
        + _common.markdown_table(
            [
                "people / frame",
                "post-processing, k people (ms)",
                "tracking, optimal (ms)",
                "tracking, greedy (ms)",
                "optimal + One-Euro (ms)",
                "optimal / post-processing",
                "(optimal + One-Euro) / post-processing",
                "... / real frame's post-processing",
                "lightweight-openpose (ms)",
                "OpenPose PersonIdExtractor, no flow (ms)",
                "ids given",
            ],
            rows,
        )
    )
    print(body)
    if not args.quick:
        _common.write_section("bench_tracking", "## Tracking and smoothing (bench_tracking.py)\n\n" + body)


if __name__ == "__main__":
    main()

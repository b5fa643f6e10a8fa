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
so every frame matches every person. Interleaved: for each frame and tracker kind, one
post-processing of the k-people net output is timed, then the update of a tracker right after it
("after post-processing", as in a video pipeline), then the update of a second tracker of that kind
("warm": code and data in cache), each on its own copy of the frame's people; a change of machine
load moves numerator and denominator alike. Medians over 200 frames after 20 warm-up frames.

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


WARMUP = 20  # frames not timed


def time_interleaved(frames, post, makers: dict) -> tuple[float, dict, dict, dict]:
    """Per frame and tracker kind: time ``post()``, then the update of one tracker right after it
    ("after post-processing": its caches as a video pipeline leaves them), then the update of a
    second tracker of that kind at once ("warm": code and data in cache). Each update gets its own
    copy of the frame's people (smoothing replaces keypoints). A change of machine load moves
    numerator and denominator alike. makers: name -> tracker factory. Returns (post-processing
    median ms, {name: warm median ms per update}, {name: the same after post-processing}, {name:
    ids given, ``next_id``})."""
    from tfpose.types import Person

    pairs = {name: (make(), make()) for name, make in makers.items()}
    post_ms: list[float] = []
    warm: dict[str, list[float]] = {name: [] for name in makers}
    cold: dict[str, list[float]] = {name: [] for name in makers}
    for i, people in enumerate(frames):
        for name, (after_post, hot) in pairs.items():
            a = [Person(p.keypoints.copy(), p.score) for p in people]
            b = [Person(p.keypoints.copy(), p.score) for p in people]
            t0 = time.perf_counter()
            post()
            t1 = time.perf_counter()
            after_post.update(a)
            t2 = time.perf_counter()
            hot.update(b)
            t3 = time.perf_counter()
            if i >= WARMUP:
                post_ms.append((t1 - t0) * 1e3)
                cold[name].append((t2 - t1) * 1e3)
                warm[name].append((t3 - t2) * 1e3)
    ids = {name: hot.next_id for name, (_, hot) in pairs.items()}

    def med(d: dict) -> dict:
        return {name: statistics.median(v) for name, v in d.items()}

    return statistics.median(post_ms), med(warm), med(cold), ids


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

    from tfpose.tracking import PoseTracker

    import synthetic

    n_frames = 60 if args.quick else WARMUP + 200
    makers = {
        "optimal": lambda: PoseTracker("COCO_18"),
        "greedy": lambda: PoseTracker("COCO_18", assignment="greedy"),
        "smooth": lambda: PoseTracker("COCO_18", smooth=True),
        "lw": LightweightOpenposeTracker,
        "opx": OpenposeIdExtractor,
    }
    rows = []
    for n in PEOPLE:
        synth = synthetic.render(n)[0]
        post_n, ms, cold, ids = time_interleaved(
            sequence(base, n, n_frames),
            lambda synth=synth: numpy_ops.net_output_to_people(synth, fast=True, **kw),
            makers,
        )
        opt, smooth = ms["optimal"], ms["smooth"]
        rows.append(
            [
                n,
                post_n,
                opt,
                ms["greedy"],
                smooth,
                opt / post_n,
                smooth / post_n,
                cold["optimal"],
                cold["smooth"],
                cold["optimal"] / post_n,
                cold["smooth"] / post_n,
                ms["lw"],
                ms["opx"],
                f"{ids['optimal']} / {ids['greedy']}",
            ]
        )
        print(
            f"{n:3d} people: post-processing {post_n:.3f} ms; warm: optimal {opt:.3f} ms, greedy "
            f"{ms['greedy']:.3f} ms, optimal+smooth {smooth:.3f} ms; after post-processing: optimal "
            f"{cold['optimal']:.3f} ms, optimal+smooth {cold['smooth']:.3f} ms; ids {ids['optimal']}/{ids['greedy']}",
            flush=True,
        )
    load = os.getloadavg()
    body = (
        f"`python benchmarks/bench_tracking.py` — {_common.machine_line()}; load average "
        f"{load[0]:.1f} during the run. Post-processing of the same real frame (fast path, 1 thread, "
        f"{len(base)} people found), measured in this run: **{post_ms:.3f} ms**; *post-processing, k "
        f"people*: the same on a synthetic net output of that size with k people, timed right before "
        f"each tracker update (interleaved). *warm*: an update right after another tracker's update "
        f"of the same frame (code and data in cache); *after post-processing*: an update right after "
        f"the post-processing, as in a video pipeline (caches as the post-processing leaves them). "
        f"Times are medians per frame over "
        f"{n_frames - WARMUP} frames; every person is visible in every frame, so "
        f"the ids column (optimal / greedy) equals the people count when no identity was lost.\n\n"
        + _common.markdown_table(
            [
                "people / frame",
                "post-processing, k people (ms)",
                "tracking, optimal, warm (ms)",
                "tracking, greedy, warm (ms)",
                "optimal + One-Euro, warm (ms)",
                "optimal / post-processing, warm",
                "(optimal + One-Euro) / post-processing, warm",
                "optimal, after post-processing (ms)",
                "optimal + One-Euro, after post-processing (ms)",
                "optimal / post-processing, after it",
                "(optimal + One-Euro) / post-processing, after it",
                "lightweight-openpose, warm (ms)",
                "OpenPose PersonIdExtractor, no flow, warm (ms)",
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

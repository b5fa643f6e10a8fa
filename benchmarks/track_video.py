"""Person ids on real and synthetic video: how many ids the tracker gives against how many people
are there, and identity switches where the identities are known.

1. OpenPose's sample video (../shared/data/images/openpose_media/video.avi, 205 frames, 1280x720)
   with mobilenet_thin at OpenPose's default sizing: ids given, people per frame, how long each id
   lives; drawings coloured by id of every 20th frame are written to --drawings (to look at).
2. The synthetic scenarios of tests/synthetic_video.py (real people cut out of photographs moving
   over a real background): identity switches for tfpose's tracker (optimal and greedy
   assignment) and for frame-to-frame greedy matching without memory or motion prediction (what
   lightweight-openpose and mmpose's OKS tracking do; run with PoseTracker's own OKS, so only the
   matching strategy differs).

Usage: python benchmarks/track_video.py [--drawings DIR]   (writes its tables into benchmarks/README.md)
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

import numpy as np

import _common

sys.path.insert(0, str(_common.REPO / "tests"))

FRAME_TO_FRAME = dict(assignment="greedy", cascade=False, max_lost_frames=0, max_predict_frames=0)


def video_report(est, drawings: Path | None) -> str:
    import cv2

    from tfpose.draw import draw
    from tfpose.sources import VideoSource
    from tfpose.tracking import PoseTracker

    src = VideoSource(_common.DATA / "images/openpose_media/video.avi")
    frames = [f for f in src]
    t0 = time.perf_counter()
    people = est.estimate_batch([f.image for f in frames])
    net_s = time.perf_counter() - t0
    rows = []
    for label, kw in (
        ("tfpose, optimal", {}),
        ("tfpose, greedy", {"assignment": "greedy"}),
        ("frame-to-frame greedy, no memory", FRAME_TO_FRAME),
    ):
        tracker = PoseTracker("COCO_18", fps=frames[0].fps or 25.0, **kw)
        life = {}
        counts = []
        for f, ps in zip(frames, people, strict=True):
            ps = [copy.copy(p) for p in ps]
            tracker.update(ps, timestamp=f.timestamp, image_size=f.image.shape[:2])
            counts.append(len(ps))
            for p in ps:
                life.setdefault(p.person_id, []).append(f.index)
            if drawings is not None and label == "tfpose, optimal" and f.index % 20 == 0:
                drawings.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(drawings / f"video_{f.index:03d}.png"), draw(f.image, ps, "COCO_18", color_by_id=True))
        spans = sorted((len(v) for v in life.values()), reverse=True)
        long_ids = sum(1 for s in spans if s >= 20)
        rows.append(
            [
                label,
                tracker.next_id,
                long_ids,
                int(np.median(counts)),
                max(counts),
                f"{sum(spans[: max(counts)])} / {sum(counts)}",
            ]
        )
    body = (
        f"`python benchmarks/track_video.py` — OpenPose's `video.avi` ({len(frames)} frames, 1280x720), "
        f"mobilenet_thin at `-1x368` ({1000 * net_s / len(frames):.0f} ms per frame for network + "
        f"post-processing on this loaded machine). *people / frame*: people found per frame (median, max); "
        f"*ids ≥ 20 frames*: ids that last at least 20 frames; *detections in the longest ids*: detections "
        f"carried by the (max people per frame) longest-lived ids, out of all detections.\n\n"
        + _common.markdown_table(
            [
                "tracker",
                "ids given",
                "ids ≥ 20 frames",
                "people / frame (median)",
                "people / frame (max)",
                "detections in the longest ids",
            ],
            rows,
        )
    )
    return body


def synthetic_report(est) -> str:
    import synthetic_video as sv

    from tfpose.tracking import PoseTracker, keypoint_sigmas

    scene = sv.build_scene(est)
    sig = keypoint_sigmas("COCO_18")
    rows = []
    for sc in sv.scenarios():
        frames, where = sv.render(sc, scene)
        people = est.estimate_batch(frames)
        row = [sc.name, sc.frames]
        for kw in ({}, {"assignment": "greedy"}, FRAME_TO_FRAME):
            ps = [[copy.copy(p) for p in f] for f in people]
            tr = PoseTracker("COCO_18", **kw)
            for f in ps:
                tr.update(f, image_size=sv.FRAME_HW)
            r = sv.identity_switches(ps, where, scene.refs, sig)
            row.append(r["switches"])
        row.append(f"{r['found']} / {r['visible']}")
        rows.append(row)
        print(row, flush=True)
    desc = "\n".join(f"* *{sc.name}*: {sc.description}." for sc in sv.scenarios())
    return (
        "Identity switches on the synthetic scenarios of `tests/synthetic_video.py` (people cut out of "
        "real photographs moving over a real 640x360 background; mobilenet_thin):\n\n"
        + desc
        + "\n\n"
        + _common.markdown_table(
            [
                "scenario",
                "frames",
                "switches: tfpose optimal",
                "switches: tfpose greedy",
                "switches: frame-to-frame greedy, no memory",
                "person-frames found / drawn",
            ],
            rows,
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drawings", type=Path, default=None, help="folder for drawings of every 20th video frame")
    ap.add_argument("--no-write", action="store_true", help="print only, do not update benchmarks/README.md")
    args = ap.parse_args()
    from tfpose.estimator import Estimator

    est = Estimator(str(_common.MODELS / "tfpose_mobilenet_thin_graph_opt.pb"), batch_size=4)
    synth = synthetic_report(est)
    print(synth, flush=True)
    video = video_report(est, args.drawings)
    print(video)
    load = os.getloadavg()[0]
    if not args.no_write:
        _common.write_section(
            "track_video",
            "## Person ids on video (track_video.py)\n\n"
            + video
            + "\n\n"
            + synth
            + f"\n\nMachine: {_common.machine_line()}, load average {load:.1f}.",
        )


if __name__ == "__main__":
    main()

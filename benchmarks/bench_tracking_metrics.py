"""Person ids scored with py-motmetrics (IDF1, ID switches, MOTA) on sequences with known identities:
tfpose.PoseTracker against the schemes of lightweight-openpose and OpenPose (benchmarks/
peer_trackers.py), and the cost per frame of each.

Sequences (ground truth from how each is built, tests/tracking_scenarios.py):
  keypoint scenarios   real COCO poses on scripted paths, detections jittered, incomplete and split
                       into fragments (no images: OpenPose's optical-flow step is skipped)
  video scenarios      tests/synthetic_video.py (people cut out of photographs over a real
                       background), people found by mobilenet_thin
  real photos          shared photographs moved (3, 2) px per frame for 24 frames, people found by
                       mobilenet_thin (OpenPose's extractor gets the images for its optical flow)

py-motmetrics 1.4.0 has no HOTA (TrackEval has; see README "Tracking"), so HOTA is not reported.
Cost: seconds spent in the trackers' ``update`` over the sequence / frames (network excluded).

Usage: python benchmarks/bench_tracking_metrics.py [--quick] [--no-write]
  (--quick: keypoint scenarios only; the table goes into benchmarks/README.md unless --no-write)
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import _common

sys.path.insert(0, str(_common.REPO / "tests"))

PHOTOS = (
    "tf_pose_estimation/apink2.jpg",
    "tf_pose_estimation/apink3.jpg",
    "tf_pose_estimation/p3.jpg",
    "openpose_media/COCO_val2014_000000000192.jpg",
    "tf_pose_estimation/COCO_val2014_000000000357.jpg",
)


def trackers():
    from peer_trackers import LightweightOpenposeTracker, OpenposeIdExtractor

    from tfpose.tracking import PoseTracker

    return {
        "tfpose (optimal)": (lambda: PoseTracker("COCO_18"), False),
        "tfpose (greedy)": (lambda: PoseTracker("COCO_18", assignment="greedy"), False),
        "lightweight-openpose": (LightweightOpenposeTracker, True),
        "OpenPose PersonIdExtractor": (OpenposeIdExtractor, True),
    }


def score(scenarios) -> list:
    import tracking_scenarios as ts

    rows = []
    for sc in scenarios:
        for label, (make, images) in trackers().items():
            ts.run_tracker(make(), sc, images=images)  # warm-up (imports, caches)
            spent = []
            for _ in range(3):
                tracked, s = ts.run_tracker(make(), sc, images=images)
                spent.append(s)
            r = ts.evaluate(sc, tracked)
            n_gt = round(float(np.mean([len(f.gt_ids) for f in sc.frames])), 1)
            rows.append(
                [
                    sc.name,
                    len(sc.frames),
                    n_gt,
                    label,
                    r["idf1"],
                    r["switches"],
                    r["mota"],
                    r["fp"],
                    r["fn"],
                    1e3 * float(np.median(spent)) / len(sc.frames),
                ]
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="keypoint scenarios only (no network)")
    ap.add_argument("--no-write", action="store_true", help="print only, do not update benchmarks/README.md")
    args = ap.parse_args()
    import tracking_scenarios as ts

    scenarios = ts.scenarios()
    if not args.quick:
        import synthetic_video as sv

        from tfpose.estimator import Estimator

        est = Estimator(str(_common.MODELS / "tfpose_mobilenet_thin_graph_opt.pb"), batch_size=4)
        scene = sv.build_scene(est)
        scenarios += [ts.from_synthetic_video(est, s, scene) for s in sv.scenarios()]
        scenarios += [ts.translated_photo(est, _common.DATA / "images" / p) for p in PHOTOS]
    load0 = os.getloadavg()[0]
    rows = score(scenarios)
    load1 = os.getloadavg()[0]
    by = {}
    for r in rows:
        by.setdefault(r[3], []).append(r)
    summary = [
        [label, float(np.mean([r[4] for r in rs])), sum(r[5] for r in rs), float(np.mean([r[6] for r in rs]))]
        for label, rs in by.items()
    ]
    desc = "\n".join(f"* *{sc.name}*: {sc.description}." for sc in scenarios if not sc.name.startswith("video:"))
    body = (
        f"`python benchmarks/bench_tracking_metrics.py` — {_common.machine_line()}; load average "
        f"{load0:.1f} at the start, {load1:.1f} at the end. Scores by py-motmetrics 1.4.0 (a ground-truth "
        "person and a tracked person match when COCO's OKS, the ground truth as reference, is at least 0.5; "
        "a person without id, a fragment marked by tfpose, is no hypothesis). *ms / frame*: time in the "
        "tracker's `update` per frame, median of 3 runs (network excluded). Peers: `benchmarks/peer_trackers.py` "
        "(lightweight-openpose's greedy OKS frame to frame; OpenPose's PersonIdExtractor with its Lucas-Kanade "
        "flow where the sequence has images). HOTA: not computed (py-motmetrics has none).\n\n"
        + desc
        + "\n* *video: ...*: the scenarios of `tests/synthetic_video.py` above, people found by mobilenet_thin "
        "(a person hidden behind another or the pillar stays in the ground truth: misses for every tracker).\n\n"
        + _common.markdown_table(
            [
                "sequence",
                "frames",
                "people / frame",
                "tracker",
                "IDF1",
                "ID switches",
                "MOTA",
                "false positives",
                "misses",
                "ms / frame",
            ],
            rows,
        )
        + "\n\nOver all sequences:\n\n"
        + _common.markdown_table(["tracker", "mean IDF1", "ID switches in all", "mean MOTA"], summary)
    )
    print(body)
    if not args.no_write and not args.quick:
        _common.write_section(
            "bench_tracking_metrics", "## Person ids scored by py-motmetrics (bench_tracking_metrics.py)\n\n" + body
        )


if __name__ == "__main__":
    main()

"""Person ids scored with TrackEval (HOTA, DetA, AssA) and py-motmetrics (IDF1, ID switches, MOTA) on
sequences with known identities:
tfpose.PoseTracker against the schemes of lightweight-openpose and OpenPose (benchmarks/
peer_trackers.py), and the cost per frame of each.

Sequences (ground truth from how each is built, tests/tracking_scenarios.py):
  keypoint scenarios   real COCO poses on scripted paths, detections jittered, incomplete and split
                       into fragments, a person found only every few frames in a camera pan (no
                       images: OpenPose's optical-flow step is skipped)
  video scenarios      tests/synthetic_video.py (people cut out of photographs over a real
                       background, and the man in the pillar band), people found by mobilenet_thin
  real photos          shared photographs moved (3, 2) px per frame for 24 frames, people found by
                       mobilenet_thin (OpenPose's extractor gets the images for its optical flow);
                       people in a photograph outside the ground truth are distractors (MOT16's rule)

One similarity for all scores (tests/tracking_scenarios.evaluate): COCO's OKS, the ground truth as
reference; CLEAR MOT and IDF1 match at OKS >= 0.5, HOTA averages over thresholds 0.05 .. 0.95.
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

# The score columns of both tables, in the order of score()'s rows after sequence, frames, people, tracker.
SCORE_COLUMNS = ("HOTA", "DetA", "AssA", "IDF1", "ID switches", "MOTA", "false positives", "misses", "ms / frame")

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
                    r["hota"],
                    r["deta"],
                    r["assa"],
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


def _summary(rows: list) -> list:
    """Per tracker: the mean of HOTA, DetA, AssA, IDF1, MOTA and ms / frame over `rows` (score()'s),
    the sums of switches, false positives and misses."""
    by = {}
    for r in rows:
        by.setdefault(r[3], []).append(r)
    mean = lambda rs, i: float(np.mean([r[i] for r in rs]))  # noqa: E731
    return [
        [label, *(mean(rs, i) for i in (4, 5, 6, 7)), sum(r[8] for r in rs), mean(rs, 9)]
        + [sum(r[10] for r in rs), sum(r[11] for r in rs), mean(rs, 12)]
        for label, rs in by.items()
    ]


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
    built = {sc.name for sc in ts.scenarios()}
    summaries = [
        ("the keypoint scenarios", _summary([r for r in rows if r[0] in built])),
        ("all sequences", _summary(rows)),
    ]
    desc = "\n".join(f"* *{sc.name}*: {sc.description}." for sc in scenarios if not sc.name.startswith("video:"))
    body = (
        f"`python benchmarks/bench_tracking_metrics.py` — {_common.machine_line()}; load average "
        f"{load0:.1f} at the start, {load1:.1f} at the end. One similarity for every score: COCO's OKS with "
        "the ground truth as reference. HOTA, DetA, AssA: TrackEval 1.3.0 (Luiten et al. 2021; averaged over "
        "the OKS thresholds 0.05 .. 0.95, so jittered keypoints cost DetA even when every id is right); IDF1, "
        "ID switches, MOTA, false positives, misses: py-motmetrics 1.4.0 at OKS >= 0.5 (TrackEval's CLEAR and "
        "Identity give the same figures, tests/test_tracking_metrics.py). A person without id (a fragment "
        "marked by tfpose) is no hypothesis; a hypothesis on a distractor (a person in the image who is not in "
        "the ground truth) is removed first, MOT16's rule. *ms / frame*: time in the tracker's `update` per "
        "frame, median of 3 runs (network excluded; short sequences on a shared machine: a "
        "rough figure, not a comparison of tfpose's own variants; the cost against the post-processing is "
        "measured in `bench_tracking.py`). Peers: `benchmarks/peer_trackers.py` (lightweight-"
        "openpose's greedy OKS frame to frame; OpenPose's PersonIdExtractor with its Lucas-Kanade flow where "
        "the sequence has images).\n\n"
        + desc
        + "\n* *video: ...*: the scenarios of `tests/synthetic_video.py` above, people found by mobilenet_thin "
        "(a person hidden behind another or the pillar stays in the ground truth: misses for every tracker; "
        "the man seated in the pillar band, whom the network finds in every frame, is a fourth, static person "
        "of the ground truth).\n\n"
        + _common.markdown_table(
            ["sequence", "frames", "people / frame", "tracker", *SCORE_COLUMNS],
            rows,
        )
        + "".join(
            f"\n\nMean over {what} (each sequence weighs the same; counts summed):\n\n"
            + _common.markdown_table(
                ["tracker", *SCORE_COLUMNS],
                table,
            )
            for what, table in summaries
        )
    )
    print(body)
    if not args.no_write and not args.quick:
        _common.write_section(
            "bench_tracking_metrics",
            "## Person ids scored by TrackEval and py-motmetrics (bench_tracking_metrics.py)\n\n" + body,
        )


if __name__ == "__main__":
    main()

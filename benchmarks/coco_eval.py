"""COCO keypoint AP of the tfpose pipeline on shared/data/coco_mini/val2017 (pycocotools).

    python benchmarks/coco_eval.py [--scale-number 1 2] [--openpose-build cpu cuda]
                                   [--precision float32 bfloat16] [--no-write]
    python benchmarks/coco_eval.py --ablation [--no-write]

Writes its table into benchmarks/README.md (section "coco_eval"; with --ablation, section
"coco_ablation": tfpose's accuracy mode, each option alone and stacked, on the selection split (even
image ids, where the mode's settings were chosen), the held-out split (odd ids) and all images, with
the cost of each option as a ratio against the default measured interleaved image by image).

Conventions: ``tfpose.io.coco_results`` (the same writer as ``tfpose estimate --write-coco-json``):
COCO_18 parts are mapped to COCO's 17 keypoints (the neck is dropped); each detected person becomes
one result with visibility 1 for found parts (0 and x=y=0 for missing ones) and OpenPose's person
score as the result score. OpenPose's keypoints use the "+0.5" convention (the
centre of pixel i is i + 0.5, docs/algorithms/body.md §3); COCO's annotations are continuous coordinates of the same
kind, so keypoints are written unshifted; the table also gives AP with x, y - 0.5 to show the effect.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from _common import SHARED  # noqa: E402  (the one data-location rule)

REPO = Path(__file__).resolve().parents[1]
# shift -> pixel convention of tfpose.io.coco_results (the one owner of the COCO_18 -> COCO-17 order)
_CONVENTION = {0.0: "openpose", -0.5: "coco"}


def to_coco_results(image_id: int, people, shift: float) -> list[dict]:
    from tfpose import io as tio

    return tio.coco_results(image_id, people, "COCO_18", _CONVENTION[shift])


def evaluate(coco_gt, results, img_ids) -> dict:
    """pycocotools' keypoint evaluation of ``results`` on ``img_ids``: AP, AP50, AP75 and AR (maxDets 20)."""
    from pycocotools.cocoeval import COCOeval

    if not results:
        return {"AP": 0.0, "AP50": 0.0, "AP75": 0.0, "AR": 0.0}
    with contextlib.redirect_stdout(io.StringIO()):
        coco_dt = coco_gt.loadRes(results)
        ev = COCOeval(coco_gt, coco_dt, "keypoints")
        ev.params.imgIds = img_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {"AP": ev.stats[0], "AP50": ev.stats[1], "AP75": ev.stats[2], "AR": ev.stats[5]}


# The ablation's rows: (name, Estimator options, COCO pixel convention). "coco convention" is the
# default's detections written in COCO's convention (no extra run, the default's cost).
def _ablation_rows():
    from tfpose.options import ACCURACY_SETTINGS

    best = ACCURACY_SETTINGS["best"]
    scales = {"scale_number": best["scale_number"], "scale_gap": best["scale_gap"]}
    return [
        ("default (OpenPose)", {}, "openpose"),
        ("coco pixel convention", None, "coco"),
        ("flip", {"flip": True}, "openpose"),
        (f"{best['scale_number']} scales, gap {best['scale_gap']}", scales, "openpose"),
        (f"peak_refinement {best['peak_refinement']}", {"peak_refinement": best["peak_refinement"]}, "openpose"),
        ("connector thresholds " + _thresholds_text(best["thresholds"]), dict(best["thresholds"]), "openpose"),
        ("flip + scales", {"flip": True, **scales}, "openpose"),
        ("accuracy='best' (all stacked)", {"accuracy": "best"}, best["coco_pixel_convention"]),
    ]


def _thresholds_text(thresholds: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(thresholds.items()))


def ablation(coco_gt, img_ids, args) -> list:
    """Every option of the accuracy mode alone and stacked; returns the README section."""
    import tfpose

    rows = _ablation_rows()
    runs = [(name, opts) for name, opts, _ in rows if opts is not None]
    estimators = {name: tfpose.Estimator(args.model, **opts) for name, opts in runs}
    for est in estimators.values():
        est.estimate(np.zeros((368, 368, 3), np.uint8))  # trace once outside the timing
    people = {name: {} for name, _ in runs}
    seconds = {name: 0.0 for name, _ in runs}
    for img_id in img_ids:
        info = coco_gt.loadImgs(img_id)[0]
        img = cv2.imread(str(Path(args.data) / "val2017" / info["file_name"]))
        # interleaved: every configuration on this image, one after the other, so that a change in
        # the machine's load falls on all of them alike
        for name, _ in runs:
            t = time.perf_counter()
            people[name][img_id] = estimators[name].estimate(img)
            seconds[name] += time.perf_counter() - t
    default = runs[0][0]
    splits = {
        "all": img_ids,
        "even (selection)": [i for i in img_ids if i % 2 == 0],
        "odd (held out)": [i for i in img_ids if i % 2 == 1],
    }
    table = []
    for name, opts, convention in rows:
        source = default if opts is None else name
        res = {i: tio_coco(i, people[source][i], convention) for i in img_ids}
        m = {k: evaluate(coco_gt, [r for i in ids for r in res[i]], ids) for k, ids in splits.items()}
        ms = 1000 * seconds[source] / len(img_ids)
        table.append((name, m, ms, seconds[source] / seconds[default]))
    return table


def tio_coco(image_id, people, convention):
    from tfpose import io as tio

    return tio.coco_results(image_id, people, "COCO_18", convention)


def ablation_section(table, img_ids, model: str, seconds_note: str) -> str:
    import _common

    lines = [
        "## Accuracy mode ablation (`benchmarks/coco_eval.py --ablation`)",
        "",
        f"coco_mini val2017 ({len(img_ids)} images, pycocotools OKS AP; AR at 20 detections), model "
        f"{model}, net_resolution -1x368. The accuracy mode's settings (tfpose.options.ACCURACY_SETTINGS) "
        "were chosen on the even image ids (selection split) and are reported on the odd ids (held "
        "out) too. Cost: time per image of the whole pipeline (network included) divided by the "
        "default's, the configurations run one after the other on each image (interleaved), so a "
        f"change of load falls on all alike. {seconds_note}",
        "",
        "| option | AP | AP50 | AP75 | AR | AP even (selection) | AP odd (held out) | cost vs default | ms/image | frames/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m, ms, ratio in table:
        a = m["all"]
        lines.append(
            f"| {name} | {a['AP']:.3f} | {a['AP50']:.3f} | {a['AP75']:.3f} | {a['AR']:.3f} | "
            f"{m['even (selection)']['AP']:.3f} | {m['odd (held out)']['AP']:.3f} | {ratio:.2f}x | {ms:.0f} | "
            f"{1000 / ms:.1f} |"
        )
    lines += ["", f"Machine: {_common.machine_line()}."]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(SHARED / "data/models/tfpose_mobilenet_thin_graph_opt.pb"))
    ap.add_argument("--data", default=str(SHARED / "data/coco_mini"))
    ap.add_argument("--scale-number", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--openpose-build", nargs="+", default=["cpu", "cuda"])
    ap.add_argument(
        "--precision",
        nargs="+",
        default=None,
        help="network precisions (default: float32, plus bfloat16 at 1 scale, cpu build, "
        "where the CPU has the instructions)",
    )
    ap.add_argument("--no-write", action="store_true", help="print only, leave README.md alone")
    ap.add_argument(
        "--ablation",
        action="store_true",
        help="the accuracy mode's ablation (each option alone and stacked, cost interleaved) instead",
    )
    args = ap.parse_args(argv)
    from pycocotools.coco import COCO

    import tfpose

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(str(Path(args.data) / "annotations/person_keypoints_val2017.json"))
    img_ids = sorted(coco_gt.getImgIds())
    if args.ablation:
        load_before = os.getloadavg()
        table = ablation(coco_gt, img_ids, args)
        load_after = os.getloadavg()
        note = (
            f"Load average (1 min) {load_before[0]:.1f} before and {load_after[0]:.1f} after the run "
            "(other engineers' jobs shared the machine)."
        )
        text = ablation_section(table, img_ids, Path(args.model).name, note)
        print(text)
        if not args.no_write:
            import _common

            _common.write_section("coco_ablation", text)
        return 0
    from tfpose import precision as tprecision

    configs = [(b, n, "float32") for b in args.openpose_build for n in args.scale_number]
    if args.precision is None:
        if set(tprecision.BF16_CPU_FLAGS) & tprecision.cpu_flags():
            configs.append((args.openpose_build[0], args.scale_number[0], "bfloat16"))
    else:
        configs = [(b, n, p) for p in args.precision for b, n, _ in configs]
    rows = []
    for build, sn, prec in configs:
        est = tfpose.Estimator(args.model, scale_number=sn, openpose_build=build, precision=prec)
        est.estimate(np.zeros((368, 368, 3), np.uint8))  # trace once outside the timing
        people_by_id, seconds = {}, 0.0
        for img_id in img_ids:
            info = coco_gt.loadImgs(img_id)[0]
            img = cv2.imread(str(Path(args.data) / "val2017" / info["file_name"]))
            t = time.perf_counter()
            people_by_id[img_id] = est.estimate(img)
            seconds += time.perf_counter() - t
        for shift in (0.0, -0.5):
            res = [r for i in img_ids for r in to_coco_results(i, people_by_id[i], shift)]
            m = evaluate(coco_gt, res, img_ids)
            rows.append((build, sn, prec, shift, m, 1000 * seconds / len(img_ids)))
    model = Path(args.model).name
    sys.path.insert(0, str(REPO / "benchmarks"))
    import _common

    lines = [
        "## COCO keypoint accuracy (`benchmarks/coco_eval.py`)",
        "",
        f"coco_mini val2017 ({len(img_ids)} images, pycocotools OKS AP), model {model}, OpenPose's "
        "sizing (net_resolution -1x368, top-left placement), scale gap 0.25. Keypoints are written as "
        "OpenPose reports them (shift +0.0, the +0.5 pixel convention of docs/algorithms/body.md §3); the -0.5 rows show "
        "the same detections shifted to COCO's pixel-centre convention. ms/image is the whole "
        f"pipeline (network included) on {_common.machine_line()}, measured while other jobs shared "
        "the machine.",
        "",
        "Reference (DESIGN.md, same images and sizing): OpenPose CPU build's own post-processing "
        "0.282 (1 scale) / 0.288 (2 scales); tf-pose-estimation's 0.253.",
        "",
        "Precision is the network's (`--precision`, tfpose.precision); the post-processing is float32 in every row.",
        "",
        "| openpose_build | scales | precision | x,y shift | AP | AP50 | AP75 | ms/image |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for build, sn, prec, shift, m, ms in rows:
        lines.append(
            f"| {build} | {sn} | {prec} | {shift:+.1f} | {m['AP']:.3f} | {m['AP50']:.3f} | {m['AP75']:.3f} | {ms:.0f} |"
        )
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        _common.write_section("coco_eval", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

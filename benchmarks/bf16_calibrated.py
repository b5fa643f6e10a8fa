"""Calibrated bfloat16 kernels for the bundled network (issue 25): which rounding of the float32
kernels to bfloat16 keeps COCO AP, measured on coco_mini val2017 at 1 and 2 scales.

    python benchmarks/bf16_calibrated.py [--recipes float32 grappler bf16 bias gptq split:REGEX
                                         perturb:SEED rtn-emulated ...] [--scale-number 1 2]
                                         [--noise 1 --seeds 0 1 2 3] [--rounds 9]

Recipes (every one runs the same all-bfloat16 graph of bf16_error_sources.mixed_graph, so they cost
the same; only the bfloat16 values chosen for the kernels differ):

* ``bf16``: round to nearest (what Grappler's pass does);
* ``bias``: round to nearest + bias correction (Nagel et al. 2019; bf16_error_sources.bias_corrected);
* ``gptq``: each kernel rounded to bfloat16 column by column with the rounding error of each input
  channel pushed onto the not yet rounded ones through the inverse of the layer's input Gram matrix
  H = E[x x^T] (the optimal brain surgeon update of GPTQ, Frantar et al., ICLR 2023, with the bfloat16
  grid as the quantiser): it minimises E|(W_bf16 - W)^T x|^2 per layer instead of |W_bf16 - W|;
  depthwise kernels per channel with their 3x3 patch Gram matrix; then bias correction on top.
* ``split:REGEX``: W = bf16(W) + bf16(W - bf16(W)) on the convolutions whose names match REGEX (two
  bfloat16 convolutions summed: ~16 significant bits of kernel), round to nearest elsewhere; costs
  a second convolution per split layer;
* ``f32:REGEX`` / ``bias-f32:REGEX``: bf16 (or bias-corrected bf16) with the layers whose names
  match REGEX kept float32;
* ``lib-bias`` / ``lib-bias-sample``: tfpose.precision.bias_corrected (means from the calibration
  images / from the packaged sample image alone) under ``Estimator(precision="bfloat16")``: the
  library's route;
* ``grappler``: the float32 graph under ``Estimator(precision="bfloat16")`` (today's bf16);
* ``float32``; ``rtn-emulated``: kernels rounded to nearest, all arithmetic float32;
  ``perturb:SEED``: float32 arithmetic, every kernel weight moved by a random error distributed as
  round-to-nearest's (uniform within half a bfloat16 unit in the last place): an "equally good"
  bfloat16-sized perturbation, to measure how far AP moves by chance.

Calibration: the non-COCO images of shared/data/images/tf_pose_estimation at heights 368 and 280
(never the evaluation images). ``--seeds``: 0 evaluates the images as they are; n > 0 adds uniform
integer noise of +-``--noise`` grey levels (seed n, the same noise for every recipe), so each recipe
gets several paired draws and the spread of coco_mini's AP under changes that mean nothing shows.
``--rounds N``: the network alone on 1x368x656x3, every recipe interleaved, medians.
Prints lines and a summary per recipe (mean, sd, paired delta vs float32); writes nothing.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import time

import cv2
import numpy as np
from bf16_error_sources import COMPUTE, MODEL, OUTPUT, _tf, bias_corrected, emulated_graph, graph_fn, mixed_graph

from tfpose.precision import round_bfloat16 as round_bf16  # noqa: E402

from _common import SHARED, machine_line  # noqa: E402

CONVS = ("Conv2D", "DepthwiseConv2dNative")


def calibration_images() -> list[str]:
    """Non-COCO images of shared/data/images/tf_pose_estimation (as bf16_error_sources)."""
    return [
        p
        for p in sorted(glob.glob(str(SHARED / "data/images/tf_pose_estimation/*")))
        if not re.search(r"COCO|hand|cat", os.path.basename(p))
    ]


def gram_matrices(gd, images, heights=(368, 280)):
    """Per convolution: (mean of its im2col input [K], Gram matrix E[p p^T] [K, K]) for Conv2D;
    for depthwise ([C, kk] means, [C, kk, kk] per-channel Gram matrices). float64."""
    tf, _, _, tensor_util = _tf()
    by = {n.name: n for n in gd.node}
    convs = [n for n in gd.node if n.op in CONVS]
    names = sorted({c.input[0] for c in convs})
    acc = {c.name: [0.0, 0.0, 0] for c in convs}
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3])
        tf.graph_util.import_graph_def(gd, input_map={"image:0": x}, name="")
        fetch = [x if t == "image" else g.get_tensor_by_name(t if ":" in t else t + ":0") for t in names]
        sess = tf.compat.v1.Session(graph=g)
    for path in images:
        im = cv2.imread(path)
        for h in heights:
            w = max(16, int(round(im.shape[1] * h / im.shape[0] / 8)) * 8)
            batch = cv2.resize(im, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)[None]
            vals = dict(zip(names, sess.run(fetch, {x: batch}), strict=True))
            for c in convs:
                k = tensor_util.MakeNdarray(by[c.input[1]].attr["value"].tensor)
                kh, kw = k.shape[:2]
                s = list(c.attr["strides"].list.i)
                v = vals[c.input[0]]
                if (kh, kw, s[1]) == (1, 1, 1):
                    p = v.reshape(-1, v.shape[-1])
                else:
                    p = tf.image.extract_patches(
                        v, [1, kh, kw, 1], [1, s[1], s[2], 1], [1, 1, 1, 1], c.attr["padding"].s.decode()
                    ).numpy()
                    p = p.reshape(-1, p.shape[-1])
                a = acc[c.name]
                if c.op == "Conv2D":
                    a[0] = a[0] + p.sum(0, dtype=np.float64)
                    a[1] = a[1] + (p.T @ p).astype(np.float64)
                else:
                    q = p.reshape(p.shape[0], kh * kw, -1)  # [pixels, kk, C]
                    a[0] = a[0] + q.sum(0, dtype=np.float64).T
                    a[1] = a[1] + np.einsum("nkc,nlc->ckl", q, q).astype(np.float64)
                a[2] += p.shape[0]
    sess.close()
    return {k: (a[0] / a[2], a[1] / a[2]) for k, a in acc.items()}


def gptq_round(w, h, damp=0.01):
    """bfloat16 values for kernels w [B, K, O] (one input row at a time, GPTQ's error feedback)
    given input Gram matrices h [B, K, K]; returns float32 [B, K, O] holding bfloat16 values."""
    w = w.astype(np.float64).copy()
    b, k, _ = w.shape
    d = np.einsum("bkk->bk", h)
    h = h + (damp * d.mean(1) + 1e-9)[:, None, None] * np.eye(k)
    hinv = np.transpose(np.linalg.cholesky(np.linalg.inv(h)), (0, 2, 1))  # upper factor, as GPTQ
    q = np.empty_like(w)
    for i in range(k):
        q[:, i] = round_bf16(w[:, i])
        err = (w[:, i] - q[:, i]) / hinv[:, i, i][:, None]
        w[:, i + 1 :] -= hinv[:, i, i + 1 :, None] * err[:, None, :]
    return q.astype(np.float32)


def gptq_kernels(gd, grams):
    """GPTQ-rounded bfloat16 kernels (float32 storage), by kernel constant name."""
    _, _, _, tensor_util = _tf()
    nodes = {n.name: n for n in gd.node}
    kernels = {}
    for c in [n for n in gd.node if n.op in CONVS]:
        wn = nodes[c.input[1]]
        w = tensor_util.MakeNdarray(wn.attr["value"].tensor)
        _, h = grams[c.name]
        if c.op == "Conv2D":
            q = gptq_round(w.reshape(1, -1, w.shape[-1]), h[None]).reshape(w.shape)
        else:
            kh, kw, ch, m = w.shape
            if m != 1:
                raise ValueError(f"{c.name}: depth multiplier {m} not handled")
            flat = w.reshape(kh * kw, ch).T[:, :, None]  # [C, kk, 1]
            q = gptq_round(flat, h)[:, :, 0].T.reshape(w.shape)
        kernels[c.input[1]] = q
    return kernels


def _precision_of(recipe):
    """The Estimator precision a recipe runs under: the library's routes use Grappler's bf16 pass;
    the GraphDef recipes carry their own bfloat16 ops."""
    return "bfloat16" if recipe in ("grappler", "lib-bias", "lib-bias-sample") else "float32"


def gd_lib(gd, recipe, grams):
    """precision.bias_corrected with means from conv_input_means over the calibration images
    ("lib-bias") or the packaged sample image alone ("lib-bias-sample")."""
    from tfpose import data, precision

    paths = [str(data.sample_image())] if recipe == "lib-bias-sample" else calibration_images()
    return precision.bias_corrected(gd, precision.conv_input_means(gd, [cv2.imread(p) for p in paths]))


def split_graph(gd, pattern):
    """GraphDef where each convolution whose name matches ``pattern`` runs twice, on hi = bf16(W)
    and lo = bf16(W - hi), the two outputs added (AddV2): a kernel of ~16 significant bits."""
    tf, node_def_pb2, _, tensor_util = _tf()
    out = tf.compat.v1.GraphDef()
    by = {n.name: n for n in gd.node}
    chosen = {n.name for n in gd.node if n.op in CONVS and re.search(pattern, n.name)}
    for n in gd.node:
        m = out.node.add()
        m.CopyFrom(n)
        m.input[:] = [i + "/sum" if i in chosen else i for i in n.input]
        if n.name not in chosen:
            continue
        w = tensor_util.MakeNdarray(by[n.input[1]].attr["value"].tensor)
        hi = round_bf16(w)
        lo = round_bf16(w - hi)
        for suffix, val in (("/hi", hi), ("/lo", lo)):
            k = out.node.add(name=n.input[1] + suffix, op="Const")
            k.attr["dtype"].type = by[n.input[1]].attr["dtype"].type
            k.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(val))
        m.input[1] = n.input[1] + "/hi"
        lo_conv = out.node.add()
        lo_conv.CopyFrom(n)
        lo_conv.name = n.name + "/lo"
        lo_conv.input[1] = n.input[1] + "/lo"
        add = out.node.add(name=n.name + "/sum", op="AddV2", input=[n.name, lo_conv.name])
        add.attr["T"].CopyFrom(n.attr["T"])
    return out


def perturbed_graph(gd, seed):
    """float32 GraphDef whose kernels carry a random error distributed as round-to-nearest's
    (uniform within half a bfloat16 unit in the last place of each weight), seeded."""
    tf, _, _, tensor_util = _tf()
    rng = np.random.default_rng(seed)
    out = tf.compat.v1.GraphDef()
    out.CopyFrom(gd)
    nodes = {n.name: n for n in out.node}
    for c in [n for n in out.node if n.op in CONVS]:
        wn = nodes[c.input[1]]
        w = tensor_util.MakeNdarray(wn.attr["value"].tensor)
        ulp = np.ldexp(1.0, np.frexp(w)[1] - 8)  # bfloat16: 8 significant bits
        wn.attr["value"].tensor.CopyFrom(
            tensor_util.make_tensor_proto((w + rng.uniform(-0.5, 0.5, w.shape) * ulp).astype(np.float32))
        )
    return out


def corrected_means(grams, gd):
    """Per conv input tensor: its per-channel mean (for bias_corrected), from the Gram pass."""
    tf, _, _, tensor_util = _tf()
    by = {n.name: n for n in gd.node}
    means = {}
    for c in [n for n in gd.node if n.op in CONVS]:
        mu, _ = grams[c.name]
        k = tensor_util.MakeNdarray(by[c.input[1]].attr["value"].tensor)
        cin = k.shape[2]
        if c.op == "Conv2D":
            means[c.input[0]] = mu.reshape(-1, cin)[(k.shape[0] // 2) * k.shape[1] + k.shape[1] // 2]
        else:
            means[c.input[0]] = mu[:, (k.shape[0] // 2) * k.shape[1] + k.shape[1] // 2]
    return means


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipes", nargs="+", default=["float32", "bf16", "bias", "gptq"])
    ap.add_argument("--scale-number", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--noise", type=int, default=0, help="grey levels of uniform integer noise (images stay uint8)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="0: the images as they are; n: noise seed n")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--write-means", default=None, help="write the calibration means of the model (npz) and stop")
    ap.add_argument("--peak-refinement", default=None, help="Estimator peak_refinement (default: OpenPose's none)")
    args = ap.parse_args(argv)
    tf = _tf()[0]
    import contextlib
    import io

    import coco_eval
    from pycocotools.coco import COCO

    import tfpose
    from tfpose import precision
    from tfpose.network import Network

    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(MODEL.read_bytes())
    compute = {n.name for n in gd.node if n.op in COMPUTE} - {OUTPUT}
    if args.write_means:
        from tfpose import precision

        paths = calibration_images()
        means = precision.conv_input_means(gd, [cv2.imread(p) for p in paths])
        precision.save_calibration_means(args.write_means, gd, means, [os.path.basename(p) for p in paths])
        print(f"wrote {args.write_means}: {len(means)} tensors from {len(paths)} images")
        return 0
    t0 = time.time()
    need = {r.split(":")[0] for r in args.recipes} & {"bias", "gptq", "bias-f32", "lib-bias"}
    grams = gram_matrices(gd, calibration_images()) if need else None
    print(f"calibration {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    graphs = {}
    for r in args.recipes:
        if r in ("float32", "grappler"):  # grappler: Estimator(precision="bfloat16") on the float32 graph
            graphs[r] = gd
        elif r == "bf16":
            graphs[r] = mixed_graph(gd, compute)
        elif r == "bias":
            graphs[r] = mixed_graph(bias_corrected(gd, corrected_means(grams, gd)), compute)
        elif r == "gptq":
            t0 = time.time()
            kernels = gptq_kernels(gd, grams)
            print(f"gptq {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
            graphs[r] = mixed_graph(bias_corrected(gd, corrected_means(grams, gd), kernels), compute)
        elif r.startswith("f32:") or r.startswith("bias-f32:"):  # bf16 but the matching layers float32
            base = bias_corrected(gd, corrected_means(grams, gd)) if r.startswith("bias") else gd
            keep = {c for c in compute if re.search(r.split(":", 1)[1], c)}
            graphs[r] = mixed_graph(base, compute - keep)
        elif r in ("lib-bias", "lib-bias-sample"):  # the library's path: corrected float32 graph, Grappler pass
            graphs[r] = gd_lib(gd, r, grams)
        elif r.startswith("split:"):
            sg = split_graph(gd, r.split(":", 1)[1])
            graphs[r] = mixed_graph(
                sg, {n.name for n in sg.node if n.op in COMPUTE + ("AddV2",)} - {OUTPUT}, COMPUTE + ("AddV2",)
            )
        elif r.startswith("perturb:"):
            graphs[r] = perturbed_graph(gd, int(r.split(":", 1)[1]))
        elif r == "rtn-emulated":
            graphs[r] = emulated_graph(gd, kernels=True)
    data = SHARED / "data/coco_mini"
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(data / "annotations/person_keypoints_val2017.json"))
    ids = sorted(gt.getImgIds())
    images = {i: cv2.imread(str(data / "val2017" / gt.loadImgs(i)[0]["file_name"])) for i in ids}
    seeds = args.seeds
    aps = {}
    for seed in seeds:  # seed 0: the images as they are; others: the same noise for every recipe
        rng = np.random.default_rng(seed)
        ims = images
        if seed:
            ims = {
                i: np.clip(im + rng.integers(-args.noise, args.noise + 1, im.shape), 0, 255).astype(np.uint8)
                for i, im in images.items()
            }
        for name, g in graphs.items():
            net = Network(fn=graph_fn(g), normalization="none", pose_model="COCO_18", channels=57, source=name)
            prec = _precision_of(name)
            for sn in args.scale_number:
                t0 = time.time()
                est = tfpose.Estimator(net, scale_number=sn, precision=prec, peak_refinement=args.peak_refinement)
                res = [r for i in ids for r in coco_eval.to_coco_results(i, est.estimate(ims[i]), 0.0)]
                a = aps[name, sn, seed] = coco_eval.evaluate(gt, res, ids)["AP"]
                print(
                    f"{name} seed {seed} scales={sn}: AP {a:.4f} ({time.time() - t0:.0f} s, load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    for name in graphs:
        for sn in args.scale_number:
            v = np.array([aps[name, sn, s] for s in seeds])
            d = v - np.array([aps["float32", sn, s] for s in seeds]) if "float32" in graphs else v * np.nan
            print(
                f"SUMMARY {name} scales={sn}: AP mean {v.mean():.4f} sd {v.std(ddof=1) if len(v) > 1 else 0:.4f} "
                f"min {v.min():.4f} max {v.max():.4f}; paired delta vs float32 mean {d.mean():+.4f} "
                f"sd {d.std(ddof=1) if len(d) > 1 else 0:.4f} over {len(v)} runs"
            )
    if args.rounds:
        x = tf.constant(np.random.default_rng(0).uniform(0, 255, (1, 368, 656, 3)).astype(np.float32))
        fns = {k: graph_fn(g) for k, g in graphs.items()}
        times = {k: [] for k in fns}
        for k in fns:
            with precision.precision_scope(_precision_of(k)):
                fns[k](x)
        for _ in range(args.rounds):
            for k in fns:
                with precision.precision_scope(_precision_of(k)):
                    t = time.perf_counter()
                    fns[k](x)[0].numpy()
                    times[k].append(time.perf_counter() - t)
        base = np.median(times[next(iter(fns))])
        for k in fns:
            print(
                f"{k}: {1e3 * np.median(times[k]):.0f} ms, {base / np.median(times[k]):.2f}x vs {next(iter(fns))} (load {os.getloadavg()[0]:.1f})"
            )
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())

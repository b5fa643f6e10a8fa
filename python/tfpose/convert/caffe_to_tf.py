"""Builds a TensorFlow graph equivalent to a Caffe pose network and saves it.

The graph takes ``image`` float32 [N, H, W, 3], BGR 0..255 (like tf-pose-estimation's graphs), applies
OpenPose's input normalisation ``x / 256 - 0.5`` and runs the Caffe layers in NHWC with Caffe's own
rules (explicit padding, pooling output size rounded up, PReLU slopes per channel). Height and width
are dynamic. The output tensor is named after the final layer (``concat_stage7`` for OpenPose's COCO
and MPI models, ``net_output`` for BODY_25).

TensorFlow is imported only inside the functions that need it.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from tfpose.convert.caffe_proto import (
    Blob,
    CaffeModel,
    ConversionError,
    LayerDef,
    Message,
    NetDef,
    parse_prototxt,
    read_caffemodel,
)

SUPPORTED_TYPES = ("Input", "Convolution", "ReLU", "PReLU", "Pooling", "Concat")

# Caffe's axis in NCHW -> TensorFlow's axis in NHWC.
_NCHW_TO_NHWC_AXIS = {0: 0, 1: 3, 2: 1, 3: 2}


@dataclass
class PlannedLayer:
    """A Caffe layer ready to build: its kind, inputs/output (SSA names), attributes, expected blobs.

    ``blob_shapes`` are in Caffe's order (convolution weights [O, I/group, KH, KW]).
    """

    layer: LayerDef
    inputs: list[str]
    output: str
    attrs: dict
    blob_names: list[str]
    blob_shapes: list[tuple[int, ...]]
    channels: int  # channels of the output (C)


@dataclass
class Plan:
    """The layers to build in order, the graph input's Caffe blob name, the output name and channels."""

    input_blob: str
    layers: list[PlannedLayer]
    output_name: str
    output_channels: int

    @property
    def parameters(self) -> int:
        return sum(math.prod(s) for p in self.layers for s in p.blob_shapes)


@dataclass
class ConversionSummary:
    """What a conversion produced."""

    output: str
    format: str
    input_name: str
    output_name: str
    output_channels: int
    layers: int
    layer_types: dict[str, int]
    parameters: int
    caffemodel_bytes: int
    seconds: float
    unused_caffemodel_layers: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        types = ", ".join(f"{k} {v}" for k, v in sorted(self.layer_types.items()))
        tensor = (
            f"{self.input_name}:0 -> {self.output_name}:0"
            if self.format == "frozen"
            else (f"signature serving_default: {self.input_name} -> {self.output_name}")
        )
        lines = [
            f"wrote {self.format} model {self.output}",
            f"  layers: {self.layers} ({types})",
            f"  parameters: {self.parameters:,}",
            f"  {tensor} (float32 [N,H,W,3] BGR 0..255 -> [N,H/8,W/8,{self.output_channels}])",
            f"  output channels: {self.output_channels}",
            f"  time: {self.seconds:.1f} s",
        ]
        if self.unused_caffemodel_layers:
            lines.append(f"  caffemodel layers not in the prototxt (ignored): {len(self.unused_caffemodel_layers)}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Planning: check the prototxt and work out every blob's shape
# ----------------------------------------------------------------------------------------------


def _spatial(params: Message, layer: str, name: str, default: int | None) -> tuple[int, int]:
    """A 2-D spatial parameter given as `name` (1 or 2 values) or `name_h`/`name_w`."""
    values = params.ints(name)
    h = params.int(f"{name}_h")
    w = params.int(f"{name}_w")
    if h is not None or w is not None:
        if values:
            raise ConversionError(f"gives both {name} and {name}_h/{name}_w", layer=layer)
        if h is None or w is None:
            raise ConversionError(f"{name}_h and {name}_w must be given together", layer=layer)
        return h, w
    if not values:
        if default is None:
            raise ConversionError(f"{name} is required", layer=layer)
        return default, default
    if len(values) == 1:
        return values[0], values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise ConversionError(
        f"only 2-D layers are supported; {name}", layer=layer, expected="1 or 2 values", actual=f"{len(values)} values"
    )


def _count(layer: LayerDef, what: str, values: list, expected: str, ok: bool) -> None:
    if not ok:
        raise ConversionError(
            f"{layer.type} takes {expected} {what}",
            layer=layer.name,
            expected=expected,
            actual=f"{len(values)} ({', '.join(values) or 'none'})",
        )


def plan_network(net: NetDef, output_layer: str | None = None) -> Plan:
    """Checks a parsed prototxt and returns the layers needed for the output, with blob shapes.

    Raises ConversionError naming the layer for an unknown type, an unsupported parameter, a
    missing input blob or wrong channel counts.
    """
    if len(net.inputs) != 1:
        raise ConversionError(
            "the network must declare exactly one input (the image)",
            expected="1 input",
            actual=f"{len(net.inputs)} ({[n for n, _ in net.inputs]})",
        )
    input_blob, input_shape = net.inputs[0]
    if input_shape is not None and (len(input_shape) != 4 or input_shape[1] != 3):
        raise ConversionError(
            f"input {input_blob!r} must be an NCHW image with 3 channels",
            expected="[N, 3, H, W]",
            actual=list(input_shape),
        )

    unknown = [(layer.name, layer.type) for layer in net.layers if layer.type not in SUPPORTED_TYPES]
    if unknown:
        name, type_ = unknown[0]
        raise ConversionError(f"unsupported layer type {type_!r} (supported: {', '.join(SUPPORTED_TYPES)})", layer=name)

    if output_layer is None:
        output_layer = net.layers[-1].name
    names = [layer.name for layer in net.layers]
    if output_layer not in names:
        raise ConversionError(f"output layer {output_layer!r} is not in the prototxt")

    # SSA names: every write to a Caffe blob (in-place layers write their input) gets a new name.
    current: dict[str, str] = {input_blob: input_blob}
    channels: dict[str, int] = {input_blob: 3}
    planned: list[PlannedLayer] = []
    for layer in net.layers:
        p = layer.params
        for bottom in layer.bottoms:
            if bottom not in current:
                raise ConversionError(
                    f"reads blob {bottom!r}, which no earlier layer or input produces", layer=layer.name
                )
        inputs = [current[b] for b in layer.bottoms]
        in_channels = [channels[i] for i in inputs]
        _count(layer, "top blob", layer.tops, "exactly 1", len(layer.tops) == 1)
        if layer.type == "Concat":
            _count(layer, "bottom blobs", layer.bottoms, "at least 1", len(layer.bottoms) >= 1)
        else:
            _count(layer, "bottom blob", layer.bottoms, "exactly 1", len(layer.bottoms) == 1)
        attrs: dict = {}
        blob_names: list[str] = []
        blob_shapes: list[tuple[int, ...]] = []
        c_in = in_channels[0]
        c_out = c_in

        if layer.type == "Convolution":
            cp = p.message("convolution_param")
            num_output = cp.int("num_output")
            if num_output is None or num_output <= 0:
                raise ConversionError(
                    "convolution_param.num_output must be positive", layer=layer.name, expected="> 0", actual=num_output
                )
            if cp.int("axis", 1) not in (1, -3):
                raise ConversionError(
                    "only channel-axis convolution is supported",
                    layer=layer.name,
                    expected="axis 1",
                    actual=cp.int("axis"),
                )
            kernel = (
                _spatial(cp, layer.name, "kernel", None)
                if (cp.has("kernel_h") or cp.has("kernel_w"))
                else _spatial(cp, layer.name, "kernel_size", None)
            )
            stride = _spatial(cp, layer.name, "stride", 1)
            pad = _spatial(cp, layer.name, "pad", 0)
            dilation = _spatial(cp, layer.name, "dilation", 1)
            group = cp.int("group", 1)
            if group <= 0 or c_in % group or num_output % group:
                raise ConversionError(
                    "group must divide the input and output channels",
                    layer=layer.name,
                    expected=f"a divisor of {c_in} and {num_output}",
                    actual=group,
                )
            bias = cp.bool("bias_term", True)
            if min(kernel) <= 0 or min(stride) <= 0 or min(dilation) <= 0 or min(pad) < 0:
                raise ConversionError(
                    "kernel, stride and dilation must be positive and pad non-negative",
                    layer=layer.name,
                    actual=f"kernel {kernel}, stride {stride}, dilation {dilation}, pad {pad}",
                )
            attrs = dict(kernel=kernel, stride=stride, pad=pad, dilation=dilation, group=group, bias=bias)
            blob_names = ["weights"] + (["bias"] if bias else [])
            blob_shapes = [(num_output, c_in // group, kernel[0], kernel[1])] + ([(num_output,)] if bias else [])
            c_out = num_output
        elif layer.type == "ReLU":
            attrs = dict(negative_slope=p.message("relu_param").float("negative_slope", 0.0))
        elif layer.type == "PReLU":
            shared = p.message("prelu_param").bool("channel_shared", False)
            attrs = dict(channel_shared=shared)
            blob_names = ["slope"]
            blob_shapes = [(1,) if shared else (c_in,)]
        elif layer.type == "Pooling":
            pp = p.message("pooling_param")
            method = pp.str("pool", "MAX")
            if method not in ("MAX", "0"):
                raise ConversionError(f"only MAX pooling is supported, not {method}", layer=layer.name)
            round_mode = pp.str("round_mode", "CEIL")
            if round_mode not in ("CEIL", "FLOOR", "0", "1"):
                raise ConversionError(
                    "unknown pooling_param.round_mode", layer=layer.name, expected="CEIL or FLOOR", actual=round_mode
                )
            if pp.bool("global_pooling", False):
                attrs = dict(global_pooling=True)
            else:
                kernel = (
                    _spatial(pp, layer.name, "kernel", None)
                    if (pp.has("kernel_h") or pp.has("kernel_w"))
                    else _spatial(pp, layer.name, "kernel_size", None)
                )
                stride = _spatial(pp, layer.name, "stride", 1)
                pad = _spatial(pp, layer.name, "pad", 0)
                if pad[0] >= kernel[0] or pad[1] >= kernel[1]:
                    raise ConversionError(
                        "pooling pad must be smaller than the kernel",
                        layer=layer.name,
                        expected=f"< {kernel}",
                        actual=pad,
                    )
                attrs = dict(
                    global_pooling=False, kernel=kernel, stride=stride, pad=pad, ceil=round_mode in ("CEIL", "0")
                )
        elif layer.type == "Concat":
            cc = p.message("concat_param")
            axis = cc.int("axis", cc.int("concat_dim", 1))
            if axis < 0:
                axis += 4
            if axis not in _NCHW_TO_NHWC_AXIS:
                raise ConversionError(
                    "concat axis out of range for 4-D blobs", layer=layer.name, expected="0..3 or -4..-1", actual=axis
                )
            attrs = dict(axis=_NCHW_TO_NHWC_AXIS[axis])
            if axis == 1:
                c_out = sum(in_channels)
            elif len(set(in_channels)) != 1:
                raise ConversionError(
                    "concatenating along a non-channel axis needs equal channels",
                    layer=layer.name,
                    expected="equal channels",
                    actual=in_channels,
                )

        top = layer.tops[0]
        ssa = top if top not in current else f"{top}@{layer.name}"
        current[top] = ssa
        channels[ssa] = c_out
        planned.append(
            PlannedLayer(
                layer=layer,
                inputs=inputs,
                output=ssa,
                attrs=attrs,
                blob_names=blob_names,
                blob_shapes=blob_shapes,
                channels=c_out,
            )
        )
        if layer.name == output_layer:
            break

    # Keep only the layers the output depends on.
    needed = {planned[-1].output}
    kept: list[PlannedLayer] = []
    for pl in reversed(planned):
        if pl.output in needed:
            kept.append(pl)
            needed.update(pl.inputs)
    kept.reverse()
    return Plan(
        input_blob=input_blob, layers=kept, output_name=_tf_name(output_layer), output_channels=planned[-1].channels
    )


def _tf_name(name: str) -> str:
    # TensorFlow op names allow [A-Za-z0-9_.-/] (and may not start with '_', '-' or '/').
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
    if not re.match(r"[A-Za-z0-9.]", cleaned):
        cleaned = "L" + cleaned
    return cleaned


# ----------------------------------------------------------------------------------------------
# Weights: check the caffemodel against the plan and convert to TensorFlow's layouts
# ----------------------------------------------------------------------------------------------


def _shape_matches(blob: Blob, expected: tuple[int, ...]) -> bool:
    if blob.shape == expected:
        return True
    # Legacy blobs are always 4-D (num, channels, height, width); Caffe compares the expected shape
    # padded on the left with ones.
    return blob.legacy and len(expected) <= 4 and blob.shape == (1,) * (4 - len(expected)) + expected


def check_weights(plan: Plan, model: CaffeModel) -> list[str]:
    """Verifies that the caffemodel has every blob the plan needs with the right shape and size.

    Returns the names of caffemodel layers that the plan does not use. Raises ConversionError
    naming layer, blob, expected and actual on the first mismatch.
    """
    used = set()
    for pl in plan.layers:
        name = pl.layer.name
        if not pl.blob_shapes:
            entry = model.layers.get(name)
            if entry is not None and entry.blobs:
                raise ConversionError(
                    f"{pl.layer.type} has no parameters but the caffemodel gives blobs",
                    layer=name,
                    expected="0 blobs",
                    actual=f"{len(entry.blobs)} blobs",
                )
            used.add(name)
            continue
        entry = model.layers.get(name)
        expected_desc = ", ".join(f"{n} {list(s)}" for n, s in zip(pl.blob_names, pl.blob_shapes))
        if entry is None:
            raise ConversionError(
                "missing from the caffemodel",
                layer=name,
                expected=f"{len(pl.blob_shapes)} blobs ({expected_desc})",
                actual="no layer of that name",
            )
        used.add(name)
        if entry.type and entry.type != pl.layer.type:
            raise ConversionError(
                "has a different type in the caffemodel", layer=name, expected=pl.layer.type, actual=entry.type
            )
        if len(entry.blobs) != len(pl.blob_shapes):
            raise ConversionError(
                "wrong number of blobs in the caffemodel",
                layer=name,
                expected=f"{len(pl.blob_shapes)} ({expected_desc})",
                actual=f"{len(entry.blobs)} {[list(b.shape) for b in entry.blobs]}",
            )
        for i, (blob, shape, bname) in enumerate(zip(entry.blobs, pl.blob_shapes, pl.blob_names)):
            if not _shape_matches(blob, shape):
                raise ConversionError(
                    "wrong shape", layer=name, blob=f"{i} ({bname})", expected=list(shape), actual=list(blob.shape)
                )
            if blob.data.size != math.prod(shape):
                raise ConversionError(
                    "data size does not match the blob's shape",
                    layer=name,
                    blob=f"{i} ({bname})",
                    expected=f"{math.prod(shape)} values",
                    actual=f"{blob.data.size} values",
                )
    return [n for n in model.order if n not in used]


def tf_weights(pl: PlannedLayer, model: CaffeModel) -> list[np.ndarray]:
    """The layer's blobs as new float32 arrays in TensorFlow's layout (HWIO filters, [C] vectors)."""
    out = []
    for blob, shape, bname in zip(model.layers[pl.layer.name].blobs, pl.blob_shapes, pl.blob_names):
        data = blob.data.reshape(shape)
        if bname == "weights":
            out.append(np.ascontiguousarray(data.transpose(2, 3, 1, 0), dtype=np.float32))  # OIHW -> HWIO
        else:
            out.append(np.array(data, dtype=np.float32, copy=True))
    return out


# ----------------------------------------------------------------------------------------------
# Graph building (works in graph mode and inside tf.function)
# ----------------------------------------------------------------------------------------------


def _pool_out_size(tf, n, k: int, s: int, p: int, ceil: bool):
    if ceil:
        o = (n + 2 * p - k + s - 1) // s + 1
    else:
        o = (n + 2 * p - k) // s + 1
    if p > 0:
        # Caffe drops a last window that would start inside the bottom/right padding.
        o = o - tf.cast((o - 1) * s >= n + p, tf.int32)
    return o


def _max_pool(tf, x, attrs):
    if attrs["global_pooling"]:
        return tf.reduce_max(x, axis=[1, 2], keepdims=True)
    (kh, kw), (sh, sw), (ph, pw), ceil = attrs["kernel"], attrs["stride"], attrs["pad"], attrs["ceil"]
    shape = tf.shape(x)
    oh = _pool_out_size(tf, shape[1], kh, sh, ph, ceil)
    ow = _pool_out_size(tf, shape[2], kw, sw, pw, ceil)
    # Pad with -inf so padded cells never win, which is what Caffe's clipped windows amount to.
    extra_h = tf.maximum((oh - 1) * sh + kh - shape[1] - ph, 0)
    extra_w = tf.maximum((ow - 1) * sw + kw - shape[2] - pw, 0)
    paddings = tf.stack([[0, 0], tf.stack([ph, extra_h]), tf.stack([pw, extra_w]), [0, 0]])
    y = tf.pad(x, paddings, constant_values=float("-inf"))
    y = tf.nn.max_pool2d(y, ksize=[kh, kw], strides=[sh, sw], padding="VALID")
    if ph > 0 or pw > 0 or not ceil:
        # Windows that fit past the last Caffe window are cut off.
        y = y[:, :oh, :ow, :]
    return y


def _conv(tf, x, attrs, weights):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = attrs["kernel"], attrs["stride"], attrs["pad"], attrs["dilation"]
    if ph == 0 and pw == 0:
        padding = "VALID"
    elif sh == 1 and sw == 1 and 2 * ph == dh * (kh - 1) and 2 * pw == dw * (kw - 1):
        padding = "SAME"  # identical to Caffe's symmetric padding here, and TF's fastest path
    else:
        padding = [[0, 0], [ph, ph], [pw, pw], [0, 0]]
    filt = weights[0]
    group = attrs["group"]
    if group == 1:
        y = tf.nn.conv2d(x, filt, strides=[1, sh, sw, 1], padding=padding, dilations=[1, dh, dw, 1])
    else:
        xs = tf.split(x, group, axis=3)
        fs = tf.split(filt, group, axis=3)
        y = tf.concat(
            [
                tf.nn.conv2d(a, f, strides=[1, sh, sw, 1], padding=padding, dilations=[1, dh, dw, 1])
                for a, f in zip(xs, fs)
            ],
            axis=3,
        )
    if attrs["bias"]:
        y = tf.nn.bias_add(y, weights[1])
    return y


def build_forward(image, plan: Plan, get_weights, progress=None):
    """Builds the network on ``image`` [N, H, W, 3] (BGR 0..255) and returns [N, H', W', C].

    ``get_weights(planned_layer) -> list of tensors`` supplies each layer's weights in TensorFlow
    layout; ``progress`` (optional) is called once per layer built.
    """
    import tensorflow as tf

    with tf.name_scope("preprocess"):
        # OpenPose feeds (BGR / 256 - 0.5) to its Caffe networks.
        x = tf.subtract(tf.multiply(image, 1.0 / 256.0), 0.5)
    values = {plan.input_blob: x}
    with tf.name_scope("net"):
        for pl in plan.layers:
            kind = pl.layer.type
            with tf.name_scope(_tf_name(pl.layer.name)):
                ins = [values[i] for i in pl.inputs]
                if kind == "Convolution":
                    y = _conv(tf, ins[0], pl.attrs, get_weights(pl))
                elif kind == "ReLU":
                    slope = pl.attrs["negative_slope"]
                    y = tf.nn.relu(ins[0]) if slope == 0 else tf.nn.leaky_relu(ins[0], alpha=slope)
                elif kind == "PReLU":
                    (slope,) = get_weights(pl)
                    y = tf.nn.relu(ins[0]) + slope * tf.minimum(ins[0], 0.0)
                elif kind == "Pooling":
                    y = _max_pool(tf, ins[0], pl.attrs)
                elif kind == "Concat":
                    y = ins[0] if len(ins) == 1 else tf.concat(ins, axis=pl.attrs["axis"])
                else:  # plan_network rejects every other type
                    raise ConversionError(f"unsupported layer type {kind!r}", layer=pl.layer.name)
            values[pl.output] = y
            if progress is not None:
                progress()
    return values[plan.layers[-1].output]


# ----------------------------------------------------------------------------------------------
# Saving
# ----------------------------------------------------------------------------------------------


def _tf_shapes(pl: PlannedLayer) -> list[tuple[int, ...]]:
    return [(s[2], s[3], s[1], s[0]) if n == "weights" else s for n, s in zip(pl.blob_names, pl.blob_shapes)]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


class _Progress:
    """One tqdm bar per phase of a conversion (or nothing when disabled)."""

    def __init__(self, enabled: bool, fmt: str):
        self.enabled = enabled
        self.fmt = fmt
        self.bar = None

    def phase(self, desc: str, total: int):
        """Starts a phase; returns a callable that advances it by one step (no-op past total)."""
        self.close()
        if not self.enabled:
            return lambda: None
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=f"{self.fmt}: {desc}", unit="layer")
        bar = self.bar

        def tick():
            # A tf.function may be traced more than once; count each layer once.
            if bar.n < bar.total:
                bar.update(1)

        return tick

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _save_frozen(plan: Plan, model: CaffeModel, path: str, progress: _Progress) -> None:
    """Writes a frozen GraphDef, streaming the weights into the file one layer at a time.

    The graph is built with a placeholder standing for every weight, so it stays small. The file
    is then that GraphDef without those placeholders, followed by one Const node per weight under
    the same name: a GraphDef is a list of nodes (field 1), and protobuf merges repeated fields
    written one after another. The whole model is never held in memory twice.
    """
    import tensorflow as tf

    graph = tf.Graph()
    slots: list[tuple[str, PlannedLayer]] = []
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3], name="image")

        def placeholders(pl):
            tensors = [
                tf.compat.v1.placeholder(tf.float32, shape, name=name)
                for shape, name in zip(_tf_shapes(pl), pl.blob_names)
            ]
            slots.append(([t.op.name for t in tensors], pl))
            return tensors

        out = build_forward(image, plan, placeholders, progress.phase("building graph", len(plan.layers)))
        tf.identity(out, name=plan.output_name)
    graph_def = graph.as_graph_def()
    del graph
    weight_names = {n for names, _ in slots for n in names}
    field_node = _varint(1 << 3 | 2)
    with open(path, "wb") as f:
        for node in graph_def.node:
            if node.name not in weight_names:
                data = node.SerializeToString()
                f.write(field_node + _varint(len(data)) + data)
        for field_number, part in ((4, graph_def.versions), (2, graph_def.library)):
            data = part.SerializeToString()
            if data:
                f.write(_varint(field_number << 3 | 2) + _varint(len(data)) + data)
        tick = progress.phase("writing weights", len(slots))
        for names, pl in slots:
            for name, array in zip(names, tf_weights(pl, model)):
                node = tf.compat.v1.NodeDef(name=name, op="Const")
                node.attr["dtype"].type = tf.float32.as_datatype_enum
                node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(array))
                del array
                data = node.SerializeToString()
                del node
                f.write(field_node + _varint(len(data)) + data)
            tick()


def _save_saved_model(plan: Plan, model: CaffeModel, path: str, progress: _Progress) -> None:
    import tensorflow as tf

    class CaffeNet(tf.Module):
        def __init__(self):
            super().__init__(name="caffe_net")
            self.weights = {}
            tick = progress.phase("loading weights", sum(1 for pl in plan.layers if pl.blob_shapes))
            for pl in plan.layers:
                if pl.blob_shapes:
                    tick()
                    self.weights[pl.layer.name] = [
                        tf.Variable(a, trainable=False, name=f"{_tf_name(pl.layer.name)}_{n}")
                        for a, n in zip(tf_weights(pl, model), pl.blob_names)
                    ]

    net = CaffeNet()
    tick = progress.phase("building graph", len(plan.layers))

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32, name="image")])
    def serve(image):
        out = build_forward(image, plan, lambda pl: net.weights[pl.layer.name], tick)
        return {plan.output_name: tf.identity(out, name=plan.output_name)}

    net.serve = serve
    signature = serve.get_concrete_function()
    progress.close()
    tf.saved_model.save(net, path, signatures={"serving_default": signature})


def _infer_format(output: str, format: str | None) -> str:
    if format is None:
        return "frozen" if output.lower().endswith(".pb") and not os.path.isdir(output) else "saved_model"
    if format not in ("saved_model", "frozen"):
        raise ValueError(f"format: expected 'saved_model' or 'frozen', got {format!r}")
    return format


def convert(
    prototxt: str | os.PathLike,
    caffemodel: str | os.PathLike,
    output: str | os.PathLike,
    format: str | None = None,
    progress: bool = True,
    output_layer: str | None = None,
    overwrite: bool = False,
) -> ConversionSummary:
    """Converts a Caffe pose network to TensorFlow.

    The result takes ``image`` float32 [N, H, W, 3] (BGR 0..255, any H and W) and returns the final
    layer's blob as [N, H', W', C] (H' = H/8 for OpenPose's models), named after the final layer
    (``concat_stage7`` or ``net_output``), or after ``output_layer`` when given.

    format: "saved_model" (a folder; signature ``serving_default``: input ``image``, output key the
    output name) or "frozen" (a GraphDef .pb with ``image:0`` -> ``<output name>:0``); None picks
    "frozen" for a path ending in .pb and "saved_model" otherwise.

    The output appears only when complete: it is written to a temporary path in the same folder and
    renamed at the end; nothing is left behind on error. An existing output is replaced only with
    ``overwrite=True``.

    Raises ConversionError (a ValueError) naming the layer, blob, expected and actual values when
    the files are corrupt, do not match each other, or use an unsupported layer type.
    """
    start = time.perf_counter()
    output = os.fspath(output)
    fmt = _infer_format(output, format)
    if os.path.lexists(output) and not overwrite:
        raise FileExistsError(f"output {output!r} exists (pass overwrite=True / --overwrite to replace it)")
    net = parse_prototxt(prototxt)
    plan = plan_network(net, output_layer)
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"output folder {parent!r} does not exist")

    with read_caffemodel(caffemodel) as model:
        unused = check_weights(plan, model)
        bars = _Progress(progress, fmt)
        base = os.path.basename(output.rstrip(os.sep)) or "model"
        tmp = tempfile.mkdtemp(prefix=f".{base}.", suffix=".tmp", dir=parent)
        try:
            if fmt == "frozen":
                staged = os.path.join(tmp, "graph.pb")
                _save_frozen(plan, model, staged, bars)
            else:
                staged = os.path.join(tmp, "saved_model")
                _save_saved_model(plan, model, staged, bars)
            bars.close()
            _move_into_place(staged, output, overwrite)
        finally:
            bars.close()
            shutil.rmtree(tmp, ignore_errors=True)
        size = model.size

    counts = Counter(pl.layer.type for pl in plan.layers)
    return ConversionSummary(
        output=output,
        format=fmt,
        input_name="image",
        output_name=plan.output_name,
        output_channels=plan.output_channels,
        layers=len(plan.layers),
        layer_types=dict(counts),
        parameters=plan.parameters,
        caffemodel_bytes=size,
        seconds=time.perf_counter() - start,
        unused_caffemodel_layers=unused,
    )


def _move_into_place(staged: str, output: str, overwrite: bool) -> None:
    if not os.path.lexists(output):
        os.rename(staged, output)
        return
    if not overwrite:
        raise FileExistsError(f"output {output!r} appeared during the conversion")
    if os.path.isdir(output) and not os.path.islink(output):
        # Swap: move the old folder aside first so that a failure leaves one of the two complete.
        aside = staged + ".old"
        os.rename(output, aside)
        os.rename(staged, output)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(staged, output)

"""The Caffe layer types the converter supports, in one table: for each, its checks and blob shapes
(``plan``) and the TensorFlow ops that compute it (``emit``).

Adding a layer type means adding one :class:`LayerHandler` to :data:`LAYERS`; planning
(:func:`tfpose.convert.plan.plan_network`) and graph building
(:func:`tfpose.convert.caffe_to_tf.build_forward`) both dispatch through that table. The rules are
Caffe's own (explicit symmetric padding, pooling output size rounded up with the last window
dropped when it starts inside the padding, PReLU slopes per channel), applied to NHWC tensors.

TensorFlow is not imported here: ``emit`` functions receive the ``tf`` module from their caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tfpose.convert.caffe_proto import LayerDef
from tfpose.convert.errors import ConversionError
from tfpose.convert.prototext import Message

# Caffe's axis in NCHW -> TensorFlow's axis in NHWC.
_NCHW_TO_NHWC_AXIS = {0: 0, 1: 3, 2: 1, 3: 2}

# Allowed ranges of layer parameters. Caffe itself takes any uint32, but values past these build a
# graph that fails (int32 overflow in TensorFlow's attributes) or exhausts memory on its first run;
# the largest in OpenPose's networks are kernel 7, stride 2, pad 3, num_output 512.
PARAM_RANGES = {
    "kernel": (1, 1024),
    "stride": (1, 1024),
    "dilation": (1, 1024),
    "pad": (0, 1024),
    "num_output": (1, 65536),
}


@dataclass
class LayerAttrs:
    """What planning works out for one layer: build attributes, expected blobs, output channels.

    ``blob_shapes`` are in Caffe's order (convolution weights [O, I/group, KH, KW]), named by
    ``blob_names`` ("weights", "bias", "slope").
    """

    channels: int
    attrs: dict = field(default_factory=dict)
    blob_names: list[str] = field(default_factory=list)
    blob_shapes: list[tuple[int, ...]] = field(default_factory=list)


# plan(layer, channels of each input) -> LayerAttrs; raises ConversionError naming the layer.
PlanFn = Callable[[LayerDef, list[int]], LayerAttrs]
# emit(tf, input tensors [N, H, W, C], attrs, weights) -> output tensor; ``weights()`` returns the
# layer's weights in TensorFlow's layout and is called only by the types that have weights.
EmitFn = Callable[[Any, list[Any], dict, Callable[[], list[Any]]], Any]


@dataclass(frozen=True)
class LayerHandler:
    """How one Caffe layer type is converted: ``plan`` checks it and works out its shapes, ``emit``
    builds it; ``many_bottoms`` when it takes one or more input blobs (otherwise exactly one)."""

    plan: PlanFn
    emit: EmitFn
    many_bottoms: bool = False


# ----------------------------------------------------------------------------------------------
# Parameter checks shared by the types
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


def _kernel(params: Message, layer: str) -> tuple[int, int]:
    """The kernel size, given as kernel_h/kernel_w or kernel_size (required)."""
    if params.has("kernel_h") or params.has("kernel_w"):
        return _spatial(params, layer, "kernel", None)
    return _spatial(params, layer, "kernel_size", None)


def _check_range(layer: str, param: str, values, kind: str) -> None:
    """ConversionError naming layer, parameter, allowed range and value when any value lies outside
    PARAM_RANGES[kind]."""
    lo, hi = PARAM_RANGES[kind]
    for v in values if isinstance(values, tuple) else (values,):
        if v is None or not lo <= v <= hi:
            shown = values if isinstance(values, tuple) and len(set(values)) > 1 else v
            raise ConversionError(f"{param} out of range", layer=layer, expected=f"{lo}..{hi}", actual=shown)


# ----------------------------------------------------------------------------------------------
# Convolution
# ----------------------------------------------------------------------------------------------


def _plan_convolution(layer: LayerDef, in_channels: list[int]) -> LayerAttrs:
    cp = layer.params.message("convolution_param")
    c_in = in_channels[0]
    num_output = cp.int("num_output")
    _check_range(layer.name, "convolution_param.num_output", num_output, "num_output")
    assert num_output is not None  # _check_range refuses None; this tells a type checker
    if cp.int("axis", 1) not in (1, -3):
        raise ConversionError(
            "only channel-axis convolution is supported", layer=layer.name, expected="axis 1", actual=cp.int("axis")
        )
    kernel = _kernel(cp, layer.name)
    stride = _spatial(cp, layer.name, "stride", 1)
    pad = _spatial(cp, layer.name, "pad", 0)
    dilation = _spatial(cp, layer.name, "dilation", 1)
    for param, values in (("kernel_size", kernel), ("stride", stride), ("pad", pad), ("dilation", dilation)):
        _check_range(layer.name, f"convolution_param.{param}", values, param.replace("_size", ""))
    group = cp.int("group", 1)
    if group <= 0 or c_in % group or num_output % group:
        raise ConversionError(
            "group must divide the input and output channels",
            layer=layer.name,
            expected=f"a divisor of {c_in} and {num_output}",
            actual=group,
        )
    bias = cp.bool("bias_term", True)
    return LayerAttrs(
        channels=num_output,
        attrs=dict(kernel=kernel, stride=stride, pad=pad, dilation=dilation, group=group, bias=bias),
        blob_names=["weights"] + (["bias"] if bias else []),
        blob_shapes=[(num_output, c_in // group, kernel[0], kernel[1])] + ([(num_output,)] if bias else []),
    )


def _emit_convolution(tf, inputs, attrs, weights):
    x = inputs[0]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = attrs["kernel"], attrs["stride"], attrs["pad"], attrs["dilation"]
    padding: str | list[list[int]]
    if ph == 0 and pw == 0:
        padding = "VALID"
    elif sh == 1 and sw == 1 and 2 * ph == dh * (kh - 1) and 2 * pw == dw * (kw - 1):
        padding = "SAME"  # identical to Caffe's symmetric padding here, and TF's fastest path
    else:
        padding = [[0, 0], [ph, ph], [pw, pw], [0, 0]]
    tensors = weights()
    filt = tensors[0]
    group = attrs["group"]
    if group == 1:
        y = tf.nn.conv2d(x, filt, strides=[1, sh, sw, 1], padding=padding, dilations=[1, dh, dw, 1])
    else:
        xs = tf.split(x, group, axis=3)
        fs = tf.split(filt, group, axis=3)
        y = tf.concat(
            [
                tf.nn.conv2d(a, f, strides=[1, sh, sw, 1], padding=padding, dilations=[1, dh, dw, 1])
                for a, f in zip(xs, fs, strict=True)
            ],
            axis=3,
        )
    if attrs["bias"]:
        y = tf.nn.bias_add(y, tensors[1])
    return y


# ----------------------------------------------------------------------------------------------
# ReLU and PReLU
# ----------------------------------------------------------------------------------------------


def _plan_relu(layer: LayerDef, in_channels: list[int]) -> LayerAttrs:
    slope = layer.params.message("relu_param").float("negative_slope", 0.0)
    if not math.isfinite(slope):
        raise ConversionError(
            "relu_param.negative_slope out of range", layer=layer.name, expected="a finite number", actual=slope
        )
    return LayerAttrs(channels=in_channels[0], attrs=dict(negative_slope=slope))


def _emit_relu(tf, inputs, attrs, weights):
    slope = attrs["negative_slope"]
    return tf.nn.relu(inputs[0]) if slope == 0 else tf.nn.leaky_relu(inputs[0], alpha=slope)


def _plan_prelu(layer: LayerDef, in_channels: list[int]) -> LayerAttrs:
    shared = layer.params.message("prelu_param").bool("channel_shared", False)
    c_in = in_channels[0]
    return LayerAttrs(
        channels=c_in,
        attrs=dict(channel_shared=shared),
        blob_names=["slope"],
        blob_shapes=[(1,) if shared else (c_in,)],
    )


def _emit_prelu(tf, inputs, attrs, weights):
    (slope,) = weights()
    return tf.nn.relu(inputs[0]) + slope * tf.minimum(inputs[0], 0.0)


# ----------------------------------------------------------------------------------------------
# Pooling (MAX only)
# ----------------------------------------------------------------------------------------------


def _plan_pooling(layer: LayerDef, in_channels: list[int]) -> LayerAttrs:
    pp = layer.params.message("pooling_param")
    method = pp.str("pool", "MAX")
    if method not in ("MAX", "0"):
        raise ConversionError(f"only MAX pooling is supported, not {method}", layer=layer.name)
    round_mode = pp.str("round_mode", "CEIL")
    if round_mode not in ("CEIL", "FLOOR", "0", "1"):
        raise ConversionError(
            "unknown pooling_param.round_mode", layer=layer.name, expected="CEIL or FLOOR", actual=round_mode
        )
    if pp.bool("global_pooling", False):
        return LayerAttrs(channels=in_channels[0], attrs=dict(global_pooling=True))
    kernel = _kernel(pp, layer.name)
    stride = _spatial(pp, layer.name, "stride", 1)
    pad = _spatial(pp, layer.name, "pad", 0)
    for param, values in (("kernel_size", kernel), ("stride", stride), ("pad", pad)):
        _check_range(layer.name, f"pooling_param.{param}", values, param.replace("_size", ""))
    if pad[0] >= kernel[0] or pad[1] >= kernel[1]:
        raise ConversionError(
            "pooling_param.pad must be smaller than the kernel", layer=layer.name, expected=f"< {kernel}", actual=pad
        )
    return LayerAttrs(
        channels=in_channels[0],
        attrs=dict(global_pooling=False, kernel=kernel, stride=stride, pad=pad, ceil=round_mode in ("CEIL", "0")),
    )


def _pool_out_size(tf, n, k: int, s: int, p: int, ceil: bool):
    """Caffe's pooled size of an axis of ``n`` cells (a scalar tensor): kernel k, stride s, pad p."""
    o = (n + 2 * p - k + s - 1) // s + 1 if ceil else (n + 2 * p - k) // s + 1
    if p > 0:
        # Caffe drops a last window that would start inside the bottom/right padding.
        o = o - tf.cast((o - 1) * s >= n + p, tf.int32)
    return o


def _emit_pooling(tf, inputs, attrs, weights):
    x = inputs[0]
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


# ----------------------------------------------------------------------------------------------
# Concat
# ----------------------------------------------------------------------------------------------


def _plan_concat(layer: LayerDef, in_channels: list[int]) -> LayerAttrs:
    cc = layer.params.message("concat_param")
    axis = cc.int("axis", cc.int("concat_dim", 1))
    if axis < 0:
        axis += 4
    if axis not in _NCHW_TO_NHWC_AXIS:
        raise ConversionError(
            "concat axis out of range for 4-D blobs", layer=layer.name, expected="0..3 or -4..-1", actual=axis
        )
    if axis == 1:
        channels = sum(in_channels)
    elif len(set(in_channels)) != 1:
        raise ConversionError(
            "concatenating along a non-channel axis needs equal channels",
            layer=layer.name,
            expected="equal channels",
            actual=in_channels,
        )
    else:
        channels = in_channels[0]
    return LayerAttrs(channels=channels, attrs=dict(axis=_NCHW_TO_NHWC_AXIS[axis]))


def _emit_concat(tf, inputs, attrs, weights):
    return inputs[0] if len(inputs) == 1 else tf.concat(inputs, axis=attrs["axis"])


# ----------------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------------

LAYERS: dict[str, LayerHandler] = {
    "Convolution": LayerHandler(plan=_plan_convolution, emit=_emit_convolution),
    "ReLU": LayerHandler(plan=_plan_relu, emit=_emit_relu),
    "PReLU": LayerHandler(plan=_plan_prelu, emit=_emit_prelu),
    "Pooling": LayerHandler(plan=_plan_pooling, emit=_emit_pooling),
    "Concat": LayerHandler(plan=_plan_concat, emit=_emit_concat, many_bottoms=True),
}

# Every type a prototxt may use: "Input" layers become the network's input when the prototxt is
# read (tfpose.convert.caffe_proto), the others are converted through LAYERS.
SUPPORTED_TYPES = ("Input", *LAYERS)

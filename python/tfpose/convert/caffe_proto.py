"""Reads Caffe network definitions (prototxt) without Caffe; the entry point of the Caffe readers.

Only what OpenPose's networks need is read: the inputs and the layer list with its parameters, from
the current ``layer {}`` (LayerParameter) and the V1 ``layers {}`` (V1LayerParameter) forms. The
pieces live in their own modules and are re-exported here, where callers have always found them:
the protobuf text format in :mod:`tfpose.convert.prototext`, the caffemodel (weights) reader in
:mod:`tfpose.convert.caffemodel`, the V1 type names in :mod:`tfpose.convert.caffe_v1` and
:class:`ConversionError` in :mod:`tfpose.convert.errors`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tfpose.convert.caffe_v1 import V1_NAMES, V1_TYPES
from tfpose.convert.caffemodel import MAX_BLOB_AXES, Blob, CaffeModel, ModelLayer, read_caffemodel
from tfpose.convert.errors import ConversionError
from tfpose.convert.prototext import MAX_NESTING, Ident, Message, parse_text

__all__ = [
    "MAX_BLOB_AXES",
    "MAX_NESTING",
    "V1_TYPES",
    "Blob",
    "CaffeModel",
    "ConversionError",
    "Ident",
    "LayerDef",
    "Message",
    "ModelLayer",
    "NetDef",
    "parse_prototxt",
    "parse_prototxt_text",
    "parse_text",
    "read_caffemodel",
]


@dataclass
class LayerDef:
    """One layer of a prototxt: type string (current names), blobs in and out, its parameters."""

    name: str
    type: str
    bottoms: list[str]
    tops: list[str]
    params: Message


@dataclass
class NetDef:
    """A parsed prototxt: declared inputs (name, NCHW shape or None) and the layers in order."""

    name: str
    inputs: list[tuple[str, list[int] | None]]
    layers: list[LayerDef]


def _in_test_phase(layer: Message) -> bool:
    # Deploy nets run in TEST phase; a layer restricted to TRAIN (include) or excluded from TEST
    # is not part of the deployed network.
    for rule in layer.all("include"):
        if isinstance(rule, Message) and rule.str("phase", "TEST") != "TEST":
            return False
    return not any(isinstance(rule, Message) and rule.str("phase", "") == "TEST" for rule in layer.all("exclude"))


def parse_prototxt(path: str | os.PathLike) -> NetDef:
    """Reads a Caffe network definition (protobuf text format) from ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise ConversionError(
            f"prototxt {os.fspath(path)!r} is not text ({exc}); is it a caffemodel given in place of the prototxt?"
        ) from None
    return parse_prototxt_text(text, source=os.fspath(path))


def parse_prototxt_text(text: str, source: str = "<prototxt>") -> NetDef:
    """Parses a Caffe network definition from a string (see :func:`parse_prototxt`)."""
    root = parse_text(text, source)
    inputs: list[tuple[str, list[int] | None]] = []
    names = root.strs("input")
    dims = root.ints("input_dim")
    shapes = [s.ints("dim") for s in root.all("input_shape") if isinstance(s, Message)]
    if dims:
        if len(dims) != 4 * len(names):
            raise ConversionError(
                f"{source}: input_dim must give 4 values per input", expected=4 * len(names), actual=len(dims)
            )
        shapes = [dims[4 * i : 4 * i + 4] for i in range(len(names))]
    for i, name in enumerate(names):
        inputs.append((name, shapes[i] if i < len(shapes) else None))

    layers: list[LayerDef] = []
    new = [m for m in root.all("layer") if isinstance(m, Message)]
    old = [m for m in root.all("layers") if isinstance(m, Message)]
    if new and old:
        raise ConversionError(f"{source}: mixes 'layer' and V1 'layers' entries; use one format")
    for index, msg in enumerate(new or old):
        name = msg.str("name", f"layer{index}")
        if not _in_test_phase(msg):
            continue
        type_ = msg.str("type")
        if type_ is None:
            raise ConversionError("has no type", layer=name)
        if old:
            type_ = V1_NAMES.get(type_, type_)
        if type_ == "Input":
            for top, shape in zip(
                msg.strs("top"),
                msg.message("input_param").all("shape") or [None] * len(msg.strs("top")),
                strict=False,
            ):
                inputs.append((top, shape.ints("dim") if isinstance(shape, Message) else None))
            continue
        layers.append(LayerDef(name=name, type=type_, bottoms=msg.strs("bottom"), tops=msg.strs("top"), params=msg))
    if not layers:
        raise ConversionError(f"{source}: contains no layers (is it a Caffe prototxt?)")
    return NetDef(name=root.str("name", ""), inputs=inputs, layers=layers)

"""Plans a conversion: checks a parsed prototxt and works out every layer's inputs, attributes,
expected weight blobs and output channels, before any weight is read or any graph is built.

The per-type rules come from the one table :data:`tfpose.convert.layers.LAYERS`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tfpose.convert.caffe_proto import LayerDef, NetDef
from tfpose.convert.errors import ConversionError
from tfpose.convert.layers import LAYERS, SUPPORTED_TYPES


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
        """Number of weight values (floats) the planned layers read from the caffemodel."""
        return sum(math.prod(s) for p in self.layers for s in p.blob_shapes)


def tf_name(name: str) -> str:
    """A Caffe layer name made a valid TensorFlow op name (other characters become '_')."""
    # TensorFlow op names allow [A-Za-z0-9_.-/] (and may not start with '_', '-' or '/').
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
    if not re.match(r"[A-Za-z0-9.]", cleaned):
        cleaned = "L" + cleaned
    return cleaned


def _count(layer: LayerDef, what: str, values: list, expected: str, ok: bool) -> None:
    if not ok:
        raise ConversionError(
            f"{layer.type} takes {expected} {what}",
            layer=layer.name,
            expected=expected,
            actual=f"{len(values)} ({', '.join(values) or 'none'})",
        )


def _check_net(net: NetDef, output_layer: str | None) -> tuple[str, str]:
    """Checks the input, the layer types and the output layer; returns (input blob, output layer)."""
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
    unknown = [(layer.name, layer.type) for layer in net.layers if layer.type not in LAYERS]
    if unknown:
        name, type_ = unknown[0]
        raise ConversionError(f"unsupported layer type {type_!r} (supported: {', '.join(SUPPORTED_TYPES)})", layer=name)
    if output_layer is None:
        output_layer = net.layers[-1].name
    if output_layer not in [layer.name for layer in net.layers]:
        raise ConversionError(f"output layer {output_layer!r} is not in the prototxt")
    return input_blob, output_layer


def plan_network(net: NetDef, output_layer: str | None = None) -> Plan:
    """Checks a parsed prototxt and returns the layers needed for the output, with blob shapes.

    The image input has 3 channels; each layer's type is planned by its entry in
    :data:`tfpose.convert.layers.LAYERS`. Layers after ``output_layer`` (default: the last) and
    layers the output does not depend on are left out.

    Raises ConversionError naming the layer for an unknown type, an unsupported parameter, a
    missing input blob or wrong channel counts.
    """
    input_blob, output_layer = _check_net(net, output_layer)
    # SSA names: every write to a Caffe blob (in-place layers write their input) gets a new name.
    current: dict[str, str] = {input_blob: input_blob}
    channels: dict[str, int] = {input_blob: 3}
    planned: list[PlannedLayer] = []
    for layer in net.layers:
        for bottom in layer.bottoms:
            if bottom not in current:
                raise ConversionError(
                    f"reads blob {bottom!r}, which no earlier layer or input produces", layer=layer.name
                )
        inputs = [current[b] for b in layer.bottoms]
        handler = LAYERS[layer.type]
        _count(layer, "top blob", layer.tops, "exactly 1", len(layer.tops) == 1)
        if handler.many_bottoms:
            _count(layer, "bottom blobs", layer.bottoms, "at least 1", len(layer.bottoms) >= 1)
        else:
            _count(layer, "bottom blob", layer.bottoms, "exactly 1", len(layer.bottoms) == 1)
        shapes = handler.plan(layer, [channels[i] for i in inputs])
        top = layer.tops[0]
        ssa = top if top not in current else f"{top}@{layer.name}"
        current[top] = ssa
        channels[ssa] = shapes.channels
        planned.append(
            PlannedLayer(
                layer=layer,
                inputs=inputs,
                output=ssa,
                attrs=shapes.attrs,
                blob_names=shapes.blob_names,
                blob_shapes=shapes.blob_shapes,
                channels=shapes.channels,
            )
        )
        if layer.name == output_layer:
            break
    return Plan(
        input_blob=input_blob,
        layers=_needed(planned),
        output_name=tf_name(output_layer),
        output_channels=planned[-1].channels,
    )


def _needed(planned: list[PlannedLayer]) -> list[PlannedLayer]:
    """The layers the last one depends on, in order."""
    needed = {planned[-1].output}
    kept: list[PlannedLayer] = []
    for pl in reversed(planned):
        if pl.output in needed:
            kept.append(pl)
            needed.update(pl.inputs)
    kept.reverse()
    return kept

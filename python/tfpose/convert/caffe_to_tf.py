"""Builds a TensorFlow graph equivalent to a Caffe pose network and saves it.

The graph takes ``image`` float32 [N, H, W, 3], BGR 0..255 (like tf-pose-estimation's graphs), applies
OpenPose's input normalisation ``x / 256 - 0.5`` and runs the Caffe layers in NHWC with Caffe's own
rules (explicit padding, pooling output size rounded up, PReLU slopes per channel). Height and width
are dynamic. The output tensor is named after the final layer (``concat_stage7`` for OpenPose's COCO
and MPI models, ``net_output`` for BODY_25).

TensorFlow is imported only inside the functions that need it.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tfpose.convert.caffe_proto import CaffeModel, ConversionError, parse_prototxt, read_caffemodel
from tfpose.convert.layers import LAYERS, PARAM_RANGES, SUPPORTED_TYPES
from tfpose.convert.plan import Plan, PlannedLayer, plan_network, tf_name
from tfpose.convert.weights import check_weights, tf_shapes, tf_weights

# Planning, the layer table and the weight checks live in their own modules; their public names are
# re-exported here, where callers (the fuzz harnesses, tests) have always imported them.
__all__ = [
    "PARAM_RANGES",
    "SUPPORTED_TYPES",
    "ConversionSummary",
    "Plan",
    "PlannedLayer",
    "build_forward",
    "check_weights",
    "convert",
    "plan_network",
    "tf_weights",
]


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
# Graph building (works in graph mode and inside tf.function)
# ----------------------------------------------------------------------------------------------


def build_forward(image, plan: Plan, get_weights, progress=None):
    """Builds the network on ``image`` [N, H, W, 3] (BGR 0..255) and returns [N, H', W', C].

    ``get_weights(planned_layer) -> list of tensors`` supplies each layer's weights in TensorFlow
    layout; ``progress`` (optional) is called once per layer built. Each layer is built by its
    type's ``emit`` in :data:`tfpose.convert.layers.LAYERS`.
    """
    import tensorflow as tf

    with tf.name_scope("preprocess"):
        # OpenPose feeds (BGR / 256 - 0.5) to its Caffe networks.
        x = tf.subtract(tf.multiply(image, 1.0 / 256.0), 0.5)
    values = {plan.input_blob: x}
    with tf.name_scope("net"):
        for pl in plan.layers:
            handler = LAYERS.get(pl.layer.type)
            if handler is None:  # plan_network rejects every other type
                raise ConversionError(f"unsupported layer type {pl.layer.type!r}", layer=pl.layer.name)
            with tf.name_scope(tf_name(pl.layer.name)):
                ins = [values[i] for i in pl.inputs]
                y = handler.emit(tf, ins, pl.attrs, functools.partial(get_weights, pl))
            values[pl.output] = y
            if progress is not None:
                progress()
    return values[plan.layers[-1].output]


# ----------------------------------------------------------------------------------------------
# Saving
# ----------------------------------------------------------------------------------------------


def _varint_bytes(n: int) -> bytes:
    """``n`` as a protobuf varint (the caffemodel reader decodes them; this writes the frozen graph)."""
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
        self.bar: Any = None  # a tqdm bar while a phase runs

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
    slots: list[tuple[list[str], PlannedLayer]] = []
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3], name="image")

        def placeholders(pl):
            tensors = [
                tf.compat.v1.placeholder(tf.float32, shape, name=name)
                for shape, name in zip(tf_shapes(pl), pl.blob_names, strict=True)
            ]
            slots.append(([t.op.name for t in tensors], pl))
            return tensors

        out = build_forward(image, plan, placeholders, progress.phase("building graph", len(plan.layers)))
        tf.identity(out, name=plan.output_name)
    graph_def = graph.as_graph_def()
    del graph
    weight_names = {n for names, _ in slots for n in names}
    field_node = _varint_bytes(1 << 3 | 2)
    with open(path, "wb") as f:
        for node in graph_def.node:
            if node.name not in weight_names:
                data = node.SerializeToString()
                f.write(field_node + _varint_bytes(len(data)) + data)
        for field_number, part in ((4, graph_def.versions), (2, graph_def.library)):
            data = part.SerializeToString()
            if data:
                f.write(_varint_bytes(field_number << 3 | 2) + _varint_bytes(len(data)) + data)
        tick = progress.phase("writing weights", len(slots))
        for names, pl in slots:
            for name, array in zip(names, tf_weights(pl, model), strict=False):
                node = tf.compat.v1.NodeDef(name=name, op="Const")
                node.attr["dtype"].type = tf.float32.as_datatype_enum
                node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(array))
                del array
                data = node.SerializeToString()
                del node
                f.write(field_node + _varint_bytes(len(data)) + data)
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
                        tf.Variable(a, trainable=False, name=f"{tf_name(pl.layer.name)}_{n}")
                        for a, n in zip(tf_weights(pl, model), pl.blob_names, strict=False)
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

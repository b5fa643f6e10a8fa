"""Export the whole image-to-people pipeline as a SavedModel.

Signature ``serving_default``: ``images`` uint8 [N, H, W, 3] BGR (one size per call) ->
``keypoints`` float32 [N, M, P, 3], ``scores`` float32 [N, M], ``num_people`` int32 [N], and with hands /
face on ``hand_left``, ``hand_right`` float32 [N, M, 21, 3] / ``face`` float32 [N, M, 70, 3].
Sizing, placement (:mod:`tfpose.placement`), the network and tfpose's post-processing ops are all in
the graph. The graph contains tfpose's custom ops (``Tfpose*``), so a process must ``import tfpose``
and load the op library before ``tf.saved_model.load``: use :func:`load_saved_model`.
"""

from __future__ import annotations

import os

import tensorflow as tf

__all__ = ["export_saved_model", "load_saved_model"]


def export_saved_model(model, export_dir, **estimator_options) -> str:
    """Write a SavedModel of ``tfpose.Estimator(model, **estimator_options)`` to ``export_dir``.

    model: frozen GraphDef (.pb), SavedModel directory, Estimator, or None for the bundled default
    model. The options are checked first, by the same function as the Estimator and the CLI
    (:func:`tfpose.options.check_estimator_options`); keypoint_scale and number_people_max act on the
    Python side only, so anything but their defaults (0, -1) is a ValueError here. export_dir must
    not be an existing file (NotADirectoryError). Returns export_dir.
    """
    from tfpose.estimator import Estimator
    from tfpose.options import check_estimator_options
    from tfpose.whole_body import ESTIMATOR_OPTIONS

    if not isinstance(model, Estimator):
        opts = check_estimator_options(
            **{
                k: v
                for k, v in estimator_options.items()
                if k not in ("fast", "input_name", "output_name") + ESTIMATOR_OPTIONS
            }
        )
        if opts["keypoint_scale"] != 0 or opts["number_people_max"] != -1:
            raise ValueError(
                "keypoint_scale / number_people_max: the SavedModel returns keypoints in image "
                "pixels and every person; expected 0 and -1, got "
                f"{opts['keypoint_scale']} and {opts['number_people_max']}"
            )
    if os.path.isfile(os.fspath(export_dir)):
        raise NotADirectoryError(
            f"export_dir {os.fspath(export_dir)!r}: expected a folder for the SavedModel, but a file is in the way"
        )
    est = model if isinstance(model, Estimator) else Estimator(model, **estimator_options)
    module = tf.Module()
    module.serve = tf.function(
        lambda images: dict(zip(est.output_names, est.people_graph(images))),
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")],
    )
    export_dir = os.fspath(export_dir)
    tf.saved_model.save(module, export_dir, signatures={"serving_default": module.serve})
    return export_dir


def _graph_op_types(path: str) -> set:
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        sm.ParseFromString(f.read())
    types = set()
    for mg in sm.meta_graphs:
        types.update(n.op for n in mg.graph_def.node)
        for fn in mg.graph_def.library.function:
            types.update(n.op for n in fn.node_def)
    return types


def required_tfpose_ops(path) -> list[str]:
    """Names of tfpose's custom ops used by the SavedModel at ``path``."""
    return sorted(t for t in _graph_op_types(os.fspath(path)) if t.startswith("Tfpose"))


def load_saved_model(path):
    """``tf.saved_model.load`` after loading tfpose's op library (which registers the ``Tfpose*`` ops).

    Raises a clear error when the op library cannot be loaded, listing the tfpose ops the model needs.
    """
    path = os.fspath(path)
    if not os.path.exists(os.path.join(path, "saved_model.pb")):
        raise FileNotFoundError(f"SavedModel {path!r}: expected a directory containing saved_model.pb")
    needed = required_tfpose_ops(path)
    if needed:
        try:
            import tfpose.ops  # noqa: F401  (registers the ops with TensorFlow)
        except ImportError as exc:
            raise ImportError(
                f"SavedModel {path!r} uses tfpose's custom ops {needed}, but tfpose's op library could "
                f"not be loaded: {exc}"
            ) from exc
    return tf.saved_model.load(path)

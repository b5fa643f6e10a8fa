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

__all__ = ["export_saved_model", "load_saved_model", "check_export_dir"]


def export_saved_model(model, export_dir, **estimator_options) -> str:
    """Write a SavedModel of ``tfpose.Estimator(model, **estimator_options)`` to ``export_dir``.

    model: frozen GraphDef (.pb), SavedModel directory, a TensorFlow Estimator, or None for the bundled default
    model. The options are checked first, by the same function as the Estimator and the CLI
    (:func:`tfpose.options.check_estimator_options`); keypoint_scale and number_people_max act on the
    Python side only, so anything but their defaults (0, -1) is a ValueError here. export_dir must
    must be a new or empty folder, never an input (:func:`check_export_dir`: NotADirectoryError,
    FileExistsError); the SavedModel appears there only when complete (written beside it, then
    renamed), a write failure is :class:`tfpose.outputs.OutputError` naming the folder and the cause.
    Returns export_dir.
    """
    from tfpose.options import check_estimator_options

    # the TensorFlow estimator itself: a .tflite model goes to its loader, which says where it runs
    from tfpose.tf_estimator import TensorFlowEstimator as Estimator
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
    inputs = [model] if not isinstance(model, Estimator) else []
    inputs += [estimator_options.get(k) for k in ("hand_model", "face_model")]
    check_export_dir(export_dir, [p for p in inputs if isinstance(p, (str, os.PathLike))])
    est = model if isinstance(model, Estimator) else Estimator(model, **estimator_options)
    module = tf.Module()
    module.serve = tf.function(
        lambda images: dict(zip(est.output_names, est.people_graph(images), strict=True)),
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")],
    )
    export_dir = os.fspath(export_dir)
    _save_atomically(module, export_dir)
    return export_dir


def check_export_dir(export_dir, inputs=()) -> None:
    """The rule for a SavedModel's folder: a new or empty folder, never one of the inputs (the
    network, hand or face model) nor a folder holding one or inside one. Raises
    NotADirectoryError when a file is in the way, FileExistsError otherwise."""
    from pathlib import Path

    from tfpose.sources import display_name

    out = Path(os.fspath(export_dir)).resolve()
    shown = display_name(os.fspath(export_dir))
    if out.is_file():
        raise NotADirectoryError(
            f"export_dir {shown!r}: expected a folder for the SavedModel, but a file is in the way"
        )
    for p in inputs:
        q = Path(os.fspath(p)).resolve()
        if q == out or out in q.parents or q in out.parents:
            raise FileExistsError(
                f"export_dir {shown!r}: it is (or holds, or is inside) the input {display_name(os.fspath(p))!r}; "
                "expected a new folder (export never writes over its inputs)"
            )
    if out.is_dir() and any(out.iterdir()):
        raise FileExistsError(
            f"export_dir {shown!r}: the folder exists and is not empty; expected a new or empty folder "
            "(export never replaces what is there: remove it first)"
        )


def _save_atomically(module, export_dir: str) -> None:
    # The SavedModel is written into a hidden folder beside export_dir and renamed onto it (an empty
    # folder is replaced by the rename): a failed or interrupted export leaves no half SavedModel.
    import shutil

    from tfpose.outputs import OutputError, os_error_cause, temporary_name

    tmp = temporary_name(export_dir.rstrip(os.sep) or export_dir)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(export_dir)), exist_ok=True)
        tf.saved_model.save(module, str(tmp), signatures={"serving_default": module.serve})
        os.replace(tmp, export_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(export_dir, os_error_cause(exc), exc.errno) from exc
    except tf.errors.OpError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(export_dir, exc.message) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _graph_op_types(path: str) -> set:
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        sm.ParseFromString(f.read())
    types: set[str] = set()
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

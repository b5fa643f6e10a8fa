"""``tfpose.Estimator``: OpenPose-style multi-person pose estimation from a network, whichever runtime
the network needs, and ``tfpose.estimate``, its one-call form.

Importing this module does not import TensorFlow; making an Estimator imports what its model
needs and nothing else (:class:`Estimator`). The value types (:class:`Person`, :class:`Details`,
:func:`as_bgr`) live in the TensorFlow-free :mod:`tfpose.types` and are re-exported here, where users
import them.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from tfpose.base_estimator import BaseEstimator, OptionRefused
from tfpose.options import DEFAULT_BATCH_SIZE  # noqa: F401 (re-exported: users and tests read it here)
from tfpose.types import MAX_PIXELS, Details, Person, as_bgr  # noqa: F401 (re-exported: users import them here)

__all__ = ["Estimator", "Person", "Details", "estimate", "as_bgr"]


if TYPE_CHECKING:
    # For the type checker, Estimator(...) is the TensorFlow estimator (the superset of the two
    # surfaces; the LiteRT one refuses what it lacks at run time): a metaclass' __call__ returning
    # another class is not followed by mypy.
    from tfpose.tf_estimator import TensorFlowEstimator as Estimator
else:

    class _PickImplementation(type):
        """Metaclass of :class:`Estimator`: calling ``Estimator(model, ...)`` makes the implementation the
        model needs; ``isinstance`` / ``issubclass`` against Estimator hold for every implementation
        (every :class:`tfpose.base_estimator.BaseEstimator`)."""

        def __call__(cls, model: Any = None, *args: Any, **kwargs: Any) -> Any:
            from tfpose.litert import LiteRTEstimator, is_tflite

            if isinstance(model, (bytes, os.PathLike)) and isinstance(os.fspath(model), bytes):
                model = os.fsdecode(model)  # a bytes path: the str (surrogate escapes) both loaders take
            if is_tflite(model):
                return LiteRTEstimator(model, *args, **kwargs)
            if kwargs.get("num_threads") is not None:
                why = f"only for a .tflite network (LiteRT); model {model!r} runs in TensorFlow, which sets its own threads"
                raise OptionRefused("num_threads", kwargs["num_threads"], (None,), why)
            kwargs.pop("num_threads", None)
            from tfpose.tf_estimator import TensorFlowEstimator

            return TensorFlowEstimator(model, *args, **kwargs)

        def __instancecheck__(cls, obj: Any) -> bool:
            return isinstance(obj, BaseEstimator)

        def __subclasscheck__(cls, sub: type) -> bool:
            return sub is cls or issubclass(sub, BaseEstimator)

    class Estimator(metaclass=_PickImplementation):
        """OpenPose-style multi-person pose estimator: ``Estimator(model=None, **options)``.

        What it makes, by the model:

        * a ``.tflite`` file (:func:`tfpose.litert.is_tflite`): a :class:`tfpose.litert.LiteRTEstimator`: the network in
          LiteRT (``ai-edge-litert``, XNNPACK), the post-processing through tfpose's numpy entry;
          TensorFlow is never imported. Options only the TensorFlow path has are refused with a
          ValueError naming the option (flip averaging, hands and face, input_name / output_name, a
          batch_size over 1, a precision other than the file's); it has no ``estimate_details``
          (part candidates, heatmaps).
        * anything else (None: the bundled network; a frozen GraphDef .pb, a SavedModel, a loaded
          :class:`tfpose.network.Network`): a :class:`tfpose.tf_estimator.TensorFlowEstimator`, whose
          docstring lists every option (shapes, defaults, errors).

        A path may be a str, bytes (decoded by ``os.fsdecode``) or os.PathLike. An option the picked
        implementation does not have is a :class:`tfpose.base_estimator.OptionRefused` (a ValueError
        naming it: ``num_threads`` is LiteRT's only; flip averaging and the others above TensorFlow's).

        Both share :class:`tfpose.base_estimator.BaseEstimator`'s surface and take the same options:
        ``estimate``, ``estimate_batch``, ``estimate_arrays``, ``stream``, ``sizing``, ``pose_model``,
        ``precision``, ``batch_size``, ``close()`` and ``with Estimator(...) as est:``; both are
        instances of Estimator (``isinstance(est, tfpose.Estimator)``), and ``type(est)`` names the one
        made.

        Why a picking metaclass rather than one class: the TensorFlow estimator derives from the graph
        builder (:class:`tfpose.graph.PoseGraph`), which needs TensorFlow at import, while the LiteRT
        path must run where TensorFlow is not installed; a function under this name would break
        ``isinstance``, and a base class that imported its subclasses to pick one would be an import
        cycle. Subclass one of the two implementations, not Estimator (TypeError).
        """

        def __init_subclass__(cls, **kwargs: Any) -> None:
            raise TypeError(
                "Estimator picks its implementation by the model; expected a subclass of "
                "tfpose.tf_estimator.TensorFlowEstimator or tfpose.litert.LiteRTEstimator instead"
            )


def __getattr__(name: str) -> Any:
    # the TensorFlow path's names, imported (with TensorFlow) only when asked for
    if name == "MSG_EMPTY_BATCH":
        from tfpose.base_estimator import MSG_EMPTY_BATCH

        return MSG_EMPTY_BATCH
    raise AttributeError(f"module 'tfpose.estimator' has no attribute {name!r}")


# tfpose.estimate's estimators, least recently used first: each holds a loaded network and its
# compiled graphs, so only the few most recent (model, options) are kept.
MAX_CACHED_ESTIMATORS = 4
_DEFAULT_ESTIMATORS: OrderedDict = OrderedDict()
_DEFAULT_LOCK = threading.Lock()


def estimate(image: Any, model: Any = None, **options: Any) -> list[Person]:
    """One-call estimation: ``Estimator(model, **options).estimate(image)``; model None (default) is
    the bundled mobilenet_thin graph, a ``.tflite`` file runs in LiteRT. The estimator is cached per
    (model, options), the MAX_CACHED_ESTIMATORS most recently used ones, so repeated calls do not
    reload the network."""
    key = (str(model), tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _DEFAULT_LOCK:
        est = _DEFAULT_ESTIMATORS.get(key)
        if est is None:
            est = _DEFAULT_ESTIMATORS[key] = Estimator(model, **options)
            while len(_DEFAULT_ESTIMATORS) > MAX_CACHED_ESTIMATORS:
                _DEFAULT_ESTIMATORS.popitem(last=False)
        else:
            _DEFAULT_ESTIMATORS.move_to_end(key)
    return est.estimate(image)

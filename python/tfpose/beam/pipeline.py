"""The pipeline's steps and :func:`build_pipeline`: plan -> Create(units) -> Reshuffle -> decode ->
RunInference -> OpenPose JSON per image/frame; dead letters and the optional COCO results JSON are
written by one last step.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference

from tfpose.beam.handler import METRICS_NAMESPACE, InferenceError, PoseModelHandler
from tfpose.beam.planning import Plan, failure, failure_record, local_path, plan_inputs
from tfpose.options import DEFAULTS

__all__ = ["build_pipeline"]

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


def _range_frames(local: str, start: int, stop: int, seek: bool):
    """(index, image or None) of frames [start, stop) of a local video, by
    :func:`tfpose.sources.read_frames` (the one rule that names each decoded frame by its index).
    ``seek`` (a video whose every frame decoded when planned): start by OpenCV's seek where it lands
    exactly, so a video of n frames in ranges of r costs n decodes instead of about n^2 / 2r."""
    from tfpose import sources

    yield from sources.read_frames(local, start, stop, seek=seek)


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
                with local_path(path) as local:
                    img = sources.read_image(local)  # the CLI's rule: gray -> BGR, alpha dropped
            except Exception as exc:  # noqa: BLE001
                yield _FAILED, failure(path, f"{type(exc).__name__}: {exc}")
                return
            if img is None:
                yield _FAILED, failure(path, "not a readable image")
            else:
                yield _BATCH, ([(key, stem, None)], [img])
            return
        keys, images, handed = [], [], start  # handed: frames before it are in a batch or a record
        try:
            with local_path(path) as local:
                for i, img in _range_frames(local, start, stop, seek):
                    if img is None:
                        yield _FAILED, failure(path, "this frame could not be decoded", frame=i)
                    else:
                        keys.append((key, stem, i))
                        images.append(img)
                    if img is None or len(images) == self.batch_size:
                        if images:
                            yield _BATCH, (keys, images)
                        keys, images, handed = [], [], i + 1
        except Exception as exc:  # noqa: BLE001
            keys, images = [], []
            yield _FAILED, failure(path, f"{type(exc).__name__}: {exc}", frame_range=(handed, stop))
            return
        if images:
            yield _BATCH, (keys, images)
            handed = keys[-1][2] + 1
        if handed < stop:
            # The plan counted these frames by decoding the same file: it changed, or reads differ.
            yield _FAILED, failure(path, "the video ended before this range's last frame", frame_range=(handed, stop))


class _UnitBatches(ModelHandler):
    """RunInference over the batches :class:`_Decode` made: example ``(keys, images)``, inference the
    list of each image's people (or :class:`InferenceError`) by ``handler``. Beam's own batching is
    skipped: each element is ``[(keys, images)]``, so no batch is ever held for ``finish_bundle``."""

    def __init__(self, handler: PoseModelHandler):
        with contextlib.suppress(TypeError):  # older ModelHandler.__init__ signatures
            super().__init__()
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
        for key, people in zip(result.example, result.inference, strict=False):
            path, _, frame = key
            if isinstance(people, InferenceError):
                yield _FAILED, failure(path, people.message, frame=frame)
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
            yield _FAILED, failure(path, f"writing {target}: {type(exc).__name__}: {exc}", frame=frame)


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
            failure_record(f)
            for f in sorted((v for t, v in items if t == _FAILED), key=lambda f: (f[0], f[2] or -1, f[3] or (-1, -1)))
        ]
        self.failures.inc(len(failed))
        if self.dead_letter is not None:
            _write_text(self.dead_letter, "".join(json.dumps(r, sort_keys=True) + "\n" for r in failed))
        if self.coco_json is not None:
            self._write_coco(self.coco_json, [v for t, v in items if t == _COCO])
        return []

    def _write_coco(self, coco_json: str, coco: list) -> None:
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
        _write_text(coco_json, json.dumps(results) + "\n")
        # The CLI's name for the mapping, built on the text so that a URL (gs://...) keeps its "//".
        folder, _, name = coco_json.rpartition("/")
        mapping = tio.coco_mapping_name(name).name
        _write_text(f"{folder}/{mapping}" if folder else mapping, ids.mapping_json())


def build_pipeline(
    pipeline: beam.Pipeline,
    inputs: Sequence[str],
    output_dir: str | None,
    handler: PoseModelHandler,
    *,
    frames_per_range: int = DEFAULTS["frames_per_range"],
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
    starts = [(_START, None)] + [(_FAILED, failure(r["input"], r["error"])) for r in plan.failures]
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

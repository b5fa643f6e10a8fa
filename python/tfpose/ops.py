"""TensorFlow wrappers of tfpose's C++ ops.

Each function accepts numpy arrays or tensors, runs eagerly, inside ``tf.function`` (unknown
dimensions included), in ``tf.data`` maps and in SavedModels. Importing this module imports
TensorFlow and loads the op library after checking it matches the running TensorFlow.

Shapes use N batch, H/W map height/width, C channels, P parts, K peaks per part, M people, S scales.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from tfpose import _args
from tfpose._loader import load_op_library
from tfpose._tensors import float64_tensor

_lib = load_op_library()

# Every public op (the table of cpp/README.md); the placement ops are in tfpose.placement.
__all__ = [
    "resize_and_merge",
    "nms",
    "maximum",
    "connect",
    "net_output_to_people",
    "hand_boxes",
    "face_boxes",
    "topdown_decode",
    "crop_affine",
    "op_library",
]


def op_library():
    """The module returned by ``tf.load_op_library`` (raw generated op functions)."""
    return _lib


def _float_tensor(x, name: str) -> tf.Tensor:
    """float32 tensor from a numpy array or tensor; other float dtypes are cast, the rest rejected."""
    if isinstance(x, (tf.Tensor, tf.Variable)) or tf.is_tensor(x):
        t = tf.convert_to_tensor(x)
    else:
        a = np.asarray(x)
        if a.dtype == object:
            raise TypeError(f"{name}: expected a float array, got an object array")
        t = tf.convert_to_tensor(a)
    if not t.dtype.is_floating:
        raise TypeError(f"{name}: expected a float32 tensor, got dtype {t.dtype.name}")
    if t.dtype != tf.float32:
        t = tf.cast(t, tf.float32)
    if t.shape.rank is not None and t.shape.rank != 4:
        raise ValueError(f"{name}: expected rank 4 [N, H, W, C], got shape {t.shape}")
    return t


def _scale_list(net_outputs, name: str = "net_outputs") -> list:
    if isinstance(net_outputs, (list, tuple)):
        if not net_outputs:
            raise ValueError(f"{name}: expected at least one scale, got an empty list")
        return [_float_tensor(x, f"{name}[{i}]") for i, x in enumerate(net_outputs)]
    return [_float_tensor(net_outputs, name)]


@functools.lru_cache(maxsize=256)
def _eager_constant(values: tuple, dtype) -> tf.Tensor:
    return tf.constant(values, dtype)


def _constant(values: tuple, dtype) -> tf.Tensor:
    """tf.constant of checked Python values. Eagerly, the tensor is made once per value (building
    a constant costs tens of microseconds, a sizeable part of an eager call); in a graph, a fresh
    Const node (a cached eager tensor would become a captured input of the function)."""
    if tf.executing_eagerly():
        return _eager_constant(values, dtype)
    return tf.constant(values, dtype)


def _ratios(scale_ratios, num_scales: int, openpose_build: str) -> tf.Tensor:
    if tf.is_tensor(scale_ratios):
        # Checked by the kernel (count, finite, positive) once the values exist.
        return tf.cast(scale_ratios, tf.float64)
    return _constant(tuple(_args.check_scale_ratios(scale_ratios, num_scales, openpose_build)), tf.float64)


def _int32_tensor(x, name: str, lo: int) -> tf.Tensor:
    """An integer tensor as int32, with a run-time check (eager and in graphs) that its values lie in
    [lo, 2^31 - 1] when its dtype could hold others: never a silent wrap."""
    t = tf.convert_to_tensor(x)
    if not t.dtype.is_integer:
        raise TypeError(f"{name}: expected an integer tensor, got dtype {t.dtype.name}")
    if t.dtype != tf.int32:
        wide = tf.cast(t, tf.int64) if t.dtype != tf.uint64 else t
        with tf.control_dependencies(
            [
                tf.debugging.assert_greater_equal(
                    wide, tf.constant(lo, wide.dtype), message=f"{name}: expected values >= {lo}"
                ),
                tf.debugging.assert_less_equal(
                    wide, tf.constant(_args.INT32_MAX, wide.dtype), message=f"{name}: expected values below 2^31"
                ),
            ]
        ):
            t = tf.cast(t, tf.int32)
    return t


def _size_tensor(size, name: str) -> tf.Tensor:
    if size is None:
        return _constant((0, 0), tf.int32)
    if tf.is_tensor(size):
        return _int32_tensor(size, name, 1)
    return _constant(tuple(_args.check_size(size, name)), tf.int32)


def resize_and_merge(net_outputs, scale_ratios=None, target_size=None, openpose_build="cpu"):
    """OpenPose's resize-and-merge (docs/algorithms/body.md §4).

    net_outputs: Tensor [N, h, w, C] or list of S such tensors (scale 0 first).
    scale_ratios: S numbers, scaleInputToNet of each scale (only ratios to scale 0 matter; needed by
        openpose_build="cuda" with several scales, ignored by "cpu" which stretches every scale).
    target_size: (H, W); default 8x the size of scale 0.
    openpose_build: "cpu" = OpenCV bicubic (a = -0.75); "cuda" = Catmull-Rom (a = -0.5) with
        OpenPose's clamping, single scale only 8x (or same size), at most 8 scales aligned by ratio.
    Returns maps [N, H, W, C] float32, averaged over scales. NaN/Inf inputs spread (as NaN or +-Inf)
    to every output pixel whose 4x4 taps read them.
    """
    _args.check_openpose_build(openpose_build)
    scales = _scale_list(net_outputs)
    return _lib.tfpose_resize_and_merge(
        net_outputs=scales,
        scale_ratios=_ratios(scale_ratios, len(scales), openpose_build),
        target_size=_size_tensor(target_size, "target_size"),
        openpose_build=openpose_build,
    )


def nms(
    heatmaps,
    threshold=_args.DEFAULT_NMS_THRESHOLD,
    max_peaks=_args.DEFAULT_MAX_PEAKS,
    offset=(0.0, 0.0),
    openpose_build="cpu",
    peak_refinement="centroid",
):
    """OpenPose's non-maximum suppression (docs/algorithms/body.md §5).

    heatmaps: [N, H, W, P] part heatmaps (pass only the part channels).
    threshold: in [0, 1]; a peak's value must exceed it. max_peaks: K, kept per part in raster order.
    offset: (x, y) added to each refined peak (OpenPose's nmsOffset); a tensor is checked by the kernel.
    peak_refinement: "centroid" (OpenPose's, default) or "quadratic" (tfpose's opt-in, see
        :func:`tfpose.numpy_ops.nms`).
    Returns (peaks [N, P, K, 3] float32 (x, y, score), counts [N, P] int32). Arguments are checked by
    the core's NMS-parameter rule (:func:`tfpose._args.nms_params`): TypeError / ValueError.
    """
    given_offset = (0.0, 0.0) if tf.is_tensor(offset) else offset
    params = _args.nms_params(threshold, max_peaks, given_offset, openpose_build, peak_refinement)
    off = (
        tf.cast(offset, tf.float32)
        if tf.is_tensor(offset)
        else tf.constant((params.offset_x, params.offset_y), tf.float32)
    )
    return tuple(
        _lib.tfpose_nms(
            heatmaps=_float_tensor(heatmaps, "heatmaps"),
            offset=off,
            threshold=params.threshold,
            max_peaks=params.max_peaks,
            openpose_build=params.openpose_build,
            peak_refinement=params.peak_refinement,
        )
    )


def maximum(heatmaps):
    """Global maximum per channel (docs/algorithms/body.md §6): heatmaps [N, H, W, C] -> [N, C, 3] (x, y, value);
    ties go to the first in raster order, NaNs are skipped."""
    return _lib.tfpose_maximum(heatmaps=_float_tensor(heatmaps, "heatmaps"))


def connect(maps, peaks, counts, model="COCO_18", scale=1.0, openpose_build="cpu", **thresholds):
    """OpenPose's body-part connector (docs/algorithms/body.md §7).

    maps: [N, H, W, C] all channels of the resized output (parts, background, PAFs).
    peaks [N, P, K, 3], counts [N, P]: from :func:`nms`.
    scale: scalar or [N], multiplies keypoint x and y (OpenPose's scaleNetToOutput).
    thresholds: nms_threshold, inter_min_above_threshold, inter_threshold, min_subset_cnt,
        min_subset_score; defaults are OpenPose's for the model.
    A NaN or +-Inf PAF sample fails the per-sample threshold test; peaks outside the map are allowed (PAF
    samples are clamped into it, as in OpenPose); non-finite peaks or scale are an error.
    Returns (keypoints [N, M, P, 3], scores [N, M], num_people [N]); M = most people in the batch,
    rows past num_people are zero; people are in OpenPose's order (creation order).
    """
    _args.check_openpose_build(openpose_build)
    return tuple(
        _lib.tfpose_connect(
            maps=_float_tensor(maps, "maps"),
            peaks=tf.convert_to_tensor(peaks, tf.float32),
            counts=_int32_tensor(counts, "counts", 0)
            if tf.is_tensor(counts)
            else tf.constant(_args.check_counts(counts), tf.int32),
            scale=tf.convert_to_tensor(scale, tf.float32),
            model=_args.check_model(model),
            openpose_build=openpose_build,
            **_args.threshold_values(thresholds),
        )
    )


def net_output_to_people(
    net_outputs,
    scale_ratios=None,
    net_input_size=None,
    image_size=None,
    model="COCO_18",
    openpose_build="cpu",
    max_peaks=_args.DEFAULT_MAX_PEAKS,
    fast=True,
    peak_refinement="centroid",
    **thresholds,
):
    """The tail of OpenPose's forward pass (docs/algorithms/body.md §3-7): resize, NMS with OpenPose's offset, connect.

    net_outputs: [N, h, w, C] or a list of S of them; scale_ratios as in :func:`resize_and_merge`.
    net_input_size: (H, W) of scale 0's network input (default 8x the blob).
    image_size: (H, W) of the original image (default: the net input size).
    fast: skip the dense full-resolution maps (same people as the dense chain).
    peak_refinement: NMS peak position, "centroid" (OpenPose's, default) or "quadratic" (:func:`nms`).
    Returns (keypoints [N, M, P, 3] in original-image pixels, scores [N, M], num_people [N]).
    """
    _args.check_openpose_build(openpose_build)
    scales = _scale_list(net_outputs)
    return tuple(
        _lib.tfpose_net_output_to_people(
            net_outputs=scales,
            scale_ratios=_ratios(scale_ratios, len(scales), openpose_build),
            net_input_size=_size_tensor(net_input_size, "net_input_size"),
            image_size=_size_tensor(image_size, "image_size"),
            model=_args.check_model(model),
            openpose_build=openpose_build,
            max_peaks=_args.check_max_peaks(max_peaks),
            fast=bool(fast),
            peak_refinement=_args.check_peak_refinement(peak_refinement),
            **_args.threshold_values(thresholds),
        )
    )


def _keypoints_tensor(keypoints) -> tf.Tensor:
    t = tf.convert_to_tensor(keypoints)
    if t.dtype == tf.bool or not (t.dtype.is_floating or t.dtype.is_integer):
        raise TypeError(f"keypoints: expected a float32 tensor [..., P, 3], got dtype {t.dtype.name}")
    if t.shape.rank is not None and (t.shape.rank < 2 or t.shape[-1] not in (None, 3)):
        raise ValueError(f"keypoints: expected shape [..., P, 3], got {t.shape}")
    return tf.cast(t, tf.float32)


def hand_boxes(keypoints, pose_model="COCO_18"):
    """OpenPose's hand boxes, as :func:`tfpose.numpy_ops.hand_boxes`: keypoints [..., P, 3] (batch
    first, e.g. [N, M, P, 3]) -> [..., 2, 4] float32 (left, right; x, y, width, height)."""
    return _lib.tfpose_hand_boxes(keypoints=_keypoints_tensor(keypoints), model=_args.check_pose_model_name(pose_model))


def face_boxes(keypoints, pose_model="COCO_18"):
    """OpenPose's face boxes, as :func:`tfpose.numpy_ops.face_boxes`: keypoints [..., P, 3] ->
    [..., 4] float32 (x, y, width, height)."""
    return _lib.tfpose_face_boxes(keypoints=_keypoints_tensor(keypoints), model=_args.check_pose_model_name(pose_model))


def topdown_decode(heatmaps, transforms=None, refinement="none", dark_kernel=11):
    """Top-down decoding, as :func:`tfpose.numpy_ops.topdown_decode`: heatmaps [N, H, W, C],
    transforms None or [N, 2, 3] (float64) -> [N, C, 3] float32 (x, y, score)."""
    _args.check_refinement(refinement)
    m = tf.zeros([0, 2, 3], tf.float64) if transforms is None else float64_tensor(transforms)
    return _lib.tfpose_top_down_decode(
        heatmaps=_float_tensor(heatmaps, "heatmaps"),
        transforms=m,
        refinement=refinement,
        dark_kernel=_args.check_dark_kernel(dark_kernel),
    )


def crop_affine(images, image_index, transforms, size):
    """Affine crops, as :func:`tfpose.numpy_ops.crop_affine`: images uint8 [N, H, W, C], image_index
    [B] int32, transforms [B, 2, 3] float64, size (H, W) -> float32 [B, H, W, C] (0..255)."""
    images = tf.convert_to_tensor(images)
    if images.dtype != tf.uint8:
        raise TypeError(f"images: expected uint8 [N, H, W, C], got dtype {images.dtype.name}")
    # integer tensors only, range-checked before the int32 cast (no wrapping, no float truncation)
    size_t = (
        _int32_tensor(size, "size", 1) if tf.is_tensor(size) else tf.constant(_args.check_size(size, "size"), tf.int32)
    )
    return _lib.tfpose_crop_affine(
        images=images,
        image_index=_int32_tensor(image_index, "image_index", 0),
        transforms=float64_tensor(transforms),
        size=size_t,
    )

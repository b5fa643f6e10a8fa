"""The C++ core on numpy arrays, through pybind11: same algorithms and results as :mod:`tfpose.ops`,
without TensorFlow. Inputs are converted to C-contiguous float32; results are numpy arrays.

Shapes use N batch, H/W map height/width, C channels, P parts, K peaks per part, M people.
"""

from __future__ import annotations

import numpy as np

from tfpose import _args, _core

__all__ = [
    "maximum",
    "nms",
    "resize_and_merge",
    "connect",
    "output_scaling",
    "net_output_to_people",
    "resize_fixed_aspect_ratio",
    "hand_boxes",
    "face_boxes",
    "topdown_decode",
    "crop_affine",
]


def _float_array(x, name: str, rank: int = 4) -> np.ndarray:
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{name}: expected a float32 array, got dtype {a.dtype}")
    if a.ndim != rank:
        raise ValueError(f"{name}: expected rank {rank}, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def _scale_list(net_outputs) -> list:
    """One array or a list of S arrays [N, h_i, w_i, C] -> list of float32 C-contiguous arrays."""
    if isinstance(net_outputs, (list, tuple)):
        if not net_outputs:
            raise ValueError("net_outputs: expected at least one scale, got an empty list")
        return [_float_array(x, f"net_outputs[{i}]") for i, x in enumerate(net_outputs)]
    return [_float_array(net_outputs, "net_outputs")]


def maximum(heatmaps, threads: int = 0) -> np.ndarray:
    """heatmaps [N, H, W, C] -> [N, C, 3] (x, y, value) of each channel's maximum; ties go to the
    first in raster order, NaNs are skipped (an all-NaN channel gives (0, 0, nan))."""
    return _core.maximum(_float_array(heatmaps, "heatmaps"), _args.check_threads(threads))


def nms(
    heatmaps,
    threshold=_args.DEFAULT_NMS_THRESHOLD,
    max_peaks=_args.DEFAULT_MAX_PEAKS,
    offset=(0.0, 0.0),
    openpose_build="cpu",
    threads: int = 0,
    peak_refinement="centroid",
):
    """OpenPose's non-maximum suppression (docs/algorithms/body.md §5), as :func:`tfpose.ops.nms`.

    heatmaps: [N, H, W, P] part heatmaps (pass only the part channels).
    threshold: in [0, 1]; a peak's value must exceed it. max_peaks: K, kept per part in raster order.
    offset: (x, y) added to each refined peak (OpenPose's nmsOffset).
    openpose_build: "cpu" (ring rule with >= near the border) or "cuda" (strict, no border peaks).
    threads: worker threads, 0 = all cores.
    peak_refinement: "centroid" (OpenPose's 7x7 centroid, default) or "quadratic" (tfpose's opt-in
        log-parabola vertex per axis, see tfpose._args.PEAK_REFINEMENTS); in heatmap pixels, the centre
        of pixel (x, y) at (x, y) before the offset.
    Returns (peaks [N, P, K, 3] float32 (x, y, score), counts [N, P] int32); rows past a part's count
    are 0. NaN and +-Inf are never peaks (non-finite values: see README, "Non-finite and denormal values").
    """
    params = _args.nms_params(threshold, max_peaks, offset, openpose_build, peak_refinement)
    return _core.nms(_float_array(heatmaps, "heatmaps"), params, _args.check_threads(threads))


def resize_and_merge(
    net_outputs, scale_ratios=None, target_size=None, openpose_build="cpu", threads: int = 0
) -> np.ndarray:
    """OpenPose's resize-and-merge (docs/algorithms/body.md §4), same semantics as :func:`tfpose.ops.resize_and_merge`.

    net_outputs: [N, h, w, C] or a list of S such arrays (scale 0 first; same N and C).
    scale_ratios: S numbers, scaleInputToNet of each scale (only ratios to scale 0 matter; needed by
        openpose_build="cuda" with several scales, ignored by "cpu" which stretches every scale).
    target_size: (H, W); default 8x the size of scale 0.
    openpose_build: "cpu" = OpenCV bicubic (a = -0.75); "cuda" = Catmull-Rom (a = -0.5) with
        OpenPose's clamping, single scale only 8x (or same size), scales aligned by their ratios.
    threads: worker threads (0 = all cores).
    Returns maps [N, H, W, C] float32, averaged over scales. NaN/Inf inputs spread (as NaN or +-Inf)
    to every output pixel whose 4x4 taps read them.
    """
    _args.check_openpose_build(openpose_build)
    scales = _scale_list(net_outputs)
    ratios = _args.check_scale_ratios(scale_ratios, len(scales), openpose_build)
    target = (0, 0) if target_size is None else _args.check_size(target_size, "target_size")
    return _core.resize_and_merge(scales, list(ratios), target, openpose_build, _args.check_threads(threads))


def _thresholds(thresholds: dict):
    return _core.ConnectThresholds(**_args.threshold_values(thresholds))


def connect(maps, peaks, counts, model="COCO_18", scale=1.0, openpose_build="cpu", threads: int = 0, **thresholds):
    """OpenPose's body-part connector (docs/algorithms/body.md §7) on numpy arrays.

    maps: [N, H, W, C] all channels of the resized output (parts, background, PAFs).
    peaks [N, P, K, 3] (x, y, score), counts [N, P] integers: as returned by :func:`nms`.
    scale: scalar or [N], multiplies keypoint x and y (OpenPose's scaleNetToOutput).
    openpose_build: "cpu" (per-limb assembly) or "cuda" (global greedy assembly).
    thresholds: nms_threshold, inter_min_above_threshold, inter_threshold, min_subset_cnt,
        min_subset_score; None or absent = OpenPose's default for the model.
    A NaN or +-Inf PAF sample counts as failing the per-sample threshold; non-finite peaks are an error.
    Returns (keypoints [N, M, P, 3], scores [N, M], num_people [N] int32); M = most people in the
    batch, rows past num_people are zero; people are in OpenPose's order.
    """
    _args.check_openpose_build(openpose_build)
    th = _thresholds(thresholds)
    c = _args.check_counts(counts)
    s = np.asarray(scale)
    if not (np.issubdtype(s.dtype, np.floating) or np.issubdtype(s.dtype, np.integer)) or s.dtype == bool:
        raise TypeError(f"scale: expected a number or a float array [N], got dtype {s.dtype}")
    return _core.connect(
        _float_array(maps, "maps"),
        _float_array(peaks, "peaks"),
        np.ascontiguousarray(c, dtype=np.int32),
        np.ascontiguousarray(s, dtype=np.float32),
        _args.check_model(model),
        openpose_build,
        th,
        _args.check_threads(threads),
    )


def output_scaling(net_input_size, image_size=None):
    """OpenPose's size bookkeeping (docs/algorithms/body.md §3): (scale_net_to_output, nms_offset) for a net input
    (H, W) and an original image (H, W) (default: the net input size). Keypoint = (peak +
    nms_offset) * scale_net_to_output, in original-image pixels with OpenPose's +0.5 convention."""
    net = _args.check_size(net_input_size, "net_input_size")
    img = net if image_size is None else _args.check_size(image_size, "image_size")
    return _core.output_scaling(net, img)


def net_output_to_people(
    net_outputs,
    scale_ratios=None,
    net_input_size=None,
    image_size=None,
    model="COCO_18",
    openpose_build="cpu",
    max_peaks=_args.DEFAULT_MAX_PEAKS,
    fast=True,
    threads: int = 0,
    peak_refinement="centroid",
    **thresholds,
):
    """The tail of OpenPose's forward pass (docs/algorithms/body.md §3-7): resize, NMS with OpenPose's offset, connect.

    net_outputs: [N, h, w, C] or a list of S of them (scale 0 first); scale_ratios: S numbers
        (scaleInputToNet of each scale; needed by openpose_build="cuda" with several scales).
    net_input_size: (H, W) of scale 0's network input (default 8x the blob).
    image_size: (H, W) of the original image (default: the net input size).
    fast: True evaluates the interpolated maps only where a peak or a PAF sample needs them (no
        [N, H, W, C] maps in memory); False runs the dense chain. Both give the same people, bit for bit.
    peak_refinement: NMS peak position, as in :func:`nms` ("centroid": OpenPose's).
    Returns (keypoints [N, M, P, 3] in original-image pixels, scores [N, M], num_people [N]).
    """
    _args.check_openpose_build(openpose_build)
    max_peaks = _args.check_max_peaks(max_peaks)
    th = _thresholds(thresholds)
    scales = _scale_list(net_outputs)
    ratios = list(_args.check_scale_ratios(scale_ratios, len(scales), openpose_build))
    net = (0, 0) if net_input_size is None else _args.check_size(net_input_size, "net_input_size")
    img = (0, 0) if image_size is None else _args.check_size(image_size, "image_size")
    return _core.net_output_to_people(
        scales,
        ratios,
        net,
        img,
        _args.check_model(model),
        openpose_build,
        max_peaks,
        th,
        bool(fast),
        _args.check_threads(threads),
        _args.check_peak_refinement(peak_refinement),
    )


def _keypoints_array(keypoints) -> np.ndarray:
    a = np.asarray(keypoints)
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)) or a.dtype == bool:
        raise TypeError(f"keypoints: expected a float32 array [..., P, 3], got dtype {a.dtype}")
    if a.ndim < 2 or a.shape[-1] != 3:
        raise ValueError(f"keypoints: expected shape [..., P, 3], got {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def hand_boxes(keypoints, pose_model="COCO_18") -> np.ndarray:
    """OpenPose's hand boxes from body keypoints (docs/algorithms/hand-face.md §2.1; OpenPose's
    handDetector.cpp).

    keypoints: [..., P, 3] (x, y, score) of ``pose_model`` ("COCO_18", "BODY_25", "MPI_15",
        "MPI_15_4") in input-image pixels, e.g. [N, M, P, 3] from :func:`net_output_to_people`.
    Returns [..., 2, 4] float32: left hand then right hand (the person's own sides), each a square
    (x, y, width, height) in the same pixels: centre = wrist + 0.33 (wrist - elbow), side =
    1.5 max(|wrist elbow|, 0.9 |elbow shoulder|). (0, 0, 0, 0) when that side's wrist, elbow or
    shoulder has score <= 0.03 (or a non-finite coordinate). Boxes are not clipped to the image.
    Raises ValueError when P does not match the model.
    """
    return _core.hand_boxes(_keypoints_array(keypoints), _args.check_pose_model_name(pose_model))


def face_boxes(keypoints, pose_model="COCO_18") -> np.ndarray:
    """OpenPose's face boxes from body keypoints (docs/algorithms/hand-face.md §3; OpenPose's faceDetector.cpp).

    keypoints: [..., P, 3] as for :func:`hand_boxes`.
    Returns [..., 4] float32 square (x, y, width, height): the mean of up to three estimates
    (neck-nose or a profile, eyes, ears; parts with score > 0.25), MPI: around the head with side
    1.33 |neck head|. (0, 0, 0, 0) when no estimate fires.
    """
    return _core.face_boxes(_keypoints_array(keypoints), _args.check_pose_model_name(pose_model))


def topdown_decode(heatmaps, transforms=None, refinement="none", dark_kernel=11, threads: int = 0) -> np.ndarray:
    """Top-down decoding of single-person heatmaps: per channel the maximum (OpenPose's maximum,
    first in raster order on ties, NaN skipped), a sub-pixel refinement, an optional affine map.

    heatmaps: [N, H, W, C]. Pixel convention: the centre of heatmap pixel (column j, row i) is
        (x, y) = (j, i) (no +0.5).
    refinement: "none" (OpenPose's hands and face), "quarter" (Simple Baselines, Xiao et al. 2018:
        +-0.25 px per axis toward the higher neighbour, where both neighbours exist), "dark" (Zhang
        et al. 2020: dark_kernel x dark_kernel Gaussian on the zero-padded map, rescaled to its
        maximum, log, one Newton step; needs 2 px of map on every side of the argmax).
    transforms: None or [N, 2, 3] float64, (x, y) -> (a x + b y + c, d x + e y + f), applied after
        the refinement in double precision (e.g. crop pixels -> image pixels).
    Returns [N, C, 3] float32 (x, y, score); score = the unrefined maximum value.
    """
    _args.check_refinement(refinement)
    dark_kernel = _args.check_dark_kernel(dark_kernel)
    m = None
    if transforms is not None:
        m = np.asarray(transforms)
        if not (np.issubdtype(m.dtype, np.floating) or np.issubdtype(m.dtype, np.integer)) or m.dtype == bool:
            raise TypeError(f"transforms: expected a float64 array [N, 2, 3], got dtype {m.dtype}")
        m = np.ascontiguousarray(m, dtype=np.float64)
    return _core.topdown_decode(
        _float_array(heatmaps, "heatmaps"), m, refinement, dark_kernel, _args.check_threads(threads)
    )


def resize_fixed_aspect_ratio(images, scale, size, threads: int = 0) -> np.ndarray:
    """OpenPose's placement of images on the network canvas (resizeFixedAspectRatio, docs/algorithms/body.md §2.2), as
    :func:`tfpose.placement.warp_top_left`: the image scaled by ``scale`` (scaleInputToNet, float64)
    at the top-left of an (H, W) = ``size`` canvas, black elsewhere; bicubic (a = -0.75) when
    scale > 1, else bilinear, in float like OpenCV 5's warpAffine.

    images: uint8 [N, H_i, W_i, C]. Returns float32 [N, H, W, C] holding integers 0..255. Time and
    memory follow the canvas. Raises ValueError for other dtypes or ranks, a non-finite or
    non-positive scale, or an empty size.
    """
    im = np.asarray(images)
    if im.dtype != np.uint8 or im.ndim != 4:
        raise ValueError(f"images: expected uint8 [N, H, W, C], got {im.dtype} {im.shape}")
    return _core.resize_fixed_aspect_ratio(
        np.ascontiguousarray(im), float(scale), _args.check_size(size, "size"), _args.check_threads(threads)
    )


def crop_affine(images, image_index, transforms, size, threads: int = 0) -> np.ndarray:
    """Affine crops with OpenCV's warpAffine rule (INTER_LINEAR | WARP_INVERSE_MAP, BORDER_CONSTANT 0)
    computed in float: the crops OpenPose feeds its hand and face networks (docs/algorithms/hand-face.md §4.3).

    images: uint8 [N, H, W, C]; image_index: [B] ints in [0, N), the image of each crop.
    transforms: [B, 2, 3] float64; crop pixel (j, i) (column, row) samples the image at
        (a j + b i + c, d j + e i + f); pixel centres at integer coordinates, taps outside read 0.
    size: (H, W) of the crops.
    Returns float32 [B, H, W, C]: bilinear samples rounded to the nearest integer (ties to even).
    OpenCV 4.x computes the same warp in fixed point (1/32-pixel positions), so it can differ by a few
    grey levels on steep edges.
    """
    im = np.asarray(images)
    if im.dtype != np.uint8 or im.ndim != 4:
        raise ValueError(f"images: expected uint8 [N, H, W, C], got {im.dtype} {im.shape}")
    idx = np.asarray(image_index)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"image_index: expected integers [B], got dtype {idx.dtype}")
    oh, ow = _args.check_size(size, "size")
    return _core.crop_affine(
        np.ascontiguousarray(im),
        np.ascontiguousarray(idx, np.int32),
        np.ascontiguousarray(transforms, np.float64),
        oh,
        ow,
        _args.check_threads(threads),
    )

"""The C++ core on numpy arrays, through pybind11: same algorithms and results as :mod:`tfpose.ops`,
without TensorFlow. Inputs are converted to C-contiguous float32; results are numpy arrays.

Shapes use N batch, H/W map height/width, C channels, P parts, K peaks per part, M people.
"""
from __future__ import annotations

import numpy as np

from tfpose import _args, _core

__all__ = ["maximum", "nms", "resize_and_merge"]


def _float_array(x, name: str, rank: int = 4) -> np.ndarray:
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{name}: expected a float32 array, got dtype {a.dtype}")
    if a.ndim != rank:
        raise ValueError(f"{name}: expected rank {rank}, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def maximum(heatmaps, threads: int = 0) -> np.ndarray:
    """heatmaps [N, H, W, C] -> [N, C, 3] (x, y, value) of each channel's maximum; ties go to the
    first in raster order, NaNs are skipped (an all-NaN channel gives (0, 0, nan))."""
    return _core.maximum(_float_array(heatmaps, "heatmaps"), _args.check_threads(threads))


def nms(heatmaps, threshold=0.05, max_peaks=127, offset=(0.0, 0.0), openpose_build="cpu",
        threads: int = 0):
    """OpenPose's non-maximum suppression (spec §5), as :func:`tfpose.ops.nms`.

    heatmaps: [N, H, W, P] part heatmaps (pass only the part channels).
    threshold: in [0, 1]; a peak's value must exceed it. max_peaks: K, kept per part in raster order.
    offset: (x, y) added to each refined peak (OpenPose's nmsOffset).
    openpose_build: "cpu" (ring rule with >= near the border) or "cuda" (strict, no border peaks).
    threads: worker threads, 0 = all cores.
    Returns (peaks [N, P, K, 3] float32 (x, y, score), counts [N, P] int32); rows past a part's count
    are 0. NaN is never a peak; an +Inf peak is reported at its integer position with score +Inf.
    """
    _args.check_openpose_build(openpose_build)
    threshold = _args.check_threshold(threshold)
    max_peaks = _args.check_max_peaks(max_peaks)
    ox, oy = _args.check_pair(offset, "offset", float, "(x, y)")
    return _core.nms(_float_array(heatmaps, "heatmaps"), threshold, max_peaks, ox, oy,
                     openpose_build, _args.check_threads(threads))


def resize_and_merge(net_outputs, scale_ratios=None, target_size=None, openpose_build="cpu",
                     threads: int = 0) -> np.ndarray:
    """OpenPose's resize-and-merge (spec §4), same semantics as :func:`tfpose.ops.resize_and_merge`.

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
    if isinstance(net_outputs, (list, tuple)):
        if not net_outputs:
            raise ValueError("net_outputs: expected at least one scale, got an empty list")
        scales = [_float_array(x, f"net_outputs[{i}]") for i, x in enumerate(net_outputs)]
    else:
        scales = [_float_array(net_outputs, "net_outputs")]
    ratios = _args.check_scale_ratios(scale_ratios, len(scales), openpose_build)
    target = (0, 0) if target_size is None else _args.check_size(target_size, "target_size")
    return _core.resize_and_merge(scales, list(ratios), target, openpose_build, _args.check_threads(threads))

"""Independent numpy reference of resize-and-merge (docs/algorithms/body.md §4), written from the spec's formulas.

Deliberately computed differently from the C++ core so the two can disagree: kernel weights come
from the Keys kernel function k(s) (cpu) or the spec's polynomial in the tap values (cuda), sums are
float64, and whole axes are interpolated with fancy indexing instead of per-pixel tap tables.
"""

from __future__ import annotations

import numpy as np


def keys_kernel(s: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel k(s) with parameter a (float64)."""
    s = np.abs(np.asarray(s, np.float64))
    near = ((a + 2) * s - (a + 3)) * s * s + 1
    far = ((s - 5) * s + 8) * s * a - 4 * a
    return np.where(s <= 1, near, np.where(s < 2, far, 0.0))


def _opencv_axis(n_src: int, n_dst: int):
    """OpenCV INTER_CUBIC along one axis: taps [n_dst, 4] (replicated border) and weights [n_dst, 4]."""
    d = np.arange(n_dst, dtype=np.float64)
    # OpenCV keeps the source coordinate in float32 (docs/algorithms/body.md §4.1: half-pixel mapping).
    u = ((d + 0.5) * (n_src / n_dst) - 0.5).astype(np.float32)
    base = np.floor(u).astype(np.int64)
    t = (u - base.astype(np.float32)).astype(np.float64)
    offs = np.arange(-1, 3)
    taps = np.clip(base[:, None] + offs[None, :], 0, n_src - 1)
    weights = keys_kernel(t[:, None] - offs[None, :], -0.75)
    return taps, weights


def _resize_axis_weights(x: np.ndarray, axis: int, taps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_k x[taps[:, k]] * weights[:, k] along `axis` (float64)."""
    x = np.moveaxis(x, axis, 0)
    out = sum(x[taps[:, k]] * weights[:, k].reshape((-1,) + (1,) * (x.ndim - 1)) for k in range(4))
    return np.moveaxis(out, 0, axis)


def opencv_cubic_resize(x: np.ndarray, H: int, W: int) -> np.ndarray:
    """[N, h, w, C] -> [N, H, W, C]: cv::resize INTER_CUBIC semantics (a = -0.75). Same size = copy."""
    x = np.asarray(x, np.float64)
    n, h, w, c = x.shape
    if (h, w) == (H, W):
        return x.copy()
    tx, wx = _opencv_axis(w, W)
    ty, wy = _opencv_axis(h, H)
    return _resize_axis_weights(_resize_axis_weights(x, 2, tx, wx), 1, ty, wy)


def _catmull_rom_axis(x: np.ndarray, axis: int, u: np.ndarray) -> np.ndarray:
    """docs/algorithms/body.md §4.2 along one axis: clamped taps i0..i3, t = u - i1 (may be negative), polynomial form."""
    n = x.shape[axis]
    i1 = np.clip(np.floor(u).astype(np.int64), 0, n - 1)
    i0 = np.maximum(0, i1 - 1)
    i2 = np.minimum(n - 1, i1 + 1)
    i3 = np.minimum(n - 1, i2 + 1)
    t = (u.astype(np.float32) - i1.astype(np.float32)).astype(np.float64)
    xm = np.moveaxis(x, axis, 0)
    v0, v1, v2, v3 = xm[i0], xm[i1], xm[i2], xm[i3]
    t = t.reshape((-1,) + (1,) * (xm.ndim - 1))
    val = (
        v1
        + t * (-0.5 * v0 + 0.5 * v2)
        + t**2 * (v0 - 2.5 * v1 + 2 * v2 - 0.5 * v3)
        + t**3 * (-0.5 * v0 + 1.5 * v1 - 1.5 * v2 + 0.5 * v3)
    )
    return np.moveaxis(val, 0, axis)


def _cuda_coords(n_dst: int, factor) -> np.ndarray:
    """u = (x + 0.5) / factor - 0.5 in float32, as the CUDA kernels compute it."""
    x = np.arange(n_dst, dtype=np.float32)
    return (x + np.float32(0.5)) / np.float32(factor) - np.float32(0.5)


def catmull_rom_resize(x: np.ndarray, H: int, W: int, factor_y, factor_x) -> np.ndarray:
    """[N, h, w, C] -> [N, H, W, C] with OpenPose's CUDA interpolation (docs/algorithms/body.md §4.2), float64 values."""
    x = np.asarray(x, np.float64)
    horiz = _catmull_rom_axis(x, 2, _cuda_coords(W, factor_x))
    return _catmull_rom_axis(horiz, 1, _cuda_coords(H, factor_y))


def resize_and_merge_ref(net_outputs, scale_ratios=None, target_size=None, openpose_build="cpu"):
    """Reference resize-and-merge. net_outputs: list of S arrays [N, h_i, w_i, C]; scale_ratios: S
    scaleInputToNet values; target_size (H, W) or None = 8x scale 0. Returns float64 [N, H, W, C]."""
    scales = [np.asarray(s) for s in net_outputs]
    h0, w0 = scales[0].shape[1:3]
    H, W = (8 * h0, 8 * w0) if target_size is None else (int(target_size[0]), int(target_size[1]))
    S = len(scales)
    if openpose_build == "cpu":
        # Every scale stretched over the whole target, ratios ignored (docs/algorithms/body.md §4.1).
        return sum(opencv_cubic_resize(s, H, W) for s in scales) / S
    if S == 1:
        h, w = scales[0].shape[1:3]
        if (h, w) == (H, W):
            return scales[0].astype(np.float64)
        if W // w != 8 or H // h != 8:
            raise ValueError("cuda single scale needs an 8x target")
        f = np.ceil(np.float32(H) / np.float32(h))  # one factor for both axes (docs/algorithms/body.md §4.2)
        return catmull_rom_resize(scales[0], H, W, f, f)
    if S > 8:
        raise ValueError("cuda: at most 8 scales")
    # OpenPose's CUDA build keeps the ratios and the per-scale factors in float32.
    r = np.asarray(scale_ratios, np.float64).astype(np.float32)
    f32 = np.float32
    total = 0.0
    for s, ri in zip(scales, r, strict=True):
        rel = ri / r[0]
        total = total + catmull_rom_resize(s, H, W, (f32(H) / f32(h0)) / rel, (f32(W) / f32(w0)) / rel)
    return total / S

"""Slow, independent NMS reference written from docs/algorithms/body.md §5 (per-pixel Python loops over numpy arrays).

It follows the spec's wording literally (the ring rule substitutes the threshold for out-of-map
neighbours; the refinement accumulates in float32 in window order) so it can disagree with the C++.
"""

from __future__ import annotations

import numpy as np


def _is_peak(m: np.ndarray, x: int, y: int, theta: np.float32, build: str) -> bool:
    h, w = m.shape
    v = m[y, x]
    if not (v > theta and np.isfinite(v)):  # tfpose's rule: NaN and +-Inf are never peaks
        return False
    neigh = [(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dx, dy) != (0, 0)]
    if build == "cuda":
        if not (1 <= x <= w - 2 and 1 <= y <= h - 2):
            return False
        return all(v > m[y + dy, x + dx] for dx, dy in neigh)
    if 2 <= x <= w - 3 and 2 <= y <= h - 3:
        return all(v > m[y + dy, x + dx] for dx, dy in neigh)
    if x in (1, w - 2) or y in (1, h - 2):
        for dx, dy in neigh:
            xx, yy = x + dx, y + dy
            n = m[yy, xx] if (0 <= xx < w and 0 <= yy < h) else theta
            if not v >= n:
                return False
        return True
    return False


def _refine(m: np.ndarray, x: int, y: int):
    h, w = m.shape
    xa = np.float32(0)
    ya = np.float32(0)
    sa = np.float32(0)
    for yy in range(y - 3, y + 4):
        if not 0 <= yy < h:
            continue
        for xx in range(x - 3, x + 4):
            if not 0 <= xx < w:
                continue
            s = m[yy, xx]
            if s > 0:
                xa = np.float32(xa + np.float32(xx) * s)
                ya = np.float32(ya + np.float32(yy) * s)
                sa = np.float32(sa + s)
    return np.float32(xa / sa), np.float32(ya / sa)


def nms_ref(
    heatmaps: np.ndarray, threshold: float = 0.05, max_peaks: int = 127, offset=(0.0, 0.0), openpose_build: str = "cpu"
):
    """heatmaps [N, H, W, P] -> (peaks [N, P, K, 3] float32, counts [N, P] int32).

    Non-finite refinement results (an +Inf weight or float32 overflow in the 7x7 window) fall back
    to the integer peak position, as tfpose documents.
    """
    x_ = np.asarray(heatmaps, np.float32)
    n, h, w, p = x_.shape
    theta = np.float32(threshold)
    ox, oy = np.float32(offset[0]), np.float32(offset[1])
    peaks = np.zeros((n, p, max_peaks, 3), np.float32)
    counts = np.zeros((n, p), np.int32)
    with np.errstate(all="ignore"):
        for i in range(n):
            for c in range(p):
                m = x_[i, :, :, c]
                k = 0
                # Only pixels above the threshold can be peaks; np.nonzero lists them in raster
                # order (y outer, x inner), the order peaks are kept in.
                for y, x in zip(*np.nonzero(m > theta), strict=True):
                    if k >= max_peaks:
                        break
                    y, x = int(y), int(x)
                    if _is_peak(m, x, y, theta, openpose_build):
                        fx, fy = _refine(m, x, y)
                        if not (np.isfinite(fx) and np.isfinite(fy)):
                            fx, fy = np.float32(x), np.float32(y)
                        peaks[i, c, k] = (np.float32(fx + ox), np.float32(fy + oy), m[y, x])
                        k += 1
                counts[i, c] = k
    return peaks, counts

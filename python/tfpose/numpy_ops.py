"""The C++ core on numpy arrays, through pybind11: same algorithms and results as :mod:`tfpose.ops`,
without TensorFlow. Inputs are converted to C-contiguous float32; results are numpy arrays.

Shapes use N batch, H/W map height/width, C channels, P parts, K peaks per part, M people.
"""
from __future__ import annotations

import numpy as np

from tfpose import _args, _core

__all__ = ["maximum"]


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
    return _core.maximum(_float_array(heatmaps, "heatmaps"), threads)

"""Temporal smoothing of keypoints: the One-Euro filter of Casiez, Roussel and Vogel, "1€ Filter:
A Simple Speed-based Low-pass Filter for Noisy Input in Interactive Systems" (CHI 2012), an
exponential low-pass filter whose cutoff frequency rises with the signal's speed. No TensorFlow here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["OneEuroFilter", "one_euro_step", "check_filter_args"]


def _alpha(cutoff: Any, te: Any) -> Any:
    """Smoothing factor of an exponential filter with this cutoff (Hz) at sampling period te (s)
    (Casiez et al. 2012, eq. 4); arrays broadcast."""
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / te)


def one_euro_step(
    x: Any, x_prev: Any, dx_prev: Any, te: Any, min_cutoff: float, beta: float, d_cutoff: float
) -> tuple[np.ndarray, np.ndarray]:
    """One step of the One-Euro filter on arrays (broadcasting): x the new value, x_prev / dx_prev the
    filtered value and derivative before, te the time since (s), min_cutoff / beta / d_cutoff as in
    :class:`OneEuroFilter`. Returns (filtered x, filtered derivative) (Casiez et al. 2012, eqs. 3-5)."""
    delta = x - x_prev
    dx_hat = dx_prev + _alpha(d_cutoff, te) * (delta / te - dx_prev)
    cutoff = min_cutoff + beta * np.abs(dx_hat)
    return x_prev + _alpha(cutoff, te) * delta, dx_hat


def check_filter_args(min_cutoff: Any, beta: Any, d_cutoff: Any) -> tuple[float, float, float]:
    """The filter's three settings as floats; ValueError for a negative or non-finite one, or a
    cutoff of 0 Hz."""
    for name, v in (("min_cutoff", min_cutoff), ("beta", beta), ("d_cutoff", d_cutoff)):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name}: expected a finite number >= 0, got {v!r}")
    if min_cutoff <= 0 or d_cutoff <= 0:
        raise ValueError(f"min_cutoff and d_cutoff: expected > 0 Hz, got {min_cutoff}, {d_cutoff}")
    return float(min_cutoff), float(beta), float(d_cutoff)


class OneEuroFilter:
    """One-Euro filter (Casiez, Roussel & Vogel, CHI 2012) over numpy arrays of any shape.

    min_cutoff: cutoff frequency at rest, Hz (the paper's f_cmin; less = less jitter, more lag).
    beta: how fast the cutoff rises with speed, per unit of the signal (here 1/pixel): the
        cutoff is ``min_cutoff + beta * |filtered derivative|`` (units/s).
    d_cutoff: cutoff of the derivative's own low-pass filter, Hz (the paper uses 1 Hz).

    ``filter(x, t, mask)`` filters the elements of ``x`` where ``mask`` is true, at time ``t``
    (seconds); elements outside the mask are returned unchanged and their state is forgotten, so a
    value that reappears starts afresh instead of being pulled toward a stale one.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = check_filter_args(min_cutoff, beta, d_cutoff)
        # state per element: filtered value, derivative, time, valid (None until the first call)
        self._x: Any = None
        self._dx: Any = None
        self._t: Any = None
        self._has: Any = None

    def filter(self, x: Any, t: float, mask: Any = None) -> np.ndarray:
        """x: float array; t: seconds, increasing; mask: bool array of x's shape (default all).
        Returns the filtered array (float64)."""
        x = np.asarray(x, np.float64)
        mask = np.ones(x.shape, bool) if mask is None else np.asarray(mask, bool)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            self._has = np.zeros(x.shape, bool)
            self._t = np.full(x.shape, -np.inf)
        old = mask & self._has
        te = np.where(old, np.maximum(t - self._t, 1e-6), 1.0)
        x_hat, dx_hat = one_euro_step(x, self._x, self._dx, te, self.min_cutoff, self.beta, self.d_cutoff)
        out = np.where(old, x_hat, x)
        self._x = np.where(mask, out, self._x)
        self._dx = np.where(old, dx_hat, 0.0)
        self._t = np.where(mask, t, self._t)
        self._has = mask.copy()
        return out

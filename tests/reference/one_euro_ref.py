"""Slow, independent One-Euro references, one scalar at a time, written from the paper: Casiez,
Roussel & Vogel, "1€ Filter: A Simple Speed-based Low-pass Filter for Noisy Input in Interactive
Systems", CHI 2012 (eq. 4 for the smoothing factor, the filter's pseudo-code for the recurrence),
not from tfpose.tracking.

:func:`smooth_tracked` adds the rule :class:`tfpose.PoseTracker` documents for ``smooth=True``: one
filter per person id, part and coordinate; a part found in a frame is filtered, a part not found is
left as it is and its filter forgotten (it starts afresh when found again); a person without an id
(-1: a fragment, a person with no part) is not filtered; an id not in a frame keeps its filters.
"""

from __future__ import annotations

import math

import numpy as np

# tfpose's guard for two frames with one timestamp (the paper assumes time moves on): the sampling
# period never drops below this many seconds.
MIN_PERIOD = 1e-6


def alpha(cutoff: float, te: float) -> float:
    """Smoothing factor for cutoff frequency `cutoff` (Hz) at sampling period `te` (s): eq. 4,
    alpha = 1 / (1 + tau / te) with tau = 1 / (2 pi cutoff)."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / te)


class ScalarOneEuro:
    """The One-Euro filter of one scalar signal (Python floats throughout)."""

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.x_prev: float | None = None
        self.dx_prev = 0.0
        self.t_prev = 0.0

    def __call__(self, x: float, t: float) -> float:
        """The filtered value of sample x taken at time t (s); the first sample passes unchanged."""
        if self.x_prev is None:
            self.x_prev, self.t_prev = x, t
            return x
        te = max(t - self.t_prev, MIN_PERIOD)
        dx = (x - self.x_prev) / te  # the signal's speed
        dx_hat = self.dx_prev + alpha(self.d_cutoff, te) * (dx - self.dx_prev)  # low-passed at d_cutoff
        cutoff = self.min_cutoff + self.beta * abs(dx_hat)  # the cutoff rises with the speed
        x_hat = self.x_prev + alpha(cutoff, te) * (x - self.x_prev)
        self.x_prev, self.dx_prev, self.t_prev = x_hat, dx_hat, t
        return x_hat


def one_euro_scalar(xs, ts, min_cutoff: float, beta: float, d_cutoff: float) -> np.ndarray:
    """One signal `xs` sampled at times `ts` (s) through one filter: float64 [len(xs)]."""
    f = ScalarOneEuro(min_cutoff, beta, d_cutoff)
    return np.array([f(float(x), float(t)) for x, t in zip(xs, ts, strict=True)])


def smooth_tracked(frames, times, min_cutoff: float, beta: float, d_cutoff: float) -> list:
    """What PoseTracker(smooth=True) should output, given the ids it gave.

    frames: per frame, a list of (person_id, keypoints [P, 3]) with the keypoints as given to the
    tracker (x, y pixels, score; a part is found when its score > 0); times: each frame's time (s).
    Returns per frame a list of float64 [P, 3] keypoints: found parts' x and y filtered, the rest as
    given."""
    filters: dict[tuple[int, int, int], ScalarOneEuro] = {}
    out = []
    for people, t in zip(frames, times, strict=True):
        frame_out = []
        for pid, kps in people:
            k = np.array(kps, dtype=np.float64)
            if pid >= 0:
                for p in range(len(k)):
                    for c in (0, 1):
                        if k[p, 2] > 0:
                            f = filters.setdefault((pid, p, c), ScalarOneEuro(min_cutoff, beta, d_cutoff))
                            k[p, c] = f(float(k[p, c]), float(t))
                        else:
                            filters.pop((pid, p, c), None)
            frame_out.append(k)
        out.append(frame_out)
    return out

"""The frame period of a stream for the tracker, from the times between its updates (a video that
dropped frames shows longer gaps). No TensorFlow here.
"""

from __future__ import annotations

import bisect
from collections import deque

__all__ = ["FramePeriod", "PERIOD_WINDOW"]

# Times between updates remembered; their median is one frame period.
PERIOD_WINDOW = 64


class FramePeriod:
    """Frames elapsed per time gap: ``frames(dt)`` is dt in frame periods (rounding absorbs
    timestamp jitter), at least 1, at most 1000 (a longer gap is a cut or a pause, not drops).
    The frame period is the median of the last ``PERIOD_WINDOW`` gaps, dt included (dropped
    frames lengthen a minority of the gaps; one odd timestamp moves no median)."""

    def __init__(self) -> None:
        # the window in arrival order and sorted (statistics.median costs ~10 us: a sort per frame)
        self._gaps: deque[float] = deque()
        self._sorted: list[float] = []

    def frames(self, dt: float) -> int:
        """dt: seconds since the last update, > 0. Returns the frames elapsed (see the class)."""
        gaps, g = self._gaps, self._sorted
        gaps.append(dt)
        bisect.insort(g, dt)
        n = len(g)
        if n > PERIOD_WINDOW:
            g.remove(gaps.popleft())
            n -= 1
        period = g[n // 2] if n % 2 else (g[n // 2 - 1] + g[n // 2]) / 2  # the median
        q = dt / period  # (inf for a gap of 1e308 s after 1e-300 s ones: 1000, not round's OverflowError)
        return 1000 if not q < 1000 else max(round(q), 1)

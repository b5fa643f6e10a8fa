"""The tracker's per-frame arithmetic in numpy, as tfpose.PoseTracker computed it before it moved into
the C++ core (cpp/core/tracking.cc; branch ``smooth``, bit-identical to main's tracker): prediction,
similarity, velocity, the tracks' update and One-Euro smoothing. :class:`NumpyPoseTracker` is
PoseTracker with these three steps replaced, everything else (arguments, assignment, fragments,
camera motion, ids) shared, so tests can check that the compiled steps give the same bits.
"""

from __future__ import annotations

import numpy as np

from tfpose.tracking import PoseTracker
from tfpose.tracking.similarity import box_area, oks_sum
from tfpose.tracking.smoothing import one_euro_step


def median_step(
    now: np.ndarray, before: np.ndarray, both: np.ndarray, gap: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each track's step per frame: the median displacement of the parts it saw before and sees now.

    now, before [N, P, 2] (pixels); both [N, P] bool; gap [N, P, 1] frames (>= 1). Returns (has [N]
    bool: rows with at least one such part, step [has.sum(), 2] in pixels per frame)."""
    moved = np.where(both[..., None], (now - before) / gap, np.nan)
    count = both.sum(1)
    has = count > 0
    moved, count = moved[has], count[has]
    srt = np.sort(moved, axis=1)  # NaN sort last
    i = np.arange(len(count))
    return has, (srt[i, (count - 1) // 2] + srt[i, count // 2]) * 0.5


class NumpyPoseTracker(PoseTracker):
    """PoseTracker whose prediction, similarity and track update run in numpy (see the module)."""

    def _predicted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f, xy, seen, vel, last = self._frame, self._xy, self._seen, self._vel, self._last
        usable = (seen >= 0) & (last[:, None] - seen <= self.max_part_age)
        steps = np.clip(np.subtract(f, seen, dtype=np.float64), 0.0, float(self.max_predict_frames))
        if self._image_size is not None:
            h, w = self._image_size
            n = np.maximum(usable.sum(1), 1)[:, None]
            centre = np.where(usable[..., None], xy, 0.0).sum(1) / n
            room = np.full(vel.shape, np.inf)
            np.divide(np.array([w, h]) - centre, vel, out=room, where=vel > 0)
            np.divide(centre, -vel, out=room, where=vel < 0)
            stop = last + np.maximum(room.min(1), 0.0)
            steps = np.minimum(steps, np.maximum(stop[:, None] - seen, 0.0))
        return xy + vel[:, None, :] * steps[..., None], usable, np.subtract(f, last)

    def _similarity(self, pred, usable, lost, kps, visible) -> np.ndarray:
        xy = kps[:, :, :2]
        area = np.maximum(box_area(pred, usable)[:, None], box_area(xy, visible)[None, :])
        area = area * (1.0 + self.lost_scale_growth * np.maximum(lost - 1, 0))[:, None]
        total, common = oks_sum(pred, usable, xy, visible, self.sigmas, area)
        gate = total / np.maximum(common, 1)
        n_parts = visible.sum(1)
        larger = np.maximum(usable.sum(1)[:, None], n_parts[None, :])
        allowed = (gate >= self.oks_threshold) & (n_parts > 0)[None, :]
        return np.where(allowed, total / np.maximum(larger, 1), -1.0)

    def _advance(self, rows, cols, kps, visible, f, t) -> np.ndarray:
        xy = kps[:, :, :2]
        seen = self._seen[rows]
        both = visible[cols] & (seen >= 0)
        gap = np.maximum(f - seen, 1)[..., None]
        has, step = median_step(xy[cols], self._xy[rows], both, gap)
        moved = rows[has]
        self._vel[moved] = (self._vel[moved] + step) * 0.5
        vis = visible[cols]
        self._xy[rows] = np.where(vis[..., None], xy[cols], self._xy[rows])
        self._seen[rows] = np.where(vis, f, self._seen[rows])
        self._last[rows] = f
        if not self.smooth:
            return np.zeros((0, self.num_parts, 3), np.float32)
        state = self._filt[rows]
        fx, fdx, ft = state[..., 0:2], state[..., 2:4], state[..., 4]
        old = (state[..., 5] > 0) & vis
        te = np.where(old, np.maximum(t - ft, 1e-6), 1.0)[..., None]
        x_hat, dx_hat = one_euro_step(xy[cols], fx, fdx, te, *self._filter_args)
        out = np.where(old[..., None], x_hat, xy[cols])
        self._filt[rows] = np.concatenate(
            [
                np.where(vis[..., None], out, fx),
                np.where(old[..., None], dx_hat, 0.0),
                np.where(vis, t, ft)[..., None],
                vis[..., None],
            ],
            axis=-1,
        )
        k = kps[cols].astype(np.float32)
        k[..., :2] = out
        return k

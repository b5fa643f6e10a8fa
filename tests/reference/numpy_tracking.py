"""The tracker's per-frame arithmetic in numpy, as tfpose.PoseTracker computed it before it moved into
the C++ core (cpp/core/tracking.cc; branch ``smooth``, bit-identical to main's tracker): prediction,
the camera-motion vote, similarity, fragments, velocity, the tracks' update and One-Euro smoothing.
Changed since in both formulations at once: a track without a velocity of its own moves at the
scene's (:func:`scene_velocity`), and its first velocity measured is averaged with the scene's, not
with 0 (``_advance``).
:class:`NumpyPoseTracker` is PoseTracker with these steps replaced, everything else (arguments,
assignment, ids, which lost tracks are forgotten before and after the matching) shared, so tests can
check that the compiled steps give the same bits.
"""

from __future__ import annotations

import numpy as np

from tfpose.tracking import PoseTracker
from tfpose.tracking.fragments import FRAGMENT_PART_OKS
from tfpose.tracking.motion import (
    SCENE_MIN_SHARE,
    SCENE_MIN_TRACKS,
    SCENE_TOLERANCE,
    SHIFT_MAX_CANDIDATES,
    SHIFT_MIN_PARTS,
    SHIFT_MIN_RADIUS,
    SHIFT_RADIUS,
)
from tfpose.tracking.similarity import box_area, keypoint_similarity, oks_sum
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


def scene_velocity(vel: np.ndarray, measured: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The scene's motion [2] (pixels per frame) for the tracks' velocities vel [T, 2], measurement
    counts measured [T] and last matches last [T] (tfpose.tracking.motion has the rule), 0 if none."""
    has = measured > 0
    if not has.any():
        return np.zeros(2)
    v = vel[has & (last == last[has].max())]
    if len(v) < max(SCENE_MIN_TRACKS, 1):
        return np.zeros(2)
    srt = np.sort(v, axis=0)
    m = (srt[(len(v) - 1) // 2] + srt[len(v) // 2]) * 0.5
    d = v - m
    agree = int((d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] <= SCENE_TOLERANCE * SCENE_TOLERANCE).sum())
    if agree < SCENE_MIN_TRACKS or agree < SCENE_MIN_SHARE * len(v):
        return np.zeros(2)
    return m


def common_shift(pred: np.ndarray, usable: np.ndarray, kps: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """tfpose.tracking.motion.common_shift in numpy (its docstring has the rule)."""
    xy = kps[:, :, :2]
    T, D = len(pred), len(xy)
    if T < 2 or D < 2:
        return np.zeros(2)
    common = usable[:, None] & visible[None]  # [T, D, P]
    cnt = common.sum(-1)
    ok = cnt >= SHIFT_MIN_PARTS
    voters = int(ok.any(1).sum())
    if voters < 2:
        return np.zeros(2)
    # mean displacement of the common parts (a median costs a sort of T x D x P values)
    dx = np.where(common, xy[None, :, :, 0] - pred[:, None, :, 0], 0.0).sum(-1)
    dy = np.where(common, xy[None, :, :, 1] - pred[:, None, :, 1], 0.0).sum(-1)
    c = np.maximum(cnt, 1)
    med = np.where(ok[..., None], np.stack([dx / c, dy / c], -1), np.inf)  # [T, D, 2]
    norm = np.hypot(med[..., 0], med[..., 1])  # inf where no vote
    radius = np.maximum(SHIFT_RADIUS * np.sqrt(box_area(pred, usable)), SHIFT_MIN_RADIUS)  # [T]
    if (norm.min(1) <= radius).sum() == voters:
        return np.zeros(2)  # every voting track has a person where its own velocity puts it
    t_best, d_best = norm.argmin(1), norm.argmin(0)
    cand = np.concatenate(
        [
            np.zeros((1, 2)),
            med[np.arange(T), t_best][np.isfinite(norm.min(1))],
            med[d_best, np.arange(D)][np.isfinite(norm.min(0))],
        ]
    )  # [C, 2]
    if len(cand) > SHIFT_MAX_CANDIDATES:  # memory and time stay bounded in a crowd
        cand = cand[np.linspace(0, len(cand) - 1, SHIFT_MAX_CANDIDATES).round().astype(np.int64)]
    dist = np.hypot(*(med[None] - cand[:, None, None]).transpose(3, 0, 1, 2))  # [C, T, D]
    dist = np.where(np.isfinite(dist), dist, np.inf)
    near = dist.min(2) <= radius[None]  # [C, T]
    support = near.sum(1)
    best = int(np.argmax(support))
    if support[best] < 2 or 2 * support[best] <= voters or support[best] <= support[0]:
        return np.zeros(2)
    sup = np.flatnonzero(near[best])
    return med[sup, dist[best, sup].argmin(1)].mean(0)


def fragment_owners(
    kps: np.ndarray,
    visible: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    pred: np.ndarray | None,
    usable: np.ndarray | None,
    sigmas: np.ndarray,
) -> dict[int, int]:
    """tfpose.tracking.fragments.fragment_owners in numpy (its docstring has the rule)."""
    xy = kps[:, :, :2]
    n = len(xy)
    # parts not found may hold any value (OpenPose writes 0, a caller may write inf or NaN): they are
    # masked below, but inf - inf would still raise numpy's "invalid value" warning, so they are zeroed
    xy = np.where(visible[..., None], xy, 0.0)
    ref_xy, ref_vis = xy.copy(), visible.copy()
    if len(rows):
        assert pred is not None and usable is not None  # matched rows come with their tracks' parts
        use = ~visible[cols] & usable[rows]  # parts the track knows and the person lacks now
        ref_xy[cols] = np.where(use[..., None], pred[rows], xy[cols])
        ref_vis[cols] |= use
    area = box_area(ref_xy, ref_vis)  # the owner's scale: its whole pose, found or predicted
    near = keypoint_similarity(xy, ref_xy, sigmas, area[None, :]) >= FRAGMENT_PART_OKS
    reach = (near & visible[:, None] & ref_vis[None]).sum(-1)  # [U, O]
    n_parts = visible.sum(1)
    cand = (n_parts[None, :] > n_parts[:, None]) & (2 * reach > n_parts[:, None])
    np.fill_diagonal(cand, False)
    has = cand.any(1)
    if not has.any():
        return {}
    matched = np.zeros(n, bool)
    matched[cols] = True
    can_own = matched | ~has  # a person that cannot be a fragment is a person (or starts one)
    found = {}
    for u in sorted(np.flatnonzero(has), key=lambda i: -n_parts[i]):
        ok = cand[u] & (can_own & matched if matched[u] else can_own)
        if ok.any():
            o = int(np.flatnonzero(ok)[np.argmax(reach[u][ok])])
            found[int(u)] = o
            can_own[u] = False
        elif not matched[u]:
            can_own[u] = True  # it starts a track: it can own smaller fragments
    return found


class NumpyPoseTracker(PoseTracker):
    """PoseTracker whose compiled steps run in numpy (see the module)."""

    _common_shift = staticmethod(common_shift)
    _fragment_owners = staticmethod(fragment_owners)

    def _scores(self, pred, usable, lost, kps, visible) -> tuple[np.ndarray, np.ndarray, None]:
        if self.camera_motion and len(pred) > 1 and len(kps) > 1:  # (a shared motion needs 2 tracks, 2 people)
            shift = self._common_shift(pred, usable, kps, visible)
            if shift[0] or shift[1]:
                pred = pred + shift
        return pred, self._similarity(pred, usable, lost, kps, visible), None  # (PoseTracker assigns)

    def _predicted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f, xy, seen, last = self._frame, self._xy, self._seen, self._last
        # a track without a velocity of its own moves with the scene
        vel = np.where((self._measured > 0)[:, None], self._vel, scene_velocity(self._vel, self._measured, last))
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

    def _advance(self, rows, cols, still, kps, visible, f, t) -> np.ndarray:
        xy = kps[:, :, :2]
        seen = self._seen[rows]
        both = visible[cols] & (seen >= 0)
        gap = np.maximum(f - seen, 1)[..., None]
        has, step = median_step(xy[cols], self._xy[rows], both, gap)
        moved = rows[has]
        # each measurement is averaged with the velocity the track was predicted with: its own, or
        # the scene's for a track without one (the state is still the prediction's here)
        first = (self._measured[moved] == 0)[:, None]
        scene = np.where(still[has][:, None], 0.0, scene_velocity(self._vel, self._measured, self._last))
        prior = np.where(first, scene, self._vel[moved])
        self._vel[moved] = (prior + step) * 0.5
        self._measured[moved] += 1
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

"""Motion for the tracker: the displacement most tracks share in a frame (a camera pan or shake).
(A track's own velocity is updated in the C++ core: tfpose._core.track_advance.) No TensorFlow here.
"""

from __future__ import annotations

import numpy as np

from tfpose.tracking.similarity import box_area

__all__ = ["common_shift"]

# Common motion vote: a track-person pair needs this many common parts to vote; a track supports a
# shift when a person lies within this fraction of the track's scale (sqrt of its keypoint-box
# area), at least SHIFT_MIN_RADIUS pixels, of the shifted track.
SHIFT_MIN_PARTS = 3
SHIFT_MAX_CANDIDATES = 33  # no shift and 32 others: a pan shared by most tracks is among them
SHIFT_RADIUS = 0.15
SHIFT_MIN_RADIUS = 3.0


def common_shift(pred: np.ndarray, usable: np.ndarray, xy: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """pred [T, P, 2] / usable [T, P]: the tracks' predicted parts; xy [D, P, 2] / visible [D, P]:
    the frame's people (pixels, float64). The displacement [2] (pixels) that most tracks share this frame beyond their own
    velocity: a camera pan or shake moves every person at once, and the first frames of a pan
    find tracks with no velocity yet. Votes: for every track-person pair with at least
    ``SHIFT_MIN_PARTS`` common parts, the mean displacement of those parts; candidates are
    each track's and each person's smallest pair displacement; a track supports a candidate when
    one of its pairs lies within ``SHIFT_RADIUS`` of its scale (at least ``SHIFT_MIN_RADIUS``
    pixels) of it. Returns the mean displacement of the best candidate's supporters (each
    track's pair closest to it) when at least 2 tracks and more than half of the voting tracks
    support it, and more than support no shift at all; else 0 (people moving each their own
    way, or a group among others, keep their own velocities)."""
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

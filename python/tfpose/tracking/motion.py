"""Motion for the tracker: the displacement most tracks share in a frame (a camera pan or shake).
(A track's own velocity is updated in the C++ core: tfpose._core.track_advance.) No TensorFlow here.
"""

from __future__ import annotations

import numpy as np

from tfpose import _core

__all__ = ["common_shift"]

# Common motion vote: a track-person pair needs this many common parts to vote; a track supports a
# shift when a person lies within this fraction of the track's scale (sqrt of its keypoint-box
# area), at least SHIFT_MIN_RADIUS pixels, of the shifted track.
SHIFT_MIN_PARTS = 3
SHIFT_MAX_CANDIDATES = 33  # no shift and 32 others: a pan shared by most tracks is among them
SHIFT_RADIUS = 0.15
SHIFT_MIN_RADIUS = 3.0


def common_shift(pred: np.ndarray, usable: np.ndarray, kps: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """pred [T, P, 2] / usable [T, P]: the tracks' predicted parts; kps [D, P, 3] / visible [D, P]:
    the frame's people (x, y pixels, score; float64). The displacement [2] (pixels) that most tracks
    share this frame beyond their own velocity: a camera pan or shake moves every person at once,
    and the first frames of a pan find tracks with no velocity yet. Votes: for every track-person
    pair with at least ``SHIFT_MIN_PARTS`` common parts, the mean displacement of those parts;
    candidates are no shift and each track's and each person's smallest pair displacement (at most
    ``SHIFT_MAX_CANDIDATES``, evenly spaced); a track supports a candidate when one of its pairs
    lies within ``SHIFT_RADIUS`` of its scale (sqrt of its keypoint-box area; at least
    ``SHIFT_MIN_RADIUS`` pixels) of it. Returns the mean displacement of the best candidate's
    supporters (each track's pair closest to it) when at least 2 tracks and more than half of the
    voting tracks support it, and more than support no shift at all; else 0 (people moving each
    their own way, or a group among others, keep their own velocities); also 0 when every voting
    track has a person where its own velocity puts it. Computed in the C++ core
    (tfpose._core.track_common_shift, cpp/core/tracking.cc)."""
    return _core.track_common_shift(
        pred, usable, kps, visible, SHIFT_MIN_PARTS, SHIFT_MAX_CANDIDATES, SHIFT_RADIUS, SHIFT_MIN_RADIUS
    )

"""Motion for the tracker: the displacement most tracks share in a frame (a camera pan or shake), and
the scene's motion a track without a velocity of its own moves with. (A track's own velocity is
updated in the C++ core: tfpose._core.track_advance.) No TensorFlow here.

The scene's motion (PoseTracker step 1, in tfpose._core.track_predict): a track gets a velocity of
its own when it is matched a second time (the median displacement per frame of the parts seen both
times); until then its velocity is unknown, not 0. When the tracked people share a motion (a camera
pan, a moved photograph), a person seen once moves with it too, so such a track is predicted at the
scene's velocity: the median velocity (x and y apart) of the tracks with a measured velocity that
were matched in the latest frame any of them was (their current motion), when at least
``SCENE_MIN_TRACKS`` of them and the share ``SCENE_MIN_SHARE`` of them lie within
``SCENE_TOLERANCE`` pixels per frame of it; else at 0. Without it a person found only every few
frames (each time once) is predicted where he was while the scene moved on, and at a small scale
each new sighting is out of OKS reach and takes a new id (COCO 357 in benchmarks/README.md: the
catcher). ``common_shift`` below cannot help: it votes for the displacement beyond each track's own
velocity, and the tracks with a velocity are where it puts them. But a shared velocity is no proof of
a moving camera: two people walking side by side share one, and a bystander seen once beside them
stands still (with the scene's motion as the rule he took a new id at each sighting: 85 switches on
5 draws of tests/test_tracking_metrics.py's couple-and-bystander case). So the scene's motion is a
hypothesis: PoseTracker scores each person against the track both standing still and moved by it,
takes the better, and the pair's first velocity measurement is averaged with the velocity of the
prediction it matched.

The velocity (tfpose._core.track_advance) is each measurement averaged with the velocity the track
was predicted with: its own, or for a track without one the scene's (0 when the scene shares none
or the person matched the standing-still prediction).
Averaged with 0 in a pan, a first measurement gave half the scene's motion, and the person found
every few frames, matched twice, was lost at his next sighting (4 id switches on the scenario "pan,
one found every 4th frame" of tests/tracking_scenarios.py; 0 now, 9 without the scene's motion).
Taking the first measurement as it is did as well there but gave more ids on OpenPose's video.avi
(benchmarks/track_video.py: 83 instead of 80): between two noisy detections of people who mostly
stand, the average with 0 is the better first guess, and it stays the guess where the scene is still.

Why three quarters, not a majority: a camera's motion moves everyone, while people walking share a
velocity by chance. With a bare majority, people entering from both borders in turn (two walking
right, one left) gave each newcomer walking left the velocity of those walking right: predicted 18
px/frame off instead of 9, it lost its track in the next frame, and so did each track started for it
(100 switches on the "border entries and exits" scenario). The tolerance is the scatter of measured
velocities of people moving together (about +-0.7 px/frame on a photo moved by the network's
detections); 0.5 to 2 gave the same ids on every benchmark sequence.
"""

from __future__ import annotations

import numpy as np

from tfpose import _core

__all__ = ["common_shift", "SCENE_MIN_SHARE", "SCENE_MIN_TRACKS", "SCENE_TOLERANCE"]

# The scene's motion (see the module): tracks with a measured velocity that must agree on it (at least
# this many, and this share of them), and how close (pixels per frame) a velocity must be to agree.
SCENE_MIN_TRACKS = 2
SCENE_MIN_SHARE = 0.75
SCENE_TOLERANCE = 1.0

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

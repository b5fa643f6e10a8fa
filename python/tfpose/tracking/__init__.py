"""Person ids across video frames and temporal smoothing of keypoints. No TensorFlow here.

:class:`PoseTracker` gives each person a persistent id: every frame, the people found are matched
to the tracks of earlier frames by object keypoint similarity (OKS, the COCO keypoint metric) with
an optimal assignment (``scipy.optimize.linear_sum_assignment``) or a greedy one; a fragment of a
person (OpenPose's grouping can split one person in two) gets no id; other unmatched people
start new tracks with new ids; a track that finds no person is remembered for ``max_lost_frames``
frames, its keypoints moved on by the track's velocity and by the motion all tracks share (a
camera pan), so a person hidden for a few frames or crossing another one keeps the id. Ids count
up from 0 and are never reused by one tracker.

:class:`OneEuroFilter` is the One-Euro filter of Casiez, Roussel and Vogel, "1€ Filter: A Simple
Speed-based Low-pass Filter for Noisy Input in Interactive Systems" (CHI 2012): an exponential
low-pass filter whose cutoff frequency rises with the signal's speed (little jitter at rest, little
lag in motion). With ``smooth=True`` the tracker filters each keypoint of each track; a keypoint the
frame did not find stays missing (0, 0, 0), never filled in from earlier frames.

Modules: :mod:`~tfpose.tracking.tracker` (:class:`PoseTracker`), :mod:`~tfpose.tracking.similarity`
(sigmas, OKS), :mod:`~tfpose.tracking.assignment` (tracks to people), :mod:`~tfpose.tracking.motion` (common motion),
:mod:`~tfpose.tracking.fragments` (split people), :mod:`~tfpose.tracking.smoothing` (One-Euro),
:mod:`~tfpose.tracking.period` (frame period from timestamps), :mod:`~tfpose.tracking.inputs` (argument checks).

The per-frame arithmetic runs in the C++ core (tfpose._core.track_*, cpp/core/tracking.cc),
bit-identical to its numpy formulation (tests/reference/numpy_tracking.py).

Coordinates are image pixels (OpenPose's convention, as in :class:`tfpose.Person`); a missing part
has score 0.
"""

from __future__ import annotations

from tfpose.tracking.assignment import ASSIGNMENTS
from tfpose.tracking.similarity import DEFAULT_OKS_THRESHOLD, KEYPOINT_SIGMAS, keypoint_sigmas, oks
from tfpose.tracking.smoothing import OneEuroFilter
from tfpose.tracking.tracker import PoseTracker

__all__ = [
    "KEYPOINT_SIGMAS",
    "keypoint_sigmas",
    "oks",
    "OneEuroFilter",
    "PoseTracker",
    "ASSIGNMENTS",
    "DEFAULT_OKS_THRESHOLD",
]

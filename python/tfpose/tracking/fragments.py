"""Fragments: OpenPose's grouping can split one person into a body and a few loose parts; this tells
which people of a frame are such fragments of another. No TensorFlow here.
"""

from __future__ import annotations

import numpy as np

from tfpose import _core
from tfpose.tracking.similarity import DEFAULT_OKS_THRESHOLD

__all__ = ["fragment_owners", "FRAGMENT_PART_OKS"]

# A part of a fragment is "within OKS reach" of another person's same part when their COCO
# per-keypoint similarity is at least this: the tracker's default OKS threshold, so that a part
# counts where a whole pose of such parts would still be the same person.
FRAGMENT_PART_OKS = DEFAULT_OKS_THRESHOLD


def fragment_owners(
    kps: np.ndarray,
    visible: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    pred: np.ndarray | None,
    usable: np.ndarray | None,
    sigmas: np.ndarray,
) -> dict[int, int]:
    """People of this frame that are fragments of another: {index: the owner's index}, in the order
    found. kps [D, P, 3] (x, y pixels, score; float64), visible [D, P]: the people; rows, cols: the
    track-person pairs matched (int arrays); pred, usable: the tracks' predicted parts [T, P, 2] and
    usable parts [T, P] (None when no track); sigmas [P]: :func:`keypoint_sigmas`.

    OpenPose's grouping can split one person into a body and a few loose parts. A person U is
    a fragment of a person O with more parts when most of U's parts lie within OKS reach of O's
    same parts: COCO per-keypoint similarity >= ``FRAGMENT_PART_OKS`` at O's scale (O's keypoint
    box), O's parts being those found now, else (when O is a track's person) the track's
    predicted ones. A person matched to a track can only be a fragment of another matched person
    (a fragment that took a track born of an earlier fragment); an unmatched one also of a person
    that starts a track now. People are checked largest first (ties in index order), so a
    fragment never owns a larger one; among several owners, the one with the most parts within
    reach (the first of equals). Computed in the C++ core (tfpose._core.track_fragments,
    cpp/core/tracking.cc)."""
    if pred is None or usable is None:
        pred, usable = np.zeros((0, len(sigmas), 2)), np.zeros((0, len(sigmas)), bool)
    return _core.track_fragments(kps, visible, rows, cols, pred, usable, sigmas, FRAGMENT_PART_OKS)

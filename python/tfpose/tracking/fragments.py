"""Fragments: OpenPose's grouping can split one person into a body and a few loose parts; this tells
which people of a frame are such fragments of another. No TensorFlow here.
"""

from __future__ import annotations

import numpy as np

from tfpose.tracking.similarity import DEFAULT_OKS_THRESHOLD, box_area, keypoint_similarity

__all__ = ["fragment_owners", "FRAGMENT_PART_OKS"]

# A part of a fragment is "within OKS reach" of another person's same part when their COCO
# per-keypoint similarity is at least this: the tracker's default OKS threshold, so that a part
# counts where a whole pose of such parts would still be the same person.
FRAGMENT_PART_OKS = DEFAULT_OKS_THRESHOLD


def fragment_owners(
    xy: np.ndarray,
    visible: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    pred: np.ndarray | None,
    usable: np.ndarray | None,
    sigmas: np.ndarray,
) -> dict[int, int]:
    """People of this frame that are fragments of another: {index: the owner's index}. xy [D, P, 2],
    visible [D, P]: the people; rows, cols: the track-person pairs matched (int arrays); pred,
    usable: the tracks' predicted parts (None when no track); sigmas [P]: :func:`keypoint_sigmas`.

    OpenPose's grouping can split one person into a body and a few loose parts. A person U is
    a fragment of a person O with more parts when most of U's parts lie within OKS reach of O's
    same parts: COCO per-keypoint similarity >= ``FRAGMENT_PART_OKS`` at O's scale, O's parts
    being those found now, else (when O is a track's person) the track's predicted ones. A
    person matched to a track can only be a fragment of another matched person (a fragment
    that took a track born of an earlier fragment); an unmatched one also of a person that
    starts a track now. People are checked largest first, so a fragment never owns a larger
    one."""
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

"""Similarity of poses for the tracker: COCO's per-keypoint sigmas and object keypoint similarity
(OKS). No TensorFlow here.

Sources: the COCO keypoint evaluation (cocoapi PythonAPI/pycocotools/cocoeval.py ``computeOks``;
Ronchi & Perona, ICCV 2017) and COCO-WholeBody (Jin et al., ECCV 2020) for the foot parts.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = [
    "KEYPOINT_SIGMAS",
    "DEFAULT_OKS_THRESHOLD",
    "keypoint_sigmas",
    "oks",
    "oks_sum",
    "keypoint_similarity",
    "box_area",
]

# Per-keypoint standard deviations of human annotations relative to the object scale (COCO's
# "sigmas"; OKS uses k = 2 * sigma). One table for every pose model, keyed by OpenPose's part names.
# Sources: COCO body parts from the COCO keypoint evaluation (cocoapi PythonAPI/pycocotools/
# cocoeval.py, Ronchi & Perona, ICCV 2017); foot parts from COCO-WholeBody (Jin et al., ECCV 2020,
# evaluation/myeval_wholebody.py). Parts that neither dataset annotates take the value of the
# annotated parts they lie between or nearest to: Neck (between the shoulders) and Chest (MPI, on
# the torso between neck and hips) the shoulders' 0.079; MidHip the hips' 0.107; Head (MPI's head
# top) the ears' 0.035.
KEYPOINT_SIGMAS = MappingProxyType(
    {
        "Nose": 0.026,
        "LEye": 0.025,
        "REye": 0.025,
        "LEar": 0.035,
        "REar": 0.035,
        "LShoulder": 0.079,
        "RShoulder": 0.079,
        "LElbow": 0.072,
        "RElbow": 0.072,
        "LWrist": 0.062,
        "RWrist": 0.062,
        "LHip": 0.107,
        "RHip": 0.107,
        "LKnee": 0.087,
        "RKnee": 0.087,
        "LAnkle": 0.089,
        "RAnkle": 0.089,
        "LBigToe": 0.068,
        "LSmallToe": 0.066,
        "LHeel": 0.066,
        "RBigToe": 0.092,
        "RSmallToe": 0.094,
        "RHeel": 0.094,
        "Neck": 0.079,
        "Chest": 0.079,
        "MidHip": 0.107,
        "Head": 0.035,
    }
)

# A frame-to-frame OKS below this is not the same person. 0.3 is mmpose's OKS tracking threshold;
# lightweight-openpose asks for 3 keypoints each with similarity > 0.5 instead.
DEFAULT_OKS_THRESHOLD = 0.3


def keypoint_sigmas(pose_model: Any) -> np.ndarray:
    """COCO-style sigma of each part of a pose model (a name or a :func:`tfpose.models.get` table):
    float64 [P] in the model's part order, from :data:`KEYPOINT_SIGMAS`."""
    from tfpose import models

    table = models.get(pose_model) if isinstance(pose_model, str) else pose_model
    missing = [n for n in table.part_names if n not in KEYPOINT_SIGMAS]
    if missing:  # a new pose model must add its parts to the one table above
        raise ValueError(f"pose model {table.name}: no keypoint sigma for parts {missing}")
    return np.array([KEYPOINT_SIGMAS[n] for n in table.part_names], dtype=np.float64)


def box_area(xy: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Area (pixels^2) of the box around the visible keypoints of each of N poses: xy [N, P, 2],
    visible [N, P] bool -> [N]; at least 1 so a one-keypoint pose still has a scale."""
    v = visible[..., None]
    # masked reductions (one ufunc call each: the tracker calls this every frame on a few poses)
    lo = np.minimum.reduce(xy, axis=1, where=v, initial=np.inf)
    hi = np.maximum.reduce(xy, axis=1, where=v, initial=-np.inf)
    size = hi - lo
    size = np.where(np.isfinite(size), size, 0.0)  # no visible keypoint: no extent
    return np.maximum(size[:, 0] * size[:, 1], 1.0)


def oks(
    a_xy: Any,
    a_visible: Any,
    b_xy: Any,
    b_visible: Any,
    sigmas: Any,
    area: Any = None,
    min_common: int = 1,
    denominator: str = "common",
) -> np.ndarray:
    """Object keypoint similarity of every pose of set A with every pose of set B.

    a_xy [A, P, 2], b_xy [B, P, 2] float (pixels); a_visible [A, P], b_visible [B, P] bool;
    sigmas [P] (:func:`keypoint_sigmas`); area: [A, B] object scale s^2 in pixels^2, default the
    larger of the two poses' keypoint-box areas (as lightweight-openpose does, COCO uses the
    segment area). Each part visible in both poses scores ``exp(-d^2 / (2 s^2 k^2))``, k = 2 sigma
    (the per-keypoint similarity of the COCO keypoint evaluation, cocoapi ``computeOks``).
    denominator: what the scores' sum is divided by:

    * ``"common"``: the parts visible in both (the mean per-part similarity: how well the parts
      the two poses share agree, whatever their number);
    * ``"a"``: the parts visible in A: COCO's OKS with A as the reference (COCO divides by the
      parts labelled in the ground truth), so a part of A that B lacks counts 0 and a small
      fragment of A scores low however well its few parts agree.

    Returns float64 [A, B]; 0 where fewer than ``min_common`` parts are visible in both.
    Raises ValueError for another ``denominator``.
    """
    if denominator not in ("common", "a"):
        raise ValueError(f"denominator: expected 'common' or 'a', got {denominator!r}")
    a_xy = np.asarray(a_xy, np.float64)
    b_xy = np.asarray(b_xy, np.float64)
    a_visible = np.asarray(a_visible, bool)
    b_visible = np.asarray(b_visible, bool)
    if area is None:
        area = np.maximum(box_area(a_xy, a_visible)[:, None], box_area(b_xy, b_visible)[None, :])
    s, n = oks_sum(a_xy, a_visible, b_xy, b_visible, sigmas, area)
    d = np.maximum(n if denominator == "common" else a_visible.sum(-1)[:, None], 1)
    return np.where(n >= max(int(min_common), 1), s / d, 0.0)


def oks_sum(
    a_xy: np.ndarray, a_visible: np.ndarray, b_xy: np.ndarray, b_visible: np.ndarray, sigmas: Any, area: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Sum over the parts visible in both of the COCO per-keypoint similarity, and the number of
    those parts: both [A, B] (see :func:`oks`; float64 arrays in)."""
    common = a_visible[:, None] & b_visible[None]
    e = keypoint_similarity(a_xy, b_xy, sigmas, area)
    return np.where(common, e, 0.0).sum(-1), common.sum(-1)


def keypoint_similarity(a_xy: np.ndarray, b_xy: np.ndarray, sigmas: Any, area: Any) -> np.ndarray:
    """COCO's per-keypoint similarity ``exp(-d^2 / (2 s^2 k^2))``, k = 2 sigma, of every part of
    every pose of A with the same part of every pose of B: a_xy [A, P, 2], b_xy [B, P, 2] (float64
    pixels), sigmas [P], area s^2 broadcastable to [A, B] (pixels^2) -> float64 [A, B, P], whether
    or not the parts were found (the caller masks)."""
    k2 = np.multiply(2.0, np.asarray(sigmas, np.float64)) ** 2
    # x and y apart: a reduction over an axis of length 2 costs more than the arithmetic
    d2 = (a_xy[:, None, :, 0] - b_xy[None, :, :, 0]) ** 2 + (a_xy[:, None, :, 1] - b_xy[None, :, :, 1]) ** 2
    # exp(-50) ~ 2e-22 is 0 for any sum here; capping spares exp's slow underflow path
    return np.exp(-np.minimum(d2 / (np.multiply(2.0, np.asarray(area, np.float64)[..., None]) * k2), 50.0))

"""The tracker's inputs checked: the people of a frame and the image size. No TensorFlow here."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["check_people", "check_image_size", "check_timestamp", "MAX_IMAGE_SIDE"]


def check_people(people: list, num_parts: int, pose_model: str | None) -> np.ndarray:
    """The keypoints of ``people`` as kps [D, P, 3] float64 (x, y pixels, score), P = num_parts.
    Raises TypeError for a person that is not an object with ``keypoints`` and a writable
    ``person_id`` (a raw [P, 3] array, say; person_id is written back unchanged to prove it);
    ValueError for keypoints of another shape (people of another pose model than ``pose_model``) or
    a non-finite score or coordinate of a found part (score > 0)."""
    for i, p in enumerate(people):
        try:
            if not hasattr(p, "keypoints"):
                raise AttributeError("keypoints")
            # proves person_id writable before any track changes (same value: nothing changes)
            p.person_id = getattr(p, "person_id", -1)
        except (AttributeError, TypeError):
            raise TypeError(
                f"people[{i}]: expected an object with keypoints [{num_parts}, 3] and a writable "
                f"person_id (e.g. tfpose.Person), got {type(p).__name__}"
            ) from None
    if not people:
        return np.zeros((0, num_parts, 3))
    try:
        kps = np.array([p.keypoints for p in people], dtype=np.float64)
    except (TypeError, ValueError):
        kps = None  # ragged shapes (named below) or values that are not numbers (raised below)
    if kps is None or kps.shape[1:] != (num_parts, 3):
        for i, p in enumerate(people):
            if tuple(np.shape(p.keypoints)) != (num_parts, 3):
                raise ValueError(
                    f"people[{i}].keypoints: expected shape [{num_parts}, 3] for pose model "
                    f"{pose_model}, got {tuple(np.shape(p.keypoints))} (people from another pose model?)"
                )
        kps = np.array([p.keypoints for p in people], dtype=np.float64)
    if not np.isfinite(kps).all():  # (one test for the usual all-finite frame, then the rule)
        found = kps[:, :, 2] > 0
        bad = ~np.isfinite(kps[:, :, 2]) | (found & ~np.isfinite(kps[:, :, :2]).all(-1))
        if bad.any():
            i = int(np.flatnonzero(bad.any(1))[0])
            raise ValueError(f"people[{i}].keypoints: expected finite values, got {kps[i].tolist()}")
    return kps


# The largest image side accepted (OpenCV's own limit on a Mat's extent).
MAX_IMAGE_SIDE = 2**31 - 1


def check_image_size(image_size: Any) -> tuple[int, int] | None:
    """(H, W) as two whole numbers in 1 .. ``MAX_IMAGE_SIDE``, or None; ValueError otherwise (a
    fractional or huge value is refused, not truncated or left to fail in a later update)."""
    if image_size is None:
        return None
    try:
        given = list(image_size)
        size = tuple(int(v) for v in given)
        if len(size) != 2 or not all(0 < s <= MAX_IMAGE_SIDE and s == v for s, v in zip(size, given, strict=True)):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"image_size: expected (H, W), two whole numbers in 1..{MAX_IMAGE_SIDE}, got {image_size!r}"
        ) from None
    return (size[0], size[1])


def check_timestamp(timestamp: Any, last: float | None) -> float:
    """``timestamp`` as float seconds; ValueError for one that is not a finite number (text
    included: float("1.5") would take it for one) or is earlier than ``last``."""
    try:
        if isinstance(timestamp, (str, bytes)):
            raise TypeError
        timestamp = float(timestamp)
    except (TypeError, ValueError):
        raise ValueError(f"timestamp: expected seconds (a number), got {timestamp!r}") from None
    if not math.isfinite(timestamp) or (last is not None and timestamp < last):
        raise ValueError(f"timestamp: expected finite seconds, never decreasing, got {timestamp} after {last}")
    return timestamp

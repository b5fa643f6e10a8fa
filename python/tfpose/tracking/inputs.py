"""The tracker's inputs checked: the people of a frame and the image size. No TensorFlow here."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_people", "check_image_size"]


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


def check_image_size(image_size: Any) -> tuple[int, int] | None:
    """(H, W) as two ints > 0, or None; ValueError otherwise."""
    if image_size is None:
        return None
    try:
        size = tuple(int(v) for v in image_size)
        if len(size) != 2 or min(size) <= 0:
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"image_size: expected (H, W), two ints > 0, got {image_size!r}") from None
    return (size[0], size[1])

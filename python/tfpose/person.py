"""The detected person, shared by the TensorFlow and LiteRT paths (no TensorFlow import)."""

from __future__ import annotations

import numpy as np

__all__ = ["Person"]


class Person:
    """One detected person.

    keypoints: float32 numpy [P, 3] (x, y, score) in original-image pixels with OpenPose's +0.5
        convention (the centre of pixel i is i + 0.5), or in the units of the Estimator's
        keypoint_scale (tfpose.io.KEYPOINT_SCALES); a missing part is (0, 0, 0).
    score: OpenPose's person score (sum of part and limb scores / (P + L)).
    hand_left, hand_right: float32 [21, 3], face: float32 [70, 3] (x, y, score) when the estimator
        runs hands / face (else None), in original-image pixels with OpenPose's hand/face convention
        (no +0.5: the centre of pixel i is i, half a pixel below the body's); all zeros when that
        hand or face was not found (spec hand/face §4.8-4.10).
    person_id: the person's id across video frames, set by :class:`tfpose.PoseTracker`; -1 when
        untracked (OpenPose's JSON value for "no id").
    """

    __slots__ = ("keypoints", "score", "hand_left", "hand_right", "face", "person_id")

    def __init__(
        self, keypoints: np.ndarray, score: float, hand_left=None, hand_right=None, face=None, person_id: int = -1
    ):
        self.keypoints = np.asarray(keypoints, dtype=np.float32)
        self.score = float(score)
        as_kp = lambda a: None if a is None else np.asarray(a, dtype=np.float32)  # noqa: E731
        self.hand_left, self.hand_right, self.face = as_kp(hand_left), as_kp(hand_right), as_kp(face)
        self.person_id = int(person_id)

    def to_openpose(self) -> dict:
        """One entry of OpenPose JSON v1.3's ``people`` list (pose, and face/hands when present;
        3D empty)."""
        from tfpose.io import person_dict

        return person_dict(
            self.keypoints,
            face=self.face,
            hand_left=self.hand_left,
            hand_right=self.hand_right,
            person_id=self.person_id,
        )

    def __repr__(self) -> str:
        pid = "" if self.person_id < 0 else f"id={self.person_id}, "
        return (
            f"Person({pid}parts={int((self.keypoints[:, 2] > 0).sum())}/{len(self.keypoints)}, score={self.score:.3f})"
        )

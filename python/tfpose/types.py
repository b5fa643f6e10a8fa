"""The pipeline's value types and image checks, without TensorFlow.

:class:`Person` (one detected person), :class:`Details` (what OpenPose writes besides the people)
and :func:`as_bgr` (the input image rule) are shared by the TensorFlow path
(:mod:`tfpose.estimator`), the LiteRT path (:mod:`tfpose.litert`), drawing, tracking, the overlapped
runner and the outputs. They live here, apart from the Estimator, so that importing them never
imports TensorFlow; ``tfpose.Person``, ``tfpose.estimator.Person``, ``tfpose.estimator.Details``
and ``tfpose.estimator.as_bgr`` are these same objects.

Input images follow OpenCV: HxWx3 uint8 BGR. Documented conversions (the rule of
``cv2.imread(..., IMREAD_COLOR)``, which OpenPose uses to read images): HxW or HxWx1 grayscale is
replicated to BGR; HxWx4 BGRA drops alpha. Anything else raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Person", "Details", "as_bgr", "MAX_PIXELS"]

# OpenPose caps its input at what cv::Mat/imread accept (2^30 pixels); larger arrays are refused
# before any allocation in the graph.
MAX_PIXELS = 1 << 30


def as_bgr(image: Any) -> np.ndarray:
    """Validate one image and return it as C-contiguous HxWx3 uint8 BGR (see the module docstring
    for the grayscale / BGRA rule). Raises TypeError (not an array, None, not uint8) or ValueError
    (another shape, empty, more than :data:`MAX_PIXELS` pixels) naming what was expected."""
    if not isinstance(image, np.ndarray):
        if image is None:
            raise TypeError(
                "image: expected an HxWx3 uint8 numpy array (BGR), got None "
                "(cv2.imread returns None for unreadable files)"
            )
        image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"image: expected dtype uint8 (BGR 0..255), got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise ValueError(f"image: expected shape HxWx3 (BGR), HxW / HxWx1 (gray) or HxWx4 (BGRA), got {image.shape}")
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"image: expected a non-empty image, got shape {image.shape}")
    if h * w > MAX_PIXELS:
        raise ValueError(f"image: expected at most {MAX_PIXELS} pixels, got {h}x{w}")
    return np.ascontiguousarray(image)


def _keypoint_array(a: Any) -> np.ndarray | None:
    return None if a is None else np.asarray(a, dtype=np.float32)


class Person:
    """One detected person.

    keypoints: float32 numpy [P, 3] (x, y, score) in original-image pixels with OpenPose's +0.5
        convention (the centre of pixel i is i + 0.5), or in the units of the Estimator's
        keypoint_scale (tfpose.io.KEYPOINT_SCALES); a missing part is (0, 0, 0).
    score: OpenPose's person score (sum of part and limb scores / (P + L)).
    hand_left, hand_right: float32 [21, 3], face: float32 [70, 3] (x, y, score) when the estimator
        runs hands / face (else None), in original-image pixels with OpenPose's hand/face convention
        (no +0.5: the centre of pixel i is i, half a pixel below the body's); all zeros when that
        hand or face was not found (docs/algorithms/hand-face.md §4.8-4.10).
    person_id: the person's id across video frames, set by :class:`tfpose.PoseTracker`; -1 when
        untracked (OpenPose's JSON value for "no id").
    """

    __slots__ = ("keypoints", "score", "hand_left", "hand_right", "face", "person_id")

    def __init__(
        self,
        keypoints: Any,
        score: float,
        hand_left: Any = None,
        hand_right: Any = None,
        face: Any = None,
        person_id: int = -1,
    ) -> None:
        self.keypoints = np.asarray(keypoints, dtype=np.float32)
        self.score = float(score)
        self.hand_left, self.hand_right = _keypoint_array(hand_left), _keypoint_array(hand_right)
        self.face = _keypoint_array(face)
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


class Details:
    """What OpenPose can write besides the people, for one image (:meth:`tfpose.Estimator.estimate_details`).

    people: list of :class:`Person` (after keypoint_scale and number_people_max).
    part_candidates: P float32 arrays [K_p, 3] (x, y, score): every NMS peak of each body part, in
        the keypoints' units (OpenPose's ``--part_candidates``: peaks scaled like keypoints).
    heatmaps: float32 [H_n, W_n, C]: the network output resized to scale 0's network input and
        averaged over scales (resize-and-merge), channels [P parts, background, 2L PAFs] as in
        OpenPose's ``--write_heatmaps``; parts and background in [0, 1], PAFs in [-1, 1] (raw values).
    """

    __slots__ = ("people", "part_candidates", "heatmaps")

    def __init__(self, people: list[Person], part_candidates: list[np.ndarray], heatmaps: np.ndarray) -> None:
        self.people, self.part_candidates, self.heatmaps = people, part_candidates, heatmaps

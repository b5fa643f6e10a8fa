"""OpenPose's pose-model tables (COCO_18, BODY_25, MPI_15, MPI_15_4), read from the C++ core.

The connector, drawing and JSON output all use this one table. No TensorFlow here.

>>> m = get("COCO_18")
>>> m.num_parts, m.num_channels, m.paf_channels[0]
(18, 57, (31, 32))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from tfpose import _core

__all__ = ["PoseModel", "get", "names"]


@dataclass(frozen=True)
class PoseModel:
    """One pose model (docs/algorithms/body.md §1). Tuples everywhere, so instances are immutable and hashable-free.

    pairs: L limbs (part A, part B) in the connector's order.
    paf_channels: L (x, y) absolute channels of the network output (P + 1 + OpenPose's mapIdx).
    num_channels: C = P + 1 + 2L; background_channel = P.
    defaults: OpenPose's thresholds (nms_threshold, inter_min_above_threshold, inter_threshold,
        min_subset_cnt, min_subset_score) and max_peaks.
    ear_limbs: limbs that only complete existing people in the CPU connector.
    foot_parts: parts the BODY_25 person filter does not count.
    colors: P RGB colours (0..255) OpenPose draws each part with; render_pairs: the limbs it draws,
        each in the colour of its second part (limb_colors).
    flip_parts: P part indices, the part each part becomes in a horizontally mirrored image (left <->
        right, centre parts unchanged); flip_limbs: L limb indices, likewise (the mirrored limb has the
        same part order). From the C++ table (pose_model.hpp), derived there from the part names.
    """

    name: str
    part_names: tuple
    pairs: tuple
    paf_channels: tuple
    num_channels: int
    background_channel: int
    defaults: Mapping
    ear_limbs: tuple
    foot_parts: tuple
    colors: tuple
    render_pairs: tuple
    flip_parts: tuple = ()
    flip_limbs: tuple = ()

    @property
    def num_parts(self) -> int:
        """P."""
        return len(self.part_names)

    @property
    def num_limbs(self) -> int:
        """L."""
        return len(self.pairs)

    @property
    def limb_colors(self) -> tuple:
        """RGB colour of each render pair (the colour of its second part, as OpenPose draws)."""
        return tuple(self.colors[b] for _, b in self.render_pairs)

    def flip_channels(self) -> tuple:
        """How to un-mirror a network output computed on a horizontally flipped image:
        (source, sign), two tuples of C ints, such that after reversing the map's width axis, channel c
        of the un-mirrored output is ``sign[c] * mirrored[..., source[c]]``. Parts and limbs take their
        mirror's channel (flip_parts, flip_limbs); a PAF's x component also changes sign, because the
        mirror reverses x (its y component and the heatmaps keep theirs). Test-time flip augmentation
        as in Cao et al. 2017 / OpenPose's training mirror and lightweight-openpose's evaluation."""
        source = list(range(self.num_channels))
        sign = [1] * self.num_channels
        for p, q in enumerate(self.flip_parts):
            source[p] = q
        for k, j in enumerate(self.flip_limbs):
            (x, y), (fx, fy) = self.paf_channels[k], self.paf_channels[j]
            source[x], source[y], sign[x] = fx, fy, -1
        return tuple(source), tuple(sign)

    def part_index(self, name: str) -> int:
        """Index of a part by its OpenPose name (e.g. "Neck")."""
        try:
            return self.part_names.index(name)
        except ValueError:
            raise ValueError(f"part name: expected one of {list(self.part_names)}, got {name!r}") from None


def _tuples(rows) -> tuple:
    return tuple(tuple(int(v) for v in r) for r in rows)


@cache
def get(name: str) -> PoseModel:
    """The model called ``name``; ValueError naming the valid names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"model: expected a name (str) among {names()}, got {name!r}")
    d = _core.pose_model(name)
    return PoseModel(
        name=d["name"],
        part_names=tuple(d["part_names"]),
        pairs=_tuples(d["pairs"]),
        paf_channels=_tuples(d["paf_channels"]),
        num_channels=int(d["num_channels"]),
        background_channel=int(d["background_channel"]),
        defaults=MappingProxyType(dict(d["defaults"])),
        ear_limbs=tuple(d["ear_limbs"]),
        foot_parts=tuple(d["foot_parts"]),
        colors=_tuples(d["part_colors"]),
        render_pairs=_tuples(d["render_pairs"]),
        flip_parts=tuple(int(v) for v in d["flip_parts"]),
        flip_limbs=tuple(int(v) for v in d["flip_limbs"]),
    )


def names() -> list:
    """The valid model names, in OpenPose's enum order."""
    return list(_core.pose_model_names())


__all__ += ["KeypointSet", "hand", "face", "HAND_SCALE_NUMBER_DEFAULT", "HAND_SCALE_RANGE_DEFAULT"]

# OpenPose's --hand_scale_number and --hand_scale_range defaults (C++ table, hand_face.hpp).
HAND_SCALE_NUMBER_DEFAULT = int(_core.HAND_SCALE_NUMBER_DEFAULT)
HAND_SCALE_RANGE_DEFAULT = round(float(_core.HAND_SCALE_RANGE_DEFAULT), 6)  # a float32 in C++: 0.4


@dataclass(frozen=True)
class KeypointSet:
    """OpenPose's hand or face keypoints (docs/algorithms/hand-face.md §4-5), from the C++ table.

    num_keypoints: 21 (hand) / 70 (face); num_channels: network output channels (+1 background).
    net_resolution: N, the square crop and network input side OpenPose uses (368).
    box_threshold: body-part score a box needs (0.03 / 0.25); a box is processed iff
        side > min_side and side * side > min_area.
    render_threshold, circle_ratio, line_ratio: OpenPose's CPU rendering; render_pairs are drawn in
        the colour of their second point; colors: RGB per keypoint.
    """

    name: str
    num_keypoints: int
    num_channels: int
    net_resolution: int
    box_threshold: float
    min_side: float
    min_area: float
    render_threshold: float
    circle_ratio: float
    line_ratio: float
    render_pairs: tuple
    colors: tuple

    @property
    def limb_colors(self) -> tuple:
        """RGB of each render pair (its second point's colour)."""
        return tuple(self.colors[b] for _, b in self.render_pairs)


@cache
def _keypoint_set(name: str) -> KeypointSet:
    d = _core.keypoint_set(name)
    return KeypointSet(
        name=d["name"],
        num_keypoints=int(d["num_keypoints"]),
        num_channels=int(d["num_channels"]),
        net_resolution=int(d["net_resolution"]),
        box_threshold=float(d["box_threshold"]),
        min_side=float(d["min_side"]),
        min_area=float(d["min_area"]),
        render_threshold=float(d["render_threshold"]),
        circle_ratio=float(d["circle_ratio"]),
        line_ratio=float(d["line_ratio"]),
        render_pairs=_tuples(d["render_pairs"]),
        colors=_tuples(d["colors"]),
    )


def hand() -> KeypointSet:
    """OpenPose's hand table (21 keypoints)."""
    return _keypoint_set("HAND")


def face() -> KeypointSet:
    """OpenPose's face table (70 keypoints)."""
    return _keypoint_set("FACE")

"""OpenPose's pose-model tables (COCO_18, BODY_25, MPI_15, MPI_15_4), read from the C++ core.

The connector, drawing and JSON output all use this one table. No TensorFlow here.

>>> m = get("COCO_18")
>>> m.num_parts, m.num_channels, m.paf_channels[0]
(18, 57, (31, 32))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from tfpose import _core

__all__ = ["PoseModel", "get", "names"]


@dataclass(frozen=True)
class PoseModel:
    """One pose model (spec §1). Tuples everywhere, so instances are immutable and hashable-free.

    pairs: L limbs (part A, part B) in the connector's order.
    paf_channels: L (x, y) absolute channels of the network output (P + 1 + OpenPose's mapIdx).
    num_channels: C = P + 1 + 2L; background_channel = P.
    defaults: OpenPose's thresholds (nms_threshold, inter_min_above_threshold, inter_threshold,
        min_subset_cnt, min_subset_score) and max_peaks.
    ear_limbs: limbs that only complete existing people in the CPU connector.
    foot_parts: parts the BODY_25 person filter does not count.
    colors: P RGB colours (0..255) OpenPose draws each part with; render_pairs: the limbs it draws,
        each in the colour of its second part (limb_colors).
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

    def part_index(self, name: str) -> int:
        """Index of a part by its OpenPose name (e.g. "Neck")."""
        try:
            return self.part_names.index(name)
        except ValueError:
            raise ValueError(f"part name: expected one of {list(self.part_names)}, got {name!r}") from None


def _tuples(rows) -> tuple:
    return tuple(tuple(int(v) for v in r) for r in rows)


@lru_cache(maxsize=None)
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
    )


def names() -> list:
    """The valid model names, in OpenPose's enum order."""
    return list(_core.pose_model_names())

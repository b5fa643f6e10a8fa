"""Argument checks shared by the TensorFlow wrappers (ops.py) and the numpy entry points
(numpy_ops.py), so both reject the same inputs with the same messages. No TensorFlow here."""

from __future__ import annotations

import math
from typing import Any

from tfpose import _core

# Owned by the C++ core (common.hpp, nms.hpp, connector.hpp), read here rather than restated.
OPENPOSE_BUILDS: tuple = tuple(_core.OPENPOSE_BUILDS)
MAX_PEAKS_LIMIT: int = int(_core.MAX_PEAKS_LIMIT)
THRESHOLD_NAMES: tuple = tuple(_core.THRESHOLD_NAMES)


def check_openpose_build(value: Any) -> str:
    if value not in OPENPOSE_BUILDS:
        raise ValueError(f"openpose_build: expected 'cpu' or 'cuda', got {value!r}")
    return value


def check_threshold(value: Any, name: str = "threshold") -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a number in [0, 1], got {value!r}") from None
    if not (0.0 <= v <= 1.0):  # also rejects NaN
        raise ValueError(f"{name}: expected a number in [0, 1], got {v}")
    return v


def check_max_peaks(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int,)) and not hasattr(value, "__index__"):
        raise TypeError(f"max_peaks: expected an int in [1, {MAX_PEAKS_LIMIT}], got {value!r}")
    v = int(value)
    if not (1 <= v <= MAX_PEAKS_LIMIT):
        raise ValueError(f"max_peaks: expected an int in [1, {MAX_PEAKS_LIMIT}], got {v}")
    return v


def check_pair(value: Any, name: str, kind: type, what: str) -> tuple:
    """A pair like target_size (H, W) or offset (x, y): two finite numbers of the given kind."""
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{name}: expected a pair {what}, got {value!r}") from None
    if len(items) != 2:
        raise ValueError(f"{name}: expected a pair {what}, got {len(items)} values {value!r}")
    out = []
    for v in items:
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"{name}: expected finite values {what}, got {value!r}")
        if kind is int:
            if f != int(f):
                raise ValueError(f"{name}: expected integers {what}, got {value!r}")
            f = int(f)
        out.append(f)
    return tuple(out)


def check_size(value: Any, name: str) -> tuple[int, int]:
    h, w = check_pair(value, name, int, "(H, W)")
    if h <= 0 or w <= 0:
        raise ValueError(f"{name}: expected positive (H, W), got ({h}, {w})")
    return h, w


def check_scale_ratios(scale_ratios: Any, num_scales: int, openpose_build: str) -> tuple:
    """scaleInputToNet of each of the S scales: S finite positive numbers. None means all 1, which
    only "cpu" (it ignores the ratios) or a single scale can take."""
    if scale_ratios is None:
        if num_scales > 1 and openpose_build == "cuda":
            raise ValueError(
                "scale_ratios: openpose_build='cuda' aligns the scales by their ratios, so it needs "
                f"one ratio per scale ({num_scales}), got None"
            )
        return (1.0,) * num_scales
    try:
        values = [float(v) for v in (list(scale_ratios) if hasattr(scale_ratios, "__iter__") else [scale_ratios])]
    except (TypeError, ValueError):
        raise TypeError(f"scale_ratios: expected {num_scales} numbers, got {scale_ratios!r}") from None
    if len(values) != num_scales:
        raise ValueError(f"scale_ratios: expected {num_scales} values (one per scale), got {len(values)}")
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"scale_ratios: expected finite positive values, got {values}")
    return tuple(values)


def check_thresholds(thresholds: dict) -> dict:
    """Keyword thresholds of connect / net_output_to_people; None means the model's default."""
    unknown = sorted(set(thresholds) - set(THRESHOLD_NAMES))
    if unknown:
        raise TypeError(f"unknown threshold(s) {unknown}; expected some of {list(THRESHOLD_NAMES)}")
    out = {}
    for name, value in thresholds.items():
        if value is None:
            continue
        if name == "min_subset_cnt":
            if isinstance(value, bool) or int(value) != value or int(value) < 0:
                raise ValueError(f"min_subset_cnt: expected a non-negative int, got {value!r}")
            out[name] = int(value)
        elif name == "min_subset_score":
            v = float(value)
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"min_subset_score: expected a finite number >= 0, got {value!r}")
            out[name] = v
        else:
            out[name] = check_threshold(value, name)
    return out


def threshold_values(thresholds: dict) -> dict:
    """Checked keyword thresholds -> all THRESHOLD_NAMES, -1 (the model's default) for those absent or
    None: the TF ops' attributes and the fields of ``_core.ConnectThresholds``."""
    given = check_thresholds(thresholds)
    return {name: given.get(name, -1) for name in THRESHOLD_NAMES}


def check_threads(value: Any) -> int:
    """Worker threads of a numpy entry point: an int >= 0, 0 = all cores."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"threads: expected an int >= 0 (0 = all cores), got {value!r}")
    if int(value) < 0:
        raise ValueError(f"threads: expected an int >= 0 (0 = all cores), got {int(value)}")
    return int(value)


REFINEMENTS = ("none", "quarter", "dark")


def check_refinement(value: Any) -> str:
    """Sub-pixel refinement of top-down decoding: "none", "quarter" or "dark"."""
    if value not in REFINEMENTS:
        raise ValueError(f"refinement: expected one of {list(REFINEMENTS)}, got {value!r}")
    return value


def check_dark_kernel(value: Any) -> int:
    """DARK's Gaussian size: an odd int in [3, 255]."""
    if (
        isinstance(value, bool)
        or not hasattr(value, "__index__")
        or not (3 <= int(value) <= 255)
        or int(value) % 2 == 0
    ):
        raise ValueError(f"dark_kernel: expected an odd int in [3, 255], got {value!r}")
    return int(value)


def check_pose_model_name(model: Any) -> str:
    """A body model name; the C++ table rejects unknown names with the list of valid ones."""
    if not isinstance(model, str):
        raise TypeError(f"model: expected a pose model name (str), got {model!r}")
    return model

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

# OpenPose's default post-processing parameters, owned by the core (pose_defaults.hpp, kPoseDefaults):
# the defaults of every entry point that takes them (ops, numpy_ops, cuda, the Estimator, the CLI).
# The MPI models' own nms_threshold / inter_threshold come from their table (tfpose.models).
_POSE_DEFAULTS: dict = dict(_core.POSE_DEFAULTS)
DEFAULT_NMS_THRESHOLD: float = float(_POSE_DEFAULTS["nms_threshold"])
DEFAULT_INTER_MIN_ABOVE_THRESHOLD: float = float(_POSE_DEFAULTS["inter_min_above_threshold"])
DEFAULT_INTER_THRESHOLD: float = float(_POSE_DEFAULTS["inter_threshold"])
DEFAULT_MIN_SUBSET_CNT: int = int(_POSE_DEFAULTS["min_subset_cnt"])
DEFAULT_MIN_SUBSET_SCORE: float = float(_POSE_DEFAULTS["min_subset_score"])
DEFAULT_MAX_PEAKS: int = int(_POSE_DEFAULTS["max_peaks"])


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
    """max_peaks (K, peaks kept per part) as an int: TypeError unless an int (bool refused), then the
    core's rule (nms.hpp, check_max_peaks: [1, MAX_PEAKS_LIMIT]) as ValueError."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"max_peaks: expected an int in [1, {MAX_PEAKS_LIMIT}], got {value!r}")
    v = int(value)
    # Clamped to int64 (the core's type) so that a huge int gets the core's ValueError, not pybind's
    # TypeError; anything clamped is far outside [1, MAX_PEAKS_LIMIT] either way.
    _core_rule(_core.check_max_peaks, min(max(v, -(2**63)), 2**63 - 1))
    return v


def _core_rule(call: Any, *args: Any, **kwargs: Any) -> Any:
    # The core raises its InvalidArgument (a ValueError subclass); Python's entry points raise
    # ValueError itself, as they did before the rule moved into the core.
    try:
        return call(*args, **kwargs)
    except _core.InvalidArgument as exc:
        raise ValueError(str(exc)) from None


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


def check_int_pair(value: Any, what: str) -> tuple[int, int]:
    """Two integers (Python or numpy ints; no bools, floats or strings) as a tuple, else TypeError.
    The sizing functions' (W, H) / (H, W) arguments (tfpose.sizing, tfpose.placement)."""
    import numpy as np

    try:
        a, b = value
    except (TypeError, ValueError):
        raise TypeError(f"{what}: expected two integers, got {value!r}") from None
    for v in (a, b):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{what}: expected two integers, got {value!r}")
    return int(a), int(b)


def check_real(value: Any, what: str) -> float:
    """A Python or numpy real number (no bools or strings) as float, else TypeError."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what}: expected a number, got {value!r}")
    return float(value)


# Sizes and counts cross into the ops as int32 (TensorFlow's shape tensors and attributes): a larger
# value is an error at every entry point, never wrapped.
INT32_MAX = 2**31 - 1


# NMS peak positions (nms.hpp, PeakRefinement), owned by the core: "centroid" = OpenPose's 7x7
# positive-weight centroid (docs/algorithms/body.md §5.3, the default); "quadratic" = tfpose's opt-in vertex of the parabola
# through the log-values of the peak and its two neighbours per axis (DARK's Taylor step, Zhang et al.
# 2020, on the map itself).
PEAK_REFINEMENTS: tuple = tuple(_core.PEAK_REFINEMENTS)


def check_peak_refinement(value: Any) -> str:
    """One of PEAK_REFINEMENTS; ValueError naming them otherwise."""
    if not isinstance(value, str) or value not in PEAK_REFINEMENTS:
        raise ValueError(f"peak_refinement: expected one of {list(PEAK_REFINEMENTS)}, got {value!r}")
    return value


def nms_params(
    threshold: Any, max_peaks: Any, offset: Any, openpose_build: Any, peak_refinement: Any = "centroid"
) -> Any:
    """Checked NMS arguments as the ``_core.NmsParams`` object the NMS bindings and the TF wrappers take.

    Python checks the types (TypeError: threshold a number, max_peaks an int, offset a pair) and the
    names (ValueError in Python's wording: openpose_build, peak_refinement); the ranges are the core's
    one NMS-parameter rule (nms.hpp, make_nms_params), which the TF kernels apply to their attributes
    too: threshold in [0, 1], max_peaks in [1, MAX_PEAKS_LIMIT], finite offset (x, y); ValueError."""
    build = check_openpose_build(openpose_build)
    refinement = check_peak_refinement(peak_refinement)
    ox, oy = check_pair(offset, "offset", float, "(x, y)")
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise TypeError(f"threshold: expected a number in [0, 1], got {threshold!r}") from None
    k = check_max_peaks(max_peaks)
    return _core_rule(
        _core.NmsParams,
        threshold=t,
        max_peaks=k,
        offset_x=ox,
        offset_y=oy,
        openpose_build=build,
        peak_refinement=refinement,
    )


def check_size(value: Any, name: str) -> tuple[int, int]:
    h, w = check_pair(value, name, int, "(H, W)")
    if not (0 < h <= INT32_MAX and 0 < w <= INT32_MAX):
        raise ValueError(f"{name}: expected positive (H, W) below 2^31, got ({h}, {w})")
    return h, w


def check_model(model: Any) -> str:
    """A pose model name (the names are checked by the core, which owns the table)."""
    if not isinstance(model, str):
        raise TypeError(f"model: expected a model name (str), got {model!r}")
    return model


def check_counts(counts: Any):
    """Peak counts [N, P] given as an array (not a tensor): integers that fit int32 (so that none can
    wrap), as a numpy array; the core then checks each against [0, K] and names the first bad one."""
    import numpy as np

    c = np.asarray(counts)
    if not np.issubdtype(c.dtype, np.integer):
        raise TypeError(f"counts: expected an integer array [N, P], got dtype {c.dtype}")
    if c.size and (c.min() < -INT32_MAX - 1 or c.max() > INT32_MAX):
        raise ValueError(f"counts: expected values in [0, K], got {c.min()}..{c.max()}")
    return c


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
    out: dict[str, float] = {}
    for name, value in thresholds.items():
        if value is None:
            continue
        if name == "min_subset_cnt":
            if isinstance(value, bool) or int(value) != value or not 0 <= int(value) <= INT32_MAX:
                raise ValueError(f"min_subset_cnt: expected a non-negative int below 2^31, got {value!r}")
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
    # Typed as the attributes are (int only for the count): an int for a float attribute sends
    # TensorFlow's eager call down its slow fallback path (about 0.1 ms a call).
    return {
        name: given.get(name, -1) if name == "min_subset_cnt" else float(given.get(name, -1.0))
        for name in THRESHOLD_NAMES
    }


def check_threads(value: Any) -> int:
    """Worker threads of a numpy entry point: an int in 0..MAX_THREADS (the core's cap), 0 = all cores."""
    from tfpose._core import MAX_THREADS

    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"threads: expected an int in 0..{MAX_THREADS} (0 = all cores), got {value!r}")
    if not 0 <= int(value) <= MAX_THREADS:
        raise ValueError(f"threads: expected 0..{MAX_THREADS} (0 = all cores), got {int(value)}")
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

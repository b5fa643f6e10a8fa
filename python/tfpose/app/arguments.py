"""The estimator's command-line options, built once for ``tfpose estimate``, ``tfpose export`` and
``tfpose beam``: the argparse builders, the namespace -> Estimator options mapping, and OpenPose's
``--net_resolution -1x368`` spelling. Defaults and choices come from their owners
(:data:`tfpose.options.DEFAULTS`, :mod:`tfpose.options`, :mod:`tfpose._args`, :mod:`tfpose.models`),
never restated here. No argparse ``choices`` for options that :mod:`tfpose.options` checks: the
message is then the same as from the Python API.
"""

from __future__ import annotations

import argparse
import re

__all__ = [
    "ACCURACY_COST",
    "estimator_args",
    "hand_face_args",
    "hand_face_options",
    "body_options",
    "estimator_options",
    "join_negative_values",
]

# What --accuracy best costs, measured interleaved with the default by benchmarks/coco_eval.py
# --ablation (benchmarks/README.md, coco_eval section).
ACCURACY_COST = "about 3.3x the default's time (1.6 against 5.2 frames/s on 2 cores)"

# The Estimator options that estimator_args() adds, in the namespace's attribute names.
BODY_OPTIONS = (
    "pose_model",
    "net_resolution",
    "scale_number",
    "scale_gap",
    "openpose_build",
    "normalization",
    "accuracy",
    "flip",
    "peak_refinement",
)


def _choices(values) -> str:
    return "{" + ",".join(values) + "}"


def estimator_args(p: argparse.ArgumentParser, pose_model_default=None) -> None:
    """Add the body estimator's options (:data:`BODY_OPTIONS`: --pose-model, --net-resolution,
    --accuracy, --flip, --peak-refinement, --scale-number, --scale-gap, --openpose-build,
    --normalization) to ``p``, defaults from :data:`tfpose.options.DEFAULTS`."""
    from tfpose import _args, models, options

    d = options.DEFAULTS
    p.add_argument(
        "--pose-model",
        default=pose_model_default,
        metavar=_choices(models.names()),
        help="body model of the network's output layout (default: read off the network's "
        "output channels: 57 COCO_18, 78 BODY_25, 44 MPI_15)",
    )
    p.add_argument(
        "--net-resolution",
        default="x".join(str(v) for v in d["net_resolution"]),
        metavar="WxH",
        help="network input size, multiples of 16; -1 = from the image's aspect ratio "
        "(default: %(default)s, as in OpenPose; -1x656 may be written as is)",
    )
    p.add_argument(
        "--accuracy",
        default=d["accuracy"],
        metavar=_choices(options.ACCURACY_MODES),
        help="openpose (default): OpenPose's post-processing exactly. best: more people, more precisely, "
        "from the same network, at " + ACCURACY_COST + " per image: flip averaging, "
        "multi-scale, quadratic peak refinement, and COCO's pixel convention for COCO output "
        "(COCO AP on coco_mini 0.282 -> 0.331, benchmarks/README.md); the options below override its parts",
    )
    _accuracy_parts(p, d)
    p.add_argument(
        "--openpose-build",
        default=d["openpose_build"],
        metavar=_choices(_args.OPENPOSE_BUILDS),
        help="whose post-processing to reproduce: OpenPose's CPU build (default) or its CUDA build",
    )
    p.add_argument(
        "--normalization",
        default=d["normalization"],
        metavar=_choices(options.NORMALIZATIONS),
        help="input scaling the network expects: none = BGR 0..255 (tf-pose-estimation graphs, "
        "default), caffe = x/256 - 0.5 (OpenPose Caffe models)",
    )


def _accuracy_parts(p: argparse.ArgumentParser, d: dict) -> None:
    # The settings an --accuracy mode fills in when they are not given (None: the mode's).
    from tfpose import options

    p.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=d["flip"],
        help="average the network outputs of each image and of its mirror image (about 2x the "
        "network's cost; default: the --accuracy mode's, off for openpose)",
    )
    p.add_argument(
        "--peak-refinement",
        default=d["peak_refinement"],
        metavar=_choices(options.PEAK_REFINEMENTS),
        help="sub-pixel peak position: centroid = OpenPose's 7x7 centroid, quadratic = log-parabola "
        "vertex (no measurable cost; default: the --accuracy mode's, centroid for openpose)",
    )
    p.add_argument(
        "--scale-number",
        type=int,
        default=d["scale_number"],
        metavar="S",
        help="number of scales to run and average (default: the --accuracy mode's, 1 for openpose)",
    )
    p.add_argument(
        "--scale-gap",
        type=float,
        default=d["scale_gap"],
        help="scale s runs at 1 - s*gap of the net resolution (default: the --accuracy mode's, 0.25 for openpose)",
    )


def hand_face_args(p: argparse.ArgumentParser) -> None:
    """Add --hand, --hand-model, --face, --face-model, --hand-scale-number, --hand-scale-range."""
    from tfpose import options

    g = p.add_argument_group("hands and face (OpenPose's, found from the body; the networks are not bundled)")
    g.add_argument("--hand", action="store_true", help="also find each person's hands (needs --hand-model)")
    g.add_argument(
        "--hand-model",
        metavar="PATH",
        help="OpenPose's hand network converted with `tfpose convert` (frozen .pb or SavedModel)",
    )
    g.add_argument("--face", action="store_true", help="also find each person's face (needs --face-model)")
    g.add_argument(
        "--face-model",
        metavar="PATH",
        help="OpenPose's face network converted with `tfpose convert` (frozen .pb or SavedModel)",
    )
    g.add_argument(
        "--hand-scale-number",
        type=int,
        default=options.DEFAULTS["hand_scale_number"],
        metavar="n",
        help="hand scales to run, the best mean score kept (default: %(default)s; OpenPose's best: 6)",
    )
    g.add_argument(
        "--hand-scale-range",
        type=float,
        default=options.DEFAULTS["hand_scale_range"],
        metavar="r",
        help="hand scales span 1 - r/2 .. 1 + r/2 (default: %(default)s)",
    )


def hand_face_options(args: argparse.Namespace) -> dict:
    """--hand/--face with their models -> Estimator options (hand_scale_number, hand_scale_range,
    hand_model, face_model). Raises ValueError for --hand without --hand-model and the reverse."""
    out = dict(hand_scale_number=args.hand_scale_number, hand_scale_range=args.hand_scale_range)
    for part in ("hand", "face"):
        on, path = getattr(args, part), getattr(args, f"{part}_model")
        if on and not path:
            raise ValueError(
                f"--{part}: expected --{part}-model PATH too (OpenPose's {part} network, "
                "converted with `tfpose convert`); no such network is bundled"
            )
        if path and not on:
            raise ValueError(f"--{part}-model given without --{part}: add --{part} to run it")
        out[f"{part}_model"] = path if on else None
    return out


def body_options(args: argparse.Namespace) -> dict:
    """The body Estimator options of a namespace parsed with :func:`estimator_args` (as given, not
    checked: :func:`tfpose.options.check_estimator_options` checks them)."""
    return {name: getattr(args, name) for name in BODY_OPTIONS}


def estimator_options(args: argparse.Namespace) -> dict:
    """Body and hand/face Estimator options of a ``tfpose estimate`` / ``tfpose export`` namespace
    (:func:`body_options` and :func:`hand_face_options`; ValueError as the latter)."""
    return dict(body_options(args), **hand_face_options(args))


# OpenPose writes "--net_resolution -1x368"; argparse would take "-1x368" for an option. A value
# that starts with "-<digit>" right after an option is joined to it ("--net-resolution=-1x368").
_NEGATIVE_VALUE = re.compile(r"^-\d[\dx.]*$")


def join_negative_values(argv: list[str]) -> list[str]:
    """``argv`` with each option followed by a negative value such as ``-1x368`` or ``-0.5`` joined to
    it (``--net-resolution=-1x368``) so that argparse does not take the value for an option; plain
    negative integers (``--number-people-max -1``) are left, argparse takes those."""
    out, i = [], 0
    while i < len(argv):
        tok = argv[i]
        if (
            tok.startswith("--")
            and "=" not in tok
            and i + 1 < len(argv)
            and _NEGATIVE_VALUE.match(argv[i + 1])
            and not argv[i + 1].lstrip("-").isdigit()
        ):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out

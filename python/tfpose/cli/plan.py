"""The outputs of ``tfpose estimate``, planned and checked before any model work: names for every
source (:func:`tfpose.io.output_stems`), folders created and writable, files not in the way, the
video writer opened, no output that would replace an input. A problem is a
:class:`tfpose.app.checks.Stop` (exit status 2).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path

from tfpose.app.checks import Stop, check_file, check_folder
from tfpose.cli.inputs import Source
from tfpose.naming import FRAME_DIGITS

__all__ = ["Plan", "plan_outputs", "video_fourcc", "shown", "DEFAULT_VIDEO_FPS"]


# Codec per video container; other extensions get mp4v and the probe below decides.
_FOURCC = {".avi": "MJPG", ".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v"}


def video_fourcc(path: str) -> str:
    """The FourCC tfpose writes a video file with, by its extension (mp4v when unknown)."""
    return _FOURCC.get(Path(path).suffix.lower(), "mp4v")


def _check_files_apart_from_frames(plan: Plan, sources, files) -> None:
    """Stop when one of ``files`` ((path, flag): the video, the COCO file, its image-id mapping) has
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
        base = _FRAME_TAIL.sub("", stem)
        if stems.get(stem) != "image" and (base == stem or stems.get(base) in (None, "image")):
            continue
        for folder, folder_flag, kinds in folders:
            if folder is not None and kind in kinds and f.parent.resolve() == folder.resolve():
                raise Stop(
                    f"{flag} {shown(f)} and {folder_flag} {shown(folder)}: both would write "
                    f"{shown(f)}; expected outputs with different paths"
                )


def _probe_video_writer(path: Path) -> None:
    """Open OpenCV's VideoWriter for ``path``'s container and codec and write two frames to a probe file
    beside it (:class:`tfpose.outputs.VideoOutput`, checked): a name or extension it cannot write
    stops the run now, not after the last frame."""
    import numpy as np

    from tfpose.outputs import VideoOutput

    fourcc = video_fourcc(str(path))
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
        raise Stop(
            f"--write-video {shown(path)}: OpenCV's VideoWriter cannot write a {path.suffix or 'extension-less'} "
            f"file with codec {fourcc}; expected a name ending in .avi (MJPG) or .mp4 (mp4v)"
        )


def shown(path) -> str:
    """A path as printable text (:func:`tfpose.sources.display_name`)."""
    from tfpose.sources import display_name

    return display_name(path)


class Plan:
    """Where each output goes; built by :func:`plan_outputs`."""

    def __init__(self, args: argparse.Namespace):
        self.json_dir = Path(args.write_json) if args.write_json else None
        self.img_dir = Path(args.write_images) if args.write_images else None
        self.heat_dir = Path(args.write_heatmaps) if args.write_heatmaps else None
        self.video = Path(args.write_video) if args.write_video else None
        self.coco = Path(args.write_coco_json) if args.write_coco_json else None
        self.img_ext = args.write_images_format
        self.video_fps = args.write_video_fps  # None: the first video's rate, set by plan_outputs

    def names(self, src: Source, frame: int | None) -> tuple:
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


# A frame's output stem is <video stem>_<frame, FRAME_DIGITS digits> (tfpose.naming's rule).
_FRAME_TAIL = re.compile(rf"_\d{{{FRAME_DIGITS}}}$")
_OUTPUT_SUFFIX = re.compile(r"^(.*)_(keypoints\.json|rendered\.[^.]+|pose_heatmaps\.(png|npy))$")
# --write-video's frame rate when no input is a video with a rate (images only, live sources)
DEFAULT_VIDEO_FPS = 10.0


def _video_rate(src: Source) -> float | None:
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


def plan_outputs(
    args: argparse.Namespace,
    sources: list[Source],
    log: Callable[[str], None] | None = None,
    created: list | None = None,
) -> Plan:
    """Output names for every source (:func:`tfpose.io.output_stems`) and every output path checked:
    folders created and writable, files not in the way, the video writer opened, no output that
    would replace an input. Raises Stop with one message otherwise; notes on ``log`` when drawings
    or other outputs go into a folder that holds inputs."""
    from tfpose import io as _io

    plan = Plan(args)
    for src, stem in zip(
        sources, _io.output_stems([s.name for s in sources], [s.kind != "image" for s in sources]), strict=False
    ):
        src.stem = stem
    for folder, flag in (
        (plan.json_dir, "--write-json"),
        (plan.img_dir, "--write-images"),
        (plan.heat_dir, "--write-heatmaps"),
    ):
        if folder is not None:
            check_folder(folder, flag, created)
    files = [(f, flag) for f, flag in ((plan.video, "--write-video"), (plan.coco, "--write-coco-json")) if f]
    if plan.coco is not None:
        files.append((_io.coco_mapping_name(plan.coco), "--write-coco-json (its image-id mapping)"))
    if len({f.resolve() for f, _ in files}) != len(files):
        raise Stop(
            "--write-video and --write-coco-json: expected two different files (and neither named "
            f"like the COCO file's image-id mapping, {shown(_io.coco_mapping_name(plan.coco)) if plan.coco else ''})"
        )
    _check_files_apart_from_frames(plan, sources, files)
    files_in = [s for s in sources if not s.live]
    inputs = {_io.input_identity(s.path) for s in files_in}
    for f, flag in files:
        check_file(f, flag, created)
        if _io.input_identity(f) in inputs:
            raise Stop(f"{flag} {shown(f)}: this is one of the inputs; expected a new file name")
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
            log(f"tfpose: note: {flag} {shown(folder)} holds inputs of this run: its outputs go beside them")
    for folder in {d.resolve() for d in (plan.json_dir, plan.img_dir, plan.heat_dir) if d is not None}:
        for s in files_in:
            m = _OUTPUT_SUFFIX.match(s.path.name)
            if s.path.resolve().parent != folder or m is None:
                continue
            stem = m.group(1).casefold()
            base = _FRAME_TAIL.sub("", stem)
            if planned.get(stem) == "image" or planned.get(base) == "video":
                raise Stop(
                    f"input {s.shown} has the name of an output this run would write into the same "
                    "folder; expected output folders that do not hold such inputs"
                )
    return plan

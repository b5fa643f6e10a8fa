"""Command line: ``tfpose estimate``, ``tfpose export`` (and ``tfpose convert`` when available)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

__all__ = ["main", "build_parser"]

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".jp2"}
VIDEO_EXTS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}

_DESCRIPTION = """\
Multi-person 2D pose estimation with OpenPose's own post-processing, running in TensorFlow.

Give a network (a frozen TensorFlow graph .pb such as tf-pose-estimation's graph_opt.pb, or a
SavedModel directory) and some images, folders of images, or videos. tfpose finds the people and
writes their keypoints as OpenPose JSON and/or drawings.

examples:
  tfpose estimate photo.jpg --model graph_opt.pb --write-json out/
  tfpose estimate photos/ --model graph_opt.pb --write-images drawn/
  tfpose estimate clip.mp4 --model graph_opt.pb --write-json out/ --write-video clip_pose.mp4
  tfpose estimate clip.mp4 --model graph_opt.pb --tracking --smooth --write-video ids.mp4
  tfpose estimate --camera 0 --model graph_opt.pb --tracking --write-json out/   (Ctrl-C stops)
  tfpose estimate rtsp://192.168.1.10:554/stream --model graph_opt.pb --write-json out/
  tfpose export graph_opt.pb exported_model/
"""


def _estimator_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pose-model", default="COCO_18", choices=["COCO_18", "BODY_25", "MPI_15", "MPI_15_4"],
                   help="body model of the network's output layout (default: %(default)s)")
    p.add_argument("--net-resolution", default="-1x368", metavar="WxH",
                   help="network input size, multiples of 16; -1 = from the image's aspect ratio "
                        "(default: %(default)s, as in OpenPose)")
    p.add_argument("--scale-number", type=int, default=1, metavar="S",
                   help="number of scales to run and average (default: %(default)s)")
    p.add_argument("--scale-gap", type=float, default=0.25,
                   help="scale s runs at 1 - s*gap of the net resolution (default: %(default)s)")
    p.add_argument("--openpose-build", default="cpu", choices=["cpu", "cuda"],
                   help="whose post-processing to reproduce: OpenPose's CPU build (default) or its CUDA build")
    p.add_argument("--normalization", default="none", choices=["none", "caffe"],
                   help="input scaling the network expects: none = BGR 0..255 (tf-pose-estimation graphs, "
                        "default), caffe = x/256 - 0.5 (OpenPose Caffe models)")


def _video_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "video, live sources and tracking",
        "Cameras and streams are read until they end or Ctrl-C; everything received is then written "
        "and the summary says why reading stopped. --frame-* select frames of each video, camera and "
        "stream as OpenPose's --frame_first/--frame_step/--frame_last do (0-based, inclusive; output "
        "names keep the source's frame numbers); single images are not affected.")
    g.add_argument("--camera", type=int, metavar="N", help="read camera N (e.g. 0) as a live source")
    g.add_argument("--frame-first", type=int, default=0, metavar="N", help="first frame to process (default: 0)")
    g.add_argument("--frame-step", type=int, default=1, metavar="N",
                   help="process every N-th frame from --frame-first (default: 1)")
    g.add_argument("--frame-last", type=int, default=-1, metavar="N",
                   help="last frame to process, inclusive; -1 = to the end (default: -1)")
    g.add_argument("--stream-timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for a stream to open and for each of its frames (default: %(default)s)")
    g.add_argument("--tracking", action="store_true",
                   help="give each person an id kept across frames (JSON person_id; drawings coloured "
                        "by id with the id written); each input restarts the tracks, ids are never reused")
    g.add_argument("--smooth", action="store_true",
                   help="One-Euro filter on each tracked person's keypoints (implies --tracking)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfpose", description=_DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from tfpose import __version__

    parser.add_argument("--version", action="version", version=f"tfpose {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    est = sub.add_parser(
        "estimate", help="find people in images, folders of images and videos",
        description="Find people in images, folders of images and videos. Unreadable files are "
                    "skipped with a message; the exit status is 1 if any input failed.")
    est.add_argument("inputs", nargs="*", metavar="INPUT",
                     help="image file, folder of images, video file, or stream URL (rtsp://, http://, tcp://, ...)")
    est.add_argument("--model", required=True, metavar="PATH",
                     help="frozen TensorFlow graph (.pb) or SavedModel directory")
    _estimator_args(est)
    est.add_argument("--write-json", metavar="DIR",
                     help="write OpenPose JSON (v1.3) per image/frame: <name>_keypoints.json")
    est.add_argument("--write-images", metavar="DIR", help="write drawings as <name>_rendered.png")
    est.add_argument("--write-video", metavar="FILE", help="write all drawings to one video (.mp4 or .avi)")
    est.add_argument("--batch-size", type=int, default=4, help="images per network call (default: %(default)s)")
    est.add_argument("--no-progress", action="store_true", help="no progress bar")
    _video_args(est)

    exp = sub.add_parser("export", help="export the whole pipeline as a TensorFlow SavedModel",
                         description="Export network + OpenPose post-processing as one SavedModel "
                                     "(signature serving_default: images uint8 [N,H,W,3] BGR -> keypoints, "
                                     "scores, num_people). Load it with tfpose.load_saved_model.")
    exp.add_argument("model", metavar="MODEL", help="frozen TensorFlow graph (.pb) or SavedModel directory")
    exp.add_argument("export_dir", metavar="DIR", help="output SavedModel directory")
    _estimator_args(exp)

    try:
        from tfpose.convert import cli as convert_cli
    except ImportError:
        convert_cli = None
    if convert_cli is not None:
        convert_cli.add_parser(sub)
        parser.set_defaults(_convert=convert_cli)
    return parser


def _options(args) -> dict:
    return dict(pose_model=args.pose_model, net_resolution=args.net_resolution, scale_number=args.scale_number,
                scale_gap=args.scale_gap, openpose_build=args.openpose_build, normalization=args.normalization)


class _Source:
    """One unit of input: an image file, a video, a stream URL or a camera index. seq: the input
    argument it came from (tracks restart with each)."""

    def __init__(self, path, kind: str, seq: int = 0):
        self.path, self.kind, self.seq = path, kind, seq


class _Item(NamedTuple):
    path: Path          # names the outputs (stem)
    frame: int | None   # frame number in a video/stream, None for an image
    img: object
    fps: float | None
    seq: int
    stamp: float | None  # seconds, for the One-Euro filter
    live: bool


def _collect(inputs, log, camera=None) -> tuple[list[_Source], int]:
    from tfpose.sources import is_stream_url

    sources, bad = [], 0
    for seq, name in enumerate(inputs):
        path = Path(name)
        if is_stream_url(name):
            sources.append(_Source(name, "stream", seq))
        elif path.is_dir():
            files = sorted(f for f in path.iterdir() if f.is_file())
            found = [f for f in files if f.suffix.lower() in IMAGE_EXTS | VIDEO_EXTS]
            if not found:
                log(f"tfpose: skipping folder {path}: no image or video files in it")
                bad += 1
            for f in found:
                sources.append(_Source(f, "video" if f.suffix.lower() in VIDEO_EXTS else "image", seq))
        elif path.is_file():
            sources.append(_Source(path, "video" if path.suffix.lower() in VIDEO_EXTS else "image", seq))
        else:
            log(f"tfpose: skipping {path}: no such file or folder")
            bad += 1
    if camera is not None:
        sources.append(_Source(camera, "camera", len(inputs)))
    return sources, bad


def _video_source(src, args):
    from tfpose.sources import VideoSource

    return VideoSource(src.path, frame_first=args.frame_first, frame_step=args.frame_step,
                       frame_last=args.frame_last, timeout=args.stream_timeout)


def _frames(sources, args, log, counters):
    """Yields an _Item per frame in order; unreadable files and sources that cannot be opened are
    reported and counted; why each video, camera or stream stopped goes to counters["ended"]."""
    import cv2

    from tfpose.sources import SourceError

    for src in sources:
        if src.kind == "image":
            img = cv2.imread(str(src.path), cv2.IMREAD_COLOR)  # gray -> BGR, alpha dropped (OpenPose's rule)
            if img is None or img.size == 0:
                log(f"tfpose: skipping {src.path}: not a readable image")
                counters["bad"] += 1
                continue
            yield _Item(src.path, None, img, None, src.seq, None, False)
            continue
        video = _video_source(src, args)
        n = 0
        try:
            for f in video:
                n += 1
                yield _Item(Path(video.name) if video.live else src.path, f.index, f.image, f.fps, src.seq,
                            f.timestamp, video.live)
        except SourceError as exc:
            log(f"tfpose: {'skipping ' if not video.live else ''}{exc}")
            counters["bad"] += 1
            continue
        finally:
            if video.live and video.opened:
                counters["ended"].append(f"{video.describe()}: {video.end_reason or 'stopped'} after {n} frames")
        if video.frames_read == 0:
            log(f"tfpose: skipping {src.path}: no frame could be decoded")
            counters["bad"] += 1


def _total_frames(sources, args) -> int | None:
    total = 0
    for src in sources:
        if src.kind == "image":
            total += 1
            continue
        n = _video_source(src, args).frame_count()
        if n is None:
            return None  # live or unknown length: a bar without a total
        total += n
    return total


def _run_estimate(args) -> int:
    import cv2
    from tqdm import tqdm

    log = lambda msg: tqdm.write(msg, file=sys.stderr)  # noqa: E731  (keeps the bar intact)
    if args.batch_size < 1:
        log(f"tfpose: --batch-size: expected an int >= 1, got {args.batch_size}")
        return 2
    if not args.inputs and args.camera is None:
        log("tfpose: estimate: expected at least one INPUT or --camera N")
        return 2
    from tfpose.sources import check_frame_range

    try:
        check_frame_range(args.frame_first, args.frame_step, args.frame_last)
        if args.camera is not None and args.camera < 0:
            raise ValueError(f"camera: expected an index >= 0, got {args.camera}")
        if not args.stream_timeout > 0:
            raise ValueError(f"stream_timeout: expected seconds > 0, got {args.stream_timeout}")
    except ValueError as exc:
        log(f"tfpose: --{str(exc).replace('_', '-', 1)}")
        return 2
    sources, bad = _collect(args.inputs, log, args.camera)
    counters = {"bad": bad, "frames": 0, "people": 0, "ended": []}
    if not sources:
        log("tfpose: nothing to do: no readable inputs")
        return 1
    from tfpose.estimator import Estimator

    try:
        est = Estimator(args.model, batch_size=args.batch_size, **_options(args))
    except (OSError, ValueError, TypeError) as exc:
        log(f"tfpose: cannot load the model: {exc}")
        return 2
    from tfpose import io as tio

    tracker = None
    if args.tracking or args.smooth:
        from tfpose.tracking import PoseTracker

        tracker = PoseTracker(est.pose_model, smooth=args.smooth)
    track_seq = [None]

    json_dir = Path(args.write_json) if args.write_json else None
    img_dir = Path(args.write_images) if args.write_images else None
    for d in (json_dir, img_dir):
        if d is not None:
            d.mkdir(parents=True, exist_ok=True)
    writer = None
    video_size = None
    show_bar = not args.no_progress and (len(sources) > 1 or any(s.kind != "image" for s in sources)
                                         or any(Path(i).is_dir() for i in args.inputs))
    bar = tqdm(total=_total_frames(sources, args), unit="frame", disable=not show_bar, file=sys.stderr)

    def flush(batch):
        """Runs and writes a batch; each item leaves the list once written, so after a Ctrl-C the
        list holds exactly the received frames still to write."""
        nonlocal writer, video_size
        if not batch:
            return
        try:
            results = est.estimate_batch([b.img for b in batch])
        except Exception as exc:  # one bad batch: retry one by one so good frames are kept
            if len(batch) > 1:
                while batch:
                    flush([batch[0]])
                    batch.pop(0)
                return
            where = batch[0].path if batch[0].frame is None else f"{batch[0].path} frame {batch[0].frame}"
            log(f"tfpose: skipping {where}: {exc}")
            counters["bad"] += 1
            bar.update(1)
            batch.pop(0)
            return
        for people in results:
            path, frame, img, fps, seq, stamp, _ = batch[0]
            if tracker is not None:
                if seq != track_seq[0]:
                    tracker.reset()
                    track_seq[0] = seq
                tracker.update(people, timestamp=stamp, image_size=img.shape[:2])
            counters["frames"] += 1
            counters["people"] += len(people)
            if json_dir is not None:
                tio.write_json(json_dir / tio.json_name(path, frame), people)
            if img_dir is not None or args.write_video:
                from tfpose.draw import draw

                drawing = draw(img, people, est.pose_model, color_by_id=tracker is not None)
                if img_dir is not None:
                    stem = path.stem if frame is None else f"{path.stem}_{frame:012d}"
                    cv2.imwrite(str(img_dir / f"{stem}_rendered.png"), drawing)
                if args.write_video:
                    if writer is None:
                        video_size = (drawing.shape[1], drawing.shape[0])
                        fourcc = cv2.VideoWriter_fourcc(*("MJPG" if args.write_video.lower().endswith(".avi") else "mp4v"))
                        Path(args.write_video).parent.mkdir(parents=True, exist_ok=True)
                        writer = cv2.VideoWriter(args.write_video, fourcc, fps or 10.0, video_size)
                    if (drawing.shape[1], drawing.shape[0]) != video_size:
                        drawing = cv2.resize(drawing, video_size, interpolation=cv2.INTER_AREA)
                    writer.write(drawing)
            bar.update(1)
            batch.pop(0)

    start = time.perf_counter()
    batch = []
    interrupted = False
    try:
        try:
            for item in _frames(sources, args, log, counters):
                if batch and item.img.shape != batch[0].img.shape:
                    flush(batch)  # a batch holds one image size
                batch.append(item)
                # live frames are processed as they come: waiting to fill a batch would add latency
                if len(batch) >= args.batch_size or item.live:
                    flush(batch)
        except KeyboardInterrupt:
            interrupted = True
            log("tfpose: interrupted (Ctrl-C): writing the frames already received")
        flush(batch)
    finally:
        bar.close()
        if writer is not None:
            writer.release()
    elapsed = time.perf_counter() - start
    fps = counters["frames"] / elapsed if elapsed > 0 else 0.0
    failed = counters["bad"]
    print(f"tfpose: {counters['frames']} frames, {counters['people']} people, {fps:.2f} frames/s"
          + (f", {tracker.next_id} person ids" if tracker is not None else "")
          + (f", {failed} input(s) failed" if failed else "")
          + "".join(f"; {e}" for e in counters["ended"])
          + ("; stopped by Ctrl-C" if interrupted else ""))
    if interrupted:
        return 130
    return 1 if failed else 0


def _run_export(args) -> int:
    from tfpose.export import export_saved_model

    try:
        export_saved_model(args.model, args.export_dir, **_options(args))
    except (OSError, ValueError, TypeError) as exc:
        print(f"tfpose: export failed: {exc}", file=sys.stderr)
        return 2
    print(f"tfpose: exported SavedModel to {args.export_dir}")
    return 0


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A source that cannot be opened is reported once, by tfpose; OpenCV's and FFmpeg's own lines
    # about it come back with OPENCV_LOG_LEVEL=INFO / OPENCV_FFMPEG_LOGLEVEL=32.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    parser = build_parser()
    args = parser.parse_args(argv)
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

"""Command line: ``tfpose estimate``, ``tfpose export``, ``tfpose beam`` (and ``tfpose convert`` when available)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

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
    est.add_argument("inputs", nargs="+", metavar="INPUT", help="image file, folder of images, or video file")
    est.add_argument("--model", required=True, metavar="PATH",
                     help="frozen TensorFlow graph (.pb) or SavedModel directory")
    _estimator_args(est)
    est.add_argument("--write-json", metavar="DIR",
                     help="write OpenPose JSON (v1.3) per image/frame: <name>_keypoints.json")
    est.add_argument("--write-images", metavar="DIR", help="write drawings as <name>_rendered.png")
    est.add_argument("--write-video", metavar="FILE", help="write all drawings to one video (.mp4 or .avi)")
    est.add_argument("--batch-size", type=int, default=4, help="images per network call (default: %(default)s)")
    est.add_argument("--no-progress", action="store_true", help="no progress bar")

    exp = sub.add_parser("export", help="export the whole pipeline as a TensorFlow SavedModel",
                         description="Export network + OpenPose post-processing as one SavedModel "
                                     "(signature serving_default: images uint8 [N,H,W,3] BGR -> keypoints, "
                                     "scores, num_people). Load it with tfpose.load_saved_model.")
    exp.add_argument("model", metavar="MODEL", help="frozen TensorFlow graph (.pb) or SavedModel directory")
    exp.add_argument("export_dir", metavar="DIR", help="output SavedModel directory")
    _estimator_args(exp)

    # Listed for --help; its arguments are parsed by tfpose.beam (main() hands them over unparsed).
    sub.add_parser("beam", add_help=False,
                   help="run over many images and videos with Apache Beam (any runner); tfpose beam --help")

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
    """One unit of input: an image file or a video (frames)."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = path, kind


def _collect(inputs, log) -> tuple[list[_Source], int]:
    sources, bad = [], 0
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            files = sorted(f for f in path.iterdir() if f.is_file())
            found = [f for f in files if f.suffix.lower() in IMAGE_EXTS | VIDEO_EXTS]
            if not found:
                log(f"tfpose: skipping folder {path}: no image or video files in it")
                bad += 1
            for f in found:
                sources.append(_Source(f, "video" if f.suffix.lower() in VIDEO_EXTS else "image"))
        elif path.is_file():
            sources.append(_Source(path, "video" if path.suffix.lower() in VIDEO_EXTS else "image"))
        else:
            log(f"tfpose: skipping {path}: no such file or folder")
            bad += 1
    return sources, bad


def _frames(sources, log, counters):
    """Yields (name, frame index or None, BGR image, fps or None); unreadable files are reported."""
    import cv2

    for src in sources:
        if src.kind == "image":
            img = cv2.imread(str(src.path), cv2.IMREAD_COLOR)  # gray -> BGR, alpha dropped (OpenPose's rule)
            if img is None or img.size == 0:
                log(f"tfpose: skipping {src.path}: not a readable image")
                counters["bad"] += 1
                continue
            yield src.path, None, img, None
        else:
            cap = cv2.VideoCapture(str(src.path))
            if not cap.isOpened():
                log(f"tfpose: skipping {src.path}: not a readable video")
                counters["bad"] += 1
                continue
            fps = cap.get(cv2.CAP_PROP_FPS) or None
            i = 0
            try:
                while True:
                    ok, img = cap.read()
                    if not ok:
                        break
                    yield src.path, i, img, fps
                    i += 1
            finally:
                cap.release()
            if i == 0:
                log(f"tfpose: skipping {src.path}: no frame could be decoded")
                counters["bad"] += 1


def _total_frames(sources) -> int | None:
    import cv2

    total = 0
    for src in sources:
        if src.kind == "image":
            total += 1
        else:
            cap = cv2.VideoCapture(str(src.path))
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
            cap.release()
            total += max(n, 0)
    return total


def _run_estimate(args) -> int:
    import cv2
    from tqdm import tqdm

    log = lambda msg: tqdm.write(msg, file=sys.stderr)  # noqa: E731  (keeps the bar intact)
    if args.batch_size < 1:
        log(f"tfpose: --batch-size: expected an int >= 1, got {args.batch_size}")
        return 2
    sources, bad = _collect(args.inputs, log)
    counters = {"bad": bad, "frames": 0, "people": 0}
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

    json_dir = Path(args.write_json) if args.write_json else None
    img_dir = Path(args.write_images) if args.write_images else None
    for d in (json_dir, img_dir):
        if d is not None:
            d.mkdir(parents=True, exist_ok=True)
    writer = None
    video_size = None
    show_bar = not args.no_progress and (len(sources) > 1 or any(s.kind == "video" for s in sources)
                                         or any(Path(i).is_dir() for i in args.inputs))
    bar = tqdm(total=_total_frames(sources), unit="frame", disable=not show_bar, file=sys.stderr)

    def flush(batch):
        nonlocal writer, video_size
        if not batch:
            return
        try:
            results = est.estimate_batch([b[2] for b in batch])
        except Exception as exc:  # one bad batch: retry one by one so good frames are kept
            if len(batch) > 1:
                for item in batch:
                    flush([item])
                return
            log(f"tfpose: skipping {batch[0][0]}: {exc}")
            counters["bad"] += 1
            bar.update(1)
            return
        for (path, frame, img, fps), people in zip(batch, results):
            counters["frames"] += 1
            counters["people"] += len(people)
            if json_dir is not None:
                tio.write_json(json_dir / tio.json_name(path, frame), people)
            if img_dir is not None or args.write_video:
                from tfpose.draw import draw

                drawing = draw(img, people, est.pose_model)
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

    start = time.perf_counter()
    batch = []
    try:
        for item in _frames(sources, log, counters):
            if batch and item[2].shape != batch[0][2].shape:
                flush(batch)  # a batch holds one image size
                batch = []
            batch.append(item)
            if len(batch) >= args.batch_size:
                flush(batch)
                batch = []
        flush(batch)
    finally:
        bar.close()
        if writer is not None:
            writer.release()
    elapsed = time.perf_counter() - start
    fps = counters["frames"] / elapsed if elapsed > 0 else 0.0
    failed = counters["bad"]
    print(f"tfpose: {counters['frames']} frames, {counters['people']} people, {fps:.2f} frames/s"
          + (f", {failed} input(s) failed" if failed else ""))
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


def _run_beam(argv) -> int:
    try:
        from tfpose.beam import main as beam_main
    except ImportError as exc:
        print(f"tfpose: {exc}", file=sys.stderr)
        return 2
    return beam_main(argv)


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["beam"]:
        return _run_beam(argv[1:])
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

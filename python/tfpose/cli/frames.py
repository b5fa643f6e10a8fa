"""The images and frames of ``tfpose estimate``'s sources, decoded in order: each unreadable input,
undecodable frame and stopped live source is named and counted, so that nothing is lost silently.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from tfpose.cli.inputs import Source
from tfpose.cli.summary import plural

__all__ = ["Item", "frames", "expected_frames", "video_source"]


class Item(NamedTuple):
    """One decoded image or frame (the image is field 2, as the runners expect)."""

    src: Source
    frame: int | None  # frame number in its video/stream, None for an image
    img: object
    fps: float | None
    stamp: float | None  # seconds, for the One-Euro filter
    live: bool


def video_source(src: Source, args: argparse.Namespace):
    """The :class:`tfpose.sources.VideoSource` of a video, camera or stream with the --frame-* selection
    and --stream-timeout of ``args``."""
    from tfpose.sources import VideoSource

    return VideoSource(
        src.path,
        frame_first=args.frame_first,
        frame_step=args.frame_step,
        frame_last=args.frame_last,
        timeout=args.stream_timeout,
    )


def frames(
    sources: Sequence[Source], args: argparse.Namespace, log: Callable[[str], None], counters: dict
) -> Iterator[Item]:
    """Yields an Item per image/frame in order; unreadable files and sources that cannot be opened
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
            yield Item(src, None, img, None, None, False)
            continue
        video = video_source(src, args)
        n = 0
        try:
            for f in video:
                n += 1
                yield Item(src, f.index, f.image, f.fps, f.timestamp, src.live)
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
                    f"tfpose: {src.shown}: {plural(len(video.undecodable), 'frame')} could not be decoded "
                    f"(frame {shown}); reading went on to the end"
                )
                counters["frames_undecodable"] += len(video.undecodable)
                counters["frames_failed"] += len(video.undecodable)
            if src.live and video.opened:
                counters["ended"].append(
                    f"{video.describe()}: {video.end_reason or 'stopped'} after {plural(n, 'frame')}"
                )
        if video.frames_read == 0 and not video.undecodable:
            log(f"tfpose: skipping {src.shown}: no frame could be decoded")
            counters["inputs_skipped"] += 1


def expected_frames(sources: Sequence[Source], args: argparse.Namespace) -> int | None:
    """Frames the run should produce: 1 per image, per video file the frames its container holds in
    the --frame-* selection (:meth:`tfpose.sources.VideoSource.frame_count`, never the header);
    stored on each source; None when a live source or an unknown length makes the total unknown."""
    total: int | None = 0
    for src in sources:
        if src.kind == "video":
            src.expected_frames = video_source(src, args).frame_count()
        n = src.expected_frames
        if n is None:
            total = None
        elif total is not None:
            total += n
    return total

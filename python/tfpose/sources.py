"""Frame sources: video files, cameras and network streams (RTSP, HTTP, TCP, ...), read with OpenCV.

A :class:`VideoSource` is an iterator of :class:`Frame` in order, with OpenPose's frame selection
(``--frame_first``, ``--frame_step``, ``--frame_last``). It reads until the video or stream ends
(or the last selected frame); afterwards ``end_reason`` says why it stopped. A source that cannot
be opened raises :class:`SourceError` once, naming it. No TensorFlow here.

Network streams are read by the FFmpeg inside OpenCV (opencv-python-headless bundles its own), with
open and read timeouts so that a silent or dead server ends the stream instead of hanging.

Video files are read to their real end, past undecodable frames (:func:`read_frames`), each frame
under its own index. OpenCV's ``read()`` answers False for a packet its decoder rejects and at the
end alike, and a decoder with a delay (H.264's reordered frames) still owes frames after a failed
read: neither the count of reads nor ``CAP_PROP_POS_FRAMES`` names the frames after a damaged one
(measured: a truncated H.264 MP4 gave frames 46, 47 as 47, 48). The rule: until a read fails, the
n-th frame decoded is frame n; from the first failure, a frame is named by its presentation time
(``CAP_PROP_POS_MSEC``), its place among the times of the container's video packets, read without
decoding (OpenCV's FFmpeg raw mode, bounded by the file's size; an intact video never pays it).
Frames never decoded are undecodable; the end is once every packet is accounted for, or a failed
read past the packets left plus ``MAX_CONSECUTIVE_FAILURES`` (a decoder's delay). The header's
frame count (``CAP_PROP_FRAME_COUNT``) is never used. Without raw mode (a backend other than FFmpeg)
each failed read is one frame and ``MAX_CONSECUTIVE_FAILURES`` in a row is the end.

Local files (regular files only, any name): :mod:`tfpose.local_files`, re-exported here.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tfpose.local_files import SourceError, not_a_file, open_regular, opencv_path, read_image
from tfpose.paths import display_name

__all__ = [
    "Frame",
    "open_regular",
    "VideoSource",
    "SourceError",
    "is_stream_url",
    "check_frame_range",
    "DEFAULT_TIMEOUT",
    "DEFAULT_FRAME_RANGE",
    "MAX_CONSECUTIVE_FAILURES",
    "opencv_path",
    "read_image",
    "read_frames",
    "container_frames",
    "VideoFrames",
    "video_frames",
    "display_name",
    "not_a_file",
    "media_kind",
    "MEDIA_KINDS",
]

DEFAULT_TIMEOUT = 10.0  # seconds to open a stream, and to wait for its next frame
# OpenPose's frame selection by default: (frame_first, frame_step, frame_last) = every frame.
DEFAULT_FRAME_RANGE = (0, 1, -1)
# Failed reads in a row taken as a video file's end (beyond the packets left, the margin for a
# decoder's delay; without raw mode, the end itself): see above.
MAX_CONSECUTIVE_FAILURES = 64
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class Frame(NamedTuple):
    """One decoded frame. image: HxWx3 uint8 BGR (as OpenCV decodes it); index: the frame number
    in its source, counted from 0 over every frame the source delivered (skipped ones included);
    timestamp: seconds (from the source's frame rate, or the arrival time for live sources);
    fps: the source's frame rate or None when it does not say."""

    index: int  # type: ignore[assignment]  # the documented field name; shadows tuple.index
    image: np.ndarray
    timestamp: float
    fps: float | None


def is_stream_url(text: str) -> bool:
    """True for a URL with a scheme (rtsp://, http://, https://, tcp://, udp://, rtmp://, ...)."""
    return isinstance(text, str) and bool(_URL.match(text))


def check_frame_range(
    frame_first: int = DEFAULT_FRAME_RANGE[0],
    frame_step: int = DEFAULT_FRAME_RANGE[1],
    frame_last: int = DEFAULT_FRAME_RANGE[2],
) -> tuple[int, int, int]:
    """OpenPose's frame selection: frames frame_first, frame_first + frame_step, ... up to
    frame_last inclusive (-1 = to the end), 0-based. Raises ValueError naming the bad value."""
    for name, v, lo in (("frame_first", frame_first, 0), ("frame_step", frame_step, 1), ("frame_last", frame_last, -1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
    if frame_last != -1 and frame_last < frame_first:
        raise ValueError(f"frame_last: expected -1 or >= frame_first ({frame_first}), got {frame_last}")
    return int(frame_first), int(frame_step), int(frame_last)


def _packet_times(path) -> list[float | None] | None:
    """Presentation time (ms) of each video packet of ``path`` in the container's order, by raw-mode
    demuxing (no decoding); None for a packet raw mode rejects (damaged H.264) where a later one is
    read; the end: ``MAX_CONSECUTIVE_FAILURES`` failures in a row. None when there is no raw mode."""
    import cv2

    with opencv_path(path) as name:
        cap = cv2.VideoCapture(name, cv2.CAP_FFMPEG)
        try:
            if not cap.isOpened() or not cap.set(cv2.CAP_PROP_FORMAT, -1):
                return None
            times: list[float | None] = []
            failures = 0
            while failures < MAX_CONSECUTIVE_FAILURES:
                if not cap.grab():
                    failures += 1
                    continue
                times += [None] * failures + [float(cap.get(cv2.CAP_PROP_POS_MSEC))]
                failures = 0
            return times
        finally:
            cap.release()


def container_frames(path) -> int | None:
    """Frames (video packets) the container of the video file ``path`` holds, damaged ones included,
    counted by demuxing without decoding (time and memory bounded by the file's size; the header's
    count is not used). None when OpenCV's FFmpeg cannot open it or has no raw mode. Raises
    SourceError for a file that is not a regular file."""
    times = _packet_times(path)
    return None if times is None else len(times)


def _frame_times(path) -> np.ndarray | None:
    """Presentation times (ms, ascending) of the frames of ``path``, one per packet: frame i is the
    one shown at ``times[i]``. A packet of unknown time fills the first gap of over 1.5 steps (the
    median step) between known times, else goes last. Frames are the packets the file holds: a gap
    with no packet in it (frames dropped when the file was recorded, or a variable frame rate) is no
    frame, so an intact file's frames are its packets. None when times do not tell frames apart."""
    packets = _packet_times(path)
    known = sorted(t for t in (packets or ()) if t is not None)
    if packets is None or not known or len(set(known)) < len(known):
        return None
    step = float(np.median(np.diff(known))) if len(known) > 1 else 1.0
    unknown = len(packets) - len(known)
    times = known[:1]
    for t in known[1:]:
        while unknown and t - times[-1] > 1.5 * step:
            times.append(times[-1] + step)
            unknown -= 1
        times.append(t)
    return np.array(times + [times[-1] + step * (k + 1) for k in range(unknown)])


def _frame_index(times: np.ndarray, ms: float, following: int) -> int:
    """Index of the frame shown at ``ms``: the nearest of ``times`` if within half the step to its
    neighbours and not before ``following`` (the next frame in reading order), else ``following``."""
    after = int(np.searchsorted(times, ms))
    i = min((j for j in (after - 1, after) if 0 <= j < len(times)), key=lambda j: abs(times[j] - ms))
    steps = [abs(times[j] - times[i]) for j in (i - 1, i + 1) if 0 <= j < len(times)]
    return following if i < following or abs(times[i] - ms) > 0.5 * min(steps, default=np.inf) else i


def _decode_file(
    cap, path, start: int, stop: int | None, step: int, counts: dict | None = None, following: int = 0
) -> Iterator[tuple[int, np.ndarray | None]]:
    """The frames of an opened file capture with their true indices (module docstring: the rule),
    its next read being frame ``following``; counts["decoded"] counts every frame decoded, selected
    or not, counts["stopped"] says whether ``stop`` (rather than the end of the file) ended it."""
    import cv2

    counts = {"decoded": 0} if counts is None else counts
    counts["stopped"] = False
    end = np.inf if stop is None else stop
    times: np.ndarray | None = None  # the frames' times, found at the first failed read
    timed, failures = False, 0  # following: the first frame not yet yielded
    while following < end:
        if not cap.grab():
            failures += 1
            if not timed:
                times, timed = _frame_times(path), True
            if times is None:  # no times: a failed read is one frame (MJPG); MAX in a row, the end
                if failures < MAX_CONSECUTIVE_FAILURES:
                    continue
                return
            # A failed read takes at least one packet: once none is left, and a decoder's delay
            # past, the frames not yielded are undecodable.
            if following < len(times) and failures <= len(times) - following + MAX_CONSECUTIVE_FAILURES:
                continue
            last = int(min(len(times), end))
            yield from ((k, None) for k in range(following, last) if k >= start and (k - start) % step == 0)
            return
        counts["decoded"] += 1
        ms = cap.get(cv2.CAP_PROP_POS_MSEC)
        index = following + failures if times is None else _frame_index(times, ms, following)
        failures = 0
        for k in range(following, int(min(index + 1, end))):
            if k >= start and (k - start) % step == 0:
                yield k, cap.retrieve()[1] if k == index else None
        following = index + 1
    counts["stopped"] = True


def read_frames(
    path, start: int = 0, stop: int | None = None, step: int = 1, seek: bool = False
) -> Generator[tuple[int, np.ndarray | None], None, None]:
    """Frames of the local video file ``path`` (any name), read to the real end past undecodable frames.

    Yields ``(index, image)`` in order for the frames ``start, start + step, ...`` below ``stop``
    (None: to the end); index counts every frame of the file from 0 in presentation order, damaged
    ones included; image is HxWx3 uint8 BGR as OpenCV decodes it, or None when that frame could not
    be decoded (module docstring: the rule; the header's frame count is never trusted). One frame in
    memory at a time. seek: go to ``start`` by OpenCV's seek (``CAP_PROP_POS_FRAMES``) where it lands
    exactly, instead of decoding every frame before it. Raises SourceError when the file cannot be
    opened as a video or is not a regular file, ValueError for a bad start/stop/step.
    """
    import cv2

    start, step, _ = check_frame_range(start, step)
    if stop is not None and (isinstance(stop, bool) or not isinstance(stop, (int, np.integer)) or stop < 0):
        raise ValueError(f"stop: expected None or an int >= 0, got {stop!r}")
    with opencv_path(path) as name:
        cap = cv2.VideoCapture(name)
        try:
            if not cap.isOpened():
                raise SourceError(f"cannot open {display_name(path)}: not a readable video")
            landed = seek and cap.set(cv2.CAP_PROP_POS_FRAMES, start) and cap.get(cv2.CAP_PROP_POS_FRAMES) == start
            if seek and not landed:
                cap.release()
                cap = cv2.VideoCapture(name)
            stop = None if stop is None else int(stop)
            yield from _decode_file(cap, path, start, stop, step, following=start if landed else 0)
        finally:
            cap.release()


class VideoFrames(NamedTuple):
    """What a video file really holds, found by decoding: ``decoded`` frames and the indices of the
    ``undecodable`` ones (0-based, in order); ``total`` = both."""

    decoded: int
    undecodable: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.decoded + len(self.undecodable)


def video_frames(path) -> VideoFrames:
    """Decode every frame of the video file ``path`` (:func:`read_frames`) and count them: the frames
    it really holds, whatever its header says. Costs one full decode; raises as :func:`read_frames`."""
    decoded, bad = 0, []
    for index, image in read_frames(path):
        if image is None:
            bad.append(index)
        else:
            decoded += 1
    return VideoFrames(decoded, tuple(bad))


class VideoSource:
    """Frames of a video file, a camera (an int index, e.g. 0) or a stream URL.

    spec: a path, a camera index (int), or a URL (:func:`is_stream_url`).
    frame_first, frame_step, frame_last: see :func:`check_frame_range`.
    timeout: seconds to open a stream and to wait for each of its frames (streams only).

    Attributes: ``kind`` ("video", "camera" or "stream"), ``name`` (the stem used in output file
    names: the file's stem, ``camera<N>``, or ``stream``), ``live`` (camera or stream),
    ``frames_read`` (frames decoded, selected or not), ``opened``, ``end_reason`` (None while reading, then a
    sentence such as "end of video", "stream ended", "frame_last reached"), ``undecodable`` (indices
    of the selected frames of a video file that could not be decoded: they are not yielded, reading
    goes on to the real end, see :func:`read_frames`).
    Iterating opens the source (SourceError if it cannot be opened) and releases it at the end,
    also when the consumer stops early.
    """

    def __init__(
        self,
        spec,
        *,
        frame_first: int = DEFAULT_FRAME_RANGE[0],
        frame_step: int = DEFAULT_FRAME_RANGE[1],
        frame_last: int = DEFAULT_FRAME_RANGE[2],
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.first, self.step, self.last = check_frame_range(frame_first, frame_step, frame_last)
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout: expected seconds > 0, got {timeout!r}")
        self.timeout = float(timeout)
        self.spec: int | str
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            if spec < 0:
                raise ValueError(f"camera: expected an index >= 0, got {spec}")
            self.spec, self.kind, self.name = int(spec), "camera", f"camera{int(spec)}"
        elif is_stream_url(str(spec)):
            self.spec, self.kind, self.name = str(spec), "stream", "stream"
        else:
            self.spec, self.kind, self.name = str(spec), "video", Path(spec).stem
        self.live = self.kind != "video"
        self.frames_read = 0
        self.opened = False
        self.end_reason: str | None = None
        self.undecodable: list[int] = []
        self._announced: int | None = None

    def describe(self) -> str:
        return {"camera": f"camera {self.spec}", "stream": f"stream {self.spec}"}.get(self.kind, str(self.spec))

    def _open(self):
        import cv2

        if self.kind == "video":
            if not os.path.lexists(self.spec):
                raise SourceError(f"cannot open {display_name(self.spec)}: no such file")
            with opencv_path(self.spec) as name:
                cap = cv2.VideoCapture(name)
        elif self.kind == "stream":
            ms = int(self.timeout * 1000)
            cap = cv2.VideoCapture(
                self.spec, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
            )
        else:
            cap = cv2.VideoCapture(self.spec)
        if not cap.isOpened():
            cap.release()
            what = {
                "camera": "no such camera or it is busy",
                "stream": f"no answer within {self.timeout:g} s, or not a stream OpenCV's FFmpeg can read",
                "video": "not a readable video",
            }[self.kind]
            raise SourceError(f"cannot open {display_name(self.describe())}: {what}")
        return cap

    def __iter__(self) -> Iterator[Frame]:
        import cv2

        cap = self._open()
        self.opened = True
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT) if self.kind == "video" else 0
        self._announced = int(count) if count and np.isfinite(count) and count > 0 else None
        fps = cap.get(cv2.CAP_PROP_FPS)
        fps = float(fps) if fps and np.isfinite(fps) and 0 < fps < 1000 else None
        start = time.monotonic()
        try:
            if self.kind == "video":
                yield from self._file_frames(cap, fps, start)
                return
            index = -1
            while True:
                if self.last != -1 and index + 1 > self.last:
                    self.end_reason = "frame_last reached"
                    return
                ok, image = cap.read()
                if not ok:
                    self.end_reason = {"camera": "camera stopped delivering frames", "stream": "stream ended"}[
                        self.kind
                    ]
                    return
                index += 1
                self.frames_read += 1
                if index < self.first or (index - self.first) % self.step:
                    continue
                yield Frame(index, image, time.monotonic() - start, fps)
        finally:
            cap.release()

    def _file_frames(self, cap, fps, start) -> Iterator[Frame]:
        stop = None if self.last == -1 else self.last + 1
        counts = {"decoded": 0}
        for index, image in _decode_file(cap, self.spec, self.first, stop, self.step, counts):
            self.frames_read = counts["decoded"]
            if image is None:
                self.undecodable.append(index)
                continue
            yield Frame(index, image, index / fps if fps else time.monotonic() - start, fps)
        self.frames_read = counts["decoded"]
        self.end_reason = "frame_last reached" if counts["stopped"] else "end of video"

    def announced_frames(self) -> int | None:
        """The frame count a video file's container announced when opened (an estimate for some
        formats), None for live sources or when unknown."""
        return self._announced

    def frame_count(self) -> int | None:
        """Frames that will be yielded or found undecodable, for a progress bar: known for video files
        only, from the frames the container holds (:func:`container_frames`, not the header)."""
        if self.kind != "video":
            return None
        try:
            n = container_frames(self.spec)
        except OSError:
            return None
        if not n:
            return None
        last = n - 1 if self.last == -1 else min(self.last, n - 1)
        return max(0, (last - self.first) // self.step + 1) if last >= self.first else 0


# What an input file can be, by content (never by extension): the kinds media_kind() answers.
MEDIA_KINDS = ("image", "video")


def media_kind(path: Path) -> tuple[str | None, str]:
    """What a local regular file is, by content: ("image", "") when OpenCV has an image decoder for
    the file's signature, ("video", "") when OpenCV's VideoCapture opens it and decodes a frame (the
    first decodable frame decides: a damaged first frame does not make a video unreadable),
    (None, reason) otherwise, the reason a sentence for the user. Any file name works
    (:func:`opencv_path`); the caller checks first that it is a regular file (:func:`not_a_file`:
    a FIFO would block here). Raises SourceError or OSError when the file changed since."""
    import cv2

    with opencv_path(path) as name:
        if cv2.haveImageReader(name):
            return "image", ""
        cap = cv2.VideoCapture(name)
        opened = cap.isOpened()
        cap.release()
    if not opened:
        return None, "not an image or video that OpenCV can read"
    frames = read_frames(path)
    try:
        if any(image is not None for _, image in frames):
            return "video", ""
    finally:
        frames.close()
    return None, "OpenCV opens it as a video but decodes no frame (not an image or video it can read)"

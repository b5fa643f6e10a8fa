"""Frame sources: video files, cameras and network streams (RTSP, HTTP, TCP, ...), read with OpenCV.

A :class:`VideoSource` is an iterator of :class:`Frame` in order, with OpenPose's frame selection
(``--frame_first``, ``--frame_step``, ``--frame_last``). It reads until the video or stream ends
(or the last selected frame); afterwards ``end_reason`` says why it stopped. A source that cannot
be opened raises :class:`SourceError` once, naming it. No TensorFlow here.

Network streams are read by the FFmpeg inside OpenCV (opencv-python-headless bundles its own), with
open and read timeouts so that a silent or dead server ends the stream instead of hanging.

Video files are read to their real end, past undecodable frames (:func:`read_frames`). OpenCV's
``read()`` answers False both for a frame its decoder rejects and at the end of the file, and
neither moves ``CAP_PROP_POS_FRAMES`` (it counts decoded frames), so neither a failed read nor the
position tells the two apart. What does: a damaged frame's packet is consumed by the failed read
(the next read decodes the frame after it), and the container's packets can be counted without
decoding (OpenCV's FFmpeg raw mode, ``CAP_PROP_FORMAT = -1``; demuxing only, bounded by the file's
size). The rule: frame ``i`` is undecodable when its read fails while ``i`` is below the number of
video packets in the container; a failed read at or past that number is the end. The packets are
counted only when a read fails, so an intact video costs nothing extra, and the header's frame
count (``CAP_PROP_FRAME_COUNT``, an estimate for some formats and wrong in damaged files) is never
used. Where raw mode is unavailable (a backend other than FFmpeg) the end is
``MAX_CONSECUTIVE_FAILURES`` failed reads in a row.

File names that are not UTF-8 (a Latin-1 ``caf\xe9.jpg``, decoded by Python with surrogate escapes)
crash OpenCV's bindings when passed as a str. :func:`read_image` reads the bytes and decodes them
in memory; :func:`opencv_path` gives OpenCV ``/proc/self/fd/N`` of the opened file instead of such
a name (or a temporary symbolic link with an ASCII name where /proc is missing).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tfpose.paths import display_name, opencv_safe, os_error_cause

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
# Failed reads in a row taken as a video file's end when its packets cannot be counted (see above).
MAX_CONSECUTIVE_FAILURES = 64
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class SourceError(OSError):
    """A video file, camera or stream that cannot be opened."""


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


# What a non-regular file is, in words (stat tests in order).
FILE_TYPES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_a_file(path: str | os.PathLike) -> str | None:
    """Why ``path`` (str or os.PathLike) cannot be an input file or a model file, found without
    opening it (a FIFO would block, /dev/zero never ends); None for a readable regular file or a folder. Reasons: no such file or folder,
    broken symbolic link, symbolic link loop, not a regular file (what it is), permission denied."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "no such file or folder"
    except OSError as exc:
        return os_error_cause(exc)
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return "broken symbolic link (its target does not exist)"
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "symbolic link loop"
            return os_error_cause(exc)
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        what = next((w for test, w in FILE_TYPES if test(st.st_mode)), "not a file")
        return f"not a regular file ({what})"
    if not os.access(path, os.R_OK):
        return "cannot read it (permission denied)"
    return None


@contextlib.contextmanager
def opencv_path(path) -> Iterator[str]:
    """A str naming the local regular file ``path`` that OpenCV's bindings can take (for
    ``cv2.VideoCapture``, ``cv2.haveImageReader``), valid inside the ``with`` block.

    A UTF-8 name is given as it is. Any other name (bytes, or a str with the surrogate escapes that
    Python uses for a name that is not UTF-8) would crash OpenCV's bindings (SIGSEGV), so the file is
    opened (read-only, non-blocking) and ``/proc/self/fd/N`` is given instead; where /proc is missing,
    a symbolic link with an ASCII name in a temporary folder. Raises SourceError when ``path`` is not
    a regular file (a FIFO, a device: never opened for reading) and OSError when it cannot be opened.
    """
    name = os.fsdecode(path)
    if not stat.S_ISREG(os.stat(name).st_mode):
        raise SourceError(f"{display_name(name)}: not a regular file")
    if opencv_safe(name):
        yield name
        return
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        proc = f"/proc/self/fd/{fd}"
        if os.path.exists(proc):
            yield proc
            return
        with tempfile.TemporaryDirectory(prefix="tfpose-") as tmp:
            link = os.path.join(tmp, "input" + Path(name.encode("ascii", "replace").decode()).suffix)
            os.symlink(os.path.abspath(name), link)
            yield link
    finally:
        os.close(fd)


def read_image(path, flags: int | None = None) -> np.ndarray | None:
    """Decode the image file ``path`` (any name, UTF-8 or not) with OpenCV from its bytes in memory.

    flags: ``cv2.imread`` flags (default ``cv2.IMREAD_COLOR``: HxWx3 uint8 BGR, gray converted, alpha
    dropped, as OpenPose reads images). Returns the image, or None when OpenCV cannot decode the
    bytes. Raises SourceError for anything but a regular file (never opened: a FIFO would block),
    OSError when the file cannot be read.
    """
    import cv2

    flags = cv2.IMREAD_COLOR if flags is None else flags
    with open(os.fsdecode(path), "rb", opener=open_regular) as f:
        data = np.frombuffer(f.read(), np.uint8)
    if data.size == 0:
        return None
    img = cv2.imdecode(data, flags)
    return None if img is None or img.size == 0 else img


def open_regular(name: str | bytes | os.PathLike, flags: int) -> int:
    """An ``opener`` for :func:`open` that opens only regular files: ``open(path, "rb",
    opener=open_regular)``. Returns the file descriptor (blocking mode). Raises SourceError
    "<name>: not a regular file" for a FIFO, device, socket or directory, and OSError where the
    open itself fails. The open is non-blocking so that a FIFO put in place after an earlier check
    cannot block it; the type is then checked on the open descriptor (no race)."""
    fd = os.open(name, flags | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SourceError(f"{display_name(name)}: not a regular file")
    os.set_blocking(fd, True)
    return fd


def _packet_times(path) -> list[float | None] | None:
    """Presentation time (ms, ``CAP_PROP_POS_MSEC``) of each video packet of the file ``path`` in
    the container's order, found by demuxing without decoding (OpenCV's FFmpeg raw mode); None for
    a packet the raw mode rejects (a damaged H.264 packet) when a later one is read. The end: raw
    mode's failures are cheap, so ``MAX_CONSECUTIVE_FAILURES`` of them in a row. None when OpenCV's
    FFmpeg cannot open the file or has no raw mode. Raises SourceError for a special file."""
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
    """Frames (video packets) the container of the video file ``path`` holds, counted by demuxing
    without decoding (:func:`_packet_times`): damaged frames are counted, the header's frame count
    is not used. Time and memory are bounded by the file's size (no decoding). Returns None when
    OpenCV's FFmpeg cannot open the file or offers no raw mode. Raises SourceError for a file that
    is not a regular file."""
    times = _packet_times(path)
    return None if times is None else len(times)


def _frame_times(path) -> list[float] | None:
    """Presentation times (ms, ascending) of the frames of the video file ``path``, one per packet
    (:func:`_packet_times`): frame i is the one shown at ``times[i]``. A packet of unknown time fills
    the first gap of more than 1.5 steps (the median step) between known times, else goes after the
    last. None when the packets cannot be read or their times do not tell frames apart."""
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
    return times + [times[-1] + step * (k + 1) for k in range(unknown)]


def _frame_index(times: list[float], ms: float, following: int) -> int:
    """Index of the frame shown at ``ms``: the nearest of ``times`` if within half the step to its
    neighbours and not before ``following`` (the next frame in reading order), else ``following``."""
    after = int(np.searchsorted(times, ms))
    i = min((j for j in (after - 1, after) if 0 <= j < len(times)), key=lambda j: abs(times[j] - ms))
    steps = [abs(times[j] - times[i]) for j in (i - 1, i + 1) if 0 <= j < len(times)]
    return following if i < following or abs(times[i] - ms) > 0.5 * min(steps, default=np.inf) else i


def _decode_file(
    cap, path, start: int, stop: int | None, step: int, counts: dict | None = None
) -> Iterator[tuple[int, np.ndarray | None]]:
    """The frames of an opened file capture with their true indices (module docstring: the rule);
    counts["decoded"] counts every frame decoded, selected or not, counts["stopped"] says whether
    ``stop`` (rather than the end of the file) ended the reading."""
    import cv2

    counts = {"decoded": 0} if counts is None else counts
    counts["stopped"] = False
    end = np.inf if stop is None else stop
    times: list[float] | None = None  # the frames' times, found at the first failed read
    timed, failures, following = False, 0, 0  # following: the first frame not yet yielded
    while following < end:
        if not cap.grab():
            failures += 1
            if not timed:
                times, timed = _frame_times(path), True
            if times is None:  # no times: a failed read is one frame (MJPG), MAX in a row the end
                if failures < MAX_CONSECUTIVE_FAILURES:
                    continue
                return
            # A failed read takes at least one packet: once none is left, and a decoder's delay
            # past, the frames not yielded are undecodable.
            if following < len(times) and failures <= len(times) - following + MAX_CONSECUTIVE_FAILURES:
                continue
            yield from ((k, None) for k in range(following, int(min(len(times), end))) if _chosen(k, start, step))
            return
        counts["decoded"] += 1
        ms = cap.get(cv2.CAP_PROP_POS_MSEC)
        index = following + failures if times is None else _frame_index(times, ms, following)
        failures = 0
        yield from ((k, None) for k in range(following, int(min(index, end))) if _chosen(k, start, step))
        if index < end and _chosen(index, start, step):
            ok, image = cap.retrieve()
            yield index, image if ok else None
        following = index + 1
    counts["stopped"] = True


def _chosen(index: int, start: int, step: int) -> bool:
    return index >= start and (index - start) % step == 0


def read_frames(
    path, start: int = 0, stop: int | None = None, step: int = 1
) -> Generator[tuple[int, np.ndarray | None], None, None]:
    """Frames of the local video file ``path`` (any name), read to the real end past undecodable frames.

    Yields ``(index, image)`` in order for the frames ``start, start + step, ...`` below ``stop``
    (None: to the end); index counts every frame of the file from 0, damaged ones included; image is
    HxWx3 uint8 BGR as OpenCV decodes it, or None when that frame could not be decoded. How the end
    is told from a damaged frame: see the module docstring (the header's frame count is never
    trusted: a header claiming 2**31 - 1 frames for a 10-frame file costs nothing). One frame in
    memory at a time. Raises SourceError when the file cannot be opened as a video or is not a
    regular file, ValueError for a bad start/stop/step.
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
            yield from _decode_file(cap, path, start, None if stop is None else int(stop), step)
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

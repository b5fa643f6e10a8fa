"""Frame sources: video files, cameras and network streams (RTSP, HTTP, TCP, ...), read with OpenCV.

A :class:`VideoSource` is an iterator of :class:`Frame` in order, with OpenPose's frame selection
(``--frame_first``, ``--frame_step``, ``--frame_last``). It reads until the video or stream ends
(or the last selected frame); afterwards ``end_reason`` says why it stopped. A source that cannot
be opened raises :class:`SourceError` once, naming it. No TensorFlow here.

Network streams are read by the FFmpeg inside OpenCV (opencv-python-headless bundles its own), with
open and read timeouts so that a silent or dead server ends the stream instead of hanging.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

__all__ = ["Frame", "VideoSource", "SourceError", "is_stream_url", "check_frame_range", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 10.0  # seconds to open a stream, and to wait for its next frame
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class SourceError(OSError):
    """A video file, camera or stream that cannot be opened."""


class Frame(NamedTuple):
    """One decoded frame. image: HxWx3 uint8 BGR (as OpenCV decodes it); index: the frame number
    in its source, counted from 0 over every frame the source delivered (skipped ones included);
    timestamp: seconds (from the source's frame rate, or the arrival time for live sources);
    fps: the source's frame rate or None when it does not say."""

    index: int
    image: np.ndarray
    timestamp: float
    fps: float | None


def is_stream_url(text: str) -> bool:
    """True for a URL with a scheme (rtsp://, http://, https://, tcp://, udp://, rtmp://, ...)."""
    return isinstance(text, str) and bool(_URL.match(text))


def check_frame_range(frame_first: int = 0, frame_step: int = 1, frame_last: int = -1) -> tuple[int, int, int]:
    """OpenPose's frame selection: frames frame_first, frame_first + frame_step, ... up to
    frame_last inclusive (-1 = to the end), 0-based. Raises ValueError naming the bad value."""
    for name, v, lo in (("frame_first", frame_first, 0), ("frame_step", frame_step, 1), ("frame_last", frame_last, -1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
    if frame_last != -1 and frame_last < frame_first:
        raise ValueError(f"frame_last: expected -1 or >= frame_first ({frame_first}), got {frame_last}")
    return int(frame_first), int(frame_step), int(frame_last)


class VideoSource:
    """Frames of a video file, a camera (an int index, e.g. 0) or a stream URL.

    spec: a path, a camera index (int), or a URL (:func:`is_stream_url`).
    frame_first, frame_step, frame_last: see :func:`check_frame_range`.
    timeout: seconds to open a stream and to wait for each of its frames (streams only).

    Attributes: ``kind`` ("video", "camera" or "stream"), ``name`` (the stem used in output file
    names: the file's stem, ``camera<N>``, or ``stream``), ``live`` (camera or stream),
    ``frames_read`` (frames decoded, selected or not), ``opened``, ``end_reason`` (None while reading, then a
    sentence such as "end of video", "stream ended", "frame_last reached").
    Iterating opens the source (SourceError if it cannot be opened) and releases it at the end,
    also when the consumer stops early.
    """

    def __init__(
        self, spec, *, frame_first: int = 0, frame_step: int = 1, frame_last: int = -1, timeout: float = DEFAULT_TIMEOUT
    ):
        self.first, self.step, self.last = check_frame_range(frame_first, frame_step, frame_last)
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout: expected seconds > 0, got {timeout!r}")
        self.timeout = float(timeout)
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
        self._announced = None

    def describe(self) -> str:
        return {"camera": f"camera {self.spec}", "stream": f"stream {self.spec}"}.get(self.kind, str(self.spec))

    def _open(self):
        import cv2

        if self.kind == "stream":
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
            if self.kind == "video" and not Path(self.spec).exists():
                what = "no such file"
            raise SourceError(f"cannot open {self.describe()}: {what}")
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
        index = -1
        try:
            while True:
                if self.last != -1 and index + 1 > self.last:
                    self.end_reason = "frame_last reached"
                    return
                ok, image = cap.read()
                if not ok:
                    self.end_reason = {"camera": "camera stopped delivering frames", "stream": "stream ended"}.get(
                        self.kind, "end of video"
                    )
                    return
                index += 1
                self.frames_read += 1
                if index < self.first or (index - self.first) % self.step:
                    continue
                if self.live or fps is None:
                    stamp = time.monotonic() - start
                else:
                    stamp = index / fps
                yield Frame(index, image, stamp, fps)
        finally:
            cap.release()

    def announced_frames(self) -> int | None:
        """The frame count a video file's container announced when opened (an estimate for some
        formats), None for live sources or when unknown."""
        return self._announced

    def frame_count(self) -> int | None:
        """Frames that will be yielded, for a progress bar: known for video files only."""
        if self.kind != "video":
            return None
        import cv2

        cap = cv2.VideoCapture(self.spec)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
        cap.release()
        if n <= 0:
            return None
        last = n - 1 if self.last == -1 else min(self.last, n - 1)
        return max(0, (last - self.first) // self.step + 1) if last >= self.first else 0

"""Every file tfpose writes appears under its final name only when complete, and every failure names
the file and its cause. No TensorFlow here.

* :func:`atomic_path` / :func:`write_bytes` / :func:`write_text`: write to a temporary name in the
  same folder (``.<name>.tfpose-tmp-<pid>-<random><suffix>``: hidden, and on the same file system so
  that the rename is atomic), then ``os.replace`` it onto the final name; a failed or interrupted
  write removes the temporary file, so nothing truncated is left under any name.
* :class:`OutputError`: an OSError whose message is ``cannot write <file>: <cause>``, the cause in
  words (``disk full``, ``file too large``, ...), see :func:`os_error_cause`.
* :class:`VideoOutput`: OpenCV's VideoWriter behind the same rule, with frames of another size
  letterboxed into the first frame's size, and a check at close that the file holds every frame
  written (OpenCV's writer reports no write error: a disk that fills mid-video would otherwise leave
  a short video without a word).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tfpose.paths import display_name, opencv_safe, os_error_cause

if TYPE_CHECKING:
    import cv2

__all__ = [
    "OutputError",
    "os_error_cause",
    "temporary_name",
    "atomic_path",
    "write_bytes",
    "write_text",
    "write_image",
    "write_npy",
    "letterbox",
    "VideoOutput",
]


class OutputError(OSError):
    """A file tfpose could not write: ``path`` (the final name) and ``cause`` (in words)."""

    def __init__(self, path, cause: str, code: int | None = None):
        super().__init__(code, f"cannot write {display_name(path)}: {cause}")
        self.path, self.cause = path, cause

    def __str__(self) -> str:
        return str(self.strerror)


def temporary_name(path) -> Path:
    """A hidden, unused name beside ``path`` with the same suffix (so OpenCV and numpy pick the same
    format): ``.<name>.tfpose-tmp-<pid>-<8 hex><suffix>`` (``.tfpose-tmp-<pid>-<8 hex><suffix>``
    when the name is not UTF-8)."""
    path = Path(path)
    tag = f"tfpose-tmp-{os.getpid()}-{secrets.token_hex(4)}"
    if not opencv_safe(path.name):  # OpenCV may be handed this name: keep it UTF-8
        return path.with_name(f".{tag}{path.suffix.encode('ascii', 'replace').decode().replace('?', '_')}")
    return path.with_name(f".{path.name}.{tag}{path.suffix}")


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yields a temporary path beside ``path`` to write to; when the block ends without an exception
    it is renamed onto ``path`` (``os.replace``), otherwise removed. An OSError (in the block or the
    rename) becomes :class:`OutputError` naming ``path`` and the cause; the folder is created first."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OutputError:
        _remove(tmp)
        raise
    except OSError as exc:
        _remove(tmp)
        raise OutputError(path, os_error_cause(exc), exc.errno) from exc
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def write_bytes(path, data) -> Path:
    """Write ``data`` (bytes-like) to ``path`` atomically (:func:`atomic_path`); returns ``path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically; returns ``path``."""
    return write_bytes(path, text.encode("utf-8"))


def encodes_image(fmt: str) -> bool:
    """Whether OpenCV encodes a drawing (HxWx3 uint8 BGR) in the image format ``fmt`` (an extension,
    no dot), found by encoding a small one in memory: cv2.haveImageWriter says yes for formats that
    refuse 3-channel images at the first write (pbm, pgm) and raises cv2.error for some (exr)."""
    import cv2

    try:
        return bool(cv2.imencode(f".{fmt}", np.full((8, 8, 3), 128, np.uint8))[0])
    except cv2.error:
        return False


def write_image(path, image) -> Path:
    """Encode ``image`` (HxW[x3|4] uint8, BGR) with OpenCV in the format of ``path``'s extension and
    write it atomically: any file name works (OpenCV never sees it). OutputError when OpenCV cannot
    encode that format or the write fails."""
    import cv2

    path = Path(path)
    try:
        ok, data = cv2.imencode(path.suffix or ".png", np.ascontiguousarray(image))
    except cv2.error:  # no encoder for that extension
        ok = False
    if not ok:
        raise OutputError(path, f"OpenCV cannot encode a {path.suffix or 'suffix-less'} image")
    return write_bytes(path, data.tobytes())


def write_npy(path, array) -> Path:
    """``np.save`` of ``array`` to ``path``, atomically (the whole file is built in memory first, so a
    write failure is an ordinary OSError, not numpy's short-write message)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return write_bytes(path, buf.getbuffer())


def letterbox(image: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """``image`` HxWx3 uint8 scaled to fit (W, H) = ``size_wh`` with its aspect ratio kept, centred on
    black (letterbox or pillarbox); the same array when it already has that size. Scaling uses
    INTER_AREA when shrinking, INTER_LINEAR when enlarging."""
    import cv2

    w, h = int(size_wh[0]), int(size_wh[1])
    ih, iw = image.shape[:2]
    if (iw, ih) == (w, h):
        return image
    s = min(w / iw, h / ih)
    nw, nh = max(1, min(w, round(iw * s))), max(1, min(h, round(ih * s)))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.zeros((h, w) + image.shape[2:], image.dtype)
    x, y = (w - nw) // 2, (h - nh) // 2
    out[y : y + nh, x : x + nw] = resized
    return out


class VideoOutput:
    """One video file written with OpenCV's VideoWriter, appearing under ``path`` only when complete.

    path: the final name (any name: OpenCV writes a hidden ASCII temporary name in the same folder,
    reached through ``/proc/self/fd`` of the folder when the folder's own name is not UTF-8);
    fourcc: 4-character codec; fps: frames per second (> 0). The first frame sets the size; frames
    of another size are letterboxed (:func:`letterbox`), never distorted. :meth:`close` checks that
    the file holds every frame written (:func:`tfpose.sources.container_frames`) and renames it;
    OutputError otherwise, or when the writer cannot be opened. :meth:`abort` removes it.
    """

    def __init__(self, path, fourcc: str, fps: float):
        if not (isinstance(fps, (int, float)) and np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps: expected frames per second > 0, got {fps!r}")
        self.path, self.fourcc, self.fps = Path(path), fourcc, float(fps)
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None
        self._tmp = temporary_name(self.path)
        self._dir_fd: int | None = None

    def _open(self, size: tuple[int, int]) -> cv2.VideoWriter:
        import cv2

        if encodes_image(self.path.suffix.lstrip(".")):
            # OpenCV would write an image sequence, numbered from the digits in the temporary name:
            # one frame kept, stray files beside it
            raise OutputError(self.path, f"{self.path.suffix} is an image format; expected a video container")
        name = str(self._tmp)
        if not opencv_safe(name):
            self._dir_fd = os.open(self._tmp.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            name = f"/proc/self/fd/{self._dir_fd}/{self._tmp.name}"
        self._writer = writer = cv2.VideoWriter(name, cv2.VideoWriter.fourcc(*self.fourcc), self.fps, size)
        if not writer.isOpened():
            self.abort()
            raise OutputError(self.path, f"OpenCV's VideoWriter cannot open it (codec {self.fourcc})")
        self.size = size
        return writer

    def write(self, image: np.ndarray) -> None:
        """Append one HxWx3 uint8 BGR frame."""
        writer = self._writer
        if writer is None:
            writer = self._open((image.shape[1], image.shape[0]))
        assert self.size is not None  # set with the writer
        writer.write(letterbox(image, self.size))
        self.frames += 1

    def close(self) -> int:
        """Finish the file (its index written, so it plays), check it and rename it onto ``path``.
        Returns the frames written (0: nothing was written and no file is made)."""
        from tfpose.sources import container_frames

        if self._writer is None:
            return 0
        self._writer.release()
        self._writer = None
        try:
            held = container_frames(self._tmp) if self._tmp.is_file() else None
            cut = _cut_short(self._tmp) if held == self.frames else None
            if cut is not None:
                raise OutputError(self.path, f"the video was cut short while writing ({cut})")
            if held != self.frames:
                cause = _short_video_cause(self._tmp)
                raise OutputError(
                    self.path,
                    f"the video holds {held or 0} of the {self.frames} frames written"
                    + (f" ({cause})" if cause else ""),
                )
            try:
                os.replace(self._tmp, self.path)
            except OSError as exc:
                raise OutputError(self.path, os_error_cause(exc), exc.errno) from exc
        except BaseException:
            self.abort()
            raise
        finally:
            self._close_dir()
        return self.frames

    def abort(self) -> None:
        """Stop writing and remove the temporary file (nothing appears under ``path``)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        _remove(self._tmp)
        self._close_dir()

    def _close_dir(self) -> None:
        if self._dir_fd is not None:
            os.close(self._dir_fd)
            self._dir_fd = None


def _cut_short(path: Path) -> str | None:
    """Why the closed video file ``path`` is known to be truncated, else None. OpenCV's writer ignores
    failed writes, and a cut inside the last frame or the index still demuxes to every packet, so the
    packet count alone misses it. Two exact signs: the file's size reached the process's file size
    limit (RLIMIT_FSIZE, ``ulimit -f``: nothing past it was written), or an AVI's RIFF header (patched
    at release with the size the writer meant to write) says more bytes than the file holds."""
    import resource

    try:
        size = os.stat(path).st_size
        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if soft != resource.RLIM_INFINITY and size >= soft:
            return "file too large"
        with open(path, "rb") as f:
            head = f.read(12)
    except (OSError, ValueError) as exc:
        return os_error_cause(exc)
    # RIFF: b"RIFF", little-endian uint32 size of what follows, b"AVI " (OpenDML files > 1 GiB add
    # further RIFF AVIX chunks after the first, so only a first chunk longer than the file is a cut)
    if len(head) == 12 and head[:4] == b"RIFF" and head[8:] == b"AVI ":
        declared = int.from_bytes(head[4:8], "little") + 8
        if declared > size:
            cause = _short_video_cause(path)
            return f"{size} of {declared} bytes written" + (f", {cause}" if cause else "")
    return None


def _short_video_cause(path: Path) -> str:
    # OpenCV's video writer drops frames without saying why: name the likely cause when it shows.
    import resource

    try:
        size = os.stat(path).st_size
        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if soft != resource.RLIM_INFINITY and size >= soft:
            return "file too large"
        if os.statvfs(path.parent).f_bavail == 0:
            return "disk full"
    except (OSError, ValueError):
        pass
    return ""

"""Local input files: what a path is without opening it (:func:`not_a_file`: a FIFO would block),
opening regular files only (:func:`open_regular`), and names OpenCV's bindings can take.

File names that are not UTF-8 (a Latin-1 ``caf\xe9.jpg``, decoded by Python with surrogate escapes)
crash OpenCV's bindings when passed as a str. :func:`read_image` reads the bytes and decodes them
in memory; :func:`opencv_path` gives OpenCV ``/proc/self/fd/N`` of the opened file instead of such
a name (or a temporary symbolic link with an ASCII name where /proc is missing).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tfpose.paths import display_name, opencv_safe, os_error_cause

__all__ = ["SourceError", "FILE_TYPES", "not_a_file", "opencv_path", "read_image", "open_regular"]


class SourceError(OSError):
    """A video file, camera or stream that cannot be opened."""


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

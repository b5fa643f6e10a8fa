"""How paths and OS errors are shown to the user, one rule for every message: a file name that is not
UTF-8 printed with ``\\xNN`` escapes (:func:`display_name`), an OSError's cause in words
(:func:`os_error_cause`), and whether OpenCV's bindings can take a name as it is
(:func:`opencv_safe`). No NumPy, no OpenCV, no TensorFlow; :mod:`tfpose.sources` and
:mod:`tfpose.outputs` both build on it (and re-export what they always offered).
"""

from __future__ import annotations

import errno
import os

__all__ = ["display_name", "opencv_safe", "os_error_cause"]


def display_name(path) -> str:
    """A path as text that can always be printed: a file name that is not UTF-8 shows its odd bytes
    as ``\\xNN`` (``caf\\xe9.jpg``) instead of the lone surrogates Python decodes it to, which
    stdout/stderr (and JSON readers) refuse."""
    raw = os.fsencode(path) if isinstance(path, (str, os.PathLike)) else bytes(path)
    return raw.decode("utf-8", "backslashreplace")


def opencv_safe(name: str) -> bool:
    """Whether OpenCV's bindings can take the str ``name`` as it is: False for a name with lone
    surrogates (a file name that is not UTF-8 on disk), which crashes them."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: a name that is not UTF-8 on disk
        return False
    return True


_CAUSES = {
    errno.ENOSPC: "disk full",
    errno.EFBIG: "file too large",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "its folder was removed",
    errno.EIO: "input/output error",
}


def os_error_cause(exc: BaseException) -> str:
    """The cause of a write failure in words: ``disk full`` (ENOSPC), ``file too large`` (EFBIG, e.g.
    ``ulimit -f``), ``disk quota exceeded``, ``read-only file system``, ``permission denied``, else the
    system's own text (strerror) or the exception's message."""
    code = getattr(exc, "errno", None)
    if code in _CAUSES:
        return _CAUSES[code]
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__

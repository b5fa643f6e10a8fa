"""Output paths checked before any work, for ``tfpose estimate`` and ``tfpose beam``: a folder is
created and proven writable, a file name has no folder in the way. A problem is a :class:`Stop`
(one message, exit status 2); folders made for a run that stops before any work are removed again.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["Stop", "check_folder", "check_file", "remove_created", "missing_folders"]


class Stop(Exception):
    """A problem that stops the run before any work (exit status 2)."""


def check_folder(path: Path, flag: str, created: list | None = None) -> None:
    """Create the folder ``path`` (named by option ``flag`` in messages) if needed and prove it takes
    a new file (a temporary file is created and removed). Raises :class:`Stop` when a file is in the
    way or the folder cannot be written. The folders made are appended to ``created`` (parents
    first), for :func:`remove_created` when the run stops before any work."""
    if path.exists() and not path.is_dir():
        raise Stop(f"{flag} {path}: expected a folder, but a file is in the way")
    try:
        missing = [d for d in (path, *path.parents) if not os.path.lexists(d)]
        path.mkdir(parents=True, exist_ok=True)
        if created is not None:
            created.extend(reversed(missing))
        with tempfile.NamedTemporaryFile(dir=path, prefix=".tfpose-check-"):
            pass
    except OSError as exc:
        raise Stop(f"{flag} {path}: cannot write to this folder ({exc.strerror or exc})") from None


def check_file(path: Path, flag: str, created: list | None = None) -> None:
    """A file name ``path`` for option ``flag``: no folder in the way, a name, and its folder checked
    by :func:`check_folder` (created when missing). Raises :class:`Stop` otherwise."""
    if path.is_dir():
        raise Stop(f"{flag} {path}: expected a file name, but a folder is in the way")
    if not path.name:
        raise Stop(f"{flag}: expected a file name, got {str(path)!r}")
    check_folder(path.parent, flag, created)


def remove_created(created: list) -> None:
    """Remove the folders :func:`check_folder` made for a run that stopped before any work (deepest
    first; a folder something else has put files in since is left). Empties ``created``."""
    for d in reversed(created):
        with contextlib.suppress(OSError):
            d.rmdir()
    created.clear()


def missing_folders(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet, outermost first."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing[::-1]

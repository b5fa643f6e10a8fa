"""The inputs of ``tfpose estimate``: command-line arguments -> :class:`Source` in processing order,
each file recognised by content (:func:`tfpose.sources.media_kind`), each file read once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tfpose.sources import media_kind, not_a_file

__all__ = ["Source", "collect"]


class Source:
    """One unit of input: an image file, a video file, a stream URL or a camera index. name: the path
    its output names derive from (``stream``, ``camera<N>`` for live sources); shown: its name as
    printable text (:func:`tfpose.sources.display_name`); expected_frames: the frames it holds
    (1 for an image, the container's frames in the selection for a video, None when unknown)."""

    def __init__(self, path, kind: str):
        from tfpose.sources import display_name

        self.path, self.kind = path, kind
        self.live = kind in ("stream", "camera")
        self.name = Path({"stream": "stream", "camera": f"camera{path}"}.get(kind, str(path)))
        self.stem = self.name.stem  # the output stem, set by tfpose.cli.plan.plan_outputs
        self.shown = display_name(path) if kind in ("image", "video") else str(path)
        self.expected_frames = 1 if kind == "image" else None
        self.fps = None  # a video's frame rate, when the file says


def collect(inputs: Sequence[str], log: Callable[[str], None], camera: int | None = None) -> tuple[list[Source], int]:
    """Sources in processing order (command-line order, a folder's files sorted by name, then the
    camera) and the number of inputs skipped (each named on ``log`` with the reason). Nothing but
    regular files is opened; a file reached twice (two arguments, a folder and a path in it, a link
    and its target: :func:`tfpose.io.distinct_inputs`) is read once, with a note. Raises nothing for
    a bad input: each is a line on ``log``."""
    from tfpose import io as _io
    from tfpose.sources import SourceError, display_name, is_stream_url

    entries: list[tuple[str, Any]] = []  # ("stream", url) or ("file", Path), in processing order
    bad = set()  # what was skipped, by identity: a special file reached twice is one skipped input,
    # as a readable file reached twice is one input read

    def skip(path, why):
        key = _io.input_identity(path)
        key = os.path.abspath(key) if isinstance(key, str) else key
        if key not in bad:
            log(f"tfpose: skipping {display_name(path)}: {why}")
            bad.add(key)

    for name in inputs:
        if is_stream_url(name):
            entries.append(("stream", name))
            continue
        path = Path(name)
        why = not_a_file(path)
        if why is not None:
            skip(path, why)
        elif path.is_dir():
            found = sorted((e for e in path.iterdir() if not e.name.startswith(".")), key=lambda e: e.name)
            if not found:
                skip(path, "an empty folder")
            for e in found:
                why = not_a_file(e)
                if why is None and e.is_dir():
                    why = "a folder inside a folder (tfpose reads the files directly in a folder; give the subfolder itself to read it)"
                if why is not None:
                    skip(e, why)
                else:
                    entries.append(("file", e))
        else:
            entries.append(("file", path))
    kept, repeated = _io.distinct_inputs([p for kind, p in entries if kind == "file"])
    for again, first in repeated:
        same = (
            "given twice" if display_name(again) == display_name(first) else f"the same file as {display_name(first)}"
        )
        log(f"tfpose: note: {display_name(again)} is {same}: read once")
    kept_ids = {id(p) for p in kept}
    sources = []
    for kind, p in entries:
        if kind == "stream":
            sources.append(Source(p, "stream"))
            continue
        if id(p) not in kept_ids:
            continue
        try:
            media, reason = media_kind(p)
        except (SourceError, OSError) as exc:  # changed since it was looked at
            media, reason = None, str(exc)
        if media is None:
            skip(p, reason)
        else:
            sources.append(Source(p, media))
    if camera is not None:
        sources.append(Source(camera, "camera"))
    return sources, len(bad)

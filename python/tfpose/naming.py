"""Output names and input identity: the one rule for the names of per-image/per-frame files
(OpenPose's ``<stem>_keypoints.json``, made distinct when several inputs would share a name) and the
one rule for an input counted twice, used by every reader and writer (CLI, Beam). Pure Python: no
NumPy, no TensorFlow. Re-exported by :mod:`tfpose.io`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["FRAME_DIGITS", "frame_stem", "output_file_name", "output_stems", "input_identity", "distinct_inputs"]

# ---------------------------------------------------------------------------------------------
# Output names: the one rule, used by every writer of per-image/per-frame files (CLI, Beam).

FRAME_DIGITS = 12  # OpenPose's frame-number width in video output names
_FRAME_SUFFIX = re.compile(rf"^(.*)_\d{{{FRAME_DIGITS}}}$", re.S)


def frame_stem(stem: str, frame: int | None) -> str:
    """``stem`` for an image (frame None), ``<stem>_<frame as 12 digits>`` for frame ``frame`` of a
    video (OpenPose's naming). Raises ValueError for a negative frame."""
    if frame is None:
        return stem
    if isinstance(frame, bool) or int(frame) != frame or frame < 0:
        raise ValueError(f"frame: expected a non-negative index, got {frame!r}")
    return f"{stem}_{int(frame):0{FRAME_DIGITS}d}"


def output_file_name(stem: str, frame: int | None = None, kind: str = "keypoints", ext: str = "json") -> str:
    """``<stem>[_<frame, 12 digits>]_<kind>.<ext>``: OpenPose's file names, e.g.
    ``x_keypoints.json``, ``x_rendered.png``, ``video_000000000003_pose_heatmaps.png``.
    stem: from :func:`output_stems` (or a file stem for a single input)."""
    return f"{frame_stem(stem, frame)}_{kind}.{ext}"


def _clashing_inputs(stems: list[str], videos: list[bool]) -> set[int]:
    """Rule 2 of :func:`output_stems`: the indices of the inputs whose plain stems clash."""
    by_stem: dict[str, list[int]] = {}
    for i, s in enumerate(stems):
        by_stem.setdefault(s.casefold(), []).append(i)
    video_stems = {s.casefold() for s, v in zip(stems, videos, strict=True) if v}
    clashing: set[int] = set()
    framed_video_stems = set()  # casefolded video stems that an image's name repeats as a frame name
    for i, s in enumerate(stems):
        if len(by_stem[s.casefold()]) > 1:
            clashing.add(i)
        m = None if videos[i] else _FRAME_SUFFIX.match(s)
        if m is not None and m.group(1).casefold() in video_stems:
            clashing.add(i)
            framed_video_stems.add(m.group(1).casefold())
    # Once per stem, not once per image: many "x_<12 digits>" images of one video stem stay linear.
    for key in framed_video_stems:
        clashing.update(j for j in by_stem[key] if videos[j])
    return clashing


def output_stems(inputs: Sequence, is_video: Sequence[bool] | None = None) -> list[str]:
    """One output stem per input, in input order, distinct for every set of inputs.

    inputs: paths (str or os.PathLike) in processing order (the CLI: command-line order, the files
        of a folder sorted by name); is_video: one bool per input (default all False: images).

    Rule (documented in the README):

    1. The stem is the file name without its last extension, as in OpenPose (``photos/x.jpg`` -> ``x``).
       A video's frames are named ``<stem>_<frame as 12 digits>``.
    2. Inputs clash when their stems are equal ignoring case (case-insensitive file systems would
       merge them), or when an image's stem is ``<a video's stem>_<12 digits>`` (it would be named
       like that video's frame). Every clashing input gets its extension added: ``x.jpg`` ->
       ``x_jpg``, ``x.png`` -> ``x_png``, ``video.avi`` -> ``video_avi``.
    3. Inputs whose names are still not distinct (``a/x.jpg`` and ``b/x.jpg``) keep the first
       name for the first of them in input order and get ``_2``, ``_3``, ... in input order after
       it, skipping any name another input already has.

    Inputs that clash with nothing keep OpenPose's own names, so single inputs and ordinary folders
    are named exactly as OpenPose names them. Returns a list of str (no folder, no extension).
    """
    paths = [Path(p) for p in inputs]
    videos = [False] * len(paths) if is_video is None else [bool(v) for v in is_video]
    if len(videos) != len(paths):
        raise ValueError(f"is_video: expected {len(paths)} values (one per input), got {len(videos)}")
    stems = [p.stem for p in paths]
    clashing = _clashing_inputs(stems, videos)
    first = [s + "_" + paths[i].suffix[1:] if i in clashing and paths[i].suffix[1:] else s for i, s in enumerate(stems)]
    # rule 3: number what is still equal, never taking a name that another input owns
    owned: dict[str, int] = {}
    for i, s in enumerate(first):
        owned.setdefault(s.casefold(), i)
    taken_images: set[str] = set()  # casefolded names given to images
    taken_videos: set[str] = set()  # casefolded names given to videos
    image_prefixes: set[str] = set()  # casefolded X of image names "X_<12 digits>"

    def free(name: str, video: bool, i: int) -> bool:
        key = name.casefold()
        if key in taken_images or key in taken_videos or owned.get(key, i) != i:
            return False
        if video:
            return key not in image_prefixes
        m = _FRAME_SUFFIX.match(key)
        return m is None or m.group(1) not in taken_videos

    # Where the search for "<name>_<n>" stopped, per (casefolded name, kind): every smaller n >= 2
    # was taken then and stays taken (the sets above only grow, and "<name>_<n>" is never the first
    # name of an input whose first name is <name>), so the next input of that name starts there and
    # k inputs of one name cost O(k), not O(k^2).
    next_n: dict[tuple[str, bool], int] = {}
    result = []
    for i, name in enumerate(first):
        candidate = name
        if not free(candidate, videos[i], i):
            memo = (name.casefold(), videos[i])
            n = next_n.get(memo, 2)
            while not free(f"{name}_{n}", videos[i], i):
                n += 1
            next_n[memo] = n
            candidate = f"{name}_{n}"
        key = candidate.casefold()
        (taken_videos if videos[i] else taken_images).add(key)
        m = None if videos[i] else _FRAME_SUFFIX.match(key)
        if m is not None:
            image_prefixes.add(m.group(1))
        result.append(candidate)
    return result


# ---------------------------------------------------------------------------------------------
# Inputs counted twice: the one rule, used by every reader of input files (CLI, Beam).


def input_identity(path):
    """What makes two inputs the same: ``(st_dev, st_ino)`` of the file ``path`` names, symbolic links
    followed (the same file reached by two names, a folder's entry and a direct path, a link and its
    target, ``a/../a/x.jpg``: one identity); for a path that cannot be stat'ed (a URL, a missing file,
    a remote path), the path as given (a str, with ``os.fsdecode``). Never opens the file."""
    text = os.fsdecode(path)
    try:
        st = os.stat(text)
    except (OSError, ValueError):
        return text
    return (st.st_dev, st.st_ino)


def distinct_inputs(paths: Iterable) -> tuple[list, list[tuple]]:
    """Inputs in order with the ones counted twice removed: the first occurrence of each
    :func:`input_identity` wins. paths: str / os.PathLike (order = processing order: the CLI's
    command-line order with each folder's files sorted by name). Returns (kept paths in order,
    [(dropped path, the kept path it repeats), ...]); each dropped input is to be named, never
    processed (it would write the same outputs twice)."""
    kept: list = []
    dropped: list[tuple] = []
    first: dict = {}
    for p in paths:
        key = input_identity(p)
        if key in first:
            dropped.append((p, first[key]))
        else:
            first[key] = p
            kept.append(p)
    return kept, dropped

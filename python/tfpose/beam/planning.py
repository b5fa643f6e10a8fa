"""The plan of a Beam job, made on the machine that starts it: the files matched (each once), each
input's kind by content (:func:`tfpose.sources.media_kind`, the rule of ``tfpose estimate``), each
video's frames counted by decoding it, the work units and the output names; and the dead-letter
records of what cannot be used.
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from apache_beam.io.filesystems import FileSystems

from tfpose.options import DEFAULTS

__all__ = ["Plan", "plan_inputs", "local_path", "failure", "failure_record"]


@contextmanager
def local_path(path: str) -> Iterator[str]:
    """A local file name for ``path`` (OpenCV reads only local files): the path itself when it is
    local, else a temporary copy made through Beam's file systems."""
    if os.path.lexists(path):
        yield path
        return
    suffix = os.path.splitext(path)[1]
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with FileSystems.open(path) as src:
            while True:
                chunk = src.read(1 << 24)
                if not chunk:
                    break
                tmp.write(chunk)
        tmp.flush()
        yield tmp.name


# Inside the pipeline, paths and stems are bytes (os.fsencode): Beam's coders encode a str as strict
# UTF-8, which a file name that is not UTF-8 (Python's surrogate escapes) cannot be.


def failure(path, error: str, frame: int | None = None, frame_range: tuple | None = None) -> tuple:
    """A dead letter inside the pipeline: (path as bytes, error as printable text, frame or None,
    [start, stop) or None)."""
    from tfpose.sources import display_name

    return (
        os.fsencode(path),
        display_name(error),
        None if frame is None else int(frame),
        None if frame_range is None else (int(frame_range[0]), int(frame_range[1])),
    )


def failure_record(record: tuple) -> dict:
    """The dead-letter JSON record of a :func:`failure`: ``input`` is the path as Python names it
    (a name that is not UTF-8 keeps its surrogate escapes, written by JSON as ``\\udcXX``)."""
    path, error, frame, frame_range = record
    out = {"input": os.fsdecode(path), "error": error}
    if frame is not None:
        out["frame"] = frame
    if frame_range is not None:
        out["frame_range"] = list(frame_range)
    return out


class Plan:
    """What a job must produce, found before it runs (on the machine that starts it).

    inputs: ``(path, kind, stem, frames)`` per input in path order: kind "image" or "video", stem
        its output stem (:func:`tfpose.io.output_stems`, the rule of ``tfpose estimate``), frames
        the frames a video really holds (decoded, undecodable ones included; 1 for an image).
    units: the work units ``(path, stem, start, stop, seek)`` (path and stem as bytes,
        ``os.fsencode``: what Beam's coders carry for any file name): an image has start and stop
        None, a video
        is cut into frame ranges [start, stop) of at most ``frames_per_range`` frames, bounded by
        the frames that really decode (never by the header's count); seek: the range may start
        by seeking (a video in which every frame decodes: OpenCV's frame position then counts
        every frame), else its reader decodes the frames before it.
    failures: dead-letter records of the inputs matched but not usable (neither image nor video,
        unreadable, a video with no frame).
    repeated: ``(path, kept path)`` of each file matched again under another name (one input).
    """

    def __init__(self, inputs: list, units: list, failures: list, repeated: Sequence = ()):
        self.inputs, self.units, self.failures, self.repeated = inputs, units, failures, list(repeated)

    @property
    def expected(self) -> int:
        """Images and video frames the job must account for (written or dead-lettered)."""
        return sum(frames for _, _, _, frames in self.inputs)


def _matched_paths(patterns: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Files matched by the patterns in path order, each file once by tfpose's rule
    (:func:`tfpose.io.distinct_inputs`: a file matched by two patterns, a path and a symbolic link
    to it ... is one input, the first in path order); and the (dropped, kept) pairs."""
    from tfpose import io as tio

    paths: set[str] = set()
    for pattern in patterns:
        local = "://" not in pattern
        # Absolute local paths: every worker resolves a relative one in its own working folder.
        pattern = os.path.abspath(pattern) if local else pattern
        paths.update(m.path for m in FileSystems.match([pattern])[0].metadata_list)
        if local:
            # Beam's local match keeps only what os.path.isfile accepts: a broken symbolic link or a
            # link loop would vanish without a word (the plan names it as a dead letter instead).
            paths.update(p for p in glob.glob(pattern) if os.path.islink(p) and not os.path.exists(p))
    return tio.distinct_inputs(sorted(paths))


def plan_inputs(patterns: Sequence[str], frames_per_range: int = DEFAULTS["frames_per_range"]) -> Plan:
    """The :class:`Plan` of a job over the files that ``patterns`` match (Beam's file systems).

    Each input's kind is read off its content (the CLI's rule, ``tfpose estimate``); each video is
    decoded once here (:func:`tfpose.sources.video_frames`) to count the frames it really holds:
    a header that claims 2^31 - 1 frames for a 10-frame file gives 10 frames and one range. That
    decode (no network, no colour conversion of skipped frames) is the price of a count that no
    runner or header can defeat; remote videos are copied here to be counted.
    Raises ValueError for frames_per_range < 1.
    """
    from tfpose import io as tio
    from tfpose import sources

    if isinstance(frames_per_range, bool) or not isinstance(frames_per_range, int) or frames_per_range < 1:
        raise ValueError(f"frames_per_range: expected an int >= 1, got {frames_per_range!r}")
    usable, failures = [], []
    paths, repeated = _matched_paths(patterns)
    for path in paths:
        try:
            # Checked without opening (a FIFO would block the content check for ever; a device is never
            # an input file), with tfpose estimate's reasons (broken symbolic link, link loop, ...).
            why = sources.not_a_file(Path(path)) if "://" not in path else None
            if why is None and "://" not in path and os.path.isdir(path):
                why = "a folder"
            if why is not None:
                failures.append(failure_record(failure(path, why)))
                continue
            with local_path(path) as local:
                with sources.opencv_path(local) as name:
                    kind, reason = sources.media_kind(Path(name))
                frames, clean = 1, True
                if kind == "video":
                    counted = sources.video_frames(local)
                    frames, clean = counted.total, not counted.undecodable
                    if frames == 0:
                        kind, reason = None, "no frame could be decoded"
        except Exception as exc:  # noqa: BLE001  (a file that cannot be read is a dead letter)
            kind, reason = None, f"{type(exc).__name__}: {exc}"
        if kind is None:
            failures.append(failure_record(failure(path, reason)))
        else:
            usable.append((path, kind, frames, clean))
    stems = tio.output_stems([p for p, _, _, _ in usable], [k == "video" for _, k, _, _ in usable])
    inputs: list[tuple] = []
    units: list[tuple] = []
    for (path, kind, frames, clean), stem in zip(usable, stems, strict=False):
        inputs.append((path, kind, stem, frames))
        key = (os.fsencode(path), os.fsencode(stem))
        if kind == "image":
            units.append((*key, None, None, False))
        else:
            units.extend(
                (*key, s, min(s + frames_per_range, frames), clean and s > 0)
                for s in range(0, frames, frames_per_range)
            )
    return Plan(inputs, units, failures, repeated)

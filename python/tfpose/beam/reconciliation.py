"""What a Beam run produced against its :class:`~tfpose.beam.planning.Plan`, read from the output
folder and the dead-letter file (never from the runner's metrics: a runner may lose outputs and
still report success).
"""

from __future__ import annotations

import json
import os

from apache_beam.io.filesystems import FileSystems

from tfpose.beam.planning import Plan

__all__ = ["Reconciliation", "reconcile"]


class Reconciliation:
    """What a run produced against its :class:`Plan`: ``expected`` images/frames, ``written`` (JSON
    files of this run under their planned names), ``failed`` (images/frames and unusable inputs in
    dead-letter records), ``missing`` (output names, with the input and frame, of what is in
    neither), ``problems`` (sentences: a dead-letter file this run did not write ...).
    ``ok``: nothing missing and no problem."""

    def __init__(self, expected, written, failed, missing, problems):
        self.expected, self.written, self.failed = expected, written, failed
        self.missing, self.problems = missing, problems

    @property
    def ok(self) -> bool:
        """Nothing missing and no problem."""
        return not self.missing and not self.problems

    def describe(self, limit: int = 10) -> str:
        """One paragraph for a user: the counts, then up to ``limit`` missing names."""
        from tfpose.sources import display_name

        text = (
            f"expected {self.expected} images/frames, {self.written} written, {self.failed} in dead letters, "
            f"{len(self.missing)} missing"
        )
        if self.missing:
            shown = ", ".join(display_name(m) for m in self.missing[:limit])
            text += f": {shown}" + (f" and {len(self.missing) - limit} more" if len(self.missing) > limit else "")
        return "; ".join([text, *self.problems])


def _modified_times(pattern: str) -> dict:
    """Path -> modification time (s since the epoch) of the files a Beam file pattern matches."""
    from apache_beam.io.filesystem import BeamIOError

    try:
        found = FileSystems.match([pattern])[0].metadata_list
    except BeamIOError:
        return {}
    return {m.path: m.last_updated_in_seconds for m in found}


def _written_files(output_dir: str) -> dict:
    """Path (as :func:`_WriteOpenPoseJson` names it) -> modification time of each OpenPose JSON file
    in ``output_dir``. A local folder is listed as it is (its name may hold glob characters)."""
    if "://" in output_dir:
        return _modified_times(FileSystems.join(output_dir, "*_keypoints.json"))
    times = {}
    try:
        with os.scandir(output_dir) as entries:
            for e in entries:
                if e.name.endswith("_keypoints.json") and e.is_file():
                    times[FileSystems.join(output_dir, e.name)] = e.stat().st_mtime
    except FileNotFoundError:
        pass
    return times


def _modified_time(path: str) -> float | None:
    if "://" in path:
        times = _modified_times(path)
        return max(times.values()) if times else None
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def reconcile(plan: Plan, output_dir: str, dead_letter: str | None = None, since: float = 0.0) -> Reconciliation:
    """Compare what the run that started at ``since`` (seconds since the epoch) wrote into
    ``output_dir`` and ``dead_letter`` (default ``<output_dir>/tfpose_failed.jsonl``) with ``plan``:
    every planned image/frame must have its JSON file (modified at or after ``since``, less 1 s of
    file-system clock granularity; remote storage's clock must agree with this machine's) or a
    dead-letter record, every unusable input its record.
    Reads the folder's listing and the dead-letter file, never the runner's metrics (a runner may
    lose outputs and still report success)."""
    from tfpose import io as tio

    dead_letter = dead_letter or FileSystems.join(output_dir, "tfpose_failed.jsonl")
    fresh = since - 1.0
    written = {path for path, t in _written_files(output_dir).items() if t >= fresh}
    problems, records = [], []
    modified = _modified_time(dead_letter)
    if modified is None or modified < fresh:
        problems.append(f"the dead-letter file {dead_letter} was not written by this run")
    else:
        with FileSystems.open(dead_letter) as f:
            for line in f.read().decode().splitlines():
                if line.strip():
                    records.append(json.loads(line))
    dead_frames, dead_inputs = set(), set()
    for r in records:
        if "frame" in r:
            dead_frames.add((r["input"], r["frame"]))
        elif "frame_range" in r:
            dead_frames.update((r["input"], i) for i in range(*r["frame_range"]))
        else:
            dead_inputs.add(r["input"])
    n_written = n_failed = 0
    missing = []
    for path, kind, stem, frames in plan.inputs:
        for frame in [None] if kind == "image" else range(frames):
            name = FileSystems.join(output_dir, tio.output_file_name(stem, frame))
            if name in written:
                n_written += 1
            elif path in dead_inputs or (path, frame) in dead_frames:
                n_failed += 1
            else:
                missing.append(f"{name} ({path}" + ("" if frame is None else f" frame {frame}") + ")")
    for r in plan.failures:
        if r["input"] in dead_inputs:
            n_failed += 1
        else:
            missing.append(f"a dead-letter record of {r['input']} ({r['error']})")
    expected = plan.expected + len(plan.failures)
    return Reconciliation(expected, n_written, n_failed, missing, problems)

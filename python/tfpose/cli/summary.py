"""The one summary line of ``tfpose estimate`` and the run-level reconciliation rule: the frames
expected (1 per image found, the frames each video holds) must equal those written plus those that
failed (undecodable, unreadable, rejected); a difference is named and the exit status is 1.
"""

from __future__ import annotations

from collections.abc import Callable

from tfpose.app.signals import signal_name, stop_signal

__all__ = ["plural", "summary", "reconcile", "new_counters"]


def new_counters(inputs_skipped: int = 0) -> dict:
    """The counters a run keeps (read by :func:`summary` and :func:`reconcile`): inputs_skipped,
    frames_failed (all that failed), frames_undecodable, frames_rejected (by the estimator),
    frames (written), people, ended (why each live source stopped)."""
    return {
        "inputs_skipped": inputs_skipped,
        "frames_failed": 0,
        "frames_undecodable": 0,
        "frames_rejected": 0,
        "frames": 0,
        "people": 0,
        "ended": [],
    }


def plural(n: int, word: str) -> str:
    """ "1 frame", "2 frames": ``n`` and ``word``, with an s unless n is 1."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(counters: dict, expected: int | None, elapsed: float, tracker, interrupted, stopped=None) -> str:
    """The run's one summary line: frames written, people, rate, and what failed; ``stopped`` (the
    write failure that ended the run) is said there too, so the counts are not read as a success."""
    n = counters["frames"]
    fps = n / elapsed if elapsed > 0 else 0.0
    skipped_in = counters["inputs_skipped"]
    parts = [f"tfpose: {plural(n, 'frame')} written, {counters['people']} people, {fps:.2f} frames/s"]
    if expected is not None:
        parts.append(f", {expected} expected")
    if tracker is not None:
        parts.append(f", {plural(tracker.next_id, 'person id')}")
    if skipped_in:
        parts.append(f", {skipped_in} input(s) skipped")
    if counters["frames_undecodable"]:
        parts.append(f", {plural(counters['frames_undecodable'], 'frame')} undecodable")
    if counters["frames_rejected"]:
        parts.append(f", {plural(counters['frames_rejected'], 'frame')} skipped")
    parts += [f"; {e}" for e in counters["ended"]]
    if interrupted is not None:
        parts.append(f"; stopped by {signal_name(stop_signal(interrupted))}")
    if stopped is not None:
        parts.append(f"; stopped: {stopped} (the run's outputs are not complete)")
    return "".join(parts)


def reconcile(counters: dict, expected: int | None, log: Callable[[str], None]) -> bool:
    """Run-level check: the frames expected (1 per image found, the frames each video holds) must
    equal those written plus those that failed (undecodable, unreadable, rejected); a difference
    is named. True when they agree or nothing is expected up front (live sources)."""
    if expected is None:
        return True
    accounted = counters["frames"] + counters["frames_failed"]
    if accounted == expected:
        return True
    log(
        f"tfpose: error: {expected} frames expected (images found, frames the videos hold), but "
        f"{counters['frames']} written and {counters['frames_failed']} failed: {abs(expected - accounted)} "
        f"{'unaccounted for' if accounted < expected else 'more than expected'}"
    )
    return False

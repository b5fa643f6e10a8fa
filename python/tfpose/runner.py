"""The CLI's decode -> graph -> write runner: ``tfpose estimate`` over images, folders and videos.

Decoding and the graph run in :func:`tfpose.stream.run_stream`'s threads; a writer thread consumes
the results in source order and writes them (the CLI's OpenPose JSON, drawings, video), so all
three stages overlap. The main thread only waits, so Ctrl-C stops the run cleanly: no more input
is read (the source is closed), the frames already decoded go through the graph and are written,
and the caller then finishes its outputs (the video file) and reports how far the run got; no
result the graph produced is dropped. A second Ctrl-C stops after the frame being written. The CLI
turns SIGTERM (``docker stop``, systemd, Kubernetes, ``timeout``) into the same clean stop.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["run_overlapped", "Interrupted"]


class Interrupted(Exception):
    """Raised by :func:`run_overlapped` after a clean stop on KeyboardInterrupt. signum: the signal
    that stopped the run (SIGINT for Ctrl-C; a KeyboardInterrupt carrying a ``signum`` attribute,
    such as the CLI's SIGTERM handler raises, gives its own)."""

    def __init__(self, message: str, signum: int = signal.SIGINT):
        super().__init__(message)
        self.signum = signum


def run_overlapped(
    estimator,
    items: Iterable,
    write: Callable,
    on_error: Callable,
    *,
    batch_size: int | None = None,
    queue_size: int | None = None,
    estimate: Callable | None = None,
) -> int:
    """Run ``estimator`` over ``items`` ((path, frame, image, fps) tuples, e.g. decoded lazily by a
    generator) with decoding, the graph and writing overlapped.

    write(item, result) is called for each item in order, in a writer thread; on_error(item,
    exception) for an image the graph rejected (the run goes on). estimate: as in
    :func:`tfpose.stream.run_stream` (default: the people of each image). Returns the number of items
    written. Raises what the source, the graph or ``write`` raised (after stopping every stage),
    and :class:`Interrupted` after a clean stop on KeyboardInterrupt.
    """
    import contextlib

    from tfpose import stream as _stream

    kwargs = {} if queue_size is None else {"queue_size": queue_size}
    cancel = threading.Event()  # first Ctrl-C: read no more input, finish what is decoded
    abort = threading.Event()  # second Ctrl-C: stop after the frame being written
    state: dict[str, Any] = {"done": 0, "error": None, "signum": signal.SIGINT}

    def consume():
        try:
            with contextlib.closing(
                _stream.run_stream(
                    estimator,
                    _until(items, cancel),
                    image_of=_image_of,
                    batch_size=batch_size,
                    skip_errors=True,
                    estimate=estimate,
                    **kwargs,
                )
            ) as results:
                for item, people in results:
                    if isinstance(people, BaseException):
                        on_error(item, people)
                    else:
                        write(item, people)
                        state["done"] += 1
                    if abort.is_set():
                        break
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller's thread)
            state["error"] = exc
        finally:
            finished.set()

    # The main thread waits on an Event, not Thread.join: before Python 3.13 a join interrupted by
    # KeyboardInterrupt can mark a running thread as finished.
    finished = threading.Event()
    worker = threading.Thread(target=consume, name="tfpose-write", daemon=True)
    worker.start()
    while not finished.is_set():
        try:
            finished.wait(timeout=0.2)
        except KeyboardInterrupt as exc:
            if not cancel.is_set():
                state["signum"] = getattr(exc, "signum", signal.SIGINT)
            (abort if cancel.is_set() else cancel).set()
    worker.join()
    if state["error"] is not None:
        raise state["error"]
    if cancel.is_set():
        n = state["done"]
        raise Interrupted(f"interrupted after {n} frame{'' if n == 1 else 's'}", state["signum"])
    return state["done"]


def _until(items: Iterable, cancel: threading.Event):
    """``items`` until ``cancel`` is set (checked before taking an item, so none taken is dropped);
    ``items.close()`` afterwards, when it has one (a generator's decoder closes its file)."""
    it = iter(items)
    try:
        while not cancel.is_set():
            try:
                item = next(it)
            except StopIteration:
                return
            yield item
    finally:
        close = getattr(items, "close", None)
        if callable(close):
            close()


def _image_of(item):
    return item[2]

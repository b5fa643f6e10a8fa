"""Overlapped image-to-people pipeline for videos, folders and live sources.

Three stages run at once, joined by bounded queues so memory stays bounded whatever the source:

1. a *decode* thread pulls items from the source iterator (decoding a video frame, reading an
   image file) and validates each image (:func:`tfpose.types.as_bgr`);
2. a *graph* thread takes what is decoded, groups consecutive images of one size into batches of
   at most ``batch_size`` (without waiting for a batch to fill, so a live source is not delayed),
   and runs the estimator's graph;
3. the caller's thread (or, in the CLI, a writer thread) consumes the results in source order.

OpenCV's decoding and TensorFlow's graph run with the GIL released, so the stages overlap and the
frame rate approaches 1 / (graph time per frame).

Errors: an exception raised by the source iterator, or by a stage, reaches the consumer at its
place in the order (results before it are delivered first). With ``skip_errors=True`` an image the
graph rejects is delivered as ``(item, exception)`` instead (a failing batch is retried image by
image so its good images are kept). Closing the generator (``break``, ``KeyboardInterrupt``,
garbage collection) stops both threads, closes the source iterator when it has ``close()`` (a
generator releasing its video capture, say) and returns once the threads have exited.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator

import numpy as np

from tfpose.types import as_bgr

__all__ = ["run_stream", "DEFAULT_QUEUE_SIZE"]

# Decoded images waiting for the graph and results waiting for the consumer, each. Two batches'
# worth keeps every stage busy; more only adds memory (a 1280x720 frame is 2.6 MB).
DEFAULT_QUEUE_SIZE = 16
# How often a blocked put/get looks at the stop flag (seconds).
_POLL_S = 0.05


class _End:
    """Marks the end of a queue's items."""


class _Failure:
    """Carries an exception raised by a stage to the consumer."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    """Put that gives up when ``stop`` is set (returns False)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, stop: threading.Event):
    while not stop.is_set():
        try:
            return q.get(timeout=_POLL_S)
        except queue.Empty:
            continue
    return _End


def _decode(source: Iterator, image_of: Callable, out: queue.Queue, stop: threading.Event) -> None:
    try:
        for item in source:
            if stop.is_set():
                break
            try:
                img: np.ndarray | Exception = as_bgr(image_of(item))
            except (TypeError, ValueError) as exc:
                img = exc  # a bad image is a per-item failure, reported in order by the graph stage
            if not _put(out, (item, img), stop):
                break
    except BaseException as exc:  # noqa: BLE001  (the source's own error, delivered in order)
        _put(out, _Failure(exc), stop)
    else:
        _put(out, _End, stop)
    finally:
        close = getattr(source, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):  # closing must not mask the run's outcome
                close()


def _graph(
    estimate: Callable, batch_size: int, skip_errors: bool, inp: queue.Queue, out: queue.Queue, stop: threading.Event
) -> None:
    pending = None  # an item taken from the queue that did not fit the current batch

    def emit(items, results) -> bool:
        # one result per item (the estimate contract): a short list is an error, not a silent loss
        return all(_put(out, (it, res), stop) for it, res in zip(items, results, strict=True))

    def run(items, images) -> bool:
        try:
            return emit(items, estimate(images))
        except Exception as exc:  # noqa: BLE001
            if len(items) > 1:  # keep the good images of a failing batch
                return all(run([it], [im]) for it, im in zip(items, images, strict=True))
            if not skip_errors:
                _put(out, _Failure(exc), stop)
                return False
            return emit(items, [exc])

    try:
        while not stop.is_set():
            first = pending if pending is not None else _get(inp, stop)
            pending = None
            if first is _End:
                break
            if isinstance(first, _Failure):
                _put(out, first, stop)
                return
            item, img = first
            if isinstance(img, Exception):
                if not skip_errors:
                    _put(out, _Failure(img), stop)
                    return
                if not emit([item], [img]):
                    return
                continue
            items, images = [item], [img]
            # Take what is already decoded, up to batch_size images of the same size.
            while len(items) < batch_size:
                try:
                    nxt = inp.get_nowait()
                except queue.Empty:
                    break
                if (
                    nxt is _End
                    or isinstance(nxt, _Failure)
                    or isinstance(nxt[1], Exception)
                    or nxt[1].shape != img.shape
                ):
                    pending = nxt
                    break
                items.append(nxt[0])
                images.append(nxt[1])
            if not run(items, images):
                return
        _put(out, _End, stop)
    except BaseException as exc:  # noqa: BLE001
        _put(out, _Failure(exc), stop)


def run_stream(
    estimator,
    source: Iterable,
    *,
    image_of: Callable | None = None,
    batch_size: int | None = None,
    queue_size: int = DEFAULT_QUEUE_SIZE,
    skip_errors: bool = False,
    estimate: Callable | None = None,
) -> Generator[tuple, None, None]:
    """Run ``estimator`` over ``source`` with decoding, the graph and the consumer overlapped.

    source: iterable of items; ``image_of(item)`` (default: the item itself) gives an image
        (HxWx3 uint8 BGR; gray and BGRA converted as in :func:`tfpose.types.as_bgr`).
    batch_size: most images per graph call (default: the estimator's ``batch_size``).
    queue_size: bound of each of the two queues (items).
    skip_errors: deliver an image's error as its result instead of raising it.
    estimate: images (validated, one size, at most batch_size) -> one result per image; default
        the estimator's people (``Estimator._estimate_same_size``).
    Yields (item, list[Person]) (or (item, exception) with skip_errors) in source order.
    Raises what the source or the graph raised (after the results before it), ValueError for bad
    arguments.
    """
    if image_of is None:
        image_of = _identity
    if estimate is None:
        estimate = estimator._estimate_same_size
    batch_size = estimator.batch_size if batch_size is None else batch_size
    for name, v in (("batch_size", batch_size), ("queue_size", queue_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
    it = iter(source)
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(maxsize=int(queue_size))
    results: queue.Queue = queue.Queue(maxsize=int(queue_size))
    threads = [
        threading.Thread(target=_decode, args=(it, image_of, decoded, stop), name="tfpose-decode", daemon=True),
        threading.Thread(
            target=_graph,
            args=(estimate, int(batch_size), skip_errors, decoded, results, stop),
            name="tfpose-graph",
            daemon=True,
        ),
    ]
    for t in threads:
        t.start()
    try:
        while True:
            got = results.get()
            if got is _End:
                return
            if isinstance(got, _Failure):
                raise got.exc
            yield got
    finally:
        stop.set()
        for t in threads:
            t.join()


def _identity(x):
    return x

"""The CLI's decode -> graph -> write runner: ``tfpose estimate`` over images, folders and videos.

Decoding and the graph run in :func:`tfpose.stream.run_stream`'s threads; a writer thread consumes
the results in source order and writes OpenPose JSON, drawings and the output video, so all three
stages overlap. The main thread only waits, so Ctrl-C stops the run cleanly: no more input is read (the source is
closed), the frames already decoded go through the graph and are written, the video file is
finalised, and the counts say how far the run got; no result the graph produced is dropped. A
second Ctrl-C stops after the frame being written.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["OutputWriter", "run_overlapped", "Interrupted"]


class Interrupted(Exception):
    """Raised by :func:`run_overlapped` after a clean stop on KeyboardInterrupt."""


class OutputWriter:
    """Writes one frame's results: OpenPose JSON into ``json_dir``, drawings into ``img_dir``
    (``<stem>_rendered.png``), and drawings into one video ``video_path`` (MJPG for .avi, mp4v
    otherwise; its frame size is the first drawing's, later frames of another size are resized).
    Not thread-safe: one writer thread calls it. :meth:`close` finalises the video."""

    def __init__(self, json_dir=None, img_dir=None, video_path=None, pose_model: str = "COCO_18"):
        self.json_dir = Path(json_dir) if json_dir else None
        self.img_dir = Path(img_dir) if img_dir else None
        self.video_path = str(video_path) if video_path else None
        self.pose_model = pose_model
        self._video = None
        self._video_size = None
        for d in (self.json_dir, self.img_dir):
            if d is not None:
                d.mkdir(parents=True, exist_ok=True)

    def write(self, path: Path, frame, img, fps, people) -> None:
        """path: the input file; frame: index in a video or None for an image; img: the BGR image;
        fps: the video's frame rate or None; people: list of :class:`tfpose.Person`."""
        import cv2

        from tfpose import io as tio

        if self.json_dir is not None:
            tio.write_json(self.json_dir / tio.json_name(path, frame), people)
        if self.img_dir is None and self.video_path is None:
            return
        from tfpose.draw import draw

        drawing = draw(img, people, self.pose_model)
        if self.img_dir is not None:
            stem = path.stem if frame is None else f"{path.stem}_{frame:012d}"
            if not cv2.imwrite(str(self.img_dir / f"{stem}_rendered.png"), drawing):
                raise OSError(f"cannot write {self.img_dir / (stem + '_rendered.png')}")
        if self.video_path is not None:
            if self._video is None:
                self._video_size = (drawing.shape[1], drawing.shape[0])
                fourcc = cv2.VideoWriter_fourcc(*("MJPG" if self.video_path.lower().endswith(".avi") else "mp4v"))
                Path(self.video_path).parent.mkdir(parents=True, exist_ok=True)
                self._video = cv2.VideoWriter(self.video_path, fourcc, fps or 10.0, self._video_size)
                if not self._video.isOpened():
                    self._video = None
                    raise OSError(f"cannot open {self.video_path} for writing a video")
            if (drawing.shape[1], drawing.shape[0]) != self._video_size:
                drawing = cv2.resize(drawing, self._video_size, interpolation=cv2.INTER_AREA)
            self._video.write(drawing)

    def close(self) -> None:
        if self._video is not None:
            self._video.release()
            self._video = None


def run_overlapped(estimator, items: Iterable, write: Callable, on_error: Callable, *,
                   batch_size: int | None = None, queue_size: int | None = None) -> int:
    """Run ``estimator`` over ``items`` ((path, frame, image, fps) tuples, e.g. decoded lazily by a
    generator) with decoding, the graph and writing overlapped.

    write(item, people) is called for each item in order, in a writer thread; on_error(item,
    exception) for an image the graph rejected (the run goes on). Returns the number of items
    written. Raises what the source, the graph or ``write`` raised (after stopping every stage),
    and :class:`Interrupted` after a clean stop on KeyboardInterrupt.
    """
    import contextlib

    from tfpose import stream as _stream

    kwargs = {} if queue_size is None else {"queue_size": queue_size}
    cancel = threading.Event()  # first Ctrl-C: read no more input, finish what is decoded
    abort = threading.Event()  # second Ctrl-C: stop after the frame being written
    state = {"done": 0, "error": None}

    def source():
        it = iter(items)
        try:
            while not cancel.is_set():  # checked before taking an item, so none taken is dropped
                try:
                    item = next(it)
                except StopIteration:
                    return
                yield item
        finally:
            close = getattr(items, "close", None)
            if callable(close):
                close()

    def consume():
        try:
            with contextlib.closing(_stream.run_stream(estimator, source(), image_of=_image_of,
                                                       batch_size=batch_size, skip_errors=True,
                                                       **kwargs)) as results:
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
        except KeyboardInterrupt:
            (abort if cancel.is_set() else cancel).set()
    worker.join()
    if state["error"] is not None:
        raise state["error"]
    if cancel.is_set():
        raise Interrupted(f"interrupted after {state['done']} frames")
    return state["done"]


def _image_of(item):
    return item[2]

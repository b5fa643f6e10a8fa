"""The overlapped pipeline (tfpose.stream, Estimator.stream) and the CLI's runner (tfpose.runner):
order, batching, equality with one-by-one estimation, errors, bounded queues, clean shutdown."""

from __future__ import annotations

import os
import signal
import threading

import cv2
import numpy as np
import pytest

import tfpose
from tfpose import runner, stream

from helpers import DATA

MNV2S = DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb"
IMAGES = DATA / "images" / "tf_pose_estimation"


@pytest.fixture(scope="module")
def est():
    return tfpose.Estimator(MNV2S, net_resolution="-1x176")


@pytest.fixture(scope="module")
def frames():
    a = cv2.imread(str(IMAGES / "p1.jpg"))
    b = cv2.imread(str(IMAGES / "apink2.jpg"))
    # two sizes interleaved in runs, so batches must split where the size changes
    return [a, a[:, ::-1].copy(), b, b[::-1].copy(), a, b, b, a]


def _same(people_a, people_b):
    assert len(people_a) == len(people_b)
    for p, q in zip(people_a, people_b, strict=True):
        np.testing.assert_array_equal(p.keypoints, q.keypoints)
        assert p.score == q.score


def _threads():
    return {t for t in threading.enumerate() if t.name.startswith("tfpose-")}


@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_stream_equals_one_by_one_in_order(est, frames, batch_size):
    one_by_one = [est.estimate(f) for f in frames]
    got = list(est.stream(iter(frames), batch_size=batch_size))
    assert len(got) == len(frames)
    for a, b in zip(one_by_one, got, strict=True):
        _same(a, b)
    assert not _threads()


def test_stream_of_a_video_generator_is_closed_when_abandoned(est, frames):
    state = {"pulled": 0, "closed": False}

    def endless():
        try:
            while True:
                state["pulled"] += 1
                yield frames[state["pulled"] % 2]
        finally:
            state["closed"] = True

    gen = est.stream(endless(), batch_size=2, queue_size=3)
    for i, _ in enumerate(gen):
        if i == 2:
            break
    gen.close()
    assert state["closed"]
    # bounded: what was taken is at most the results delivered + both queues + a batch in flight
    assert state["pulled"] <= 3 + 3 + 3 + 2 + 1
    assert not _threads()


def test_source_error_arrives_after_the_results_before_it(est, frames):
    def source():
        yield frames[0]
        yield frames[1]
        raise RuntimeError("camera unplugged")

    got = []
    with pytest.raises(RuntimeError, match="camera unplugged"):
        for people in est.stream(source()):
            got.append(people)
    assert len(got) == 2
    assert not _threads()


def test_bad_frame_raises_in_order_or_is_reported(est, frames):
    items = [frames[0], np.zeros((10, 10), np.float32), frames[2]]
    got = []
    with pytest.raises(TypeError, match="uint8"):
        for people in est.stream(items):
            got.append(people)
    assert len(got) == 1
    results = list(stream.run_stream(est, items, skip_errors=True))
    assert [type(r).__name__ for _, r in results] == ["list", "TypeError", "list"]
    # an image the graph refuses (sizing) is isolated from the good images of its batch
    tiny = np.zeros((1, 1, 3), np.uint8)
    results = list(stream.run_stream(est, [frames[0], tiny, frames[0]], batch_size=4, skip_errors=True))
    assert isinstance(results[1][1], ValueError) and "scale factor" in str(results[1][1])
    _same(results[0][1], est.estimate(frames[0]))


def test_bad_arguments(est):
    with pytest.raises(ValueError, match="batch_size"):
        list(stream.run_stream(est, [], batch_size=0))
    with pytest.raises(ValueError, match="queue_size"):
        list(est.stream([], queue_size=0))
    assert list(est.stream([])) == []


def test_runner_writes_every_frame_in_order(est, frames, tmp_path):
    order = []
    errors = []
    items = [(tmp_path / "v.avi", i, f, 10.0) for i, f in enumerate(frames)] + [(tmp_path / "x", 99, None, None)]
    n = runner.run_overlapped(
        est, items, lambda it, p: order.append((it[1], len(p))), lambda it, e: errors.append((it[1], e)), batch_size=3
    )
    assert n == len(frames)
    assert [i for i, _ in order] == list(range(len(frames)))
    assert [len(est.estimate(f)) for f in frames] == [k for _, k in order]
    assert len(errors) == 1 and errors[0][0] == 99 and "None" in str(errors[0][1])


def test_runner_write_error_propagates_and_stops(est, frames):
    def write(item, people):
        if item[1] == 2:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        runner.run_overlapped(est, [(None, i, f, None) for i, f in enumerate(frames * 4)], write, None)
    assert not _threads()


def test_runner_ctrl_c_finishes_what_is_decoded_then_stops(est, frames):
    written = []
    state = {"pulled": 0, "closed": False}

    def endless():
        try:
            while True:
                state["pulled"] += 1
                yield (None, state["pulled"], frames[0], None)
        finally:
            state["closed"] = True

    def write(item, people):
        written.append(item[1])
        if len(written) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives in the main thread

    # The test sets the handling of the signal it sends: run in the background (nohup, some CI
    # runners) SIGINT is ignored, and the run would never be interrupted.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(runner.Interrupted, match="interrupted after"):
            runner.run_overlapped(est, endless(), write, None, queue_size=2)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert state["closed"]
    # every frame taken from the source was estimated and written, in order: none lost
    assert written == list(range(1, state["pulled"] + 1))
    assert not _threads()

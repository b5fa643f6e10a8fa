"""Native code across process events: fork() while other threads compute, interpreter exit with busy
daemon threads, and caps on the threads and memory that callers can make the core keep.

Children and exiting interpreters run as separate processes with time limits, so a deadlock or an
abort fails the test instead of hanging the suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from helpers import load_golden

# Generous for a loaded 2-core machine; a child that deadlocked never finishes.
CHILD_SECONDS = 120


def _real_net_output():
    g = load_golden("real_coco000192_thin")
    return g["net_outputs"][0], g["meta"]


@pytest.mark.slow
def test_fork_during_computation_every_child_finishes():
    """1,000 forks while two threads run the fast and dense paths (worker pool, plane pool, geometry
    cache all in use); each child runs the fast path itself and must give the parent's answer."""
    import threading

    from tfpose import numpy_ops

    net, _ = _real_net_output()
    expected = numpy_ops.net_output_to_people(net, threads=2)
    stop = threading.Event()

    def busy(fast):
        while not stop.is_set():
            numpy_ops.net_output_to_people(net, fast=fast, threads=2)
            numpy_ops.nms(net[..., :18], threads=2)

    workers = [threading.Thread(target=busy, args=(f,), daemon=True) for f in (True, False)]
    for t in workers:
        t.start()
    forks, batch = 1000, 8
    stuck = failed = 0
    try:
        for _first in range(0, forks, batch):
            pids = []
            for _ in range(batch):
                pid = os.fork()
                if pid == 0:  # child: compute with the inherited pools and caches, then leave at once
                    code = 1
                    try:
                        got = numpy_ops.net_output_to_people(net, threads=2)
                        code = 0 if all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True)) else 3
                    finally:
                        os._exit(code)
                pids.append(pid)
            deadline = time.monotonic() + CHILD_SECONDS
            for pid in pids:
                while True:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        failed += os.waitstatus_to_exitcode(status) != 0
                        break
                    if time.monotonic() > deadline:
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        stuck += 1
                        break
                    time.sleep(0.002)
    finally:
        stop.set()
        for t in workers:
            t.join()
    assert (stuck, failed) == (0, 0), f"of {forks} children, {stuck} never finished and {failed} failed"


EXIT_SCRIPT = textwrap.dedent("""
    import sys, threading, time
    import numpy as np
    from tfpose import numpy_ops
    net = np.load(sys.argv[1])
    def busy(i):
        while True:
            if i % 3 == 0:
                numpy_ops.net_output_to_people(net, threads=2)
            elif i % 3 == 1:
                numpy_ops.resize_and_merge(net, threads=2)
            else:
                numpy_ops.maximum(net, threads=2)
    for i in range(6):
        threading.Thread(target=busy, args=(i,), daemon=True).start()
    time.sleep(float(sys.argv[2]))
""")


@pytest.mark.slow
def test_exit_with_busy_daemon_threads(tmp_path):
    """100 interpreters exit while 6 daemon threads are inside _core calls: every one returns 0
    (it used to abort with "terminate called without an active exception")."""
    net, _ = _real_net_output()
    np.save(tmp_path / "net.npy", net)
    script = tmp_path / "exit.py"
    script.write_text(EXIT_SCRIPT)
    runs, parallel = 100, 4
    results = []
    for first in range(0, runs, parallel):
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), str(tmp_path / "net.npy"), f"{0.05 * (i % 4)}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(first, min(runs, first + parallel))
        ]
        for p in procs:
            try:
                _, err = p.communicate(timeout=CHILD_SECONDS)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
                err = "timed out\n" + err
            results.append((p.returncode, err.strip()[-300:]))
    bad = [r for r in results if r[0] != 0]
    assert not bad, f"{len(bad)} of {runs} exits failed; first: {bad[0]}"


def test_threads_argument_is_capped():
    from tfpose import _core, numpy_ops

    maps = np.zeros((1, 4, 4, 2), np.float32)
    with pytest.raises(ValueError, match=rf"threads: expected 0\.\.{_core.MAX_THREADS} \(0 = all cores\), got 3000"):
        numpy_ops.maximum(maps, threads=3000)
    numpy_ops.maximum(maps, threads=_core.MAX_THREADS)


def _thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def test_pool_threads_are_bounded_and_released():
    """The most threads allowed start at most MAX_THREADS - 1 pool workers, and idle workers leave."""
    from tfpose import _core, numpy_ops

    before = _thread_count()
    maps = np.random.default_rng(0).random((1, 64, 64, 57), np.float32)
    numpy_ops.resize_and_merge(maps, threads=_core.MAX_THREADS)
    during = _thread_count()
    assert during - before <= _core.MAX_THREADS - 1
    deadline = time.monotonic() + 10 * _core.POOL_IDLE_SECONDS + 30
    while _thread_count() > before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _thread_count() <= before, f"{_thread_count() - before} pool threads still alive after idling"


def test_pooled_memory_is_bounded():
    """A very large frame must not leave its planes and scratch cached for the life of the process."""
    from tfpose import _core, numpy_ops

    def rss_mb():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

    net = np.zeros((1, 400, 400, 57), np.float32)  # 3200 x 3200 output: 40 MB per plane
    net[0, 100:110, 100:110, :18] = np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10, 1)
    base = rss_mb()
    numpy_ops.net_output_to_people(net, threads=2)
    numpy_ops.net_output_to_people(net, threads=1)
    kept = rss_mb() - base
    assert kept < _core.POOL_MAX_BYTES / 2**20 + 48, f"{kept:.0f} MB still held after two large frames"

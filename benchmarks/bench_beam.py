"""Throughput of the Beam pipeline (tfpose.beam) on the local DirectRunner with 1 and 2 worker
processes, against a plain Estimator loop in one process, on the same COCO images; per-worker peak
memory and CPU time per image (the figure that sizes a large job).

    python benchmarks/bench_beam.py [--images 40] [--repeats 2] [--model PATH] [--no-write]

Each Beam run is the whole job (worker start, model load, reading, inference, JSON writing); a run
on a quarter of the images measures the fixed start cost, so
steady images/s = (N - N/4) / (wall(N) - wall(N/4)). Worker memory and CPU come from /proc
(peak RSS = VmHWM of each `sdk_worker_main` process, CPU = its utime + stime); CPU seconds per
image are what a large job pays for (they hold up better than wall time on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import _common as C


class WorkerSampler:
    """Polls /proc for Beam SDK worker processes; keeps each one's peak RSS and CPU seconds."""

    def __init__(self, period: float = 0.2):
        self.period, self.peak_mb, self.cpu_s = period, {}, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def _run(self):
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"sdk_worker_main" not in cmd:
                        continue
                    status = Path(f"/proc/{pid}/status").read_text()
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_mb[pid] = max(self.peak_mb.get(pid, 0.0), int(line.split()[1]) / 1024)
                self.cpu_s[pid] = (int(stat[11]) + int(stat[12])) / self._tick  # utime + stime
            self._stop.wait(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_beam(images: list[Path], model: str, workers: int) -> dict:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from tfpose.beam import PoseModelHandler, build_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "in"
        inputs.mkdir()
        for im in images:
            (inputs / im.name).symlink_to(im)
        options = PipelineOptions([f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"])
        handler = PoseModelHandler(model, on_error="record")
        t0 = time.perf_counter()
        with WorkerSampler() as sampler, beam.Pipeline(options=options) as p:
            build_pipeline(p, [str(inputs / "*")], str(Path(tmp) / "out"), handler)
        wall = time.perf_counter() - t0
        written = len(list((Path(tmp) / "out").glob("*_keypoints.json")))
        failed = (Path(tmp) / "out" / "tfpose_failed.jsonl").read_text()
    assert written == len(images), f"{written} JSON files for {len(images)} images; dead letters:\n{failed}"
    return {"wall": wall, "peak_mb": sorted(sampler.peak_mb.values()), "cpu_s": sum(sampler.cpu_s.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--model", default=str(C.MODELS / "tfpose_mobilenet_thin_graph_opt.pb"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    import cv2

    import tfpose

    images = sorted((C.DATA / "coco_mini" / "val2017").glob("*.jpg"))[: args.images]
    n = len(images)
    load_before = os.getloadavg()
    start = time.perf_counter()

    # Baseline: the same images through one Estimator in this process (model already loaded).
    est = tfpose.Estimator(args.model)
    decoded = [cv2.imread(str(p)) for p in images]
    est.estimate_batch(decoded[:2])  # trace
    loop, loop_cpu = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for img in decoded:
            est.estimate(img)
        loop.append(time.perf_counter() - t0)
        loop_cpu.append(time.process_time() - c0)
    loop_s = statistics.median(loop)

    rows = [
        [
            "Estimator loop, 1 process (no Beam, model loaded, images decoded)",
            f"{loop_s:.1f}",
            f"{n / loop_s:.2f}",
            "-",
            "-",
            f"{statistics.median(loop_cpu) / n:.3f}",
            f"{statistics.median(loop_cpu) / n:.3f}",
        ]
    ]
    quarter = max(1, n // 4)
    for workers in (1, 2):
        full = [run_beam(images, args.model, workers) for _ in range(args.repeats)]
        part = [run_beam(images[:quarter], args.model, workers) for _ in range(args.repeats)]
        wall_n = statistics.median(r["wall"] for r in full)
        wall_q = statistics.median(r["wall"] for r in part)
        steady = (n - quarter) / (wall_n - wall_q) if wall_n > wall_q else float("nan")
        peak = max(max(r["peak_mb"]) for r in full if r["peak_mb"])
        cpu_n = statistics.median(r["cpu_s"] for r in full)
        cpu_q = statistics.median(r["cpu_s"] for r in part)
        rows.append(
            [
                f"Beam DirectRunner multi_processing, {workers} worker(s)",
                f"{wall_n:.1f}",
                f"{n / wall_n:.2f}",
                f"{steady:.2f}",
                f"{peak:.0f}",
                f"{cpu_n / n:.3f}",
                f"{(cpu_n - cpu_q) / (n - quarter):.3f}",
            ]
        )
        print(rows[-1], flush=True)
    took = time.perf_counter() - start
    load_after = os.getloadavg()

    table = C.markdown_table(
        [
            "configuration",
            f"wall s ({n} images)",
            "images/s (whole job)",
            "images/s (steady)",
            "peak RSS per worker MB",
            "CPU s per image",
            "marginal CPU s per image",
        ],
        rows,
    )
    body = "\n".join(
        [
            "## Beam RunInference pipeline (`benchmarks/bench_beam.py`)",
            "",
            f"{n} images of coco_mini val2017 (various sizes, mostly 640x480), model {Path(args.model).name}, "
            f"OpenPose's default sizing (-1x368); each Beam run is the whole job (worker start, model load, decode, "
            f"inference, one OpenPose JSON per image), median of {args.repeats}. Steady images/s removes the fixed "
            f"start cost measured by a {quarter}-image run of the same configuration; CPU s per image is the "
            "workers' (or the loop's) user + system CPU time divided by the images, start and model load included; "
            f"marginal CPU s per image is (CPU({n}) - CPU({quarter})) / {n - quarter}, the cost of one more image. "
            "TensorFlow in each worker uses every "
            "core (its default), so 2 workers on 2 cores share the same cores rather than adding any.",
            "",
            f"Machine: {C.machine_line()}. Load average {' '.join(f'{v:.2f}' for v in load_before)} before, "
            f"{' '.join(f'{v:.2f}' for v in load_after)} after (shared machine: absolute figures are noisy); the "
            f"run took {took:.0f} s.",
            "",
            table,
        ]
    )
    print(body)
    if not args.no_write:
        C.write_section("bench_beam", body)


if __name__ == "__main__":
    main()

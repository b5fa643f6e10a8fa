"""The same mixed job (OpenPose's 20 sample photos + video.avi, 205 frames: 225 images/frames) through
``tfpose beam`` on each runner, against the Python API (``tfpose.Estimator.estimate`` per image and
frame): wall time of the whole command, exit status, summary line, and how many outputs are
byte-identical to the Python API's.

    python benchmarks/bench_beam_runners.py [--model PATH] [--no-write]

Runners: the DirectRunner in-memory (one process) and in multi_processing mode with 2 worker
processes, and Beam's DaskRunner on a ``dask.distributed.LocalCluster`` of 2 worker processes (1
thread each) on 127.0.0.1, started here (its start time is given apart) and closed at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C

JOB = C.DATA / "images" / "openpose_media"


def expected_outputs(model: str) -> dict:
    """Output file name -> JSON text of the Python API's people, for every photo and frame of JOB."""
    import cv2

    import tfpose
    from tfpose import io as tio

    est = tfpose.Estimator(model)
    files = sorted(JOB.iterdir())
    stems = tio.output_stems([str(f) for f in files], [f.suffix == ".avi" for f in files])
    out = {}
    for f, stem in zip(files, stems, strict=True):
        if f.suffix != ".avi":
            out[tio.output_file_name(stem)] = est.estimate(cv2.imread(str(f)))
            continue
        cap = cv2.VideoCapture(str(f))
        i = 0
        while True:
            ok, img = cap.read()
            if not ok:
                break
            out[tio.output_file_name(stem, i)] = est.estimate(img)
            i += 1
        cap.release()
    return {name: tio.dumps(tio.people_json(people)) + "\n" for name, people in out.items()}


def run(label: str, model: str, extra: list, expected: dict, workdir: Path) -> list:
    out = workdir / label.replace(" ", "_")
    cmd = [sys.executable, "-m", "tfpose.beam", "--input", str(JOB / "*"), "--output", str(out), "--model", model]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    t0 = time.perf_counter()
    r = subprocess.run(cmd + extra, capture_output=True, text=True, env=env, timeout=1800)
    wall = time.perf_counter() - t0
    got = {f.name: f.read_text() for f in out.glob("*_keypoints.json")} if out.exists() else {}
    equal = sum(got.get(name) == text for name, text in expected.items())
    summary = (r.stdout.strip().splitlines() or ["(no summary)"])[-1]
    problem = [ln for ln in r.stderr.splitlines() if ln.startswith("tfpose beam:")]
    row = [
        label,
        f"{wall:.0f}",
        r.returncode,
        summary + (f" / {problem[-1]}" if problem else ""),
        f"{equal} / {len(expected)}",
    ]
    print(row, flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(C.MODELS / "tfpose_mobilenet_thin_graph_opt.pb"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    load_before = os.getloadavg()
    start = time.perf_counter()
    expected = expected_outputs(args.model)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_beam_runners_") as tmp:
        work = Path(tmp)
        rows.append(run("DirectRunner in-memory", args.model, [], expected, work))
        rows.append(
            run(
                "DirectRunner multi_processing, 2 workers",
                args.model,
                ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
                expected,
                work,
            )
        )
        from dask.distributed import LocalCluster

        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # inherited by the Dask workers
        t0 = time.perf_counter()
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=40
        ) as cluster:
            cluster_s = time.perf_counter() - t0
            rows.append(
                run(
                    "DaskRunner, LocalCluster 2 workers",
                    args.model,
                    ["--runner", "DaskRunner", f"--dask_client_address={cluster.scheduler_address}"],
                    expected,
                    work,
                )
            )
    took = time.perf_counter() - start
    load_after = os.getloadavg()
    table = C.markdown_table(
        ["runner", "wall s (whole command)", "exit", "summary", "outputs equal to the Python API's"], rows
    )
    body = "\n".join(
        [
            "## Beam runners on one mixed job (`benchmarks/bench_beam_runners.py`)",
            "",
            f"OpenPose's sample folder `images/openpose_media/*` (20 COCO photos + video.avi, 205 frames of "
            f"1280x720: {len(expected)} images/frames), model {Path(args.model).name} at tfpose beam's defaults; "
            "each run is the whole `python -m tfpose.beam` command (plan with the video decoded once to count "
            "its frames, worker start, model load, inference, JSON writing, reconciliation). The Dask "
            f"LocalCluster took {cluster_s:.0f} s to start (not in the row). One run each.",
            "",
            f"Machine: {C.machine_line()}. Load average {' '.join(f'{v:.2f}' for v in load_before)} before, "
            f"{' '.join(f'{v:.2f}' for v in load_after)} after (shared machine: absolute times are noisy); the "
            f"benchmark took {took:.0f} s.",
            "",
            table,
        ]
    )
    print(body)
    if not args.no_write:
        C.write_section("bench_beam_runners", body)


if __name__ == "__main__":
    main()

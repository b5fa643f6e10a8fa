"""The GPU check's CPU side: tools/gpu/gpu_check.sh run here (no GPU, --no-build: the installed
tfpose), tools/gpu/prepare_gpu_data.py (the folder carried to a GPU machine), the data-location rule
(tests/data_paths.py) and bench_gpu.py's rendering of a GPU run. The GPU steps themselves can only
be checked on a GPU machine (cpp/cuda/README.md)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import data_paths
from helpers import DATA as SHARED  # the tools' --shared / TFPOSE_SHARED folder: tests/data holds golden/
from helpers import REPO, THIN_MODEL

SCRIPT = REPO / "tools" / "gpu" / "gpu_check.sh"
PREPARE = REPO / "tools" / "gpu" / "prepare_gpu_data.py"
STEPS = ["env", "data", "build", "import", "tests", "memcheck", "racecheck", "synccheck", "initcheck", "bench", "frame"]
FRAME_GPU = REPO / "tools" / "gpu" / "frame_gpu.py"
needs_golden = pytest.mark.skipif(not (SHARED / "golden" / "index.json").exists(), reason=f"no golden data at {SHARED}")


def run_check(out: Path, *args, **env) -> subprocess.CompletedProcess:
    e = dict(os.environ, PYTHON=sys.executable, **env)
    e.pop("TFPOSE_CUDA_EQUALITY_REPORT", None)
    return subprocess.run(
        ["bash", str(SCRIPT), str(out), *args],
        env=e,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def summary_states(text: str) -> dict[str, tuple[str, str]]:
    states = {}
    for line in text.splitlines():
        parts = line.split(None, 3)
        if parts and parts[0] in STEPS and len(parts) >= 3 and parts[1] in ("PASS", "FAIL", "SKIP"):
            states[parts[0]] = (parts[1], parts[3] if len(parts) > 3 else "")
    return states


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check")
    return out, run_check(out, "--no-build", TFPOSE_SHARED=str(SHARED))


@needs_golden
def test_cpu_run_passes_with_gpu_steps_skipped(cpu_run):
    out, r = cpu_run
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    summary = (out / "summary.txt").read_text()
    assert summary in r.stdout  # printed and kept
    states = summary_states(summary)
    assert list(states) == STEPS, summary
    for step in ("env", "data", "import", "tests", "bench"):
        assert states[step][0] == "PASS", (step, summary)
    assert states["build"] == ("SKIP", f"--no-build: using the tfpose that {sys.executable} imports")
    from tfpose import _core

    for tool in ("memcheck", "racecheck", "synccheck", "initcheck"):
        state, note = states[tool]
        assert state == "SKIP" and note in ("compute-sanitizer not found", "no CUDA GPU visible"), (tool, summary)
    n_cases = len(json.loads((SHARED / "golden" / "index.json").read_text()))
    assert states["data"][1] == f"{n_cases} golden cases from {SHARED}"
    assert states["bench"][1] == "no GPU: CPU part only"
    assert states["frame"][0] == "SKIP"
    assert summary.rstrip().splitlines()[-1].startswith("result: 5 passed, 0 failed, 6 skipped")
    assert len(summary.splitlines()) <= 25  # one screen
    # Every step that ran left its log; the GPU tests say why they skipped.
    for step in ("env", "data", "import", "tests", "bench"):
        assert (out / f"{step}.log").stat().st_size > 0, step
    tests_log = (out / "tests.log").read_text()
    reason = "built without CUDA kernels" if not _core.has_cuda else "no CUDA GPU visible"
    assert "SKIPPED" in tests_log and reason in tests_log and "failed" not in tests_log
    assert states["tests"][1].startswith("3 passed, 0 failed, ")


@needs_golden
def test_cpu_run_bench_cpu_part(cpu_run):
    out, _ = cpu_run
    result = json.loads((out / "bench_gpu.json").read_text())
    assert result["lib"] is None and result["device"] == "none (--cpu-only)"
    rows = result["rows"]
    assert {r["input"] for r in rows} == {"real", "random"}
    assert {r["op"] for r in rows} == {
        "resize_and_merge[cpu]",
        "resize_and_merge[cuda]",
        "nms[cpu]",
        "nms[cuda]",
        "maximum",
        "paf_scores",
        "whole",
    }
    assert all(r["gpu_us"] is None and r["naive_gpu_us"] is None and r["cpu_us"] > 0 for r in rows)
    real = [r for r in rows if r["input"] == "real" and r["op"] == "paf_scores"]
    random = [r for r in rows if r["input"] == "random" and r["op"] == "paf_scores"]
    # The real frame has a realistic number of peaks; uniform noise fills every part's K = 127.
    assert float(real[0]["note"].split(", ")[1].split()[0]) < 200 < float(random[0]["note"].split(", ")[1].split()[0])
    md = (out / "bench_gpu.md").read_text()
    assert "GPU: **none (--cpu-only)**" in md and "| input | op | N |" in md


def test_failed_step_is_reported_and_independent_steps_run(tmp_path):
    """No golden data where the tool looks: the data step fails, the benchmark still runs (random
    input), the sanitizers skip for want of data, and the exit status is 1. The tests themselves
    read tests/data (in the repository) whatever TFPOSE_SHARED says, so they pass."""
    empty = tmp_path / "no_shared"
    empty.mkdir()
    out = tmp_path / "out"
    r = run_check(out, "--no-build", TFPOSE_SHARED=str(empty))
    assert r.returncode == 1, r.stdout[-3000:]
    states = summary_states((out / "summary.txt").read_text())
    assert states["data"][0] == "FAIL"
    assert states["tests"][0] == "PASS"  # tests read tests/data, not the tool's TFPOSE_SHARED
    assert states["memcheck"] == ("SKIP", "needs data, which did not pass")
    assert states["bench"][0] == "PASS"
    assert "no golden cases" in (out / "data.log").read_text()
    bench = json.loads((out / "bench_gpu.json").read_text())
    assert {row["input"] for row in bench["rows"]} == {"random"}


def test_require_gpu_turns_gpu_skips_into_failures(tmp_path):
    r = run_check(tmp_path, "--no-build", "--require-gpu", TFPOSE_SHARED=str(SHARED))
    assert r.returncode == 1
    states = summary_states((tmp_path / "summary.txt").read_text())
    for tool in ("memcheck", "racecheck", "synccheck", "initcheck"):
        assert states[tool][0] == "FAIL" and "--require-gpu" in states[tool][1], states
    assert states["build"][0] == "SKIP"  # --no-build was asked for: not a missing GPU


def test_usage_errors(tmp_path):
    for args, msg in (
        ([], "expected an output folder"),
        ([str(tmp_path), "--bogus"], "unknown option --bogus"),
        ([str(tmp_path), str(tmp_path)], "expected one OUTDIR"),
    ):
        r = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr)
    for budget in ("abc", "30"):
        r = run_check(tmp_path, TFPOSE_GPU_CHECK_BUDGET=budget)
        assert r.returncode == 2 and f"expected whole seconds >= 60, got '{budget}'" in r.stderr


# ------------------------------------------------------------------------------- prepare_gpu_data


def prepare(*args):
    return subprocess.run([sys.executable, str(PREPARE), *map(str, args)], capture_output=True, text=True, timeout=120)


@needs_golden
def test_prepare_copies_golden_and_pytest_and_verifies(tmp_path):
    out = tmp_path / "gpu_data"
    r = prepare("--shared", SHARED, "--out", out)
    assert r.returncode == 0, r.stderr
    cases = [c["case"] for c in json.loads((SHARED / "golden" / "index.json").read_text())]
    for c in cases:  # byte for byte
        assert (out / "golden" / f"{c}.npz").read_bytes() == (SHARED / "golden" / f"{c}.npz").read_bytes()
    assert (out / "pylib" / "pytest" / "__init__.py").is_file() and (out / "pylib" / "pluggy").is_dir()
    manifest = json.loads((out / "MANIFEST.json").read_text())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert manifest["bytes"] <= size < 32 * 2**20  # carried with the repository: 64 MiB at most in all
    assert prepare("--verify", "--out", out).returncode == 0
    # The carried pytest runs in a Python that has none on its path (-S: no site-packages).
    r = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import pytest; print(pytest.__file__)",
            str(out / "pylib"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and str(out / "pylib") in r.stdout, r.stderr
    # An altered or missing file is named.
    victim = out / "golden" / f"{cases[0]}.npz"
    data = bytearray(victim.read_bytes())
    data[100] ^= 1
    victim.write_bytes(bytes(data))
    (out / "golden" / "index.json").unlink()
    r = prepare("--verify", "--out", out)
    assert r.returncode == 1
    assert f"golden/{cases[0]}.npz: altered" in r.stderr and "golden/index.json: missing" in r.stderr


def test_prepare_errors(tmp_path):
    shared, out = tmp_path / "shared", tmp_path / "out"
    shared.mkdir()
    r = prepare("--shared", shared, "--out", out)
    assert r.returncode == 1 and f"expected the golden index at {shared / 'golden' / 'index.json'}" in r.stderr
    assert not out.exists()
    r = prepare("--verify", "--out", out)
    assert r.returncode == 1 and f"no {out / 'MANIFEST.json'}" in r.stderr
    (shared / "golden").mkdir()
    (shared / "golden" / "index.json").write_text(json.dumps([{"case": "gone"}]))
    r = prepare("--shared", shared, "--out", out)
    assert r.returncode == 1 and f"expected {shared / 'golden' / 'README.md'}, found nothing" in r.stderr
    (shared / "golden" / "README.md").write_text("golden")
    r = prepare("--shared", shared, "--out", out)
    assert r.returncode == 1 and "gone.npz (listed in index.json), found nothing" in r.stderr
    assert not out.exists() and not (tmp_path / "out.tmp").exists()
    r = prepare("--shared", shared, "--out", shared / "golden" / "copy")
    assert r.returncode == 1 and "refusing to write into the shared folder" in r.stderr


def test_locate_shared_order(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    carried = repo / "gpu_data"
    monkeypatch.setattr(data_paths, "REPO", repo)
    monkeypatch.setattr(data_paths, "CARRIED", carried)
    monkeypatch.delenv("TFPOSE_SHARED", raising=False)
    repo.mkdir()
    assert data_paths.locate_shared() == tmp_path / "shared"  # nothing anywhere: the default, missing
    (carried / "golden").mkdir(parents=True)
    (carried / "golden" / "index.json").write_text("[]")
    assert data_paths.locate_shared() == carried  # no ../shared: the carried copy
    (tmp_path / "shared").mkdir()
    assert data_paths.locate_shared() == tmp_path / "shared"  # ../shared wins over the copy
    monkeypatch.setenv("TFPOSE_SHARED", str(tmp_path / "elsewhere"))
    assert data_paths.locate_shared() == tmp_path / "elsewhere"  # the variable wins over both


def test_locate_shared_falls_back_to_the_repositorys_golden_cases(tmp_path, monkeypatch):
    # A clone alone (no ../shared, no gpu_data/): the GPU check's data step reads tests/data's golden cases.
    repo = tmp_path / "repo"
    monkeypatch.setattr(data_paths, "REPO", repo)
    monkeypatch.setattr(data_paths, "CARRIED", repo / "gpu_data")
    monkeypatch.delenv("TFPOSE_SHARED", raising=False)
    (repo / "tests" / "data" / "golden").mkdir(parents=True)
    assert data_paths.locate_shared() == tmp_path / "shared"  # no index.json: not a golden folder
    (repo / "tests" / "data" / "golden" / "index.json").write_text("[]")
    assert data_paths.locate_shared() == repo / "tests" / "data"
    (repo / "gpu_data" / "golden").mkdir(parents=True)
    (repo / "gpu_data" / "golden" / "index.json").write_text("[]")
    assert data_paths.locate_shared() == repo / "gpu_data"  # a carried copy is asked for: it wins


def test_bench_from_json_renders_and_refuses_cpu_only_readme(tmp_path):
    gpu_run = dict(
        device="NVIDIA H200",
        lib="torch",
        cpu="x",
        date="2026-01-01",
        reps=20,
        cpu_reps=3,
        rows=[
            dict(input="real", op="whole", batch=8, scales=3, gpu_us=500.0, cpu_us=20000.0, naive_gpu_us=900.0, note="")
        ],
    )
    j = tmp_path / "r.json"
    j.write_text(json.dumps(gpu_run))
    md = tmp_path / "r.md"
    bench = REPO / "benchmarks" / "bench_gpu.py"
    r = subprocess.run(
        [sys.executable, str(bench), "--from-json", str(j), "--markdown", str(md)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    text = md.read_text()
    assert "GPU: **NVIDIA H200**" in text and "| real | whole | 8 | 3 | 500 | 20000 | 900 | 40.0 | 1.8 |" in text
    j.write_text(json.dumps(dict(gpu_run, lib=None)))
    r = subprocess.run(
        [sys.executable, str(bench), "--from-json", str(j), "--readme"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and "no GPU column" in r.stderr


def test_frame_gpu_skips_with_the_reason(tmp_path):
    r = subprocess.run(
        [sys.executable, str(FRAME_GPU), "--data", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 77 and r.stdout.strip().splitlines()[-1] == (
        f"SKIP: no {tmp_path / 'mobilenet_thin.onnx'} (python tools/gpu/prepare_gpu_data.py --onnx, then carry gpu_data)"
    )
    (tmp_path / "mobilenet_thin.onnx").write_bytes(b"")
    r = subprocess.run(
        [sys.executable, str(FRAME_GPU), "--data", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    from tfpose import _core

    if not _core.has_cuda or _core.cuda_device_count() == 0:
        assert r.returncode == 77 and "needs a tfpose build with CUDA kernels and a visible GPU" in r.stdout


def _shared_layout(root: Path) -> Path:
    """The folder layout --onnx reads (golden/, data/models/, data/images/openpose_media/video.avi),
    linked to the tests' copies (tests/data; mobilenet_thin is the package's bundled graph)."""
    links = {
        "golden": SHARED / "golden",
        "data/models/tfpose_mobilenet_thin_graph_opt.pb": THIN_MODEL,
        "data/images/openpose_media/video.avi": SHARED / "images" / "openpose_media" / "video.avi",
    }
    for rel, target in links.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(target)
    return root


@needs_golden
@pytest.mark.skipif(
    importlib.util.find_spec("tf2onnx") is None or importlib.util.find_spec("onnxruntime") is None,
    reason="needs tf2onnx and onnxruntime (./install.sh --test installs them)",
)
@pytest.mark.slow
def test_prepare_onnx_frame_matches_tensorflow(tmp_path):
    """The ONNX network carried to the GPU gives TensorFlow's output on a real frame (checked with
    ONNX Runtime's CPU provider; the tolerance is frame_gpu's own)."""
    out = tmp_path / "gpu_data"
    r = prepare("--shared", _shared_layout(tmp_path / "shared"), "--out", out, "--onnx")
    assert r.returncode == 0, r.stderr[-3000:]
    meta = json.loads((out / "frame" / "meta.json").read_text())
    assert meta["onnxruntime_cpu_max_abs_diff"] <= 1e-4
    import numpy as np
    import onnxruntime as ort

    frame = np.load(out / "frame" / "net_input.npy")
    assert frame.shape == (1, 368, 656, 3) and frame.dtype == np.uint8
    sess = ort.InferenceSession(str(out / "frame" / "mobilenet_thin.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"image:0": frame.astype(np.float32)})[0]
    want = np.load(out / "frame" / "tf_output.npy")
    assert got.shape == want.shape == (1, 46, 82, 57)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert "frame/mobilenet_thin.onnx" in manifest["files"] and manifest["bytes"] < 32 * 2**20

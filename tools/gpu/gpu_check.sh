#!/usr/bin/env bash
# One-shot check of tfpose's CUDA kernels on a GPU machine, and of everything before the GPU on any
# machine. Run from anywhere; works in the repository that holds this file.
#
#   tools/gpu/gpu_check.sh OUTDIR [--no-build] [--require-gpu]
#
# Steps (each writes OUTDIR/<step>.log; a step runs when the steps it needs passed, whatever else
# failed; each has its own time limit, all of them together a budget of $TFPOSE_GPU_CHECK_BUDGET s,
# default 450, for a GPU machine; the limits scale with the budget, so a slow CPU machine can
# raise it):
#   env        machine, GPU, toolchain and library versions
#   data       the golden cases (../shared, $TFPOSE_SHARED, or gpu_data/ checked against its manifest)
#   build      the TensorFlow-free CUDA variant (tfpose_core + tfpose_cuda + _core) with this machine's
#              nvcc, CMake and Python, for this GPU's architecture (sm_90 without a GPU), staged as a
#              package in build/gpu-check/stage; checks that the device code has no FMA
#   import     the staged tfpose imports, has_cuda, GPUs visible, host arrays rejected
#   tests      tests/test_cuda.py (GPU == CPU on every golden case and random inputs; bit-identity
#              per op in OUTDIR/equality.json; without a GPU the GPU tests skip with the reason)
#   memcheck, racecheck, synccheck, initcheck
#              compute-sanitizer on a focused subset of tests/test_cuda.py (CuPy preferred, pools off),
#              run in parallel with `tests`
#   bench      benchmarks/bench_gpu.py (batch 1/8/32, 1-3 scales, CPU core and naive GPU baseline);
#              without a GPU, its CPU part only (--cpu-only, small)
#   frame      optional: tools/gpu/frame_gpu.py, the network by ONNX Runtime's CUDA provider feeding
#              tfpose.cuda on device arrays (needs gpu_data/frame from prepare_gpu_data.py --onnx)
# Then a one-screen summary (also OUTDIR/summary.txt). Exit status 0 when no step failed (skipped
# steps allowed), 1 otherwise.
#   --no-build     use the tfpose that $PYTHON already imports (a quick run without nvcc)
#   --require-gpu  a step skipped for want of a GPU, nvcc, compute-sanitizer or an array library
#                  counts as failed (for the GPU machine, where each of those must be there)
# Environment: PYTHON (default: python3 or python, the first with numpy and CuPy or torch),
# TFPOSE_GPU_CHECK_BUDGET, TFPOSE_SHARED, CUDA_HOME.
set -uo pipefail

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; }
OUT="" NO_BUILD=0 REQUIRE_GPU=0
for arg in "$@"; do
  case "$arg" in
    --no-build) NO_BUILD=1 ;;
    --require-gpu) REQUIRE_GPU=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "gpu_check: unknown option $arg" >&2; usage >&2; exit 2 ;;
    *) if [[ -n "$OUT" ]]; then echo "gpu_check: expected one OUTDIR, got '$OUT' and '$arg'" >&2; exit 2; fi
       OUT="$arg" ;;
  esac
done
if [[ -z "$OUT" ]]; then echo "gpu_check: expected an output folder" >&2; usage >&2; exit 2; fi
mkdir -p "$OUT" || exit 2
OUT="$(cd "$OUT" && pwd)"
if [[ -n "${PYTHON:-}" ]]; then
  PY="$(command -v "$PYTHON" || true)"
else  # the first Python that has numpy and a GPU array library, else the first one there is
  PY=""
  for cand in python3 python; do
    c="$(command -v "$cand")" || continue
    [[ -z "$PY" ]] && PY="$c"
    if "$c" -c "import numpy, importlib.util as u; raise SystemExit(not (u.find_spec('cupy') or u.find_spec('torch')))" \
      2> /dev/null; then PY="$c"; break; fi
  done
fi
if [[ -z "$PY" ]]; then echo "gpu_check: no Python found (set PYTHON)" >&2; exit 2; fi
[[ "$PY" == /* ]] || PY="$PWD/$PY"  # a relative PYTHON is relative to where the script was started
cd "$(dirname "$0")/../.." || exit 2
REPO="$PWD"
BUDGET="${TFPOSE_GPU_CHECK_BUDGET:-450}"
if ! [[ "$BUDGET" =~ ^[0-9]+$ ]] || ((BUDGET < 60)); then
  echo "gpu_check: TFPOSE_GPU_CHECK_BUDGET: expected whole seconds >= 60, got '$BUDGET'" >&2; exit 2
fi
lim() { echo $(($1 * BUDGET / 450)); }  # step limits are set for the 450 s budget and scale with it
BUILD="$REPO/build/gpu-check"
STAGE="$BUILD/stage"
ST="$OUT/.steps"
rm -rf "$ST" && mkdir -p "$ST"
T0=$SECONDS
export OUT REPO PY BUILD STAGE ST NO_BUILD REQUIRE_GPU
export PYTHONDONTWRITEBYTECODE=1 TF_CPP_MIN_LOG_LEVEL=2

find_tool() {  # find_tool NAME: PATH, then $CUDA_HOME/bin, then /usr/local/cuda/bin
  local t
  for t in "$(command -v "$1" 2> /dev/null)" "${CUDA_HOME:-/nonexistent}/bin/$1" "/usr/local/cuda/bin/$1"; do
    if [[ -n "$t" && -x "$t" ]]; then echo "$t"; return 0; fi
  done
  return 1
}
NVCC="$(find_tool nvcc || true)"
SANITIZER="$(find_tool compute-sanitizer || true)"
if [[ -z "$SANITIZER" && -n "$NVCC" ]]; then  # nvcc may be a wrapper: look beside the real one
  for d in "$(dirname "$(readlink -f "$NVCC")")" /usr/local/cuda-*/bin; do
    if [[ -x "$d/compute-sanitizer" ]]; then SANITIZER="$d/compute-sanitizer"; break; fi
  done
fi
# pytest comes from the machine's Python, else from gpu_data/pylib (tools/gpu/prepare_gpu_data.py).
PYLIB=""
if ! "$PY" -c "import pytest" 2> /dev/null && [[ -d "$REPO/gpu_data/pylib" ]]; then PYLIB="$REPO/gpu_data/pylib"; fi
export NVCC SANITIZER PYLIB

# ------------------------------------------------------------------------------- step machinery
# A step body runs in its own bash under `timeout`; it prints its log, writes a one-line note to
# $NOTE, and exits 0 (pass), 77 (skipped: the last line of its log says why) or anything else (fail).

step() {  # step NAME LIMIT_S FUNCTION [ARGS...]
  local name="$1" limit="$2"; shift 2
  local left=$((BUDGET - (SECONDS - T0) - 10))
  if ((left < 20)); then record "$name" SKIP 0 "time budget of ${BUDGET}s spent"; return; fi
  ((limit > left)) && limit=$left
  local t=$SECONDS rc
  echo "gpu_check [$((SECONDS - T0))s] $name: running (limit ${limit}s)"
  NOTE="$ST/$name.note" timeout -k 10 "$limit" bash -c '"$@"' _ "$@" > "$OUT/$name.log" 2>&1 < /dev/null
  rc=$?
  local dt=$((SECONDS - t)) note=""
  [[ -f "$ST/$name.note" ]] && note="$(head -n 1 "$ST/$name.note")"
  if ((rc == 0)); then
    record "$name" PASS "$dt" "$note"
  elif ((rc == 77)); then
    note="$(tail -n 1 "$OUT/$name.log" | sed 's/^SKIP: //')"
    if ((REQUIRE_GPU)) && [[ "$(head -n 1 "$ST/$name.gpu" 2> /dev/null)" == 1 ]]; then
      record "$name" FAIL "$dt" "skipped, but --require-gpu: $note"
    else
      record "$name" SKIP "$dt" "$note"
    fi
  elif ((rc == 124 || rc == 137)); then
    record "$name" FAIL "$dt" "timed out after ${limit}s ${note:+($note)}"
  else
    record "$name" FAIL "$dt" "exit $rc${note:+: $note}"
  fi
  echo "gpu_check [$((SECONDS - T0))s] $name: $(cut -f1 "$ST/$name.status")"
}

record() { printf '%s\t%s\t%s\n' "$2" "$3" "$4" > "$ST/$1.status"; }
passed() { [[ "$(cut -f1 "$ST/$1.status" 2> /dev/null)" == PASS ]]; }
needs() {  # needs STEP NAME...: record the step as skipped unless every named step passed
  local name="$1" dep; shift
  for dep in "$@"; do
    if ! passed "$dep"; then record "$name" SKIP 0 "needs $dep, which did not pass"; return 1; fi
  done
}
skip() { echo "SKIP: $1"; exit 77; }
skip_gpu() { echo 1 > "$ST/$(basename "$NOTE" .note).gpu"; skip "$1"; }  # a skip --require-gpu rejects
# The staged package (or, with --no-build, whatever $PY imports), pytest, and the tests folder.
pypath() { local p="$REPO/tests"; ((NO_BUILD)) || p="$STAGE:$p"; [[ -n "$PYLIB" ]] && p="$p:$PYLIB"; echo "$p"; }
export -f skip skip_gpu pypath record

# ------------------------------------------------------------------------------- step bodies

do_env() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); host $(hostname); $(nproc) CPUs; $(free -g 2> /dev/null | awk '/Mem:/{print $2 " GiB"}')"
  echo "repository: $REPO ($(git -C "$REPO" rev-parse --short HEAD 2> /dev/null || echo 'no git'))"
  echo "python: $PY ($("$PY" --version 2>&1))"; echo "pytest from: ${PYLIB:-the site-packages of $PY}"
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi || true
    nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader > "$ST/gpu" 2> /dev/null || true
  else
    echo "nvidia-smi: not found"
  fi
  echo "nvcc: ${NVCC:-not found}"; [[ -n "$NVCC" ]] && "$NVCC" --version | tail -n 2
  echo "compute-sanitizer: ${SANITIZER:-not found}"; [[ -n "$SANITIZER" ]] && "$SANITIZER" --version | tail -n 1
  cmake --version 2> /dev/null | head -n 1 || echo "cmake: not found"
  echo "ninja: $(ninja --version 2> /dev/null || echo 'not found')"
  PYTHONPATH="$(pypath)" "$PY" - << 'EOF'
import importlib.metadata as md

# Versions from the installed metadata (importing torch or tensorflow here would cost seconds).
dists = md.packages_distributions()
for name in ("numpy", "pytest", "pybind11", "scikit_build_core", "cupy", "torch", "onnxruntime", "tensorflow"):
    found = sorted(set(dists.get(name, [])))
    print(f"{name}: " + (", ".join(f"{d} {md.version(d)}" for d in found) if found else "not installed"))
EOF
  local gpu nv=""
  gpu="$(head -n 1 "$ST/gpu" 2> /dev/null)"
  [[ -n "$NVCC" ]] && nv="; nvcc $("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo "${gpu:-no GPU (nvidia-smi found none)}$nv; $("$PY" --version 2>&1); $(nproc) CPUs" > "$ST/machine"
  echo "versions in env.log" > "$NOTE"
}

do_data() {
  PYTHONPATH="$REPO/tests" "$PY" - << 'EOF' || exit 1
import json
import os
import sys

from data_paths import CARRIED, locate_shared

shared = locate_shared()
index = shared / "golden" / "index.json"
print(f"golden data: {shared / 'golden'}")
if not index.is_file():
    print(f"no golden cases: expected {index}. On a machine without ../shared, run "
          "python tools/gpu/prepare_gpu_data.py where ../shared exists and carry gpu_data/ along.")
    sys.exit(1)
cases = [c["case"] for c in json.loads(index.read_text())]
missing = [c for c in cases if not (shared / "golden" / f"{c}.npz").is_file()]
if missing:
    print(f"missing golden files: {missing}")
    sys.exit(1)
where = "gpu_data" if shared == CARRIED else str(shared)
with open(os.environ["NOTE"], "w") as f:
    f.write(f"{len(cases)} golden cases from {where}\n")
print(f"{len(cases)} cases: {', '.join(cases)}")
EOF
  if [[ "$(PYTHONPATH="$REPO/tests" "$PY" -c 'from data_paths import CARRIED, locate_shared; print(locate_shared() == CARRIED)')" == True ]]; then
    "$PY" tools/gpu/prepare_gpu_data.py --verify || exit 1
    echo "$(cat "$NOTE"), manifest verified" > "$NOTE"
  fi
}

do_build() {
  ((NO_BUILD)) && skip "--no-build: using the tfpose that $PY imports"
  [[ -n "$NVCC" ]] || skip_gpu "nvcc not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin): CUDA variant not built"
  command -v cmake > /dev/null || { echo "cmake not found"; exit 1; }
  local arch gen=() pybind
  arch="$(cut -d, -f2 "$ST/gpu" 2> /dev/null | head -n 1 | tr -d ' .')"
  [[ "$arch" =~ ^[0-9]+$ ]] || arch=90  # no GPU here: H100/H200's architecture
  if command -v ninja > /dev/null; then gen=(-G Ninja); fi
  pybind="$("$PY" -m pybind11 --cmakedir)" || { echo "pybind11 is not importable by $PY"; exit 1; }
  echo "building the TF-free CUDA variant for sm_$arch with $NVCC"
  set -x
  cmake -S "$REPO" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DTFPOSE_WITH_TF=OFF -DTFPOSE_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" -DCMAKE_CUDA_COMPILER="$NVCC" -DPython_EXECUTABLE="$PY" \
    -Dpybind11_DIR="$pybind" || exit 1
  cmake --build "$BUILD" --parallel "$(nproc)" || exit 1
  rm -rf "$STAGE"
  cmake --install "$BUILD" --prefix "$STAGE" || exit 1
  cp -r "$REPO/python/tfpose/." "$STAGE/tfpose/" || exit 1
  set +x
  # Bit-identity with the CPU core needs device code without fused multiply-adds: the target must be
  # compiled with --fmad=false, and no kernel may contain an fma (the PTX level: IEEE division and
  # sqrt expand to FMAs only in SASS).
  grep -qs -- '--fmad=false' "$BUILD/build.ninja" "$BUILD/CMakeFiles/tfpose_cuda.dir/flags.make" \
    || { echo "tfpose_cuda is not compiled with --fmad=false"; exit 1; }
  local cu
  for cu in "$REPO"/cpp/cuda/*.cu; do
    "$NVCC" -std=c++17 -arch="sm_$arch" --expt-relaxed-constexpr --fmad=false -I"$REPO/cpp/include" -ptx "$cu" \
      -o "$BUILD/check.ptx" || exit 1
    if grep -q 'fma\.' "$BUILD/check.ptx"; then echo "FMA found in the PTX of $cu"; exit 1; fi
  done
  echo "sm_$arch, $("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/nvcc \1/p'), no FMA in the device code" > "$NOTE"
}

do_import() {
  PYTHONPATH="$(pypath)" "$PY" - << 'EOF'
import importlib.util
import os
import sys

import numpy as np

import tfpose
from tfpose import _core

stage, built = os.environ["STAGE"], os.environ["NO_BUILD"] == "0"
print(f"tfpose from {tfpose.__file__}; _core has_cuda={getattr(_core, 'has_cuda', False)}")
if built and not tfpose.__file__.startswith(stage):
    sys.exit(f"expected the staged build under {stage}, imported {tfpose.__file__}")
if built and _core.has_cuda is not True:
    sys.exit("the CUDA variant must report _core.has_cuda True")
n = 0
if _core.has_cuda:
    # Host memory behind every GPU entry point is refused with a clear error, GPU or not.
    host = np.zeros((1, 8, 8, 3), np.float32)
    calls = {
        "cuda_maximum": lambda: _core.cuda_maximum(host, host),
        "cuda_nms": lambda: _core.cuda_nms(host, _core.NmsParams(max_peaks=4), host, host),
        "cuda_resize_and_merge": lambda: _core.cuda_resize_and_merge([host], [1.0], host, "cpu"),
        "cuda_paf_scores": lambda: _core.cuda_paf_scores(host, host, host, "COCO_18", "cuda",
                                                         _core.ConnectThresholds(), host),
    }
    for name, call in calls.items():
        try:
            call()
        except ValueError as e:
            if not ("expected a CUDA device array" in str(e) and "got ndarray" in str(e)):
                sys.exit(f"{name}: unexpected message: {e}")
        else:
            sys.exit(f"{name} accepted a numpy array")
    n = _core.cuda_device_count()
libs = []
if n:
    if importlib.util.find_spec("cupy"):
        try:
            import cupy

            cupy.zeros(1).sum()
            libs.append("cupy")
        except Exception as e:
            print(f"cupy unusable: {type(e).__name__}: {e}")
    if importlib.util.find_spec("torch"):
        import torch

        if torch.cuda.is_available():
            libs.append("torch")
st = os.environ["ST"]
open(f"{st}/gpus", "w").write(f"{n}\n")
open(f"{st}/libs", "w").write(" ".join(libs) + "\n")
msg = f"has_cuda {_core.has_cuda}, {n} GPU(s) visible" + (f", arrays: {' '.join(libs) or 'no usable CuPy/torch'}" if n else "")
print(msg)
open(os.environ["NOTE"], "w").write(msg + "\n")
EOF
}

do_tests() {
  local args=(-q -rfEs -p no:cacheprovider --junitxml="$OUT/test_cuda.xml" tests/test_cuda.py) rc
  rm -f "$OUT/equality.json"
  PYTHONPATH="$(pypath)" TFPOSE_CUDA_EQUALITY_REPORT="$OUT/equality.json" "$PY" -m pytest "${args[@]}"
  rc=$?
  "$PY" - "$OUT" << 'EOF' > "$NOTE"
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

out = sys.argv[1]
suite = ET.parse(f"{out}/test_cuda.xml").getroot().find("testsuite") if os.path.exists(f"{out}/test_cuda.xml") else None
if suite is None:
    print("no test report")
    sys.exit()
a = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
ok = a["tests"] - a["failures"] - a["errors"] - a["skipped"]
line = f"{ok} passed, {a['failures'] + a['errors']} failed, {a['skipped']} skipped"
try:
    eq = json.load(open(f"{out}/equality.json"))
    n = sum(v["comparisons"] for v in eq.values())
    b = sum(v["bit_identical"] for v in eq.values())
    line += f"; GPU==CPU bit-identical in {b}/{n} comparisons"
except FileNotFoundError:
    pass
print(line)
EOF
  ((rc == 0)) || exit "$rc"
  if ((REQUIRE_GPU)) && grep -q "skipped" "$NOTE" && ! grep -q " 0 skipped" "$NOTE"; then
    echo "--require-gpu: GPU tests were skipped"; exit 1
  fi
}

do_sanitize() {  # do_sanitize TOOL PYTEST_K_EXPRESSION
  local tool="$1" expr="$2" lib rc
  [[ -n "$SANITIZER" ]] || skip_gpu "compute-sanitizer not found"
  (($(cat "$ST/gpus" 2> /dev/null || echo 0) > 0)) || skip_gpu "no CUDA GPU visible"
  lib="$(awk '{print $1}' "$ST/libs")"  # CuPy first: its pool can be switched off entirely
  [[ -n "$lib" ]] || skip_gpu "neither CuPy nor torch can hold device arrays here"
  echo "$tool on tests/test_cuda.py -k '$expr' with $lib (pools off)"
  PYTHONPATH="$(pypath)" TFPOSE_TEST_ARRAY_LIB="$lib" "$SANITIZER" --tool "$tool" --error-exitcode 86 \
    --print-limit 50 "$PY" tools/gpu/sanitize_pytest.py -q -rfE -p no:cacheprovider tests/test_cuda.py -k "$expr"
  rc=$?
  {
    grep -hE "(ERROR|RACECHECK) SUMMARY" "$OUT/$tool.log" 2> /dev/null | tail -n 1 | sed 's/^========= //' | tr '\n' ';'
    grep -hE "^[0-9]+ (passed|failed)|^=+ .*(passed|failed)" "$OUT/$tool.log" 2> /dev/null | tail -n 1 | tr -d '='
  } > "$NOTE"
  exit "$rc"
}

do_bench() {
  local gpus args
  gpus="$(cat "$ST/gpus" 2> /dev/null || echo 0)"
  args=(--json "$OUT/bench_gpu.json" --markdown "$OUT/bench_gpu.md" --inputs random)
  passed data && args+=(real)  # the real frame comes from the golden data
  if ((gpus > 0)) && [[ -n "$(cat "$ST/libs")" ]]; then
    PYTHONPATH="$(pypath)" "$PY" benchmarks/bench_gpu.py --reps 20 --cpu-reps 2 --cpu-max-batch 8 "${args[@]}" || exit 1
    echo "GPU timings in bench_gpu.md / .json" > "$NOTE"
  else
    # No GPU: the script's CPU part (inputs, CPU timings, tables), small, so that it cannot rot.
    PYTHONPATH="$(pypath)" "$PY" benchmarks/bench_gpu.py --cpu-only --batches 1 --scales 1 2 --cpu-reps 1 \
      "${args[@]}" || exit 1
    echo "$([[ "$gpus" -gt 0 ]] && echo 'no usable CuPy/torch' || echo 'no GPU'): CPU part only" > "$NOTE"
    if ((REQUIRE_GPU)); then echo 1 > "$ST/bench.gpu"; echo "SKIP: GPU timings skipped ($(cat "$NOTE"))"; exit 77; fi
  fi
}
do_frame() {
  PYTHONPATH="$(pypath)" "$PY" tools/gpu/frame_gpu.py --json "$OUT/frame_gpu.json"
  local rc=$?
  grep -h "ms per frame" "$OUT/frame.log" | sed 's/^frame_gpu: //' > "$NOTE"
  exit "$rc"
}
export -f do_env do_data do_build do_import do_tests do_sanitize do_bench do_frame passed

# ------------------------------------------------------------------------------- the run
echo "gpu_check: logs in $OUT; budget ${BUDGET}s; python $PY"
step env "$(lim 30)" do_env
step data "$(lim 30)" do_data
step build "$(lim 200)" do_build
if ! ((NO_BUILD)) && [[ -f "$ST/build.gpu" && "$(cut -f1 "$ST/build.status")" == SKIP ]]; then
  # No nvcc (a CPU machine): the remaining steps check the tfpose that $PY already imports.
  NO_BUILD=1
  echo "gpu_check: no CUDA build; the next steps use the tfpose that $PY imports"
fi
if ((NO_BUILD)) || passed build; then step import "$(lim 60)" do_import; else needs import build; fi

# Correctness and the sanitizers in parallel (independent processes, one GPU); timing afterwards, alone.
if needs tests import; then step tests "$(lim 150)" do_tests & fi  # without golden data its own tests fail
MEMCHECK_K="(golden and (syn_coco_single or syn_body25_two or real_golf_thin_3scales)) or random_resize or (random_nms and uniform) or empty_batch or explicit_stream or test_errors"
RACE_K="(random_nms and (uniform or plateaus)) or (golden_nms and real_golf_thin_3scales)"
INIT_K="(golden and syn_coco_single) or random_resize or (random_nms and nonfinite) or empty_batch"
if needs memcheck import data; then step memcheck "$(lim 150)" do_sanitize memcheck "$MEMCHECK_K" & fi
if needs racecheck import data; then step racecheck "$(lim 150)" do_sanitize racecheck "$RACE_K" & fi
if needs synccheck import data; then step synccheck "$(lim 120)" do_sanitize synccheck "$RACE_K" & fi
if needs initcheck import data; then step initcheck "$(lim 120)" do_sanitize initcheck "$INIT_K" & fi
wait
if needs bench import; then step bench "$(lim 120)" do_bench; fi
if needs frame import; then step frame "$(lim 50)" do_frame; fi

# ------------------------------------------------------------------------------- summary
np=0 nf=0 ns=0
{
  echo "================ tfpose GPU check: $(date -u '+%Y-%m-%d %H:%M UTC'), $((SECONDS - T0)) s ================"
  echo "machine: $(cat "$ST/machine" 2> /dev/null || echo unknown)"
  printf '%-10s %-5s %5s  %s\n' step state secs note
  for s in env data build import tests memcheck racecheck synccheck initcheck bench frame; do
    IFS=$'\t' read -r state secs note < "$ST/$s.status" || { state=SKIP secs=0 note="did not run"; }
    case "$state" in PASS) np=$((np + 1)) ;; FAIL) nf=$((nf + 1)) ;; *) ns=$((ns + 1)) ;; esac
    printf '%-10s %-5s %5s  %s\n' "$s" "$state" "$secs" "${note:0:110}"
  done
  grep -hE "^(FAILED|ERROR) " "$OUT/tests.log" 2> /dev/null | head -n 5 | cut -c1-130
  if [[ -f "$OUT/equality.json" ]]; then
    "$PY" - "$OUT/equality.json" << 'EOF' | fold -s -w 130
import json
import sys

eq = json.load(open(sys.argv[1]))
print("bit-identity per op (identical/compared, max |gpu-cpu|): " + "; ".join(
    f"{op} {v['bit_identical']}/{v['comparisons']} {v['max_abs_diff']:.2g}" for op, v in sorted(eq.items())))
EOF
  fi
  if [[ -f "$OUT/bench_gpu.md" ]]; then  # the whole-frame rows of the real input at one scale
    grep -E "^\| input \|" "$OUT/bench_gpu.md"
    grep -E "^\| real \| whole \| [0-9]+ \| 1 \|" "$OUT/bench_gpu.md" | head -n 4
  fi
  echo "result: $np passed, $nf failed, $ns skipped; logs: $OUT/<step>.log"
} > "$OUT/summary.txt"
cat "$OUT/summary.txt"
((nf == 0))

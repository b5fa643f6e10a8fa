"""Runs pytest (on tests/test_cuda.py) in a process meant to run under compute-sanitizer.

Array libraries pool device memory: an out-of-bounds access that lands inside a pooled block is
invisible to memcheck, and memory written by an earlier array looks initialised to initcheck. So
before pytest starts, the pools are switched off: CuPy's allocators are set to plain cudaMalloc /
cudaFree, and PyTorch's caching allocator is disabled (PYTORCH_NO_CUDA_MEMORY_CACHING, read when
torch initialises CUDA). The library is the one named by $TFPOSE_TEST_ARRAY_LIB (cupy or torch).

Usage: compute-sanitizer --tool memcheck python tools/gpu/sanitize_pytest.py [pytest arguments]
Exit status: pytest's.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    lib = os.environ.get("TFPOSE_TEST_ARRAY_LIB")
    if lib not in ("cupy", "torch"):
        print(f"sanitize_pytest: TFPOSE_TEST_ARRAY_LIB: expected cupy or torch, got {lib!r}", file=sys.stderr)
        return 2
    if lib == "cupy":
        import cupy

        cupy.cuda.set_allocator(None)
        cupy.cuda.set_pinned_memory_allocator(None)
    else:
        os.environ["PYTORCH_NO_CUDA_MEMORY_CACHING"] = "1"
    import pytest

    return pytest.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

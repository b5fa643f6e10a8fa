#!/usr/bin/env bash
# Builds the core's C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer and under
# ThreadSanitizer, and runs them (the TSan run: the worker pool and the fast path's caches); the fork
# check runs in a third, unsanitized build (see tests/cpp/test_core.cc main()).
# Usage: tests/cpp/run_sanitizers.sh [build folder, default build/cpp]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-build/cpp}"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
for san in address,undefined thread none; do
  dir="$out-${san%%,*}"
  cmake -S tests/cpp -B "$dir" "${gen[@]}" -DTFPOSE_SANITIZE="$san" >/dev/null
  cmake --build "$dir" -j 2 >/dev/null
  case "$san" in
    thread)
      # fork() with running threads is outside what TSan supports.
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "$dir/test_core" --threads-only ;;
    none)
      # fork() during computation, without a sanitizer: GCC's libasan does not hold its own allocator
      # lock across fork(), so under ASan a child can deadlock inside ASan's malloc (not tfpose's code).
      "$dir/test_core" --fork-only ;;
    *)
      ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        "$dir/test_core" --no-fork ;;
  esac
done

#!/usr/bin/env bash
# Builds the core's C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer and under
# ThreadSanitizer, and runs them (the TSan run: the worker pool and the fast path's caches).
# Usage: tests/cpp/run_sanitizers.sh [build folder, default build/cpp]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-build/cpp}"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
for san in address,undefined thread; do
  dir="$out-${san%%,*}"
  cmake -S tests/cpp -B "$dir" "${gen[@]}" -DTFPOSE_SANITIZE="$san" >/dev/null
  cmake --build "$dir" -j 2 >/dev/null
  if [ "$san" = thread ]; then
    # fork() with running threads is outside what TSan supports: the fork check runs under ASan.
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "$dir/test_core" --threads-only
  else
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
      "$dir/test_core"
  fi
done

// Scans over byte flags (each byte 0 or 1), eight bytes at a time: the fast path's tile flags and
// chunk marks are mostly zero, so whole zero words are skipped with one test. CPU only.
#pragma once

#include <cstdint>
#include <cstring>

namespace tfpose {
namespace detail {

// Whether any of the n bytes at f is nonzero.
inline bool any_nonzero(const char* f, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, f + i, 8);
    if (w != 0) return true;
  }
  for (; i < n; ++i)
    if (f[i]) return true;
  return false;
}

// Number of nonzero bytes among the n bytes at f, each 0 or 1: the top byte of w * 0x0101..01 is the
// sum of w's eight bytes (at most 8, so no carry reaches it).
inline int64_t count_flags(const char* f, int64_t n) {
  int64_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, f + i, 8);
    count += static_cast<int64_t>((w * 0x0101010101010101ull) >> 56);
  }
  for (; i < n; ++i) count += f[i];
  return count;
}

// emit(t0, t1) for every maximal run [t0, t1) of nonzero bytes among f[0, n) (each 0 or 1), left to
// right; zero bytes are skipped eight at a time.
template <typename Emit>
void for_runs(const char* f, int64_t n, Emit emit) {
  int64_t t = 0;
  while (t < n) {
    if (t + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, f + t, 8);
      if (w == 0) {
        t += 8;
        continue;
      }
      t += __builtin_ctzll(w) / 8;  // little-endian: the lowest set byte is the first nonzero one
    } else if (!f[t]) {
      ++t;
      continue;
    }
    // The run's end: the first zero byte, eight at a time (the bytes are 0 or 1, so ~w & 0x01..01
    // marks the zero ones).
    int64_t t1 = t + 1;
    while (t1 + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, f + t1, 8);
      const uint64_t zeros = ~w & 0x0101010101010101ull;
      if (zeros != 0) {
        t1 += __builtin_ctzll(zeros) / 8;
        break;
      }
      t1 += 8;
    }
    if (t1 + 8 > n)
      while (t1 < n && f[t1]) ++t1;
    emit(t, t1);
    t = t1;
  }
}

}  // namespace detail
}  // namespace tfpose

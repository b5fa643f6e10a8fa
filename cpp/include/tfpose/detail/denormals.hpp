// Host-only: the FTZ/DAZ guard of the CPU core's map arithmetic.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define TFPOSE_HAVE_MXCSR 1
#endif

namespace tfpose {
namespace detail {

// TensorFlow runs kernels with denormals flushed to zero (FTZ/DAZ), numpy callers and OpenCV do not,
// and CUDA keeps them by default. Tiny map values (e.g. 1e-40 near a zero background) would then
// differ by caller; the core fixes the mode to IEEE (no flushing) while it computes, then restores.
// Every worker that evaluates interpolated values (dense or per pixel) holds one.
class ScopedKeepDenormals {
 public:
  ScopedKeepDenormals() {
#ifdef TFPOSE_HAVE_MXCSR
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ & ~(0x8000u | 0x0040u));  // clear FTZ and DAZ
#endif
  }
  ~ScopedKeepDenormals() {
#ifdef TFPOSE_HAVE_MXCSR
    _mm_setcsr(saved_);
#endif
  }
  ScopedKeepDenormals(const ScopedKeepDenormals&) = delete;
  ScopedKeepDenormals& operator=(const ScopedKeepDenormals&) = delete;

 private:
  unsigned int saved_ = 0;
};

}  // namespace detail
}  // namespace tfpose

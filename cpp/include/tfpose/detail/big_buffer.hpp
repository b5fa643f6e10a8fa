// Uninitialised scratch for the dense chain's full-resolution maps (55 MB per 656x368x57 frame).
// A zero-filled std::vector faults such a buffer in 4 KiB page by page, which cost more than the
// resize itself (~30 ms a frame measured here); on Linux we ask for transparent huge pages, which
// most kernels only grant to memory that asks (THP "madvise" mode), and skip the zero fill.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tfpose {
namespace detail {

template <typename T>
class BigBuffer {
 public:
  explicit BigBuffer(size_t count) : count_(count) {
    if (count == 0) return;
    const size_t bytes = count * sizeof(T);
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t align = bytes >= kHuge ? kHuge : alignof(std::max_align_t) < 64 ? 64 : alignof(std::max_align_t);
    const size_t rounded = (bytes + align - 1) / align * align;
    data_ = static_cast<T*>(std::aligned_alloc(align, rounded));
    if (data_ == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= kHuge) madvise(data_, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
  }
  ~BigBuffer() { std::free(data_); }
  BigBuffer(const BigBuffer&) = delete;
  BigBuffer& operator=(const BigBuffer&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return count_; }
  // Frees the memory early (the maps are no longer needed once the peaks are found).
  void release() {
    std::free(data_);
    data_ = nullptr;
    count_ = 0;
  }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace detail
}  // namespace tfpose

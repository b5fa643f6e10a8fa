// GPU kernel of TfposeMaximum (built only when CMake compiles CUDA into the op library).
#if GOOGLE_CUDA && defined(TFPOSE_WITH_CUDA)

#include "maximum_kernel.hpp"
#include "tf_gpu_util.hpp"

namespace tfpose_tf {

class MaximumGpuOp : public MaximumOpBase {
 public:
  using MaximumOpBase::MaximumOpBase;

 protected:
  void Run(::tensorflow::OpKernelContext* ctx, const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c,
           float* out) override {
    CheckLaunch(ctx, "TfposeMaximum", tfpose::cuda::maximum(heatmaps, n, h, w, c, out, GpuStream(ctx)));
  }
};

REGISTER_KERNEL_BUILDER(Name("TfposeMaximum").Device(::tensorflow::DEVICE_GPU), MaximumGpuOp);

}  // namespace tfpose_tf

#endif

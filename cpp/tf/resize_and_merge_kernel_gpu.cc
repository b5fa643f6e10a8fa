// GPU kernel of TfposeResizeAndMerge (built only when CMake compiles CUDA into the op library). The
// ratios and the target size are read on the host (HostMemory), the maps stay on the device.
#if GOOGLE_CUDA && defined(TFPOSE_WITH_CUDA)

#include "resize_and_merge_kernel.hpp"
#include "tf_gpu_util.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class ResizeAndMergeGpuOp : public ResizeAndMergeOpBase {
 public:
  using ResizeAndMergeOpBase::ResizeAndMergeOpBase;

 protected:
  void Run(OpKernelContext* ctx, const std::vector<tfpose::ScaleMaps>& scales, int64_t n, int64_t c, int64_t H,
           int64_t W, tfpose::OpenposeBuild build, float* out) override {
    CheckLaunch(ctx, "TfposeResizeAndMerge",
                tfpose::cuda::resize_and_merge(scales, n, c, H, W, build, out, GpuStream(ctx)));
  }
};

REGISTER_KERNEL_BUILDER(
    Name("TfposeResizeAndMerge").Device(DEVICE_GPU).HostMemory("scale_ratios").HostMemory("target_size"),
    ResizeAndMergeGpuOp);

}  // namespace tfpose_tf

#endif

// GPU kernel of TfposeNms (built only when CMake compiles CUDA into the op library). The offset is
// read on the host (HostMemory); heatmaps, peaks and counts stay on the device.
#if GOOGLE_CUDA && defined(TFPOSE_WITH_CUDA)

#include "nms_kernel.hpp"
#include "tf_gpu_util.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class NmsGpuOp : public NmsOpBase {
 public:
  using NmsOpBase::NmsOpBase;

 protected:
  void Run(OpKernelContext* ctx, const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p,
           const tfpose::NmsParams& params, float* peaks, int32_t* counts) override {
    CheckLaunch(ctx, "TfposeNms", tfpose::cuda::nms(heatmaps, n, h, w, p, params, peaks, counts, GpuStream(ctx)));
  }
};

REGISTER_KERNEL_BUILDER(Name("TfposeNms").Device(DEVICE_GPU).HostMemory("offset"), NmsGpuOp);

}  // namespace tfpose_tf

#endif

// GPU entry points of tfpose._core on device arrays (any object with __cuda_array_interface__:
// CuPy arrays, PyTorch CUDA tensors, Numba device arrays), so the CUDA kernels can be used and
// tested without TensorFlow. Outputs are caller-allocated device arrays; launches are enqueued on
// `stream` (0 = the legacy default stream) and not synchronised.
#include "bindings.hpp"

#ifdef TFPOSE_WITH_CUDA
#include <pybind11/stl.h>
#include "tfpose/connector.hpp"
#include "tfpose/paf_scores.hpp"
#include "tfpose/pose_model.hpp"

#include <string>
#include <utility>
#include <vector>

#include "tfpose/cuda_launch.hpp"
#include "tfpose/maximum.hpp"
#include "tfpose/nms.hpp"
#include "tfpose/resize_and_merge.hpp"

namespace tfpose_py {
namespace {

struct DeviceArray {
  void* ptr = nullptr;
  std::vector<int64_t> shape;
  int device = -1;  // -1: empty array (no memory to check)
};

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

int64_t elements(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

void check_launch(int code, const char* what) {
  if (code != 0) throw std::runtime_error(std::string(what) + ": CUDA error: " + tfpose::cuda::error_string(code));
}

// Reads a C-contiguous device array of the given typestr ("<f4", "<i4") and rank, and checks that
// its memory is device (or managed) memory: a host pointer handed to a kernel would crash it.
DeviceArray device_array(const py::object& obj, const std::string& what, const char* typestr, int rank, bool writable) {
  if (!py::hasattr(obj, "__cuda_array_interface__"))
    throw tfpose::InvalidArgument(tfpose::expected_got(
        what, "a CUDA device array (__cuda_array_interface__, e.g. cupy.ndarray or a torch CUDA tensor)",
        std::string(py::str(py::type::of(obj).attr("__name__")))));
  py::dict d = obj.attr("__cuda_array_interface__");
  DeviceArray a;
  for (auto v : d["shape"].cast<py::tuple>()) a.shape.push_back(v.cast<int64_t>());
  std::string ts = d["typestr"].cast<std::string>();
  if (ts != typestr) throw tfpose::InvalidArgument(tfpose::expected_got(what, std::string("dtype ") + typestr, ts));
  if (static_cast<int>(a.shape.size()) != rank)
    throw tfpose::InvalidArgument(tfpose::expected_got(what, "rank " + std::to_string(rank), shape_text(a.shape)));
  if (d.contains("strides") && !d["strides"].is_none()) {
    auto strides = d["strides"].cast<std::vector<int64_t>>();
    int64_t expect = 4;
    for (int i = rank - 1; i >= 0; --i) {
      if (a.shape[i] > 1 && strides[i] != expect)
        throw tfpose::InvalidArgument(tfpose::expected_got(what, "a C-contiguous array", "strided data"));
      expect *= a.shape[i];
    }
  }
  if (d.contains("mask") && !d["mask"].is_none())
    throw tfpose::InvalidArgument(tfpose::expected_got(what, "an unmasked array", "a masked one"));
  auto data = d["data"].cast<py::tuple>();
  a.ptr = reinterpret_cast<void*>(data[0].cast<uintptr_t>());
  if (writable && data[1].cast<bool>())
    throw tfpose::InvalidArgument(tfpose::expected_got(what, "a writable array", "a read-only one"));
  if (elements(a.shape) > 0) {
    check_launch(tfpose::cuda::pointer_device(a.ptr, &a.device), what.c_str());
    if (a.device < 0) throw tfpose::InvalidArgument(tfpose::expected_got(what, "device memory", "host memory"));
  }
  return a;
}

void check_shape(const DeviceArray& a, const std::vector<int64_t>& expected, const std::string& what) {
  if (a.shape != expected)
    throw tfpose::InvalidArgument(tfpose::expected_got(what + " shape", shape_text(expected), shape_text(a.shape)));
}

// All arrays of one call on one device; the launch then runs with that device current (and the
// caller's device restored), as a kernel launched on another device could not read them.
class DeviceGuard {
 public:
  explicit DeviceGuard(const std::vector<const DeviceArray*>& arrays) {
    for (const DeviceArray* a : arrays) {
      if (a->device < 0) continue;
      if (device_ < 0) device_ = a->device;
      if (a->device != device_)
        throw tfpose::InvalidArgument(
            tfpose::expected_got("device arrays", "all on one GPU",
                                 "GPUs " + std::to_string(device_) + " and " + std::to_string(a->device)));
    }
    if (device_ < 0) return;
    check_launch(tfpose::cuda::get_device(&saved_), "cudaGetDevice");
    if (saved_ != device_) check_launch(tfpose::cuda::set_device(device_), "cudaSetDevice");
  }
  ~DeviceGuard() {
    if (device_ >= 0 && saved_ != device_) tfpose::cuda::set_device(saved_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int device_ = -1;
  int saved_ = -1;
};

}  // namespace

void bind_cuda(py::module_& m) {
  m.attr("has_cuda") = true;
  m.def(
      "cuda_device_count",
      [] {
        int count = 0;
        tfpose::cuda::device_count(&count);
        return count;
      },
      "Number of CUDA devices the static CUDA runtime of this module sees (0 without driver or GPU).");

  m.def(
      "cuda_maximum",
      [](const py::object& heatmaps, const py::object& out, uintptr_t stream) {
        auto in = device_array(heatmaps, "cuda_maximum: heatmaps", "<f4", 4, false);
        auto o = device_array(out, "cuda_maximum: out", "<f4", 3, true);
        const auto& s = in.shape;
        check_shape(o, {s[0], s[3], 3}, "cuda_maximum: out");
        tfpose::check_maximum_args(s[0], s[1], s[2], s[3]);
        DeviceGuard guard({&in, &o});
        without_gil([&] {
          check_launch(tfpose::cuda::maximum(static_cast<const float*>(in.ptr), s[0], s[1], s[2], s[3],
                                             static_cast<float*>(o.ptr), reinterpret_cast<void*>(stream)),
                       "cuda_maximum");
        });
      },
      py::arg("heatmaps"), py::arg("out"), py::arg("stream") = 0,
      "heatmaps [N,H,W,C] float32 device array -> out [N,C,3] (caller-allocated device array).");

  m.def(
      "cuda_resize_and_merge",
      [](const std::vector<py::object>& net_outputs, const std::vector<double>& ratios, const py::object& out,
         const std::string& openpose_build, uintptr_t stream) {
        const tfpose::OpenposeBuild build = tfpose::parse_openpose_build(openpose_build);
        if (net_outputs.empty())
          throw tfpose::InvalidArgument(
              tfpose::expected_got("cuda_resize_and_merge: net_outputs", "at least one scale", "none"));
        const size_t num_scales = net_outputs.size();
        if (ratios.size() != num_scales)
          throw tfpose::InvalidArgument(tfpose::expected_got("cuda_resize_and_merge: scale_ratios",
                                                             std::to_string(num_scales) + " values (one per scale)",
                                                             std::to_string(ratios.size())));
        std::vector<DeviceArray> ins;
        std::vector<tfpose::ScaleMaps> scales(num_scales);
        for (size_t i = 0; i < num_scales; ++i) {
          const std::string what = "cuda_resize_and_merge: net_outputs[" + std::to_string(i) + "]";
          ins.push_back(device_array(net_outputs[i], what, "<f4", 4, false));
          const auto& s = ins.back().shape;
          if (i > 0 && (s[0] != ins[0].shape[0] || s[3] != ins[0].shape[3]))
            throw tfpose::InvalidArgument(tfpose::expected_got(what + " shape",
                                                               "N = " + std::to_string(ins[0].shape[0]) +
                                                                   " and C = " + std::to_string(ins[0].shape[3]) +
                                                                   " like net_outputs[0]",
                                                               shape_text(s)));
          scales[i] = {static_cast<const float*>(ins.back().ptr), s[1], s[2], ratios[i]};
        }
        const int64_t n = ins[0].shape[0], c = ins[0].shape[3];
        auto o = device_array(out, "cuda_resize_and_merge: out", "<f4", 4, true);
        if (o.shape[0] != n || o.shape[3] != c)
          throw tfpose::InvalidArgument(tfpose::expected_got(
              "cuda_resize_and_merge: out shape", "[" + std::to_string(n) + ", H, W, " + std::to_string(c) + "]",
              shape_text(o.shape)));
        const int64_t H = o.shape[1], W = o.shape[2];
        tfpose::check_resize_and_merge_args(scales, n, c, H, W, build);
        std::vector<const DeviceArray*> all{&o};
        for (const DeviceArray& a : ins) all.push_back(&a);
        DeviceGuard guard(all);
        without_gil([&] {
          check_launch(tfpose::cuda::resize_and_merge(scales, n, c, H, W, build, static_cast<float*>(o.ptr),
                                                      reinterpret_cast<void*>(stream)),
                       "cuda_resize_and_merge");
        });
      },
      py::arg("net_outputs"), py::arg("scale_ratios"), py::arg("out"), py::arg("openpose_build") = "cpu",
      py::arg("stream") = 0,
      "net_outputs: list of S float32 device arrays [N, h_i, w_i, C]; scale_ratios: S floats; out: "
      "caller-allocated float32 device array [N, H, W, C] (its H, W are the target size).");

  m.def(
      "cuda_nms",
      [](const py::object& heatmaps, const tfpose::NmsParams& params, const py::object& peaks, const py::object& counts,
         uintptr_t stream) {
        auto in = device_array(heatmaps, "cuda_nms: heatmaps", "<f4", 4, false);
        const int64_t max_peaks = params.max_peaks;
        const auto& s = in.shape;
        tfpose::check_nms_args(s[0], s[1], s[2], s[3], params);
        auto pk = device_array(peaks, "cuda_nms: peaks", "<f4", 4, true);
        auto cn = device_array(counts, "cuda_nms: counts", "<i4", 2, true);
        check_shape(pk, {s[0], s[3], max_peaks, 3}, "cuda_nms: peaks");
        check_shape(cn, {s[0], s[3]}, "cuda_nms: counts");
        DeviceGuard guard({&in, &pk, &cn});
        without_gil([&] {
          check_launch(tfpose::cuda::nms(static_cast<const float*>(in.ptr), s[0], s[1], s[2], s[3], params,
                                         static_cast<float*>(pk.ptr), static_cast<int32_t*>(cn.ptr),
                                         reinterpret_cast<void*>(stream)),
                       "cuda_nms");
        });
      },
      py::arg("heatmaps"), py::arg("params"), py::arg("peaks"), py::arg("counts"), py::arg("stream") = 0,
      "heatmaps [N,H,W,P] float32 device array -> peaks [N,P,K,3] float32 and counts [N,P] int32 "
      "(caller-allocated device arrays).");

  m.def(
      "cuda_paf_scores",
      [](const py::object& maps, const py::object& peaks, const py::object& counts, const std::string& model,
         const std::string& openpose_build, const tfpose::ConnectThresholds& thresholds, const py::object& out,
         uintptr_t stream) {
        const tfpose::PoseModel& pm = tfpose::get_pose_model(model);
        const tfpose::OpenposeBuild build = tfpose::parse_openpose_build(openpose_build);
        auto mp = device_array(maps, "cuda_paf_scores: maps", "<f4", 4, false);
        auto pk = device_array(peaks, "cuda_paf_scores: peaks", "<f4", 4, false);
        auto cn = device_array(counts, "cuda_paf_scores: counts", "<i4", 2, false);
        auto o = device_array(out, "cuda_paf_scores: out", "<f4", 4, true);
        const auto& ms = mp.shape;
        const auto& ps = pk.shape;
        tfpose::check_connect_shapes(ms[0], ms[1], ms[2], ms[3], ps[0], ps[1], ps[2], cn.shape[0], cn.shape[1], 1, pm);
        const auto limbs = tfpose::paf_limbs(pm);
        if (limbs.size() > static_cast<size_t>(tfpose::cuda::kMaxPafLimbs))
          throw tfpose::InvalidArgument(tfpose::expected_got("cuda_paf_scores: limbs of model " + model,
                                                             "at most " + std::to_string(tfpose::cuda::kMaxPafLimbs),
                                                             std::to_string(limbs.size())));
        tfpose::check_paf_score_args(ms[0], ms[1], ms[2], ms[3], ps[1], ps[2], limbs);
        const int64_t L = static_cast<int64_t>(limbs.size());
        check_shape(o, {ms[0], L, ps[2], ps[2]}, "cuda_paf_scores: out");
        const auto params =
            tfpose::paf_score_params(tfpose::resolve_thresholds(pm, thresholds), build, ms[2], ms[1]);  // (W, H)
        DeviceGuard guard({&mp, &pk, &cn, &o});
        without_gil([&] {
          check_launch(tfpose::cuda::paf_scores(static_cast<const float*>(mp.ptr), ms[0], ms[1], ms[2], ms[3],
                                                static_cast<const float*>(pk.ptr), static_cast<const int32_t*>(cn.ptr),
                                                ps[1], ps[2], limbs, params, static_cast<float*>(o.ptr),
                                                reinterpret_cast<void*>(stream)),
                       "cuda_paf_scores");
        });
      },
      py::arg("maps"), py::arg("peaks"), py::arg("counts"), py::arg("model"), py::arg("openpose_build"),
      py::arg("thresholds"), py::arg("out"), py::arg("stream") = 0,
      "maps [N,H,W,C], peaks [N,P,K,3] float32, counts [N,P] int32 device arrays -> out [N,L,K,K] float32 "
      "(caller-allocated) PAF pair scores, as paf_scores. Peak values are not validated (device memory); "
      "counts outside [0, K] are clamped.");
}

}  // namespace tfpose_py
#else
namespace tfpose_py {
void bind_cuda(py::module_& m) {
  m.attr("has_cuda") = false;
}
}  // namespace tfpose_py
#endif

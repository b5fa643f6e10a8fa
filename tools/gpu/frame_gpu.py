"""A whole frame on the GPU without TensorFlow: the network by ONNX Runtime's CUDA provider, its
output kept on the device and fed to tfpose.cuda (resize-and-merge, NMS, PAF pair scores).

Reads ``gpu_data/frame/`` (made by ``python tools/gpu/prepare_gpu_data.py --onnx``): mobilenet_thin as
ONNX, one real net input (frame 60 of OpenPose's sample video at 656x368) and TensorFlow's output for
it. Checks, then times (medians of --reps, each from the host frame to results on the host):

* ONNX Runtime (CUDA, TF32 off) gives TensorFlow's output within 1e-3 (absolute);
* tfpose.cuda on that device output gives the CPU core's results on the same output ("cuda" build:
  peaks within 1e-3 px, counts equal, pair scores within 1e-5);
* net alone | net + GPU post-processing (peaks, counts and pair scores copied back; the assembly
  of people stays on the host) | net + copy of its output + the CPU core's whole chain
  (numpy_ops.net_output_to_people, fast path, all cores).

Usage: python tools/gpu/frame_gpu.py [--data gpu_data/frame] [--reps 20] [--json out.json]
Exit status 0 when every check passes, 1 when one fails, 77 with a line "SKIP: reason" when this
machine cannot run it (no frame data, no CUDA build or GPU, no CuPy/torch, or ONNX Runtime without
its CUDA provider).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
# COCO_18 parts and the offset of this frame; NMS threshold and K are the ops' defaults (the core's).
P, OFFSET = 18, (0.5, 0.5)
NET_TOLERANCE = 1e-3


def skip(reason: str) -> None:
    print(f"SKIP: {reason}")
    sys.exit(77)


class Device:
    """Device buffers of one array library, with the raw pointers ONNX Runtime binds to."""

    def __init__(self, name: str):
        self.name = name
        self.mod = __import__(name)

    def up(self, a):
        return self.mod.asarray(a) if self.name == "cupy" else self.mod.from_numpy(np.ascontiguousarray(a)).cuda()

    def empty(self, shape):
        if self.name == "cupy":
            return self.mod.empty(shape, dtype=self.mod.float32)
        return self.mod.empty(shape, dtype=self.mod.float32, device="cuda")

    def ptr(self, a) -> int:
        return a.data.ptr if self.name == "cupy" else a.data_ptr()

    def copy_from_host(self, dst, src: np.ndarray):
        if self.name == "cupy":
            dst.set(src)
        else:
            dst.copy_(self.mod.from_numpy(src))

    def down(self, a):
        return self.mod.asnumpy(a) if self.name == "cupy" else a.cpu().numpy()

    def contiguous(self, a):
        return a.copy() if self.name == "cupy" else a.contiguous()

    def sync(self):
        if self.name == "cupy":
            self.mod.cuda.get_current_stream().synchronize()
        else:
            self.mod.cuda.synchronize()


def median_ms(fn, reps: int) -> float:
    for _ in range(3):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def _array_library() -> str:
    """ "torch" (with CUDA) or "cupy", whichever holds device buffers here; skips without either."""
    lib = next((n for n in ("torch", "cupy") if importlib.util.find_spec(n)), None)
    if lib == "torch":
        import torch

        if not torch.cuda.is_available():
            lib = "cupy" if importlib.util.find_spec("cupy") else None
    if lib is None:
        skip("neither PyTorch with CUDA nor CuPy is importable")
    return lib


def _cuda_session(ort, model: Path):
    """An ONNX Runtime session of the model on the CUDA provider (TF32 off where the provider takes
    the option) and the provider options used; skips when the model does not land on the GPU."""
    options = {"device_id": 0, "use_tf32": 0}  # TF32 convolutions would not match TensorFlow's float32
    try:
        sess = ort.InferenceSession(str(model), providers=[("CUDAExecutionProvider", options), "CPUExecutionProvider"])
    except Exception as e:  # an ONNX Runtime without the use_tf32 option
        print(f"frame_gpu: CUDA provider options {options} refused ({e}); using the defaults")
        options = {"device_id": 0}
        sess = ort.InferenceSession(str(model), providers=[("CUDAExecutionProvider", options), "CPUExecutionProvider"])
    if sess.get_providers()[0] != "CUDAExecutionProvider":
        skip(f"ONNX Runtime did not place the model on the GPU (providers {sess.get_providers()})")
    return sess, options


def _compare_post(got: tuple, want: tuple) -> tuple[list, bool]:
    """(peaks, counts, pair scores) of the GPU against the CPU's: the failures found and whether the
    two are bit-identical. Counts must match exactly; coordinates within 1e-3 px, scores 1e-5."""
    pk, cn, sc = got
    want_pk, want_cn, want_sc = want
    failures = []
    if not np.array_equal(cn, want_cn):
        failures.append(f"peak counts differ: GPU {cn.tolist()} CPU {want_cn.tolist()}")
    else:
        if not np.allclose(pk[..., :2], want_pk[..., :2], rtol=0, atol=1e-3):
            failures.append(f"peak coordinates differ by {np.abs(pk[..., :2] - want_pk[..., :2]).max():.3g} px")
        if not np.allclose(pk[..., 2], want_pk[..., 2], rtol=0, atol=1e-5):
            failures.append("peak scores differ")
        if not np.allclose(sc, want_sc, rtol=0, atol=1e-5):
            failures.append(f"pair scores differ by {np.abs(sc - want_sc).max():.3g}")
    bit_identical = bool(np.array_equal(pk, want_pk) and np.array_equal(cn, want_cn) and np.array_equal(sc, want_sc))
    return failures, bit_identical


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO / "gpu_data" / "frame")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error(f"--reps: expected >= 1, got {args.reps}")

    if not (args.data / "mobilenet_thin.onnx").is_file():
        skip(
            f"no {args.data / 'mobilenet_thin.onnx'} (python tools/gpu/prepare_gpu_data.py --onnx, then carry gpu_data)"
        )
    from tfpose import _core, numpy_ops

    if not getattr(_core, "has_cuda", False) or _core.cuda_device_count() == 0:
        skip("needs a tfpose build with CUDA kernels and a visible GPU")
    lib = _array_library()
    if importlib.util.find_spec("onnxruntime") is None:
        skip("onnxruntime is not installed")
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        skip(f"ONNX Runtime {ort.__version__} has no CUDA provider (providers: {ort.get_available_providers()})")
    import tfpose.cuda as tc

    dev = Device(lib)
    meta = json.loads((args.data / "meta.json").read_text())
    frame = np.load(args.data / "net_input.npy").astype(np.float32)  # [1, 368, 656, 3] BGR 0..255
    tf_out = np.load(args.data / "tf_output.npy")  # [1, 46, 82, 57]
    H, W = frame.shape[1:3]
    image_hw = tuple(meta["image_hw"])

    sess, options = _cuda_session(ort, args.data / "mobilenet_thin.onnx")
    x = dev.empty(frame.shape)
    y = dev.empty(tf_out.shape)
    io = sess.io_binding()
    io.bind_input("image:0", "cuda", 0, np.float32, list(frame.shape), dev.ptr(x))
    io.bind_output("Openpose/concat_stage7:0", "cuda", 0, np.float32, list(tf_out.shape), dev.ptr(y))

    def net():
        dev.copy_from_host(x, frame)
        dev.sync()
        sess.run_with_iobinding(io)
        io.synchronize_outputs()

    def gpu_post():
        maps = tc.resize_and_merge(y, [1.0], (H, W), "cuda")
        peaks, counts = tc.nms(dev.contiguous(maps[..., :P]), offset=OFFSET, openpose_build="cuda")
        scores = tc.paf_scores(maps, peaks, counts, "COCO_18", "cuda")
        return dev.down(peaks), dev.down(counts), dev.down(scores)

    def cpu_post():
        return numpy_ops.net_output_to_people(dev.down(y), [1.0], (H, W), image_hw, openpose_build="cuda")

    failures = []
    net()
    net_out = dev.down(y)
    diff = float(np.abs(net_out - tf_out).max())
    print(f"frame_gpu: ONNX Runtime CUDA ({lib} buffers, options {options}) vs TensorFlow: max |diff| {diff:.3g}")
    if not diff <= NET_TOLERANCE:
        failures.append(f"network output differs from TensorFlow's by {diff:.3g} > {NET_TOLERANCE}")

    pk, cn, sc = gpu_post()
    maps = numpy_ops.resize_and_merge(net_out, [1.0], (H, W), "cuda")
    want_pk, want_cn = numpy_ops.nms(np.ascontiguousarray(maps[..., :P]), offset=OFFSET, openpose_build="cuda")
    want_sc = _core.paf_scores(maps, want_pk, want_cn, "COCO_18", "cuda")
    post_failures, bit_identical = _compare_post((pk, cn, sc), (want_pk, want_cn, want_sc))
    failures += post_failures
    _, _, n_people = cpu_post()
    print(
        f"frame_gpu: post-processing on the device output: {int(cn.sum())} peaks, {int(n_people[0])} people "
        f"(CPU chain); GPU == CPU bit for bit: {bit_identical}"
    )

    summary = dict(
        lib=lib,
        onnxruntime=ort.__version__,
        provider_options=options,
        net_max_abs_diff=diff,
        gpu_cpu_bit_identical=bit_identical,
        peaks=int(cn.sum()),
        people=int(n_people[0]),
    )
    return _time_and_report(summary, failures, net, gpu_post, cpu_post, args.reps, args.json)


def _time_and_report(summary: dict, failures: list, net, gpu_post, cpu_post, reps: int, json_path) -> int:
    """Times the network alone and with each post-processing (median ms of reps), prints them, writes
    the summary + timings + failures as JSON where asked; 1 if anything failed, else 0."""
    t_net = median_ms(net, reps)
    t_gpu = median_ms(lambda: (net(), gpu_post()), reps)
    t_cpu = median_ms(lambda: (net(), cpu_post()), reps)
    print(
        f"frame_gpu: ms per frame (median of {reps}): net {t_net:.2f}; net + GPU post-processing "
        f"{t_gpu:.2f}; net + CPU post-processing {t_cpu:.2f}"
    )
    device = "cuda:0"
    if summary["lib"] == "torch":
        import torch

        device = torch.cuda.get_device_name(0)
    result = dict(
        device=device, **summary, ms_net=t_net, ms_net_gpu_post=t_gpu, ms_net_cpu_post=t_cpu, failures=failures
    )
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=1))
    for f in failures:
        print(f"frame_gpu: FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

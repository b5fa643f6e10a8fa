"""GPU timings of tfpose's CUDA kernels (tfpose.cuda) against the CPU core and a naive GPU baseline.

Per op and for the whole GPU post-processing, in microseconds (median of --reps, CUDA events around
each call, after warm-up), for batch 1/8/32 and 1-3 scales of a COCO-sized network output
(46 x 82 x 57 per image at scale 0, i.e. a 368 x 656 net input; scales 1, 0.75, 0.5):

  resize_and_merge   tfpose.cuda, "cpu" and "cuda" builds  | CPU core (numpy_ops)  | naive GPU
  nms                tfpose.cuda on the merged 18 part maps | CPU core              | naive GPU
  maximum            tfpose.cuda                            | CPU core              | -
  paf_scores         tfpose.cuda pair-score table [N,L,K,K] | CPU core table        | -
  whole              resize + nms + paf_scores on the GPU, peaks/counts/scores copied to the host
                     | CPU: numpy_ops.net_output_to_people (resize, NMS, full connector)
                     | naive GPU: interpolate + max-pool NMS + copy of the peak mask

Naive GPU baseline (what one writes with the framework at hand): PyTorch
``F.interpolate(mode="bicubic", align_corners=False)`` per scale then the mean, and peaks as
``(x == max_pool2d(x, 3, 1, 1)) & (x > threshold)``; with CuPy, ``cupyx.scipy.ndimage.zoom(order=3)``
and ``maximum_filter``. It is not OpenPose's arithmetic (different kernel, no refinement, no K cap).

Usage (on a machine with a GPU, tfpose built with CUDA, and CuPy or PyTorch):
    python benchmarks/bench_gpu.py [--reps 20] [--batches 1 8 32] [--scales 1 2 3] [--lib torch|cupy]
        [--cpu-max-batch 8] [--json out.json]
Exits with status 2 and a message when no GPU (or no CUDA build, or no array library) is available.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time

import numpy as np

RATIOS = (1.0, 0.75, 0.5)
NET_HW = (46, 82)
C, P = 57, 18


def die(msg: str) -> None:
    print(f"bench_gpu: {msg}", file=sys.stderr)
    sys.exit(2)


def pick_lib(requested):
    from tfpose import _core

    if not getattr(_core, "has_cuda", False):
        die(
            "tfpose was built without CUDA kernels (tfpose._core.has_cuda is False); "
            "rebuild with nvcc and -DTFPOSE_CUDA=ON (cpp/cuda/README.md). Nothing timed."
        )
    if _core.cuda_device_count() == 0:
        die("no CUDA GPU visible (tfpose._core.cuda_device_count() == 0). Nothing timed.")
    for name in [requested] if requested else ["torch", "cupy"]:
        if importlib.util.find_spec(name) is None:
            continue
        if name == "torch":
            import torch

            if not torch.cuda.is_available():
                continue
        return name
    die("neither PyTorch with CUDA nor CuPy is importable (needed for device arrays). Nothing timed.")


class Lib:
    def __init__(self, name):
        self.name = name
        self.mod = importlib.import_module(name)
        if name == "torch":
            import torch.nn.functional as F

            self.F = F
        else:
            import cupyx.scipy.ndimage as ndi

            self.ndi = ndi

    def up(self, a):
        return self.mod.asarray(a) if self.name == "cupy" else self.mod.from_numpy(np.ascontiguousarray(a)).cuda()

    def sync(self):
        if self.name == "cupy":
            self.mod.cuda.get_current_stream().synchronize()
        else:
            self.mod.cuda.synchronize()

    def time_us(self, fn, reps):
        """Median GPU time of fn() in microseconds, CUDA events on the current stream."""
        for _ in range(3):
            fn()
        self.sync()
        out = []
        for _ in range(reps):
            if self.name == "cupy":
                e0, e1 = self.mod.cuda.Event(), self.mod.cuda.Event()
                e0.record()
                fn()
                e1.record()
                e1.synchronize()
                out.append(self.mod.cuda.get_elapsed_time(e0, e1) * 1e3)
            else:
                e0 = self.mod.cuda.Event(enable_timing=True)
                e1 = self.mod.cuda.Event(enable_timing=True)
                e0.record()
                fn()
                e1.record()
                e1.synchronize()
                out.append(e0.elapsed_time(e1) * 1e3)
        return statistics.median(out)

    # ---- naive baseline
    def naive_resize(self, nets_nhwc, H, W):
        if self.name == "torch":
            acc = None
            for x in nets_nhwc:
                y = self.F.interpolate(x.permute(0, 3, 1, 2), size=(H, W), mode="bicubic", align_corners=False)
                acc = y if acc is None else acc + y
            return acc / len(nets_nhwc)  # NCHW
        acc = None
        for x in nets_nhwc:
            n, h, w, c = x.shape
            y = self.ndi.zoom(x, (1, H / h, W / w, 1), order=3)
            acc = y if acc is None else acc + y
        return acc / len(nets_nhwc)  # NHWC

    def naive_nms(self, maps, threshold):
        if self.name == "torch":
            heat = maps[:, :P]
            pooled = self.F.max_pool2d(heat, 3, 1, 1)
            return (heat == pooled) & (heat > threshold)
        heat = maps[..., :P]
        return (heat == self.ndi.maximum_filter(heat, size=(1, 3, 3, 1))) & (heat > threshold)

    def to_host(self, x):
        return self.mod.asnumpy(x) if self.name == "cupy" else x.cpu().numpy()


def cpu_ms(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--cpu-reps", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    ap.add_argument("--cpu-max-batch", type=int, default=32, help="skip CPU timings above this batch")
    ap.add_argument("--lib", choices=["torch", "cupy"])
    ap.add_argument("--json")
    args = ap.parse_args()

    lib = Lib(pick_lib(args.lib))
    import tfpose.cuda as tc
    from tfpose import _core, numpy_ops

    print(f"bench_gpu: array library {lib.name}, {_core.cuda_device_count()} GPU(s)")
    rng = np.random.default_rng(0)
    H, W = 8 * NET_HW[0], 8 * NET_HW[1]
    thr, K, off = 0.05, 127, (0.5, 0.5)
    rows = []

    def row(op, batch, scales, gpu_us, cpu_us=None, naive_us=None, note=""):
        r = dict(op=op, batch=batch, scales=scales, gpu_us=gpu_us, cpu_us=cpu_us, naive_gpu_us=naive_us, note=note)
        rows.append(r)

        def f(v):
            return "-" if v is None else f"{v:,.0f}"

        speed = "" if cpu_us is None else f"  cpu/gpu {cpu_us / gpu_us:.1f}x"
        print(
            f"{op:<26} N={batch:<3} S={scales}  gpu {f(gpu_us):>10} us  cpu {f(cpu_us):>12} us  "
            f"naive {f(naive_us):>10} us{speed} {note}",
            flush=True,
        )

    for n in args.batches:
        do_cpu = n <= args.cpu_max_batch
        for s in args.scales:
            nets = [
                rng.random((n, max(1, round(NET_HW[0] * r)), max(1, round(NET_HW[1] * r)), C), dtype=np.float32)
                for r in RATIOS[:s]
            ]
            ratios = list(RATIOS[:s])
            d_nets = [lib.up(x) for x in nets]
            for build in ("cpu", "cuda"):
                g = lib.time_us(lambda: tc.resize_and_merge(d_nets, ratios, (H, W), build), args.reps)
                c = (
                    cpu_ms(lambda: numpy_ops.resize_and_merge(nets, ratios, (H, W), build), args.cpu_reps)
                    if do_cpu
                    else None
                )
                nv = lib.time_us(lambda: lib.naive_resize(d_nets, H, W), args.reps) if build == "cpu" else None
                row(f"resize_and_merge[{build}]", n, s, g, c, nv)
            maps = numpy_ops.resize_and_merge(nets, ratios, (H, W), "cpu")
            d_maps = lib.up(maps)
            if s == args.scales[0]:
                heat = np.ascontiguousarray(maps[..., :P])
                d_heat = lib.up(heat)
                for build in ("cpu", "cuda"):
                    g = lib.time_us(lambda: tc.nms(d_heat, thr, K, off, build), args.reps)
                    c = cpu_ms(lambda: numpy_ops.nms(heat, thr, K, off, build), args.cpu_reps) if do_cpu else None
                    d_nchw = d_maps.permute(0, 3, 1, 2).contiguous() if lib.name == "torch" else d_maps
                    nv = lib.time_us(lambda: lib.naive_nms(d_nchw, thr), args.reps) if build == "cpu" else None
                    row(f"nms[{build}]", n, s, g, c, nv)
                g = lib.time_us(lambda: tc.maximum(d_heat), args.reps)
                c = cpu_ms(lambda: numpy_ops.maximum(heat), args.cpu_reps) if do_cpu else None
                row("maximum", n, s, g, c)
                pk, cn = numpy_ops.nms(heat, thr, K, off, "cpu")
                d_pk, d_cn = lib.up(pk), lib.up(cn)
                g = lib.time_us(lambda: tc.paf_scores(d_maps, d_pk, d_cn, "COCO_18", "cuda"), args.reps)
                c = cpu_ms(lambda: _core.paf_scores(maps, pk, cn, "COCO_18", "cuda"), args.cpu_reps) if do_cpu else None
                row("paf_scores", n, s, g, c, note=f"K={K}, {int(cn.sum())} peaks")

            def gpu_whole():
                m = tc.resize_and_merge(d_nets, ratios, (H, W), "cuda")
                hm = m[..., :P]
                hm = hm.copy() if lib.name == "cupy" else hm.contiguous()
                p_, c_ = tc.nms(hm, thr, K, off, "cuda")
                sc = tc.paf_scores(m, p_, c_, "COCO_18", "cuda")
                return lib.to_host(p_), lib.to_host(c_), lib.to_host(sc)

            def naive_whole():
                m = lib.naive_resize(d_nets, H, W)
                return lib.to_host(lib.naive_nms(m, thr))

            g = lib.time_us(gpu_whole, args.reps)
            c = cpu_ms(lambda: numpy_ops.net_output_to_people(nets, ratios, (H, W)), args.cpu_reps) if do_cpu else None
            nv = lib.time_us(naive_whole, args.reps)
            row(
                "whole (gpu: no assembly)",
                n,
                s,
                g,
                c,
                nv,
                note="gpu/naive include D2H copies; cpu includes the host assembly",
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(lib=lib.name, rows=rows), f, indent=1)
        print(f"bench_gpu: wrote {args.json}")


if __name__ == "__main__":
    main()

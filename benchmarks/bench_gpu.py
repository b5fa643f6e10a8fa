"""GPU timings of tfpose's CUDA kernels (tfpose.cuda) against the CPU core and a naive GPU baseline.

Per op and for the whole GPU post-processing, in microseconds (median of --reps, CUDA events around
each call, after warm-up), for batch 1/8/32 and 1-3 scales, on two inputs:

  real    a real network output from the golden cases: mobilenet_thin on a golf image with three
          scales (real_golf_thin_3scales: 46 x 44, 34 x 32, 22 x 22 x 57 -> 368 x 352 maps), the
          same frame repeated over the batch; realistic peak counts
  random  uniform noise of a COCO-sized output (46 x 82 x 57 at scale 0, i.e. a 368 x 656 net
          input; scales 1, 0.75, 0.5): NMS keeps K = 127 peaks in every part, the pair-score table
          is full (a worst case)

  resize_and_merge   tfpose.cuda, "cpu" and "cuda" builds  | CPU core (numpy_ops)  | naive GPU
  nms                tfpose.cuda on the merged part maps    | CPU core              | naive GPU
  maximum            tfpose.cuda                            | CPU core              | -
  paf_scores         tfpose.cuda pair-score table [N,L,K,K] | CPU core table        | -
  whole              resize + nms + paf_scores on the GPU ("cuda" build), peaks/counts/scores
                     copied to the host
                     | CPU: numpy_ops.net_output_to_people (same build, fast path, full connector)
                     | naive GPU: interpolate + max-pool NMS + copy of the peak mask

The CPU core runs on all cores (threads=0). Naive GPU baseline (what one writes with the framework
at hand): PyTorch ``F.interpolate(mode="bicubic", align_corners=False)`` per scale then the mean,
and peaks as ``(x == max_pool2d(x, 3, 1, 1)) & (x > threshold)``; with CuPy,
``cupyx.scipy.ndimage.zoom(order=3)`` and ``maximum_filter``. It is not OpenPose's arithmetic
(different kernel, no refinement, no K cap).

Usage:
    python benchmarks/bench_gpu.py [--reps 20] [--batches 1 8 32] [--scales 1 2 3] [--inputs real random]
        [--lib torch|cupy] [--cpu-max-batch 8] [--json out.json] [--markdown out.md] [--readme]
    python benchmarks/bench_gpu.py --cpu-only ...    # the CPU columns only (no GPU needed)
    python benchmarks/bench_gpu.py --from-json out.json --readme   # table of an earlier run into
                                                                   # benchmarks/README.md
Without --cpu-only or --from-json, exits with status 2 and a message when no GPU (or no CUDA build,
or no array library) is available.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import statistics
import sys
import time

import numpy as np

from _common import SHARED, machine_line, markdown_table, write_section

RANDOM_RATIOS = (1.0, 0.75, 0.5)
RANDOM_NET_HW = (46, 82)
REAL_CASE = "real_golf_thin_3scales"
P = 18  # COCO_18 parts; the maps have 57 channels


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

    def device_name(self) -> str:
        if self.name == "torch":
            return self.mod.cuda.get_device_name(0)
        name = self.mod.cuda.runtime.getDeviceProperties(0)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)

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


def cpu_us(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e6


def load_real():
    """The real case's net outputs [1, h_i, w_i, 57] and scale ratios, from the golden data."""
    path = SHARED / "golden" / f"{REAL_CASE}.npz"
    if not path.is_file():
        die(
            f"--inputs real: expected {path} (../shared, $TFPOSE_SHARED, or gpu_data/ made by "
            "python tools/gpu/prepare_gpu_data.py); use --inputs random without it"
        )
    with np.load(path) as z:
        meta = json.loads(str(z["meta_json"]))
        nets = [
            np.ascontiguousarray(z[f"net_output_{i}"].astype(np.float32).transpose(1, 2, 0))[None]
            for i in range(len(meta["scale_ratios"]))
        ]
    return nets, list(meta["scale_ratios"])


def make_inputs(kind, n, s, rng, real):
    """(net outputs of the first s scales with batch n, their ratios, (H, W) of the maps)."""
    if kind == "real":
        nets, ratios = real
        nets, ratios = [np.repeat(x, n, axis=0) for x in nets[:s]], ratios[:s]
    else:
        ratios = list(RANDOM_RATIOS[:s])
        nets = [
            rng.random(
                (n, max(1, round(RANDOM_NET_HW[0] * r)), max(1, round(RANDOM_NET_HW[1] * r)), 57), dtype=np.float32
            )
            for r in ratios
        ]
    return nets, ratios, (8 * nets[0].shape[1], 8 * nets[0].shape[2])


def run(args):
    """Times every row; returns the result dict (also what --json writes)."""
    from tfpose import _core, numpy_ops

    lib = None if args.cpu_only else Lib(pick_lib(args.lib))
    if lib is not None:
        import tfpose.cuda as tc
    device = "none (--cpu-only)" if lib is None else lib.device_name()
    print(f"bench_gpu: device {device}, array library {lib.name if lib else '-'}; CPU {machine_line()}")
    rng = np.random.default_rng(0)
    real = load_real() if "real" in args.inputs else None
    thr, K, off = 0.05, 127, (0.5, 0.5)
    rows = []

    def row(inp, op, batch, scales, gpu=None, cpu=None, naive=None, note=""):
        r = dict(input=inp, op=op, batch=batch, scales=scales, gpu_us=gpu, cpu_us=cpu, naive_gpu_us=naive, note=note)
        rows.append(r)

        def f(v):
            return "-" if v is None else f"{v:,.0f}"

        speed = "" if cpu is None or gpu is None else f"  cpu/gpu {cpu / gpu:.1f}x"
        print(
            f"{inp:<6} {op:<22} N={batch:<3} S={scales}  gpu {f(gpu):>9} us  cpu {f(cpu):>11} us  "
            f"naive {f(naive):>9} us{speed} {note}",
            flush=True,
        )

    gpu_time = (lambda fn: None) if lib is None else (lambda fn: lib.time_us(fn, args.reps))
    for kind in args.inputs:
        for n in args.batches:
            do_cpu = n <= args.cpu_max_batch
            cpu_time = (lambda fn: cpu_us(fn, args.cpu_reps)) if do_cpu else (lambda fn: None)
            for s in args.scales:
                nets, ratios, (H, W) = make_inputs(kind, n, s, rng, real)
                d_nets = [lib.up(x) for x in nets] if lib else None
                for build in ("cpu", "cuda"):
                    g = gpu_time(
                        lambda d_nets=d_nets, ratios=ratios, H=H, W=W, build=build: tc.resize_and_merge(
                            d_nets, ratios, (H, W), build
                        )
                    )
                    c = cpu_time(
                        lambda nets=nets, ratios=ratios, H=H, W=W, build=build: numpy_ops.resize_and_merge(
                            nets, ratios, (H, W), build
                        )
                    )
                    nv = (
                        gpu_time(lambda d_nets=d_nets, H=H, W=W: lib.naive_resize(d_nets, H, W))
                        if build == "cpu"
                        else None
                    )
                    row(kind, f"resize_and_merge[{build}]", n, s, g, c, nv, f"{H}x{W}")
                if s == args.scales[0]:  # the per-op rows after the resize: once per batch
                    maps = numpy_ops.resize_and_merge(nets, ratios, (H, W), "cuda")
                    d_maps = lib.up(maps) if lib else None
                    heat = np.ascontiguousarray(maps[..., :P])
                    d_heat = lib.up(heat) if lib else None
                    for build in ("cpu", "cuda"):
                        g = gpu_time(lambda d_heat=d_heat, build=build: tc.nms(d_heat, thr, K, off, build))
                        c = cpu_time(lambda heat=heat, build=build: numpy_ops.nms(heat, thr, K, off, build))
                        nv = None
                        if lib and build == "cpu":
                            d_nchw = d_maps.permute(0, 3, 1, 2).contiguous() if lib.name == "torch" else d_maps
                            nv = gpu_time(lambda d_nchw=d_nchw: lib.naive_nms(d_nchw, thr))
                        row(kind, f"nms[{build}]", n, s, g, c, nv)
                    g = gpu_time(lambda d_heat=d_heat: tc.maximum(d_heat))
                    c = cpu_time(lambda heat=heat: numpy_ops.maximum(heat))
                    row(kind, "maximum", n, s, g, c)
                    pk, cn = numpy_ops.nms(heat, thr, K, off, "cuda")
                    d_pk, d_cn = (lib.up(pk), lib.up(cn)) if lib else (None, None)
                    g = gpu_time(
                        lambda d_maps=d_maps, d_pk=d_pk, d_cn=d_cn: tc.paf_scores(d_maps, d_pk, d_cn, "COCO_18", "cuda")
                    )
                    c = cpu_time(lambda maps=maps, pk=pk, cn=cn: _core.paf_scores(maps, pk, cn, "COCO_18", "cuda"))
                    row(kind, "paf_scores", n, s, g, c, note=f"K={K}, {int(cn.sum()) / n:.0f} peaks/image")

                def gpu_whole(d_nets=d_nets, ratios=ratios, H=H, W=W):
                    m = tc.resize_and_merge(d_nets, ratios, (H, W), "cuda")
                    hm = m[..., :P]
                    hm = hm.copy() if lib.name == "cupy" else hm.contiguous()
                    p_, c_ = tc.nms(hm, thr, K, off, "cuda")
                    sc = tc.paf_scores(m, p_, c_, "COCO_18", "cuda")
                    return lib.to_host(p_), lib.to_host(c_), lib.to_host(sc)

                def naive_whole(d_nets=d_nets, H=H, W=W):
                    m = lib.naive_resize(d_nets, H, W)
                    return lib.to_host(lib.naive_nms(m, thr))

                g = gpu_time(gpu_whole)
                c = cpu_time(
                    lambda nets=nets, ratios=ratios, H=H, W=W: numpy_ops.net_output_to_people(
                        nets, ratios, (H, W), openpose_build="cuda"
                    )
                )
                nv = gpu_time(naive_whole)
                row(kind, "whole", n, s, g, c, nv)
    return dict(
        device=device,
        lib=lib.name if lib else None,
        cpu=machine_line(),
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        reps=args.reps,
        cpu_reps=args.cpu_reps,
        rows=rows,
    )


def render(result) -> str:
    """Markdown: a heading, what was measured on which device, and the table."""

    def fmt(v):
        return "-" if v is None else round(v)

    rows = []
    for r in result["rows"]:
        speed = "-" if r["cpu_us"] is None or r["gpu_us"] is None else f"{r['cpu_us'] / r['gpu_us']:.1f}"
        naive = "-" if r["naive_gpu_us"] is None or r["gpu_us"] is None else f"{r['naive_gpu_us'] / r['gpu_us']:.1f}"
        rows.append(
            [
                r["input"],
                r["op"],
                r["batch"],
                r["scales"],
                fmt(r["gpu_us"]),
                fmt(r["cpu_us"]),
                fmt(r["naive_gpu_us"]),
                speed,
                naive,
                r["note"],
            ]
        )
    head = (
        f"## CUDA kernels (`benchmarks/bench_gpu.py`)\n\n"
        f"GPU: **{result['device']}** (array library {result['lib'] or '-'}); CPU: {result['cpu']}; "
        f"{result['date']}. Microseconds per call for the whole batch, medians of {result['reps']} GPU "
        f"runs (CUDA events) and {result['cpu_reps']} CPU runs; CPU timings only up to the batch shown. "
        "Inputs and baselines: the docstring of bench_gpu.py. whole = resize + NMS + pair scores on the "
        "GPU with results copied to the host, against the whole CPU chain including the assembly of "
        "people (which the GPU path leaves to the host).\n\n"
    )
    return (
        head
        + markdown_table(
            ["input", "op", "N", "scales", "gpu us", "cpu us", "naive gpu us", "cpu/gpu", "naive/gpu", "note"], rows
        )
        + "\n"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--cpu-reps", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    ap.add_argument("--inputs", nargs="+", default=["real", "random"], choices=["real", "random"])
    ap.add_argument("--cpu-max-batch", type=int, default=32, help="skip CPU timings above this batch")
    ap.add_argument("--cpu-only", action="store_true", help="time the CPU columns only (no GPU needed)")
    ap.add_argument("--lib", choices=["torch", "cupy"])
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--markdown", help="write the Markdown table here")
    ap.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    ap.add_argument("--from-json", help="render an earlier run's --json output instead of timing")
    args = ap.parse_args()
    for name in ("reps", "cpu_reps"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')}: expected >= 1, got {getattr(args, name)}")
    if any(b < 1 for b in args.batches):
        ap.error(f"--batches: expected sizes >= 1, got {args.batches}")

    if args.from_json:
        with open(args.from_json) as f:
            result = json.load(f)
    else:
        result = run(args)
    if args.json and not args.from_json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
        print(f"bench_gpu: wrote {args.json}")
    text = render(result)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
        print(f"bench_gpu: wrote {args.markdown}")
    if args.readme:
        if result["lib"] is None:
            die("--readme: these results have no GPU column (--cpu-only); benchmarks/README.md not changed")
        write_section("bench_gpu", text)
        print("bench_gpu: wrote the bench_gpu section of benchmarks/README.md")


if __name__ == "__main__":
    main()

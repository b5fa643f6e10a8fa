"""Where the bfloat16 AP loss of the bundled network comes from, and what recovers it (issue 25).

    python benchmarks/bf16_error_sources.py [--scale-number 1 2] [--rounds 7]

Rewrites the frozen GraphDef (no Grappler pass) and measures COCO AP on coco_mini val2017 with
tfpose's post-processing (Estimator on a Network built from the rewritten graph):

* float32: the graph as given;
* emulated rounding, all arithmetic float32: convolution kernels rounded to bfloat16 values, or
  every layer's output (activations) rounded to bfloat16 values;
* bf16: every Conv2D / DepthwiseConv2dNative / BiasAdd / Relu / ConcatV2 / MaxPool in bfloat16
  (casts at the float32 boundaries; oneDNN runs them natively), the output cast to float32;
* bf16 + bias correction: kernels rounded to bfloat16 and each layer's bias corrected by the mean
  shift the rounding causes, sum_i (w_bf16 - w)[i, o] * E[x_i] (the bias correction of
  Nagel et al., "Data-Free Quantization", ICCV 2019; here E[x] is measured on the non-COCO images
  of shared/data/images/tf_pose_estimation at two heights, never on the evaluation images); a
  depthwise layer has no bias, so its shift is carried through the following 1x1 kernel;
* the same with chosen stages kept float32.

Then the network alone on a 1x368x656x3 input: float32 and each bf16 graph, interleaved rounds,
medians. Prints a table (the machine and its load named); nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import io
import os
import re
import sys
import time

import cv2
import numpy as np

from _common import SHARED  # noqa: E402  (the one data-location rule)

MODEL = SHARED / "data/models/tfpose_mobilenet_thin_graph_opt.pb"
COMPUTE = ("Conv2D", "DepthwiseConv2dNative", "BiasAdd", "Relu", "ConcatV2", "MaxPool")
OUTPUT = "Openpose/concat_stage7"


def _tf():
    import tensorflow as tf
    from tensorflow.core.framework import node_def_pb2, types_pb2
    from tensorflow.python.framework import tensor_util

    return tf, node_def_pb2, types_pb2, tensor_util


def _round_bf16(a):
    from tfpose import precision

    return precision.round_bfloat16(a)


def _cast_node(name, src, src_t, dst_t):
    _, node_def_pb2, _, _ = _tf()
    c = node_def_pb2.NodeDef(name=name, op="Cast", input=[src])
    c.attr["SrcT"].type, c.attr["DstT"].type = src_t, dst_t
    c.attr["Truncate"].b = False
    return c


def mixed_graph(gd, bf16_nodes, ops=COMPUTE):
    """GraphDef with the compute nodes (op types ``ops``) named in bf16_nodes in bfloat16 (their
    float32 constants stored as bfloat16), Cast nodes where a float32 and a bfloat16 node meet."""
    tf, node_def_pb2, types_pb2, tensor_util = _tf()
    by_name = {n.name: n for n in gd.node}
    dtype = {n.name: types_pb2.DT_BFLOAT16 if n.name in bf16_nodes else types_pb2.DT_FLOAT for n in gd.node}
    added, casts, nodes = {}, {}, []
    for n in gd.node:
        m = node_def_pb2.NodeDef()
        m.CopyFrom(n)
        if n.op in ops:
            want = dtype[n.name]
            m.attr["T"].type = want
            for i, inp in enumerate(n.input):
                src = by_name[inp.split(":")[0]]
                if src.op == "Const":
                    if src.attr["dtype"].type == types_pb2.DT_FLOAT and want == types_pb2.DT_BFLOAT16:
                        key = src.name + "/bf16"
                        if key not in added:
                            val = tensor_util.MakeNdarray(src.attr["value"].tensor)
                            c = node_def_pb2.NodeDef(name=key, op="Const")
                            c.attr["dtype"].type = want
                            c.attr["value"].tensor.CopyFrom(
                                tensor_util.make_tensor_proto(tf.constant(val, tf.bfloat16).numpy(), dtype=tf.bfloat16)
                            )
                            added[key] = c
                            nodes.append(c)
                        m.input[i] = key
                    continue
                have = dtype[src.name] if src.op in ops else types_pb2.DT_FLOAT
                if have != want:
                    if (inp, want) not in casts:
                        casts[(inp, want)] = _cast_node(inp.replace(":", "_") + f"/to_{want}", inp, have, want)
                        nodes.append(casts[(inp, want)])
                    m.input[i] = casts[(inp, want)].name
        nodes.append(m)
    out = tf.compat.v1.GraphDef()
    out.node.extend(nodes)
    return out


def emulated_graph(gd, kernels=False, activations=False):
    """float32 GraphDef with kernels and/or layer outputs rounded to bfloat16 values."""
    tf, node_def_pb2, types_pb2, tensor_util = _tf()
    by_name = {n.name: n for n in gd.node}
    kernel_names = {n.input[1] for n in gd.node if n.op in ("Conv2D", "DepthwiseConv2dNative")}
    rounded, nodes = {}, []
    for n in gd.node:
        m = node_def_pb2.NodeDef()
        m.CopyFrom(n)
        if kernels and n.name in kernel_names:
            val = tensor_util.MakeNdarray(n.attr["value"].tensor)
            m.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(_round_bf16(val)))
        if activations and n.op in COMPUTE:
            for i, inp in enumerate(n.input):
                if by_name[inp.split(":")[0]].op in ("Relu", "BiasAdd", "MaxPool", "ConcatV2"):
                    if inp not in rounded:
                        a = _cast_node(inp + "/rb", inp, types_pb2.DT_FLOAT, types_pb2.DT_BFLOAT16)
                        b = _cast_node(inp + "/rf", a.name, types_pb2.DT_BFLOAT16, types_pb2.DT_FLOAT)
                        nodes += [a, b]
                        rounded[inp] = b.name
                    m.input[i] = rounded[inp]
        nodes.append(m)
    out = tf.compat.v1.GraphDef()
    out.node.extend(nodes)
    return out


def conv_input_means(gd, paths):
    """tfpose.precision.conv_input_means over the image files ``paths`` (the one copy)."""
    from tfpose import precision

    return precision.conv_input_means(gd, [cv2.imread(p) for p in paths])


def bias_corrected(gd, means, kernels=None):
    """tfpose.precision.bias_corrected (the one copy of the algorithm; module doc)."""
    from tfpose import precision

    return precision.bias_corrected(gd, means, kernels)


def graph_fn(gd):
    tf = _tf()[0]

    def _import(x):
        return tf.graph_util.import_graph_def(
            gd, input_map={"image:0": x}, return_elements=[OUTPUT + ":0"], name="net"
        )[0]

    return tf.compat.v1.wrap_function(_import, [tf.TensorSpec([None, None, None, 3], tf.float32)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale-number", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    tf = _tf()[0]
    import coco_eval
    from pycocotools.coco import COCO

    import tfpose
    from tfpose.network import Network

    import _common

    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(MODEL.read_bytes())
    layer = lambda name: re.sub(r"/(Conv2D|depthwise|BatchNorm/FusedBatchNorm|Relu)$", "", name)  # noqa: E731
    compute = {n.name for n in gd.node if n.op in COMPUTE} - {OUTPUT}
    stages56 = {c for c in compute if re.search(r"Stage[56]_", layer(c))}
    calib = [
        p
        for p in sorted(glob.glob(str(SHARED / "data/images/tf_pose_estimation/*")))
        if not re.search(r"COCO|hand|cat", os.path.basename(p))
    ]
    corrected = bias_corrected(gd, conv_input_means(gd, calib))
    graphs = {
        "float32": gd,
        "emulated: kernels rounded": emulated_graph(gd, kernels=True),
        "emulated: activations rounded": emulated_graph(gd, activations=True),
        "bf16": mixed_graph(gd, compute),
        "bf16 + bias correction": mixed_graph(corrected, compute),
        "bf16 + bias correction, stages 5-6 float32": mixed_graph(corrected, compute - stages56),
    }
    data = SHARED / "data/coco_mini"
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(data / "annotations/person_keypoints_val2017.json"))
    ids = sorted(gt.getImgIds())
    images = {i: cv2.imread(str(data / "val2017" / gt.loadImgs(i)[0]["file_name"])) for i in ids}
    fns = {k: graph_fn(g) for k, g in graphs.items()}
    ap_of = {}
    for name, fn in fns.items():
        net = Network(fn=fn, normalization="none", pose_model="COCO_18", channels=57, source=name)
        for sn in args.scale_number:
            est = tfpose.Estimator(net, scale_number=sn)
            res = [r for i in ids for r in coco_eval.to_coco_results(i, est.estimate(images[i]), 0.0)]
            ap_of[name, sn] = coco_eval.evaluate(gt, res, ids)["AP"]
            print(f"{name} scales={sn}: AP {ap_of[name, sn]:.4f}", file=sys.stderr, flush=True)
    x = tf.constant(np.random.default_rng(0).uniform(0, 255, (1, 368, 656, 3)).astype(np.float32))
    timed = [k for k in fns if not k.startswith("emulated")]
    times = {k: [] for k in timed}
    for k in timed:
        fns[k](x)
    for _ in range(args.rounds):
        for k in timed:
            t = time.perf_counter()
            fns[k](x)[0].numpy()
            times[k].append(time.perf_counter() - t)
    base = np.median(times["float32"])
    load = os.getloadavg()
    print(f"{_common.machine_line()}; load average {load[0]:.1f} during the run (other jobs shared the machine)")
    head = " | ".join(f"AP {sn} scale(s)" for sn in args.scale_number)
    print(f"\n| network | {head} | ms (1x368x656x3, median of {args.rounds}) | speed vs float32 |")
    print("|---|" + "---|" * len(args.scale_number) + "---|---|")
    for k in fns:
        aps = " | ".join(f"{ap_of[k, sn]:.4f}" for sn in args.scale_number)
        ms = f"{1e3 * np.median(times[k]):.0f} | {base / np.median(times[k]):.2f}x" if k in times else "– | –"
        print(f"| {k} | {aps} | {ms} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

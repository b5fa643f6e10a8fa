"""Writes caffemodel files (Caffe's NetParameter, protobuf binary) for tests, with random weights.

Independent of tfpose's reader: it encodes the wire format directly from caffe.proto's field
numbers, and works out blob shapes from the prototxt with its own small scan, so that a mistake in
the converter's planning or reading cannot be mirrored here. OpenCV's Caffe importer reads the
same files in the parity tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

# caffe.proto field numbers
NET_NAME, NET_LAYERS_V1, NET_LAYER = 1, 2, 100
LAYER_NAME, LAYER_TYPE, LAYER_BLOBS = 1, 2, 7
V1_NAME, V1_TYPE, V1_BLOBS = 4, 5, 6
V1_TYPE_ENUM = {"Concat": 3, "Convolution": 4, "Pooling": 17, "ReLU": 18}
BLOB_NUM, BLOB_CHANNELS, BLOB_HEIGHT, BLOB_WIDTH, BLOB_DATA, BLOB_SHAPE, BLOB_DOUBLE = 1, 2, 3, 4, 5, 7, 8
SHAPE_DIM = 1


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def length_delimited(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


def blob_bytes(arr: np.ndarray, legacy: bool = False, packed: bool = True, double: bool = False) -> bytes:
    """One BlobProto: shape (BlobShape, or legacy num/channels/height/width) and data."""
    out = bytearray()
    if legacy:
        dims = (1,) * (4 - arr.ndim) + tuple(arr.shape)
        for field, d in zip((BLOB_NUM, BLOB_CHANNELS, BLOB_HEIGHT, BLOB_WIDTH), dims, strict=True):
            out += key(field, 0) + varint(d)
    flat = arr.reshape(-1)
    if double:
        values = flat.astype("<f8")
        if packed:
            out += length_delimited(BLOB_DOUBLE, values.tobytes())
        else:
            rec = np.empty(values.size, dtype=[("k", "u1"), ("v", "<f8")])
            rec["k"] = BLOB_DOUBLE << 3 | 1
            rec["v"] = values
            out += rec.tobytes()
    else:
        values = flat.astype("<f4")
        if packed:
            out += length_delimited(BLOB_DATA, values.tobytes())
        else:
            rec = np.empty(values.size, dtype=[("k", "u1"), ("v", "<f4")])
            rec["k"] = BLOB_DATA << 3 | 5
            rec["v"] = values
            out += rec.tobytes()
    if not legacy:
        dims = b"".join(varint(d) for d in arr.shape)
        # The shape goes after the data here on purpose: field order must not matter to a reader.
        out += length_delimited(BLOB_SHAPE, length_delimited(SHAPE_DIM, dims))
    return bytes(out)


def layer_bytes(name: str, type_: str, blobs: list[np.ndarray], v1: bool = False, **blob_opts) -> bytes:
    """One LayerParameter (or V1LayerParameter with v1=True) record, key and length included."""
    if v1:
        body = length_delimited(V1_NAME, name.encode()) + key(V1_TYPE, 0) + varint(V1_TYPE_ENUM[type_])
        body += b"".join(length_delimited(V1_BLOBS, blob_bytes(b, **blob_opts)) for b in blobs)
        return length_delimited(NET_LAYERS_V1, body)
    body = length_delimited(LAYER_NAME, name.encode()) + length_delimited(LAYER_TYPE, type_.encode())
    body += b"".join(length_delimited(LAYER_BLOBS, blob_bytes(b, **blob_opts)) for b in blobs)
    return length_delimited(NET_LAYER, body)


def write_caffemodel(path, layers, net_name: str = "test", v1: bool = False, **blob_opts) -> Path:
    """Writes (name, type, [arrays]) layers as a caffemodel, one layer at a time (little memory)."""
    path = Path(path)
    with open(path, "wb") as f:
        f.write(length_delimited(NET_NAME, net_name.encode()))
        for name, type_, blobs in layers:
            f.write(layer_bytes(name, type_, blobs, v1=v1, **blob_opts))
    return path


# ---------------------------------------------------------------------------------------------
# Prototxt scanning (only what OpenPose's deploy prototxts use)
# ---------------------------------------------------------------------------------------------

_LAYER = re.compile(r"^layer\s*\{", re.M)


def _layer_blocks(text: str) -> list[str]:
    blocks = []
    for m in _LAYER.finditer(text):
        depth = 0
        for i in range(m.end() - 1, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    blocks.append(text[m.end() : i])
                    break
    return blocks


def _strip_comments(text: str) -> str:
    return re.sub(r"#[^\n]*", "", text)


def layer_shapes(prototxt: str | Path) -> list[tuple[str, str, list[tuple[int, ...]]]]:
    """(name, type, blob shapes) of every layer with parameters, in prototxt order."""
    text = _strip_comments(Path(prototxt).read_text())
    channels = {re.search(r'^input:\s*"([^"]+)"', text, re.M).group(1): 3}
    out = []
    for block in _layer_blocks(text):
        name = re.search(r'^\s*name:\s*"([^"]+)"', block, re.M).group(1)
        type_ = re.search(r'^\s*type:\s*"([^"]+)"', block, re.M).group(1)
        bottoms = re.findall(r'^\s*bottom:\s*"([^"]+)"', block, re.M)
        top = re.search(r'^\s*top:\s*"([^"]+)"', block, re.M).group(1)
        c_in = channels[bottoms[0]]
        if type_ == "Convolution":
            c_out = int(re.search(r"num_output:\s*(\d+)", block).group(1))
            k = int(re.search(r"kernel_size:\s*(\d+)", block).group(1))
            out.append((name, type_, [(c_out, c_in, k, k), (c_out,)]))
        elif type_ == "PReLU":
            c_out = c_in
            out.append((name, type_, [(c_in,)]))
        elif type_ == "Concat":
            c_out = sum(channels[b] for b in bottoms)
        else:
            c_out = c_in
        channels[top] = c_out
    return out


def random_layers(prototxt, seed: int = 0):
    """Random weights for every parametrised layer, scaled so activations keep their size through
    a deep ReLU/PReLU network (a comparison on vanishing or exploding values would prove little)."""
    rng = np.random.default_rng(seed)
    layers = []
    for name, type_, shapes in layer_shapes(prototxt):
        if type_ == "Convolution":
            w_shape, b_shape = shapes
            fan_in = w_shape[1] * w_shape[2] * w_shape[3]
            w = rng.standard_normal(w_shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
            b = rng.uniform(-0.1, 0.1, b_shape).astype(np.float32)
            layers.append((name, type_, [w, b]))
        else:
            layers.append((name, type_, [rng.uniform(0.0, 0.3, shapes[0]).astype(np.float32)]))
    return layers


def shrink_prototxt(src, dst, factor: int = 8, keep_below: int = 64) -> Path:
    """Copies a prototxt with every num_output >= keep_below divided by factor (output widths kept)."""

    def repl(m):
        n = int(m.group(1))
        return f"num_output: {max(1, n // factor) if n >= keep_below else n}"

    text = re.sub(r"num_output:\s*(\d+)", repl, Path(src).read_text())
    Path(dst).write_text(text)
    return Path(dst)


# ---------------------------------------------------------------------------------------------
# A small network with every option the converter supports (fuzzing seeds, hostile-input tests)
# ---------------------------------------------------------------------------------------------

SMALL_NET = """
name: "small"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 16 dim: 16 } } }
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1"
        convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "p1" type: "PReLU" bottom: "c1" top: "c1" prelu_param { channel_shared: true } }
layer { name: "c2" type: "Convolution" bottom: "c1" top: "c2"
        convolution_param { num_output: 4 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0 stride: 2 group: 2 } }
layer { name: "r2" type: "ReLU" bottom: "c2" top: "c2" relu_param { negative_slope: 0.1 } }
layer { name: "pool" type: "Pooling" bottom: "c2" top: "pool"
        pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "cat" type: "Concat" bottom: "pool" bottom: "pool" top: "cat" concat_param { axis: 1 } }
"""


def small_net_weights(seed: int = 0):
    """(name, type, [arrays]) for SMALL_NET's parametrised layers."""
    rng = np.random.default_rng(seed)
    return [
        ("c1", "Convolution", [rng.standard_normal((4, 3, 3, 3)).astype(np.float32), np.zeros(4, np.float32)]),
        ("p1", "PReLU", [np.float32([0.25])]),
        ("c2", "Convolution", [rng.standard_normal((4, 2, 3, 1)).astype(np.float32), np.ones(4, np.float32)]),
    ]


def write_seed_corpus(folder, prototxts=()) -> list[Path]:
    """Fuzzing seeds: SMALL_NET's prototxt (plus the given prototxt files) and its caffemodel in
    every encoding the reader accepts (packed, unpacked, legacy shape, double, V1 layers)."""
    folder = Path(folder)
    (folder / "prototxt").mkdir(parents=True, exist_ok=True)
    (folder / "caffemodel").mkdir(parents=True, exist_ok=True)
    out = [folder / "prototxt" / "small.prototxt"]
    out[0].write_text(SMALL_NET)
    for p in prototxts:
        out.append(folder / "prototxt" / Path(p).name)
        out[-1].write_text(Path(p).read_text())
    layers = small_net_weights()
    v1_layers = [l for l in layers if l[1] in V1_TYPE_ENUM]
    variants = {
        "packed": dict(),
        "unpacked": dict(packed=False),
        "legacy": dict(legacy=True),
        "double": dict(double=True),
        "double_unpacked": dict(double=True, packed=False),
    }
    for name, opts in variants.items():
        out.append(write_caffemodel(folder / "caffemodel" / f"{name}.caffemodel", layers, **opts))
    out.append(write_caffemodel(folder / "caffemodel" / "v1.caffemodel", v1_layers, v1=True))
    return out

"""Caffe -> TensorFlow converter: parity with OpenCV's Caffe importer, file formats, errors, CLI.

Real OpenPose weights are not available: caffe_writer.py writes caffemodels with random weights for
OpenPose's own prototxts (reduced widths, plus the full COCO network once). OpenCV's
cv2.dnn.readNetFromCaffe (OpenCV 4.x; removed in OpenCV 5) is the independent reference.
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from tfpose.convert import ConversionError, convert, parse_prototxt, read_caffemodel
from tfpose.convert.caffe_proto import parse_prototxt_text, parse_text

from caffe_writer import (
    layer_shapes,
    random_layers,
    shrink_prototxt,
    write_caffemodel,
)
from helpers import DATA

PROTOTXT = DATA / "openpose_prototxt"
ARCHS = {
    "coco": ("coco_pose_deploy_linevec.prototxt", "concat_stage7", 57),
    "body_25": ("body_25_pose_deploy.prototxt", "net_output", 78),
    "mpi": ("mpi_pose_deploy_linevec.prototxt", "concat_stage7", 44),
    "mpi_4_stages": ("mpi_pose_deploy_linevec_faster_4_stages.prototxt", "concat_stage7", 44),
}
# Odd sizes exercise Caffe's rounded-up pooling; batch 2 checks that images stay independent.
SIZES = [(1, 37, 53), (2, 64, 48)]
RTOL = 1e-4  # max |tf - opencv| / max |opencv|


def _cv2_caffe():
    import cv2

    if not hasattr(cv2.dnn, "readNetFromCaffe"):
        pytest.skip(
            f"OpenCV {cv2.__version__} has no cv2.dnn.readNetFromCaffe (removed in OpenCV 5); "
            "the parity tests need OpenCV 4.10-4.x"
        )
    return cv2


def _images(shape, seed=1):
    return np.random.default_rng(seed).uniform(0, 255, shape + (3,)).astype(np.float32)


def opencv_forward(prototxt, caffemodel, images):
    """OpenCV's forward pass on OpenPose's normalised input; NHWC like the converted graph."""
    cv2 = _cv2_caffe()
    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    net.setInput(np.ascontiguousarray((images / 256.0 - 0.5).transpose(0, 3, 1, 2), dtype=np.float32))
    return net.forward().transpose(0, 2, 3, 1)


class FrozenGraph:
    """Loads a frozen .pb the way tf-pose-estimation graphs are loaded (tf.compat.v1 GraphDef)."""

    def __init__(self, path, output):
        import tensorflow as tf

        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(Path(path).read_bytes())
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        self.session = tf.compat.v1.Session(graph=self.graph)
        self.output = self.graph.get_tensor_by_name(f"{output}:0")
        self.input = self.graph.get_tensor_by_name("image:0")

    def __call__(self, images):
        return self.session.run(self.output, {self.input: images})


def rel_err(got, ref):
    assert got.shape == ref.shape, (got.shape, ref.shape)
    return float(np.abs(got - ref).max() / np.abs(ref).max())


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Reduced-width copies of the four prototxts with random caffemodels."""
    folder = tmp_path_factory.mktemp("small")
    out = {}
    for arch, (name, _, _) in ARCHS.items():
        proto = shrink_prototxt(PROTOTXT / name, folder / name)
        model = write_caffemodel(folder / f"{arch}.caffemodel", random_layers(proto, seed=len(out)))
        out[arch] = (proto, model)
    return out


# ---------------------------------------------------------------------------------------------
# Parity with OpenCV
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", list(ARCHS))
def test_frozen_matches_opencv(arch, small, tmp_path):
    _cv2_caffe()
    proto, model = small[arch]
    _, output_name, channels = ARCHS[arch]
    summary = convert(proto, model, tmp_path / "net.pb", progress=False)
    assert summary.format == "frozen"
    assert summary.output_name == output_name
    assert summary.output_channels == channels
    graph = FrozenGraph(tmp_path / "net.pb", output_name)
    for shape in SIZES:
        images = _images(shape)
        ref = opencv_forward(proto, model, images)
        got = graph(images)
        assert got.shape == (shape[0], -(-shape[1] // 8), -(-shape[2] // 8), channels)
        assert rel_err(got, ref) < RTOL, (arch, shape)


@pytest.mark.slow
def test_saved_model_matches_opencv(small, tmp_path):
    import tensorflow as tf

    _cv2_caffe()
    proto, model = small["body_25"]
    summary = convert(proto, model, tmp_path / "sm", format="saved_model", progress=False)
    assert summary.format == "saved_model"
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    serve = loaded.signatures["serving_default"]
    assert list(serve.structured_input_signature[1]) == ["image"]
    assert list(serve.structured_outputs) == ["net_output"]
    for shape in SIZES:
        images = _images(shape, seed=2)
        got = serve(image=tf.constant(images))["net_output"].numpy()
        assert rel_err(got, opencv_forward(proto, model, images)) < RTOL


FEATURES = """
name: "features"  # every option the converter supports, in one small net
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 16 dim: 16 } } }
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1"
        convolution_param { num_output: 8 kernel_size: 3 pad: 1 } }
layer { name: "p1" type: "PReLU" bottom: "c1" top: "c1" prelu_param { channel_shared: true } }
layer { name: "c2" type: "Convolution" bottom: "c1" top: "c2"
        convolution_param { num_output: 8 kernel_h: 3 kernel_w: 5 pad_h: 1 pad_w: 2 stride: 2 group: 2 } }
layer { name: "r2" type: "ReLU" bottom: "c2" top: "c2" relu_param { negative_slope: 0.1 } }
layer { name: "pool_pad" type: "Pooling" bottom: "c2" top: "pp"
        pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "c3" type: "Convolution" bottom: "pp" top: "c3"
        convolution_param { num_output: 6 kernel_size: 3 dilation: 2 pad: 2 bias_term: false } }
layer { name: "c4" type: "Convolution" bottom: "c3" top: "c4" convolution_param { num_output: 6 kernel_size: 1 } }
layer { name: "p4" type: "PReLU" bottom: "c4" top: "c4" }
layer { name: "cat" type: "Concat" bottom: "c3" bottom: "c4" top: "cat" }
layer { name: "out_layer" type: "Pooling" bottom: "cat" top: "out"
        pooling_param { pool: MAX kernel_size: 2 stride: 2 pad: 1 } }
"""


def features_weights(seed=0):
    rng = np.random.default_rng(seed)

    def r(*shape):
        return rng.standard_normal(shape).astype(np.float32) * 0.3

    return [
        ("c1", "Convolution", [r(8, 3, 3, 3), r(8)]),
        ("p1", "PReLU", [np.float32([0.2])]),
        ("c2", "Convolution", [r(8, 4, 3, 5), r(8)]),
        ("c3", "Convolution", [r(6, 8, 3, 3)]),
        ("c4", "Convolution", [r(6, 6, 1, 1), r(6)]),
        ("p4", "PReLU", [np.abs(r(6))]),
    ]


@pytest.fixture()
def features(tmp_path):
    proto = tmp_path / "features.prototxt"
    proto.write_text(FEATURES)
    return proto, write_caffemodel(tmp_path / "features.caffemodel", features_weights())


def test_layer_options_match_opencv(features, tmp_path):
    """Input layer, kernel_h/w, pad_h/w, stride, group, dilation, no bias, leaky ReLU, shared
    PReLU, padded pooling (including Caffe's rule that drops a window starting in the padding)."""
    proto, model = features
    convert(proto, model, tmp_path / "f.pb", progress=False)
    graph = FrozenGraph(tmp_path / "f.pb", "out_layer")
    for shape in [(1, 23, 31), (2, 32, 20), (1, 17, 18), (1, 9, 9)]:
        images = _images(shape)
        assert rel_err(graph(images), opencv_forward(proto, model, images)) < RTOL, shape


@pytest.mark.parametrize(
    "opts",
    [
        dict(legacy=True),
        dict(packed=False),
        dict(legacy=True, packed=False),
        dict(double=True),
        dict(double=True, packed=False),
    ],
)
def test_blob_encodings_read_identically(features, tmp_path, opts):
    proto, _ = features
    layers = features_weights()
    path = write_caffemodel(tmp_path / "enc.caffemodel", layers, **opts)
    with read_caffemodel(path) as model:
        assert model.order == [name for name, _, _ in layers]
        for name, type_, blobs in layers:
            assert model.layers[name].type == type_
            for blob, ref in zip(model.layers[name].blobs, blobs, strict=True):
                np.testing.assert_array_equal(blob.data.reshape(ref.shape), ref)
                expected = (1,) * (4 - ref.ndim) + ref.shape if opts.get("legacy") else ref.shape
                assert blob.shape == expected and blob.legacy == bool(opts.get("legacy"))
    # Legacy (1, 1, 1, C) bias shapes are accepted the way Caffe accepts them.
    convert(proto, path, tmp_path / "enc.pb", progress=False)


def test_legacy_unpacked_matches_opencv(small, tmp_path):
    proto, _ = small["mpi_4_stages"]
    model = write_caffemodel(tmp_path / "legacy.caffemodel", random_layers(proto), legacy=True, packed=False)
    convert(proto, model, tmp_path / "legacy.pb", progress=False)
    images = _images(SIZES[0])
    got = FrozenGraph(tmp_path / "legacy.pb", "concat_stage7")(images)
    assert rel_err(got, opencv_forward(proto, model, images)) < RTOL


@pytest.mark.slow
def test_v1_layers_caffemodel_gives_same_graph(small, tmp_path):
    proto, model = small["mpi_4_stages"]
    v1 = write_caffemodel(tmp_path / "v1.caffemodel", random_layers(proto, seed=3), v1=True)
    v2 = write_caffemodel(tmp_path / "v2.caffemodel", random_layers(proto, seed=3))
    convert(proto, v1, tmp_path / "v1.pb", progress=False)
    convert(proto, v2, tmp_path / "v2.pb", progress=False)
    images = _images(SIZES[0])
    np.testing.assert_array_equal(
        FrozenGraph(tmp_path / "v1.pb", "concat_stage7")(images),
        FrozenGraph(tmp_path / "v2.pb", "concat_stage7")(images),
    )


@pytest.mark.slow
def test_full_coco_matches_opencv_with_bounded_memory(tmp_path):
    """The full-width COCO network (52 M parameters, ~200 MB caffemodel) once, at a small input.

    The converter must not hold the model several times over: its Python-side allocations
    (numpy arrays, bytes, protos built from Python) stay well below the file's size."""
    _cv2_caffe()
    proto = PROTOTXT / ARCHS["coco"][0]
    model = write_caffemodel(tmp_path / "coco.caffemodel", random_layers(proto, seed=7))
    size = model.stat().st_size
    assert size > 190e6
    tracemalloc.start()
    try:
        summary = convert(proto, model, tmp_path / "coco.pb", progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.parameters == sum(int(np.prod(s)) for _, _, shapes in layer_shapes(proto) for s in shapes)
    assert summary.parameters > 52_000_000
    assert peak < 0.25 * size, f"traced peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB caffemodel"
    images = _images((1, 46, 40), seed=3)
    got = FrozenGraph(tmp_path / "coco.pb", "concat_stage7")(images)
    assert rel_err(got, opencv_forward(proto, model, images)) < RTOL


# ---------------------------------------------------------------------------------------------
# Errors: each names what is wrong, and nothing is left behind
# ---------------------------------------------------------------------------------------------


def _assert_clean(folder: Path, keep: set[str]):
    assert {p.name for p in folder.iterdir()} == keep


def _convert_fails(proto, model, tmp_path, match, fmt="frozen"):
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(ConversionError, match=match) as info:
        convert(proto, model, tmp_path / ("out.pb" if fmt == "frozen" else "out"), format=fmt, progress=False)
    _assert_clean(tmp_path, before)
    assert isinstance(info.value, ValueError)
    return info.value


def test_unknown_layer_type(features, tmp_path):
    proto, model = features
    bad = tmp_path / "bad.prototxt"
    bad.write_text(FEATURES.replace('name: "r2" type: "ReLU"', 'name: "r2" type: "LRN"'))
    err = _convert_fails(bad, model, tmp_path, r"layer 'r2'.*unsupported layer type 'LRN'")
    assert err.layer == "r2"


def test_missing_layer_in_caffemodel(features, tmp_path):
    proto, _ = features
    model = write_caffemodel(tmp_path / "m.caffemodel", [l for l in features_weights() if l[0] != "c3"])
    err = _convert_fails(
        proto,
        model,
        tmp_path,
        r"layer 'c3': missing from the caffemodel: expected 1 blobs "
        r"\(weights \[6, 8, 3, 3\]\)",
    )
    assert err.layer == "c3"


def test_wrong_blob_shape(features, tmp_path):
    proto, _ = features
    layers = features_weights()
    layers[2] = ("c2", "Convolution", [np.zeros((8, 8, 3, 5), np.float32), np.zeros(8, np.float32)])
    err = _convert_fails(
        proto,
        write_caffemodel(tmp_path / "m.caffemodel", layers),
        tmp_path,
        r"layer 'c2', blob 0 \(weights\): wrong shape: expected \[8, 4, 3, 5\], got \[8, 8, 3, 5\]",
    )
    assert (err.expected, err.actual) == ([8, 4, 3, 5], [8, 8, 3, 5])


def test_wrong_blob_count(features, tmp_path):
    proto, _ = features
    layers = features_weights()
    layers[0] = ("c1", "Convolution", layers[0][2][:1])  # bias missing
    _convert_fails(
        proto,
        write_caffemodel(tmp_path / "m.caffemodel", layers),
        tmp_path,
        r"layer 'c1': wrong number of blobs in the caffemodel: expected 2 .*got 1",
    )


def test_wrong_layer_type_in_caffemodel(features, tmp_path):
    proto, _ = features
    layers = features_weights()
    layers[1] = ("p1", "Scale", layers[1][2])
    _convert_fails(
        proto,
        write_caffemodel(tmp_path / "m.caffemodel", layers),
        tmp_path,
        r"layer 'p1': has a different type in the caffemodel: expected PReLU, got Scale",
    )


def test_data_size_mismatch(features, tmp_path):
    import caffe_writer as cw

    proto, _ = features
    path = tmp_path / "m.caffemodel"
    with open(path, "wb") as f:
        for name, type_, blobs in features_weights():
            if name == "c4":
                # Shape says 6x6x1x1 but only 30 values follow.
                body = cw.length_delimited(cw.BLOB_DATA, np.zeros(30, "<f4").tobytes()) + cw.length_delimited(
                    cw.BLOB_SHAPE, cw.length_delimited(1, bytes([6, 6, 1, 1]))
                )
                layer = (
                    cw.length_delimited(1, name.encode())
                    + cw.length_delimited(2, type_.encode())
                    + cw.length_delimited(7, body)
                    + cw.length_delimited(7, cw.blob_bytes(blobs[1]))
                )
                f.write(cw.length_delimited(cw.NET_LAYER, layer))
            else:
                f.write(cw.layer_bytes(name, type_, blobs))
    _convert_fails(
        proto,
        path,
        tmp_path,
        r"layer 'c4', blob 0 \(weights\): data size does not match.*"
        r"expected 36 values, got 30 values",
    )


@pytest.mark.parametrize("fmt", ["frozen", "saved_model"])
def test_truncated_caffemodel(features, tmp_path, fmt):
    proto, model = features
    data = model.read_bytes()
    cut = tmp_path / "cut.caffemodel"
    cut.write_bytes(data[: len(data) * 2 // 3])
    _convert_fails(proto, cut, tmp_path, r"corrupt or truncated.*remain \(file truncated\?\)", fmt=fmt)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "is empty"),
        (b"\x0f\x00\x01", "corrupt or truncated.*wire type 7"),
        (b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "corrupt or truncated.*varint"),
        (b'name: "not binary"\n', "holds no layers|corrupt"),
    ],
)
def test_corrupt_caffemodel(features, tmp_path, content, match):
    proto, _ = features
    bad = tmp_path / "bad.caffemodel"
    bad.write_bytes(content)
    _convert_fails(proto, bad, tmp_path, match)


def test_prototxt_errors(features, tmp_path):
    _, model = features
    cases = {
        "unbalanced.prototxt": (FEATURES + "}", "unbalanced"),
        "unclosed.prototxt": (FEATURES + "layer {", "unclosed"),
        "dangling.prototxt": (
            FEATURES.replace('bottom: "pp"', 'bottom: "nowhere"'),
            r"layer 'c3': reads blob 'nowhere'",
        ),
        "badint.prototxt": (
            FEATURES.replace("num_output: 6 kernel_size: 1", "num_output: six kernel_size: 1"),
            r"num_output should be a integer: expected a integer, got 'six'",
        ),
        "avepool.prototxt": (
            FEATURES.replace("pool: MAX kernel_size: 2", "pool: AVE kernel_size: 2"),
            r"layer 'out_layer': only MAX pooling",
        ),
        "group.prototxt": (FEATURES.replace("group: 2", "group: 3"), r"layer 'c2': group must divide.*got 3"),
    }
    for name, (text, match) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        _convert_fails(path, model, tmp_path, match)


def test_failure_while_saving_leaves_nothing(features, tmp_path, monkeypatch):
    from tfpose.convert import caffe_to_tf

    proto, model = features

    def boom(plan, model, path, tick):
        Path(path).write_bytes(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(caffe_to_tf, "_save_frozen", boom)
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(RuntimeError, match="disk full"):
        convert(proto, model, tmp_path / "out.pb", progress=False)
    _assert_clean(tmp_path, before)


def test_existing_output_needs_overwrite(features, tmp_path):
    proto, model = features
    out = tmp_path / "out.pb"
    out.write_bytes(b"old")
    with pytest.raises(FileExistsError, match="overwrite"):
        convert(proto, model, out, progress=False)
    assert out.read_bytes() == b"old"
    convert(proto, model, out, progress=False, overwrite=True)
    assert out.stat().st_size > 1000
    folder = tmp_path / "sm"
    folder.mkdir()
    (folder / "stale").write_text("x")
    convert(proto, model, folder, progress=False, overwrite=True)
    assert (folder / "saved_model.pb").exists() and not (folder / "stale").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------------------------


def test_text_format_parser():
    msg = parse_text(r"""
        a: 1  # comment
        s: "x\"y\n" 'z'
        sub { v: -2.5e-1 e: MAX flag: true }
        sub: < v: 3 >
        dims: [1, 2, 3]; b: 0x10
    """)
    assert msg.int("a") == 1 and msg.str("s") == 'x"y\nz' and msg.int("b") == 16
    assert [m.float("v") for m in msg.all("sub")] == [-0.25, 3.0]
    assert msg.all("sub")[0].str("e") == "MAX" and msg.all("sub")[0].bool("flag", False)
    assert msg.message("sub").int("v") == 3  # the last of a repeated singular field wins
    assert msg.ints("dims") == [1, 2, 3]
    assert msg.message("absent").int("x", 7) == 7


def test_prototxt_formats():
    v1 = parse_prototxt_text("""
        input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
        layers { name: "c" type: CONVOLUTION bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 1 } }
        layers { name: "drop" type: RELU bottom: "c" top: "c" include { phase: TRAIN } }
        layers { name: "r" type: RELU bottom: "c" top: "c" }""")
    assert v1.inputs == [("data", [1, 3, 8, 8])]
    assert [(l.name, l.type) for l in v1.layers] == [("c", "Convolution"), ("r", "ReLU")]
    coco = parse_prototxt(PROTOTXT / ARCHS["coco"][0])
    assert coco.inputs == [("image", [1, 3, 1, 1])] and len(coco.layers) == 181
    assert coco.layers[-1].name == "concat_stage7" and coco.layers[-1].tops == ["net_output"]


def test_output_layer_option(small, tmp_path):
    proto, model = small["coco"]
    summary = convert(proto, model, tmp_path / "cut.pb", progress=False, output_layer="conv4_4_CPM")
    assert summary.output_name == "conv4_4_CPM" and summary.output_channels == 128 // 8
    assert summary.layers < 30  # only the layers the output depends on
    got = FrozenGraph(tmp_path / "cut.pb", "conv4_4_CPM")(_images((1, 32, 32)))
    assert got.shape == (1, 4, 4, 16)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def test_cli_main_and_registration(features, tmp_path, capsys):
    import argparse

    from tfpose.convert import cli

    proto, model = features
    assert cli.main([str(proto), str(model), str(tmp_path / "cli.pb")]) == 0
    out = capsys.readouterr()
    assert "parameters:" in out.out and "output channels: 12" in out.out and "image:0 -> out_layer:0" in out.out
    assert "frozen: writing weights" in out.err  # tqdm progress
    assert cli.main([str(proto), str(model), str(tmp_path / "cli.pb")]) == 1
    assert "exists" in capsys.readouterr().err

    parser = argparse.ArgumentParser(prog="tfpose")
    cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["convert", str(proto), str(model), str(tmp_path / "sm"), "--no-progress"])
    assert args.func is cli.run and args.func(args) == 0
    assert (tmp_path / "sm" / "saved_model.pb").exists()


def test_python_m_convert_reports_errors_without_tensorflow(features, tmp_path):
    proto, model = features
    bad = tmp_path / "bad.prototxt"
    bad.write_text(FEATURES.replace('type: "Concat"', 'type: "Eltwise"'))
    code = (
        "import runpy, sys; sys.argv = ['x'] + sys.argv[1:]\n"
        "try:\n runpy.run_module('tfpose.convert', run_name='__main__')\n"
        "except SystemExit as e:\n"
        " assert 'tensorflow' not in sys.modules, 'TensorFlow imported before the error'\n"
        " raise\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(bad), str(model), str(tmp_path / "o.pb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "layer 'cat': unsupported layer type 'Eltwise'" in result.stderr
    assert not (tmp_path / "o.pb").exists()
    helptext = subprocess.run(
        [sys.executable, "-m", "tfpose.convert", "--help"], capture_output=True, text=True, timeout=120
    )
    assert helptext.returncode == 0 and "PROTOTXT" in helptext.stdout.upper()

"""SavedModel export: loads in a fresh process after importing tfpose, same people as the Estimator."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

import tfpose

from helpers import DATA

MNV2S = DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb"
IMG = DATA / "images" / "tf_pose_estimation" / "apink2.jpg"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("sm") / "model"
    tfpose.export_saved_model(MNV2S, d)
    return d


def _run(code: str, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.slow
def test_fresh_process_same_people(exported, tmp_path):
    out = tmp_path / "out.npz"
    code = (
        "import sys, cv2, numpy as np, tfpose\n"
        "m = tfpose.load_saved_model(sys.argv[1])\n"
        "img = cv2.imread(sys.argv[2])\n"
        "r = m.signatures['serving_default'](images=img[None])\n"
        "np.savez(sys.argv[3], **{k: v.numpy() for k, v in r.items()})\n"
    )
    proc = _run(code, exported, IMG, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = np.load(out)
    assert r["keypoints"].dtype == np.float32 and r["num_people"].dtype == np.int32
    people = tfpose.Estimator(MNV2S).estimate(cv2.imread(str(IMG)))
    assert int(r["num_people"][0]) == len(people) > 0
    for i, p in enumerate(people):
        np.testing.assert_array_equal(r["keypoints"][0, i], p.keypoints)
        assert float(r["scores"][0, i]) == p.score


@pytest.mark.slow
def test_plain_load_without_tfpose_names_the_op(exported):
    import re

    from tfpose.export import required_tfpose_ops

    proc = _run("import sys, tensorflow as tf\ntf.saved_model.load(sys.argv[1])\n", exported)
    assert proc.returncode != 0
    # TensorFlow names the first unregistered op it meets (the graph's sizing op, since sizing moved
    # into the C++ core): a tfpose op that the SavedModel needs
    named = re.search(r"Op type not registered '(Tfpose\w+)'", proc.stderr)
    assert named is not None, proc.stderr[-2000:]
    assert named.group(1) in required_tfpose_ops(exported)


def test_required_ops_listed(exported):
    from tfpose.export import required_tfpose_ops

    assert "TfposeNetOutputToPeople" in required_tfpose_ops(exported)


def test_load_missing_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="saved_model.pb"):
        tfpose.load_saved_model(tmp_path)


def test_signature_rejects_empty_image(exported):
    import tensorflow as tf

    m = tfpose.load_saved_model(exported)
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected positive"):
        m.signatures["serving_default"](images=np.zeros((1, 0, 0, 3), np.uint8))


def test_an_export_given_as_the_network_is_named_as_such(exported, capsys):
    # an export has the post-processing inside: its outputs are people, not heatmaps and PAFs; it
    # used to be refused with "several outputs ...; pass output_name= to choose", which no choice fixes
    with pytest.raises(ValueError, match=r"a SavedModel written by tfpose export .*tfpose\.load_saved_model"):
        tfpose.Estimator(exported)
    from tfpose import cli

    assert cli.main(["estimate", "--sample", "--model", str(exported), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "cannot load the model" in err and "written by tfpose export" in err and "output_name" not in err
    # the file inside it names the folder to give (was "not a GraphDef (DecodeError ...)")
    with pytest.raises(ValueError, match=r"the saved_model\.pb of a SavedModel, not a frozen GraphDef; expected"):
        tfpose.Estimator(exported / "saved_model.pb")


@pytest.mark.slow
@pytest.mark.parametrize("order", ["tensorflow first", "tfpose first"])
def test_plain_tf_saved_model_load_after_import_tfpose(exported, tmp_path, order):
    # import tfpose registers tfpose's ops when TensorFlow is imported, in either order, so plain
    # tf.saved_model.load works; importing tfpose alone still does not import TensorFlow.
    imports = (
        "import tensorflow as tf\nimport tfpose\n"
        if order == "tensorflow first"
        else "import tfpose\nassert 'tensorflow' not in sys.modules\nimport tensorflow as tf\n"
    )
    out = tmp_path / "out.npz"
    code = (
        "import sys, cv2, numpy as np\n" + imports + "m = tf.saved_model.load(sys.argv[1])\n"
        "r = m.signatures['serving_default'](images=cv2.imread(sys.argv[2])[None])\n"
        "np.savez(sys.argv[3], **{k: v.numpy() for k, v in r.items()})\n"
    )
    proc = _run(code, exported, IMG, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    people = tfpose.Estimator(MNV2S).estimate(cv2.imread(str(IMG)))
    r = np.load(out)
    assert int(r["num_people"][0]) == len(people) > 0
    for i, p in enumerate(people):
        np.testing.assert_array_equal(r["keypoints"][0, i], p.keypoints)


def test_import_tfpose_with_a_broken_op_library_keeps_tensorflow_importable(exported):
    # The hook never breaks `import tensorflow`; tfpose's own loader then says what is wrong.
    code = (
        "import tfpose, tfpose._build_info as b\n"
        "b.TF_VERSION = '1.0.0'\n"
        "import tensorflow as tf\n"
        "import tfpose._loader as l\n"
        "print(isinstance(l.HOOK_ERROR, ImportError), 'compiled against TensorFlow 1.0.0' in str(l.HOOK_ERROR))\n"
        "tfpose.load_saved_model(__import__('sys').argv[1])\n"
    )
    proc = _run(code, exported)
    assert proc.returncode != 0
    assert proc.stdout.split() == ["True", "True"]  # an ImportError (OpLibraryError) naming the build's TF
    # the image-to-people graph: in-graph sizing, placement and the fused post-processing op
    needed = ["TfposeNetOutputToPeople", "TfposeResizeFixedAspectRatio", "TfposeSizing"]
    assert f"uses tfpose's custom ops {needed}" in proc.stderr
    assert "Rebuild tfpose" in proc.stderr

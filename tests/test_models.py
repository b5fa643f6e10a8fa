"""tfpose.models: the pose-model tables read from C++ (docs/algorithms/body.md §1, §1.4, §7.2, §7.4)."""

import subprocess
import sys

import pytest

from tfpose import models


def test_names():
    assert models.names() == ["BODY_25", "COCO_18", "MPI_15", "MPI_15_4"]


@pytest.mark.parametrize(
    "name, p, l, c",
    [("COCO_18", 18, 19, 57), ("BODY_25", 25, 26, 78), ("MPI_15", 15, 14, 44), ("MPI_15_4", 15, 14, 44)],
)
def test_sizes(name, p, l, c):
    m = models.get(name)
    assert (m.name, m.num_parts, m.num_limbs, m.num_channels, m.background_channel) == (name, p, l, c, p)
    assert len(m.part_names) == p and len(m.paf_channels) == l and len(m.colors) == p
    # every PAF channel used exactly once, all after the background channel
    chans = sorted(ch for xy in m.paf_channels for ch in xy)
    assert chans == list(range(p + 1, c))
    assert all(0 <= a < p and 0 <= b < p for a, b in m.pairs)
    assert all(0 <= a < p and 0 <= b < p for a, b in m.render_pairs)
    assert all(len(col) == 3 and all(0 <= v <= 255 for v in col) for col in m.colors)


def test_coco_table_from_spec():
    m = models.get("COCO_18")
    # spec 1.1 table: pair, blob channels (x, y)
    expected = [
        ((1, 2), (31, 32)),
        ((1, 5), (39, 40)),
        ((2, 3), (33, 34)),
        ((3, 4), (35, 36)),
        ((5, 6), (41, 42)),
        ((6, 7), (43, 44)),
        ((1, 8), (19, 20)),
        ((8, 9), (21, 22)),
        ((9, 10), (23, 24)),
        ((1, 11), (25, 26)),
        ((11, 12), (27, 28)),
        ((12, 13), (29, 30)),
        ((1, 0), (47, 48)),
        ((0, 14), (49, 50)),
        ((14, 16), (53, 54)),
        ((0, 15), (51, 52)),
        ((15, 17), (55, 56)),
        ((2, 16), (37, 38)),
        ((5, 17), (45, 46)),
    ]
    assert list(zip(m.pairs, m.paf_channels, strict=True)) == expected
    assert m.part_names[1] == "Neck" and m.part_names[17] == "LEar"
    assert m.ear_limbs == (17, 18) and m.foot_parts == ()


def test_body25_and_mpi_tables_from_spec():
    b = models.get("BODY_25")
    assert b.pairs[0] == (1, 8) and b.paf_channels[0] == (26, 27)
    assert b.pairs[13] == (1, 0) and b.paf_channels[13] == (56, 57)
    assert b.pairs[25] == (11, 24) and b.paf_channels[25] == (76, 77)
    assert b.ear_limbs == (18, 19) and b.pairs[18] == (2, 17) and b.pairs[19] == (5, 18)
    assert b.foot_parts == (19, 20, 21, 22, 23, 24) and b.part_names[8] == "MidHip"
    mpi = models.get("MPI_15")
    assert mpi.pairs[7] == (1, 14) and mpi.paf_channels[7] == (30, 31)
    assert mpi.ear_limbs == () and mpi.part_names[14] == "Chest"


@pytest.mark.parametrize(
    "name, nms, inter",
    [("COCO_18", 0.05, 0.05), ("BODY_25", 0.05, 0.05), ("MPI_15", 0.6, 0.01), ("MPI_15_4", 0.3, 0.01)],
)
def test_defaults(name, nms, inter):
    d = models.get(name).defaults
    assert d["nms_threshold"] == pytest.approx(nms) and d["inter_threshold"] == pytest.approx(inter)
    assert d["inter_min_above_threshold"] == pytest.approx(0.95)
    assert d["min_subset_cnt"] == 3 and d["min_subset_score"] == pytest.approx(0.4)
    assert d["max_peaks"] == 127


def test_render_colors():
    coco = models.get("COCO_18")
    assert coco.colors[0] == (255, 0, 85) and coco.colors[17] == (85, 0, 255)
    assert len(coco.render_pairs) == 17 and coco.limb_colors[0] == coco.colors[2]
    body = models.get("BODY_25")
    assert body.colors[8] == (255, 0, 0) and body.colors[24] == (0, 255, 255)
    assert len(body.render_pairs) == 24
    assert models.get("MPI_15").colors[7] == (43, 255, 0)


def test_frozen_and_part_index():
    m = models.get("COCO_18")
    with pytest.raises(Exception):  # noqa: B017  (any refusal passes; FrozenInstanceError would narrow the check)
        m.name = "x"
    with pytest.raises(TypeError):
        m.defaults["nms_threshold"] = 1.0
    assert m.part_index("RWrist") == 4
    with pytest.raises(ValueError, match="part name"):
        m.part_index("Tail")


def test_unknown_model_names_valid_ones():
    with pytest.raises(ValueError, match=r"model: expected one of .*COCO_18.*got \"COCO\""):
        models.get("COCO")
    with pytest.raises(TypeError, match="model"):
        models.get(18)


def test_no_tensorflow_import():
    code = "import sys, tfpose.models as m; m.get('BODY_25'); assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)

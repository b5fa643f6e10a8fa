"""Person ids on synthetic videos with known identities built from real photographs
(tests/synthetic_video.py), through the Python API and the CLI."""

from __future__ import annotations

import copy
import json

import cv2
import numpy as np
import pytest
import synthetic_video as sv

from tfpose.tracking import PoseTracker, keypoint_sigmas

from helpers import DATA, THIN_MODEL

MNT = str(THIN_MODEL)
pytestmark = pytest.mark.slow  # mobilenet_thin on about 90 synthetic frames
SCENARIOS = {s.name: s for s in sv.scenarios()}


@pytest.fixture(scope="module")
def estimator():
    from tfpose.estimator import Estimator

    return Estimator(MNT, batch_size=4)


@pytest.fixture(scope="module")
def scene(estimator):
    return sv.build_scene(estimator)


@pytest.fixture(scope="module")
def detected(estimator, scene):
    """Scenario name -> (frames, sprite positions, people per frame without ids)."""
    out = {}
    for name in ("crossing", "pillar"):
        frames, where = sv.render(SCENARIOS[name], scene)
        out[name] = (frames, where, estimator.estimate_batch(frames))
    return out


@pytest.mark.parametrize("name", ["crossing", "pillar"])
@pytest.mark.parametrize("assignment", ["optimal", "greedy"])
def test_no_identity_switch(detected, scene, name, assignment):
    """Two people crossing at walking speed, and a person walking behind a pillar: every time a
    person is found, it has the id it had before."""
    frames, where, people = detected[name]
    people = [[copy.copy(p) for p in f] for f in people]
    tracker = PoseTracker("COCO_18", assignment=assignment)
    for f in people:
        tracker.update(f, image_size=sv.FRAME_HW)
    r = sv.identity_switches(people, where, scene.refs, keypoint_sigmas("COCO_18"))
    print(f"{name} ({assignment}): {r}")
    assert r["found"] >= 0.5 * r["visible"]  # the scene is one the network can see
    assert r["switches"] == 0, r
    assert all(len(ids) == 1 for ids in r["ids_per_person"].values()), r
    assert all(len(who) == 1 for who in r["people_per_id"].values()), r


def test_cli_tracking_on_a_crossing_video(detected, scene, tmp_path, capsys):
    """The CLI's --tracking/--smooth with OpenPose's frame selection on a video file: ids in the JSON
    follow the two people, drawings are coloured by id."""
    from tfpose import cli

    frames, where, _ = detected["crossing"]
    video = tmp_path / "crossing.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, sv.FRAME_HW[::-1])
    for f in frames:
        w.write(f)
    w.release()
    rc = cli.main(
        [
            "estimate",
            str(video),
            "--model",
            MNT,
            "--tracking",
            "--smooth",
            "--frame-first",
            "4",
            "--frame-step",
            "3",
            "--frame-last",
            "40",
            "--write-json",
            str(tmp_path / "j"),
            "--write-images",
            str(tmp_path / "i"),
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    chosen = list(range(4, 41, 3))
    names = sorted(p.name for p in (tmp_path / "j").iterdir())
    assert names == [f"crossing_{i:012d}_keypoints.json" for i in chosen]
    assert f"{len(chosen)} frames" in out
    from tfpose.estimator import Person

    tracked = []
    for i in chosen:
        doc = json.loads((tmp_path / "j" / f"crossing_{i:012d}_keypoints.json").read_text())
        tracked.append(
            [
                Person(np.reshape(p["pose_keypoints_2d"], (-1, 3)), 1.0, person_id=p["person_id"][0])
                for p in doc["people"]
            ]
        )
    r = sv.identity_switches(tracked, [where[i] for i in chosen], scene.refs, keypoint_sigmas("COCO_18"))
    assert r["switches"] == 0 and r["found"] >= len(chosen), r
    assert f"{int(out.split(' person ids')[0].split()[-1])}" == str(max(p.person_id for f in tracked for p in f) + 1)
    drawing = cv2.imread(str(tmp_path / "i" / f"crossing_{chosen[0]:012d}_rendered.png"))
    from tfpose.draw import id_color

    for pid in {p.person_id for p in tracked[0]}:
        colour = np.round(id_color(pid)).astype(np.uint8)
        assert (np.abs(drawing.astype(int) - colour).max(-1) <= 2).sum() > 50


def test_cli_tracking_over_images_of_changing_size(tmp_path, capsys):
    """Still images of different sizes: each gets its people and ids; every still image is its own
    tracking sequence (issue 21: tracks restart with each video and each still image) and ids are
    never reused; a broken frame loses nothing else."""
    from tfpose import cli
    from tfpose.cli.run import TRACKING_IMAGES_NOTE

    src = cv2.imread(str(DATA / "images" / "tf_pose_estimation" / "p1.jpg"))
    d = tmp_path / "frames"
    d.mkdir()
    cv2.imwrite(str(d / "f0.png"), src)
    cv2.imwrite(str(d / "f1.png"), src)
    (d / "f2.png").write_bytes(b"")  # an empty frame file
    cv2.imwrite(str(d / "f3.png"), cv2.resize(src, (src.shape[1] * 2, src.shape[0] * 2)))
    cv2.imwrite(str(d / "f4.png"), cv2.resize(src, (src.shape[1] * 2, src.shape[0] * 2)))
    rc = cli.main(
        [
            "estimate",
            str(d),
            "--model",
            MNT,
            "--tracking",
            "--write-json",
            str(tmp_path / "j"),
            "--no-progress",
            "--batch-size",
            "1",
        ]
    )
    cap = capsys.readouterr()
    assert rc == 1 and "f2.png" in cap.err  # the empty file is reported, the others are written
    assert TRACKING_IMAGES_NOTE in cap.err  # the user is told a folder of images is no sequence
    ids = {}
    for k in (0, 1, 3, 4):
        doc = json.loads((tmp_path / "j" / f"f{k}_keypoints.json").read_text())
        ids[k] = sorted(p["person_id"][0] for p in doc["people"])
        assert ids[k] and all(i >= 0 for i in ids[k])
    seen = [i for k in ids for i in ids[k]]
    assert len(seen) == len(set(seen))  # a new sequence per image, ids unique across the run
    assert "4 frames written" in cap.out


def test_real_photo_of_five_people_keeps_every_id(estimator):
    """apink2.jpg (five people) moved (3, 2) px per frame for 24 frames, mobilenet_thin finding
    the people in every frame (it splits some into a body and a fragment): every person keeps one
    id throughout, and no id is given to two people. (On 42fad21: 3 identity switches, 8 ids.)"""
    import tracking_scenarios as ts

    sc = ts.translated_photo(estimator, DATA / "images" / "tf_pose_estimation" / "apink2.jpg")
    assert {len(f.gt_ids) for f in sc.frames} == {5}
    tracker = PoseTracker("COCO_18")
    tracked, _ = ts.run_tracker(tracker, sc)
    r = ts.evaluate(sc, tracked)
    print(r, "fragments in the last frame:", tracker.fragments)
    assert r["switches"] == 0 and r["fn"] == 0, r
    ids_of = {}
    for f, people in zip(sc.frames, tracked, strict=True):
        # the people with an id (a fragment, -1, can be as large as a body split in halves)
        people = [p for p in people if p.person_id >= 0]
        sim = ts.coco_oks(f.gt, np.array([p.keypoints for p in people], np.float64).reshape(-1, 18, 3))
        for g, gid in enumerate(f.gt_ids):
            j = int(np.argmax(sim[g]))
            assert sim[g, j] >= ts.MATCH_OKS
            ids_of.setdefault(int(gid), set()).add(people[j].person_id)
    assert all(len(v) == 1 for v in ids_of.values()), ids_of
    assert len({next(iter(v)) for v in ids_of.values()}) == 5

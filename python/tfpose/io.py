"""OpenPose JSON output (format version 1.3, as written by ``--write_json``) and OpenPose's file names.

A file is ``{"version": 1.3, "people": [{"person_id": [-1 or the tracker's id], "pose_keypoints_2d": [x0, y0, c0, x1, ...],
"face_keypoints_2d": [], "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": [],
"pose_keypoints_3d": [], "face_keypoints_3d": [], "hand_left_keypoints_3d": [],
"hand_right_keypoints_3d": []}, ...]}``. No TensorFlow here.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np

__all__ = ["JSON_VERSION", "person_dict", "people_json", "write_json", "read_json", "json_name"]

JSON_VERSION = 1.3
_EMPTY_FIELDS = ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d",
                 "pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d", "hand_right_keypoints_3d")


def person_dict(keypoints, person_id: int = -1) -> dict:
    """keypoints [P, 3] (x, y, score) -> one ``people`` entry with OpenPose v1.3's fields;
    person_id: the tracker's id, -1 = untracked (OpenPose writes ``[-1]`` without tracking)."""
    k = np.asarray(keypoints, dtype=np.float32)
    if k.ndim != 2 or k.shape[1] != 3:
        raise ValueError(f"keypoints: expected shape [P, 3], got {k.shape}")
    d = {"person_id": [int(person_id)], "pose_keypoints_2d": [float(v) for v in k.reshape(-1)]}
    for field in _EMPTY_FIELDS:
        d[field] = []
    return d


def _keypoints_of(person):
    return person.keypoints if hasattr(person, "keypoints") else person


def people_json(people: Iterable) -> dict:
    """people: Person objects or [P, 3] arrays -> the whole v1.3 document as a dict."""
    return {"version": JSON_VERSION,
            "people": [person_dict(_keypoints_of(p), getattr(p, "person_id", -1)) for p in people]}


def _fmt(v: float) -> str:
    # OpenPose prints with 6 significant digits (std::ostream default); keep that precision but
    # write valid JSON (no nan/inf: OpenPose never emits them; map to 0 like a missing part).
    if not np.isfinite(v):
        return "0"
    s = f"{v:.6g}"
    return s


def dumps(doc: dict) -> str:
    """Serialise a v1.3 document compactly, with OpenPose's 6-significant-digit numbers."""
    people = []
    for p in doc["people"]:
        fields = [f'"person_id":[{",".join(str(int(i)) for i in p["person_id"])}]']
        for key in ("pose_keypoints_2d",) + _EMPTY_FIELDS:
            fields.append(f'"{key}":[{",".join(_fmt(v) for v in p.get(key, []))}]')
        people.append("{" + ",".join(fields) + "}")
    return '{"version":' + str(doc.get("version", JSON_VERSION)) + ',"people":[' + ",".join(people) + "]}"


def write_json(path, people: Iterable) -> Path:
    """Write people (Person objects or [P, 3] arrays) to ``path`` as OpenPose JSON v1.3; returns the path.
    The file is written to a temporary name and renamed, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps(people_json(people)) + "\n")
    os.replace(tmp, path)
    return path


def read_json(path) -> dict:
    """Read an OpenPose JSON file (v1.0-1.3). Returns the document; each person's pose keypoints
    are also given as ``"pose"``: numpy [P, 3] (v1.0 files call the field ``pose_keypoints``)."""
    doc = json.loads(Path(path).read_text())
    for p in doc.get("people", []):
        flat = p.get("pose_keypoints_2d", p.get("pose_keypoints", []))
        p["pose"] = np.asarray(flat, dtype=np.float32).reshape(-1, 3)
    return doc


def json_name(source, frame: int | None = None) -> str:
    """OpenPose's output name: ``<image stem>_keypoints.json`` for an image,
    ``<video stem>_<frame as 12 digits>_keypoints.json`` for a video frame."""
    stem = Path(source).stem
    if frame is None:
        return f"{stem}_keypoints.json"
    if frame < 0:
        raise ValueError(f"frame: expected a non-negative index, got {frame}")
    return f"{stem}_{int(frame):012d}_keypoints.json"

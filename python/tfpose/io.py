"""OpenPose's output formats and options, and the one rule for output file names. No TensorFlow here.

* OpenPose JSON (format version 1.3, as written by ``--write_json``): ``{"version": 1.3, "people":
  [{"person_id": [-1 or the tracker's id], "pose_keypoints_2d": [x0, y0, c0, x1, ...], "face_keypoints_2d": [],
  "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": [], "pose_keypoints_3d": [],
  "face_keypoints_3d": [], "hand_left_keypoints_3d": [], "hand_right_keypoints_3d": []}, ...]}``,
  plus ``"part_candidates"`` with ``--part_candidates`` (OpenPose's doc/02_output.md).
* COCO results JSON (OpenPose's ``--write_coco_json``, filestream/cocoJsonSaver.cpp).
* ``--keypoint_scale`` (core/keypointScaler.cpp) and ``--number_people_max`` (core/keepTopNPeople.cpp).
* Output names (:func:`output_stems`, :func:`output_file_name`): OpenPose's ``<stem>_keypoints.json``,
  made distinct when several inputs would share a name.

Output names and input identity: :mod:`tfpose.naming` (re-exported here).

A keypoint is (x, y, score) in original-image pixels with OpenPose's +0.5 convention (the centre of
pixel i is at i + 0.5) unless a keypoint scale says otherwise; a missing part is (0, 0, 0).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

# The naming rules live in tfpose.naming (no NumPy); re-exported here, where users import them.
from tfpose.naming import distinct_inputs, frame_stem, input_identity, output_file_name, output_stems

__all__ = [
    "JSON_VERSION",
    "person_dict",
    "people_json",
    "part_candidates_dict",
    "write_json",
    "read_json",
    "json_name",
    "clean_keypoints",
    "output_stems",
    "input_identity",
    "distinct_inputs",
    "output_file_name",
    "frame_stem",
    "COCO_KEYPOINT_NAMES",
    "COCO_PIXEL_CONVENTIONS",
    "coco_keypoint_order",
    "coco_image_id",
    "CocoImageIds",
    "coco_mapping_name",
    "coco_results",
    "write_coco_json",
    "KEYPOINT_SCALES",
    "scale_keypoints",
    "keep_top_people",
]

JSON_VERSION = 1.3
_EMPTY_FIELDS = (
    "face_keypoints_2d",
    "hand_left_keypoints_2d",
    "hand_right_keypoints_2d",
    "pose_keypoints_3d",
    "face_keypoints_3d",
    "hand_left_keypoints_3d",
    "hand_right_keypoints_3d",
)


def clean_keypoints(keypoints) -> np.ndarray:
    """keypoints [..., 3] (x, y, score) -> float32 copy in which every keypoint holding a non-finite
    value (NaN or +-Inf in x, y or score) is (0, 0, 0), i.e. missing: a point whose position is
    unknown must never be written or drawn with a confident score. Raises ValueError for a last
    dimension other than 3."""
    k = np.array(keypoints, dtype=np.float32)
    if k.ndim < 1 or k.shape[-1] != 3:
        raise ValueError(f"keypoints: expected shape [..., 3] (x, y, score), got {k.shape}")
    k[~np.isfinite(k).all(axis=-1)] = 0.0
    return k


def person_dict(keypoints, face=None, hand_left=None, hand_right=None, person_id: int = -1) -> dict:
    """keypoints [P, 3] (x, y, score) -> one ``people`` entry with OpenPose v1.3's fields.
    Non-finite keypoints are written as missing (0, 0, 0), see :func:`clean_keypoints`.

    face [70, 3], hand_left / hand_right [21, 3]: filled into ``face_keypoints_2d`` /
    ``hand_*_keypoints_2d`` when given (a hand or face that was not found is all zeros, as OpenPose
    writes it); None leaves the field ``[]`` (the feature is off). person_id: the tracker's id, -1 =
    untracked (OpenPose writes ``[-1]`` without tracking)."""
    k = np.asarray(keypoints, dtype=np.float32)
    if k.ndim != 2 or k.shape[1] != 3:
        raise ValueError(f"keypoints: expected shape [P, 3], got {k.shape}")
    k = clean_keypoints(k)
    d = {"person_id": [int(person_id)], "pose_keypoints_2d": [float(v) for v in k.reshape(-1)]}
    for field in _EMPTY_FIELDS:
        d[field] = []
    for field, value, rows in (
        ("face_keypoints_2d", face, 70),
        ("hand_left_keypoints_2d", hand_left, 21),
        ("hand_right_keypoints_2d", hand_right, 21),
    ):
        if value is not None:
            a = np.asarray(value, dtype=np.float32)
            if a.shape != (rows, 3):
                raise ValueError(f"{field[:-3]}: expected shape [{rows}, 3], got {a.shape}")
            d[field] = [float(v) for v in clean_keypoints(a).reshape(-1)]
    return d


def _keypoints_of(person):
    return person.keypoints if hasattr(person, "keypoints") else person


def _person_entry(person) -> dict:
    extras = {k: getattr(person, k, None) for k in ("face", "hand_left", "hand_right")}
    return person_dict(_keypoints_of(person), **extras, person_id=getattr(person, "person_id", -1))


def part_candidates_dict(candidates: Sequence) -> dict:
    """OpenPose's ``part_candidates`` entry: P arrays [K_p, 3] (x, y, score) -> {"0": [x, y, score,
    ...], "1": [...], ...}, one key per body part in the pose model's part order (OpenPose's
    doc/02_output.md). Non-finite candidates are dropped (a candidate is a detection, not a slot)."""
    out = {}
    for p, c in enumerate(candidates):
        c = np.asarray(c, dtype=np.float32).reshape(-1, 3)
        c = c[np.isfinite(c).all(axis=1)]
        out[str(p)] = [float(v) for v in c.reshape(-1)]
    return out


def people_json(people: Iterable, part_candidates: Sequence | None = None) -> dict:
    """people: Person objects or [P, 3] arrays -> the whole v1.3 document as a dict (hands and face
    from the Person objects that carry them).
    part_candidates: optional P arrays [K_p, 3] (see :func:`part_candidates_dict`), written as
    OpenPose's top-level ``"part_candidates": [{...}]``."""
    doc = {"version": JSON_VERSION, "people": [_person_entry(p) for p in people]}
    if part_candidates is not None:
        doc["part_candidates"] = [part_candidates_dict(part_candidates)]
    return doc


def _fmt(v: float) -> str:
    # OpenPose prints with 6 significant digits (std::ostream default). person_dict has already
    # turned non-finite keypoints into missing ones; "0" only keeps the document valid JSON.
    if not np.isfinite(v):
        return "0"
    return f"{v:.6g}"


def _numbers(values) -> str:
    return "[" + ",".join(_fmt(v) for v in values) + "]"


def dumps(doc: dict) -> str:
    """Serialise a v1.3 document compactly, with OpenPose's 6-significant-digit numbers."""
    people = []
    for p in doc["people"]:
        fields = [f'"person_id":[{",".join(str(int(i)) for i in p["person_id"])}]']
        for key in ("pose_keypoints_2d",) + _EMPTY_FIELDS:
            fields.append(f'"{key}":{_numbers(p.get(key, []))}')
        people.append("{" + ",".join(fields) + "}")
    out = '{"version":' + str(doc.get("version", JSON_VERSION)) + ',"people":[' + ",".join(people) + "]"
    if "part_candidates" in doc:
        entries = ["{" + ",".join(f'"{k}":{_numbers(v)}' for k, v in c.items()) + "}" for c in doc["part_candidates"]]
        out += ',"part_candidates":[' + ",".join(entries) + "]"
    return out + "}"


def write_json(path, people: Iterable, part_candidates: Sequence | None = None) -> Path:
    """Write people (Person objects or [P, 3] arrays) to ``path`` as OpenPose JSON v1.3; returns the
    path. part_candidates: see :func:`people_json`. A missing folder is created; OSError when the
    file cannot be written (the CLI checks its output folders before any work)."""
    # tfpose.outputs: a temporary name and a rename (a reader never sees half a file, a failed write
    # leaves nothing); an OSError becomes OutputError naming the file and the cause.
    from tfpose.outputs import write_text

    return write_text(Path(path), dumps(people_json(people, part_candidates)) + "\n")


def read_json(path) -> dict:
    """Read an OpenPose JSON file (v1.0-1.3). Returns the document; each person's pose keypoints
    are also given as ``"pose"``: numpy [P, 3] (v1.0 files call the field ``pose_keypoints``)."""
    doc = json.loads(Path(path).read_text())
    for p in doc.get("people", []):
        flat = p.get("pose_keypoints_2d", p.get("pose_keypoints", []))
        p["pose"] = np.asarray(flat, dtype=np.float32).reshape(-1, 3)
    return doc


def json_name(source, frame: int | None = None) -> str:
    """OpenPose's output name for one input on its own: ``<image stem>_keypoints.json`` for an image,
    ``<video stem>_<frame as 12 digits>_keypoints.json`` for a video frame. With several inputs use
    :func:`output_stems` first (same-stem inputs get distinct names)."""
    return output_file_name(Path(source).stem, frame, "keypoints", "json")


# ---------------------------------------------------------------------------------------------
# COCO results JSON (OpenPose's --write_coco_json)

# COCO's 17 person keypoints in COCO's order (person_keypoints annotations, "keypoints" field).
COCO_KEYPOINT_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
# OpenPose's part name of each COCO keypoint (the pose-model tables name parts like OpenPose).
_OPENPOSE_NAME = {"nose": "Nose"}
for _side, _s in (("left", "L"), ("right", "R")):
    for _part in ("eye", "ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        _OPENPOSE_NAME[f"{_side}_{_part}"] = _s + _part.capitalize()

# "openpose": keypoints as OpenPose writes them (+0.5 convention, the centre of pixel i is i + 0.5).
# "coco": x - 0.5, y - 0.5 (the centre of pixel i is i), the convention under which COCO's own
# annotations score best (benchmarks/coco_eval.py: AP 0.290 against 0.282 on coco_mini).
COCO_PIXEL_CONVENTIONS = {"openpose": 0.0, "coco": -0.5}


def coco_keypoint_order(pose_model="COCO_18") -> tuple[int, ...]:
    """Index in ``pose_model``'s part order of each of COCO's 17 keypoints, found by part name from
    the pose-model table (COCO_18: (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10), as
    in OpenPose's cocoJsonSaver.cpp; BODY_25 likewise). Raises ValueError for a model without all 17
    (MPI_15, MPI_15_4 have no eyes or ears)."""
    from tfpose import models

    table = models.get(pose_model) if isinstance(pose_model, str) else pose_model
    missing = [n for n in COCO_KEYPOINT_NAMES if _OPENPOSE_NAME[n] not in table.part_names]
    if missing:
        raise ValueError(
            f"pose model {table.name}: expected all of COCO's 17 keypoints for COCO JSON, "
            f"but it has no {', '.join(_OPENPOSE_NAME[n] for n in missing)}"
        )
    return tuple(table.part_names.index(_OPENPOSE_NAME[n]) for n in COCO_KEYPOINT_NAMES)


_TRAILING_DIGITS = re.compile(r"(\d+)$")


def coco_image_id(source, frame: int | None = None) -> int:
    """COCO ``image_id`` of an input: the number its file name ends with (COCO's file names:
    ``000000000139.jpg`` -> 139; OpenPose's getLastNumber rule), or the frame index for a video
    frame. Raises ValueError for an image name that does not end with a number."""
    if frame is not None:
        return int(frame)
    number = _name_number(source)
    if number is None:
        raise ValueError(
            f"{source}: --write-coco-json takes the COCO image_id from the number a file name "
            f"ends with (e.g. 000000000139.jpg), but {Path(source).name!r} has none"
        )
    return number


def _name_number(source) -> int | None:
    m = _TRAILING_DIGITS.search(Path(source).stem)
    return None if m is None else int(m.group(1))


class CocoImageIds:
    """Unique COCO ``image_id`` for every image and frame of a run, by one rule (README, "Nothing is
    lost silently"):

    1. a still image whose file name ends with a number (COCO's ``000000000139.jpg``) gets that
       number, unless an earlier image in processing order already has it (reserved up front, from
       ``images``, so nothing else can take it);
    2. a video frame gets its frame index (OpenPose's rule for videos) when no image and no earlier
       frame or image has that id yet;
    3. everything else (a name without a number such as ``cat.jpg``, a number or index already
       taken) gets the next id above every id given or reserved so far, in processing order.

    images: the still images' paths in processing order. :meth:`assign` gives the id of one
    image/frame (call it in processing order) and records it in :attr:`mapping`, the rows of the
    mapping file (:meth:`mapping_json`): ``{"file", "frame" (None for an image), "image_id"}``."""

    def __init__(self, images: Iterable = ()):
        self._reserved: dict[int, object] = {}  # number -> the image it belongs to
        for p in images:
            n = _name_number(p)
            if n is not None:
                self._reserved.setdefault(n, os.fspath(p))
        self._used: set[int] = set()
        self._next = max(self._reserved, default=-1) + 1
        self.mapping: list[dict] = []

    def assign(self, source, frame: int | None = None) -> int:
        """The image_id of image ``source`` (frame None) or of frame ``frame`` of video ``source``."""
        from tfpose.sources import display_name

        want = _name_number(source) if frame is None else int(frame)
        owner = self._reserved.get(want) if want is not None else None
        mine = frame is None and owner == os.fspath(source)
        if want is not None and want not in self._used and (mine or (frame is not None and owner is None)):
            image_id = want
        else:
            while self._next in self._used or self._next in self._reserved:
                self._next += 1
            image_id = self._next
        self._used.add(image_id)
        self._next = max(self._next, image_id + 1)
        self.mapping.append({"file": display_name(source), "frame": frame, "image_id": image_id})
        return image_id

    def mapping_json(self) -> str:
        """The mapping as JSON text: a list of ``{"file", "frame", "image_id"}`` in processing order
        (file names that are not UTF-8 shown with ``\\xNN`` escapes)."""
        return json.dumps(self.mapping, indent=0) + "\n"


def coco_mapping_name(coco_path) -> Path:
    """Where the image-id mapping of a COCO results file goes: ``<stem>_image_ids.json`` beside it."""
    p = Path(coco_path)
    return p.with_name(p.stem + "_image_ids.json")


def coco_results(
    image_id: int, people: Iterable, pose_model="COCO_18", pixel_convention: str = "openpose"
) -> list[dict]:
    """People of one image as COCO keypoint results (OpenPose's --write_coco_json, cocoJsonSaver.cpp):
    ``{"image_id", "category_id": 1, "keypoints": [x, y, v] * 17 in COCO's order, "score"}``, with
    v = 1 for a found keypoint (score > 0) and 0, 0, 0 for a missing one; score = OpenPose's person
    score. People with none of the 17 keypoints are left out (as OpenPose does).

    pixel_convention: "openpose" (default, what OpenPose writes: +0.5 convention) or "coco"
    (x - 0.5, y - 0.5), see COCO_PIXEL_CONVENTIONS. Keypoints in image pixels (keypoint scale 0).
    """
    if pixel_convention not in COCO_PIXEL_CONVENTIONS:
        raise ValueError(
            f"pixel_convention: expected one of {sorted(COCO_PIXEL_CONVENTIONS)}, got {pixel_convention!r}"
        )
    shift = COCO_PIXEL_CONVENTIONS[pixel_convention]
    order = list(coco_keypoint_order(pose_model))
    out = []
    for p in people:
        kp = clean_keypoints(_keypoints_of(p))[order]
        if not (kp[:, 2] > 0).any():
            continue
        flat = []
        for x, y, c in kp:
            flat += [float(x) + shift, float(y) + shift, 1] if c > 0 else [0.0, 0.0, 0]
        score = float(getattr(p, "score", kp[:, 2].mean()))
        out.append(
            {
                "image_id": int(image_id),
                "category_id": 1,
                "keypoints": flat,
                "score": score if math.isfinite(score) else 0.0,
            }
        )
    return out


def write_coco_json(path, results: Iterable[dict]) -> Path:
    """Write COCO results (a list of :func:`coco_results` entries) to ``path`` as one JSON array."""
    from tfpose.outputs import write_text

    return write_text(Path(path), json.dumps(list(results)) + "\n")


# ---------------------------------------------------------------------------------------------
# --keypoint_scale and --number_people_max

# OpenPose's --keypoint_scale values (flags.hpp; core/keypointScaler.cpp).
KEYPOINT_SCALES = {
    0: "original image pixels (OpenPose's +0.5 convention)",
    1: "pixels of the network input of scale 0 (set by net_resolution)",
    2: "output resolution (tfpose draws at the input resolution, so the same as 0)",
    3: "[0, 1]: x / (W - 1), y / (H - 1) of the image",
    4: "[-1, 1]: 2x / (W - 1) - 1, 2y / (H - 1) - 1 of the image",
}


def scale_keypoints(keypoints, keypoint_scale: int, image_wh, scale_net_to_output: float = 1.0) -> np.ndarray:
    """OpenPose's ``--keypoint_scale`` (keypointScaler.cpp) on keypoints [..., 3] in image pixels.

    keypoint_scale: 0..4, see KEYPOINT_SCALES. image_wh: (W, H) of the original image.
    scale_net_to_output: OpenPose's scaleNetToOutput (``tfpose.sizing.net_to_output``), used by 1.
    x and y of found keypoints change; scores and missing parts (0, 0, 0) stay as they are
    (OpenPose would move a missing part's 0, 0 too; the score 0 is what marks it). float32 result.
    """
    k = clean_keypoints(keypoints)
    if keypoint_scale == 0 or keypoint_scale == 2:
        return k
    w, h = (float(v) for v in image_wh)
    f32 = np.float32
    if keypoint_scale == 1:
        sx = sy = f32(1.0 / scale_net_to_output)
        ox = oy = f32(0)
    elif keypoint_scale in (3, 4):
        span = 1.0 if keypoint_scale == 3 else 2.0
        # A 1-pixel side has no extent to normalise by; OpenPose would divide by zero.
        sx = f32(span / (w - 1.0)) if w > 1 else f32(0)
        sy = f32(span / (h - 1.0)) if h > 1 else f32(0)
        ox = oy = f32(0 if keypoint_scale == 3 else -1)
    else:
        raise ValueError(f"keypoint_scale: expected one of {sorted(KEYPOINT_SCALES)}, got {keypoint_scale!r}")
    found = k[..., 2] > 0
    k[..., 0] = np.where(found, k[..., 0] * sx + ox, k[..., 0])
    k[..., 1] = np.where(found, k[..., 1] * sy + oy, k[..., 1])
    return k


def keep_top_people(keypoints, scores, number_people_max: int) -> np.ndarray:
    """OpenPose's ``--number_people_max`` (core/keepTopNPeople.cpp): indices of the people to keep,
    in their original order.

    keypoints [M, P, 3] (image pixels), scores [M]. number_people_max <= 0 keeps everyone. Otherwise
    each person is ranked by score * sqrt(area of the box around its keypoints with score > 0.05);
    the people above the N-th largest value are kept, then those equal to it in order until N.
    """
    m = len(scores)
    if number_people_max <= 0 or m <= number_people_max:
        return np.arange(m)
    k = clean_keypoints(keypoints).reshape(m, -1, 3)
    final = np.empty(m, np.float32)
    for i in range(m):
        v = k[i][k[i, :, 2] > 0.05]
        area = (float(v[:, 0].max() - v[:, 0].min()) * float(v[:, 1].max() - v[:, 1].min())) if len(v) else 0.0
        final[i] = np.float32(scores[i]) * np.float32(math.sqrt(area))
    threshold = np.sort(final)[::-1][number_people_max - 1]
    above = int((final > threshold).sum())
    keep, on_threshold = [], 0
    for i in range(m):
        if final[i] > threshold:
            keep.append(i)
        elif final[i] == threshold:
            on_threshold += 1
            if on_threshold <= number_people_max - above:
                keep.append(i)
    return np.asarray(keep, dtype=np.int64)

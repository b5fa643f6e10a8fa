"""tfpose.io.output_stems at scale: the same names as the documented rule (README, the docstring),
in work linear in the number of inputs (many inputs sharing one file name, as ``*/video.mp4``)."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

from tfpose import io as tio

_FRAME = re.compile(r"^(.*)_\d{12}$", re.S)


def _rule(inputs, is_video):
    """The rule of output_stems' docstring, written out plainly (quadratic): the reference."""
    paths = [Path(p) for p in inputs]
    stems = [p.stem for p in paths]
    folded = [s.casefold() for s in stems]
    video_stems = {f for f, v in zip(folded, is_video, strict=True) if v}
    clash = set()
    for i, f in enumerate(folded):
        if folded.count(f) > 1:
            clash.add(i)
        m = None if is_video[i] else _FRAME.match(stems[i])
        if m and m.group(1).casefold() in video_stems:
            clash.add(i)
            clash.update(j for j, g in enumerate(folded) if is_video[j] and g == m.group(1).casefold())
    first = [s + "_" + paths[i].suffix[1:] if i in clash and paths[i].suffix[1:] else s for i, s in enumerate(stems)]
    owner = {}
    for i, s in enumerate(first):
        owner.setdefault(s.casefold(), i)
    given = []  # (casefolded name, is_video) of the names handed out so far

    def free(name, video, i):
        key = name.casefold()
        if any(key == g for g, _ in given) or owner.get(key, i) != i:
            return False
        if video:  # an image already named like one of this video's frames
            return not any(not v and (m := _FRAME.match(g)) and m.group(1) == key for g, v in given)
        m = _FRAME.match(key)
        return m is None or not any(v and g == m.group(1) for g, v in given)

    out = []
    for i, name in enumerate(first):
        candidate, n = name, 1
        while not free(candidate, is_video[i], i):
            n += 1
            candidate = f"{name}_{n}"
        given.append((candidate.casefold(), is_video[i]))
        out.append(candidate)
    return out


def test_names_follow_the_rule_on_random_sets():
    rng = random.Random(27)
    stems = ["x", "X", "x_2", "x_jpg", "x_jpg_2", "v", "v_000000000001", "V_000000000002", "v_2", "v_avi", "x_3"]
    exts = [".jpg", ".png", ".avi", ".JPG", ""]
    for _ in range(3000):
        inputs = [f"d{rng.randint(0, 3)}/{rng.choice(stems)}{rng.choice(exts)}" for _ in range(rng.randint(1, 10))]
        videos = [rng.random() < 0.4 for _ in inputs]
        assert tio.output_stems(inputs, videos) == _rule(inputs, videos), (inputs, videos)


def _calls_during(fn, *args):
    """fn(*args) and the function calls it made (Python and C, generator steps included, counted by
    sys.setprofile): a measure of work that no machine load changes."""
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profile)
    try:
        result = fn(*args)
    finally:
        sys.setprofile(None)
    return result, calls


@pytest.mark.parametrize("kind", ["same name", "frame-named images"])
def test_work_is_linear_in_inputs_sharing_a_name(kind):
    k = 1000
    if kind == "same name":
        # k inputs of one file name: today's main searched "x_jpg_2", "x_jpg_3", ... from 2 for each.
        inputs, videos = [f"d{i}/x.jpg" for i in range(k)], [False] * k
        expected = ["x_jpg"] + [f"x_jpg_{n}" for n in range(2, k + 1)]
    else:
        # k images named like frames of a stem that k videos share: each image walked every video.
        inputs = [f"v{i}/clip.avi" for i in range(k)] + [f"i/clip_{i:012d}.jpg" for i in range(k)]
        videos = [True] * k + [False] * k
        expected = ["clip_avi"] + [f"clip_avi_{n}" for n in range(2, k + 1)] + [f"clip_{i:012d}_jpg" for i in range(k)]
    stems, calls = _calls_during(tio.output_stems, inputs, videos)
    assert stems == expected
    # About 20 calls per input (Path, stem, casefold, regular expressions ...); quadratic work is ~k/2 per input.
    assert calls <= 60 * len(inputs), f"{calls} calls for {len(inputs)} inputs"

"""tools/rewrite_spec_refs.py: every "spec §N" comment of the repository is rewritten to a section of
docs/algorithms/ that exists, hand/face references go to hand-face.md, and nothing is left behind."""

from __future__ import annotations

import importlib.util
import re

import pytest

from helpers import REPO

_spec = importlib.util.spec_from_file_location("rewrite_spec_refs", REPO / "tools" / "rewrite_spec_refs.py")
assert _spec and _spec.loader
rewrite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rewrite)


def _headings(doc: str) -> set[str]:
    text = (REPO / doc).read_text()
    return set(re.findall(r"^#+ (\d+(?:\.\d+)?) ", text, re.M))


@pytest.mark.parametrize(
    ("line", "hand_face_file", "expected"),
    [
        ("// OpenPose's NMS (spec §5): peaks", False, "// OpenPose's NMS (docs/algorithms/body.md §5): peaks"),
        ('    """Spec §2.1 step 1: scale-0', False, '    """docs/algorithms/body.md §2.1 step 1: scale-0'),
        ("// Hand boxes (hf spec §2.1) of R", False, "// Hand boxes (docs/algorithms/hand-face.md §2.1) of R"),
        ("(spec hand/face §5.3-5.4)", False, "(docs/algorithms/hand-face.md §5.3-5.4)"),
        ("// maximum, body spec §6)", False, "// maximum, docs/algorithms/body.md §6)"),
        ("(shared/spec/openpose-hand-face.md §6.4)", False, "(docs/algorithms/hand-face.md §6.4)"),
        ("(``shared/spec/openpose-hand-face.md`` §2-4;", False, "(docs/algorithms/hand-face.md §2-4;"),
        ("Pixel convention (spec §4.8): the", True, "Pixel convention (docs/algorithms/hand-face.md §4.8): the"),
        (
            "face boxes from body keypoints (spec §3; x",
            False,
            "face boxes from body keypoints (docs/algorithms/hand-face.md §3; x",
        ),
        ("written from the spec (§7.1, 7.2", False, "written from docs/algorithms/body.md (§7.1, 7.2"),
        ("the net-input size (§4.1).", False, "the net-input size (docs/algorithms/body.md §4.1)."),
        ("(`shared/notes/build-recipe.md` §6)", False, "(`shared/notes/build-recipe.md` §6)"),
        ("no reference here", False, "no reference here"),
    ],
)
def test_rewrite_line(line, hand_face_file, expected):
    assert rewrite.rewrite_line(line, hand_face_file) == expected


def test_every_reference_lands_on_an_existing_section():
    headings = {doc: _headings(doc) for doc in (rewrite.BODY, rewrite.HAND_FACE)}
    cited = 0
    for path in rewrite.tracked_files(REPO):
        hand_face_file = path.name in rewrite.HAND_FACE_FILES
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            new = rewrite.rewrite_line(line, hand_face_file)
            assert not rewrite.LEFT_OVER.search(new), f"{path}:{number}: left {new.strip()}"
            for doc, refs in re.findall(r"(docs/algorithms/[a-z-]+\.md) (§[\d.,/§ -]*\d)", new):
                for section in re.findall(r"\d+(?:\.\d+)?", refs):
                    cited += 1
                    assert section in headings[doc], f"{path}:{number}: {doc} has no section {section}"
    assert cited >= 86  # the issue counted 86 comments citing the spec

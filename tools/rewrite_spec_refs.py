#!/usr/bin/env python3
"""Rewrite the "spec §N" references of the repository's comments to the docs in the repository.

Comments and docstrings cite sections of two documents that were never in the repository:
``shared/spec/openpose-postprocessing.md`` ("spec §N", "body spec §N") and
``shared/spec/openpose-hand-face.md`` ("hf spec §N", "hand/face spec §N", "spec hand/face §N", or a
plain "spec §N" in a hand/face file). ``docs/algorithms/body.md`` and ``docs/algorithms/hand-face.md``
keep those section numbers, so each reference is rewritten by replacing the document's name and
keeping the numbers: ``spec §4.2`` -> ``docs/algorithms/body.md §4.2``.

Usage (from the repository root)::

    python tools/rewrite_spec_refs.py            # dry run: print every change, write nothing
    python tools/rewrite_spec_refs.py --apply    # rewrite the files in place
    python tools/rewrite_spec_refs.py --check    # exit 1 if any old reference is left

Files: every file git tracks with one of ``EXTENSIONS`` (``docs/``, ``tests/data/``, this script and its test excepted).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

BODY = "docs/algorithms/body.md"
HAND_FACE = "docs/algorithms/hand-face.md"
EXTENSIONS = (".py", ".cc", ".hpp", ".h", ".cu", ".cuh", ".cpp", ".c", ".md", ".txt", ".cmake", ".sh")
# tests/data/: copies of files kept outside the repository, byte for byte (MANIFEST.tsv checks them)
SKIP_PREFIXES = ("docs/", "tests/data/", "tools/rewrite_spec_refs.py", "tests/test_rewrite_spec_refs.py")

# Files whose plain "spec §N" means the hand/face document (matched by file name, so a moved file
# still counts; names of today and of the issue-24 renames).
HAND_FACE_FILES = {
    "whole_body.py",
    "hand_face.py",
    "test_whole_body.py",
    "test_hand_face.py",
    "test_topdown.py",
    "hand_face_ref.py",
}
# A plain "spec §N" on a line naming these is about hands or faces (numpy_ops.face_boxes's docstring).
HAND_FACE_LINE = re.compile(r"faceDetector|handDetector|hand boxes|face boxes")

# (pattern, replacement); applied in this order, each on what the previous ones left.
_HF_PATH = r"``?(?:\.\./)?(?:shared/)?spec/openpose-hand-face\.md``?"
_BODY_PATH = r"``?(?:\.\./)?(?:shared/)?spec/openpose-postprocessing\.md``?"
EXPLICIT = [
    # the document named by its path, with or without a section: "(shared/spec/openpose-hand-face.md §2.1"
    (re.compile(_HF_PATH), HAND_FACE),
    (re.compile(r"(?:\.\./)?(?:shared/)?spec/openpose-hand-face\.md"), HAND_FACE),
    (re.compile(_BODY_PATH), BODY),
    (re.compile(r"(?:\.\./)?(?:shared/)?spec/openpose-postprocessing\.md"), BODY),
    # the document named by a nickname
    (re.compile(r"\b(?:hand/face|hf) spec §"), HAND_FACE + " §"),
    (re.compile(r"\bspec hand/face §"), HAND_FACE + " §"),
    (re.compile(r"\bbody spec §"), BODY + " §"),
    (re.compile(r', "hf spec"\)'), ")"),
]
# A plain reference: its document depends on the file (and line).
PLAIN = [
    (re.compile(r"\b(?:the )?[Ss]pec \(§"), "{doc} (§"),  # "written from the spec (§7.1, 7.2"
    (re.compile(r"\b[Ss]pec §"), "{doc} §"),  # "spec §4.2", "Spec §2.1 step 1"
    (re.compile(r"(?<![\w/.`])(?<!\.md )\(§(?=\d)"), "({doc} §"),  # bare "(§4.1)"
]
# What must be gone afterwards.
LEFT_OVER = re.compile(
    r"\b[Ss]pec §|\bspec \(§|spec/openpose-(?:postprocessing|hand-face)\.md|\bhf spec\b|(?<![\w/.`])(?<!\.md )\(§\d"
)


def rewrite_line(line: str, hand_face_file: bool) -> str:
    """One line with its spec references rewritten (unchanged when it has none)."""
    for pattern, replacement in EXPLICIT:
        line = pattern.sub(replacement, line)
    doc = HAND_FACE if hand_face_file or HAND_FACE_LINE.search(line) else BODY
    for pattern, replacement in PLAIN:
        line = pattern.sub(replacement.format(doc=doc), line)
    return line


def tracked_files(root: Path) -> list[Path]:
    """The files git tracks under ``root`` that may hold references."""
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.split("\0")
    return [
        root / n for n in names if n.endswith(EXTENSIONS) and not n.startswith(SKIP_PREFIXES) and (root / n).is_file()
    ]


def main(argv: list[str] | None = None) -> int:
    """Dry run (default), ``--apply`` or ``--check`` over the repository; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--apply", action="store_true", help="rewrite the files (default: print the changes only)")
    ap.add_argument("--check", action="store_true", help="exit 1 if an old reference is left")
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = ap.parse_args(argv)
    changed_lines = refs = 0
    left: list[str] = []
    for path in tracked_files(args.root):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        hand_face_file = path.name in HAND_FACE_FILES
        out = []
        for number, line in enumerate(text.splitlines(keepends=True), 1):
            new = rewrite_line(line, hand_face_file)
            rel = path.relative_to(args.root)
            if new != line:
                changed_lines += 1
                refs += line.count("§") or 1
                if not args.check:
                    print(f"{rel}:{number}:\n  - {line.strip()}\n  + {new.strip()}")
            if LEFT_OVER.search(new):
                left.append(f"{rel}:{number}: {new.strip()}")
            out.append(new)
        if args.apply and "".join(out) != text:
            path.write_text("".join(out), encoding="utf-8", errors="surrogateescape")
    if not args.check:
        verb = "rewrote" if args.apply else "would rewrite"
        print(f"{verb} {changed_lines} lines ({refs} section marks)", file=sys.stderr)
    for item in left:
        print(f"left: {item}", file=sys.stderr)
    if args.check:
        old = sum(
            1
            for p in tracked_files(args.root)
            for ln in p.read_text(errors="replace").splitlines()
            if LEFT_OVER.search(ln)
        )
        return 1 if old else 0
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())

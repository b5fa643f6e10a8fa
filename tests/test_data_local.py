"""The tests run from a clone alone: they read tests/data/ (in the repository), never the shared
data folder beside the checkout, and every file there is the one its provenance lists."""

from __future__ import annotations

import ast
import csv
import hashlib
import json
from pathlib import Path

import pytest

import data_paths
import helpers
from helpers import DATA, GOLDEN, REPO

TESTS = REPO / "tests"
TEXT_SUFFIXES = {".py", ".md", ".sh", ".txt", ".toml", ".cfg", ".ini", ".tsv"}
FORBIDDEN = ("../shared", "TFPOSE_SHARED")
# Where a forbidden string may stand, and why (file -> strings allowed there).
ALLOWED = {
    # locate_shared(): the benchmarks' and GPU tools' rule for data not in tests/data; no test calls it.
    "data_paths.py": {"../shared", "TFPOSE_SHARED"},
    # The GPU check's tools (tools/gpu/gpu_check.sh, prepare_gpu_data.py) still take their data folder
    # as TFPOSE_SHARED / --shared (the tests hand them tests/data), and test_locate_shared_order
    # checks the benchmarks' rule.
    "test_gpu_check.py": {"../shared", "TFPOSE_SHARED"},
    # Asserts that the README's first command needs no shared folder, and that no example in README,
    # docs/ or --help names these strings (it lists them to look for them).
    "test_readme.py": {"../shared", "TFPOSE_SHARED"},
    # This file: the strings it looks for.
    "test_data_local.py": set(FORBIDDEN),
}
# Data paths the tests name although they are not in tests/data: a model that must be missing (the
# error is the test), and the clip whose JSON outputs are here (test_io uses its name only).
MEANT_MISSING = {DATA / "nope.pb", DATA / "openpose_outputs" / "sign_language_sample" / "video.mp4"}
# Files of tests/data that are not data (MANIFEST.tsv lists the data).
NOT_DATA = {"PROVENANCE.md", "MANIFEST.tsv"}


def _text_files() -> list[Path]:
    return [
        p
        for p in sorted(TESTS.rglob("*"))
        if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
    ]


def test_no_test_file_reads_the_shared_folder():
    found = []
    for path in _text_files():
        rel = path.relative_to(TESTS).as_posix()
        allowed = ALLOWED.get(rel, set())
        text = path.read_text(errors="replace")
        for word in FORBIDDEN:
            if word in text and word not in allowed:
                found.append(f"{rel}: {word}")
    assert not found, "tests must read tests/data (data_paths.py), not the shared folder: " + ", ".join(found)


def test_only_the_gpu_check_calls_the_benchmarks_rule():
    """locate_shared() is the benchmarks' rule; the one test of it lives with the GPU tools' tests."""
    users = [
        p.name
        for p in sorted(TESTS.glob("*.py"))
        if "locate_shared" in p.read_text() and p.name != "test_data_local.py"
    ]
    assert users == ["data_paths.py", "test_gpu_check.py"], users


def test_helpers_paths_exist_in_the_repository():
    assert DATA == REPO / "tests" / "data" and DATA.is_dir()
    assert GOLDEN.is_relative_to(DATA) and (GOLDEN / "index.json").is_file()
    assert helpers.GOLDEN_CASES, "no golden cases in tests/data/golden"
    for case in helpers.GOLDEN_CASES:
        assert (GOLDEN / f"{case}.npz").is_file(), case
    for path in (helpers.THIN_MODEL, helpers.SAMPLE_JPG, *data_paths.BUNDLED_ALIASES.values()):
        assert path.is_file() and path.is_relative_to(REPO), path


def test_bundled_aliases_are_the_same_files():
    """The files not copied twice are the package's (their sha256 is in its NOTICE.md) and are not
    in tests/data as well."""
    notice = (data_paths.BUNDLED / "NOTICE.md").read_text()
    for rel, path in data_paths.BUNDLED_ALIASES.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() in notice, rel
        assert not (DATA / rel).exists(), f"{rel} is in the repository twice"


def test_golden_source_images_of_the_cases_the_tests_run():
    for case in ("real_p1_mnv2s", "real_apink2_mnv2s"):
        meta = next(c for c in helpers.golden_index() if c["case"] == case)
        assert helpers.golden_source_image(meta).is_file(), case


def test_data_file_names_a_missing_file():
    with pytest.raises(FileNotFoundError, match=r"tests/data holds only what the tests read"):
        data_paths.data_file("images/tf_pose_estimation/cat.jpg")
    assert data_paths.data_file("shared/data/images/tf_pose_estimation/p3.jpg") == helpers.SAMPLE_JPG
    assert data_paths.data_file("golden/index.json") == GOLDEN / "index.json"


def _manifest() -> dict[str, dict[str, str]]:
    with open(DATA / "MANIFEST.tsv", newline="") as f:
        return {row["path"]: row for row in csv.DictReader(f, delimiter="\t")}


def test_every_data_file_is_listed_with_its_bytes():
    manifest = _manifest()
    present = {
        p.relative_to(DATA).as_posix()
        for p in DATA.rglob("*")
        if p.is_file() and p.name not in NOT_DATA and p.relative_to(DATA).parts[0] != "LICENSES"
    }
    assert present == set(manifest), (
        f"not listed: {sorted(present - set(manifest))}, listed but missing: {sorted(set(manifest) - present)}"
    )
    for rel, row in manifest.items():
        data = (DATA / rel).read_bytes()
        assert len(data) == int(row["bytes"]) and hashlib.sha256(data).hexdigest() == row["sha256"], rel
        assert row["origin"] and row["origin_path"], rel


def test_provenance_names_every_group_and_licence():
    text = (DATA / "PROVENANCE.md").read_text()
    # A group is a top folder, or its subfolder for images/ and openpose_outputs/ (one origin each).
    split = ("images", "openpose_outputs")
    groups = {"/".join(Path(rel).parts[: 2 if Path(rel).parts[0] in split else 1]) for rel in _manifest()}
    for group in groups:
        assert f"### {group}/" in text, group
    for licence in (DATA / "LICENSES").iterdir():
        assert f"LICENSES/{licence.name}" in text, licence.name
    total = sum(int(row["bytes"]) for row in _manifest().values())
    assert f"{len(_manifest())} files, {total:,} bytes" in text


def _data_chains(tree: ast.AST, roots: dict[str, Path]) -> list[tuple[int, Path]]:
    """``ROOT / "a" / "b"`` expressions with constant string parts, ROOT a known data folder."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
            continue
        parts, left = [], node
        while isinstance(left, ast.BinOp) and isinstance(left.op, ast.Div):
            if not (isinstance(left.right, ast.Constant) and isinstance(left.right.value, str)):
                break
            parts.append(left.right.value)
            left = left.left
        else:
            if isinstance(left, ast.Name) and left.id in roots:
                found.append((node.lineno, roots[left.id].joinpath(*reversed(parts))))
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in TESTS.glob("*.py")))
def test_every_data_path_a_test_names_exists(module):
    """Each constant path below DATA (or a module-level name set from one) that a test file names is
    in tests/data: a file the tests read was not left behind in the shared folder."""
    tree = ast.parse((TESTS / module).read_text())
    roots = {"DATA": DATA, "GOLDEN": GOLDEN, "data_dir": DATA}
    for node in tree.body:  # module-level NAME = DATA / "x" / ...
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "str" and value.args:
                value = value.args[0]
            chains = _data_chains(ast.Expression(value), roots)
            if chains and isinstance(value, ast.BinOp):
                roots[node.targets[0].id] = max(chains, key=lambda c: len(c[1].parts))[1]
    missing = [
        f"line {line}: {path}"
        for line, path in _data_chains(tree, roots)
        if not path.exists() and path not in MEANT_MISSING
    ]
    assert not missing, missing


def test_golden_index_lists_the_files():
    index = json.loads((GOLDEN / "index.json").read_text())
    assert sorted(c["case"] for c in index) == sorted(p.stem for p in GOLDEN.glob("*.npz"))

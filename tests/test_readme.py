"""The README and docs/ work as written: their Python code blocks run, the README's first command runs
with the installed package alone (no test data), no example names a file the reader does not have,
every relative link points at a file of the repository, and the bundled files are inside the
installed package."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import DATA, REPO, THIN_MODEL

README = (REPO / "README.md").read_text()
# Every Markdown page a reader is sent to: the README and docs/ (recursively), README first.
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
# (page, Python block): the README's blocks, then each docs page's, in order.
_PAGE_BLOCKS = [
    (page.relative_to(REPO).as_posix(), code)
    for page in PAGES
    for code in re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
]
BLOCKS = [code for _, code in _PAGE_BLOCKS]
BLOCK_IDS = [f"{name}#{i}" for i, (name, _) in enumerate(_PAGE_BLOCKS)]


def _section(title: str) -> str:
    start = README.index(title)
    nxt = README.find("\n## ", start + len(title))
    return README[start : nxt if nxt > 0 else None]


def _env():
    # the installed package only: no source tree on the path
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=BLOCK_IDS)
def test_readme_python_block_runs(index, tmp_path):
    code = BLOCKS[index]
    if "pose_iter_440000.caffemodel" in code:
        # The block converts the user's OpenPose files; stand in for them with OpenPose's own COCO
        # prototxt at reduced width and random weights (tests/caffe_writer.py), under the same names.
        sys.path.insert(0, str(REPO / "tests"))
        from caffe_writer import random_layers, shrink_prototxt, write_caffemodel

        proto = shrink_prototxt(
            DATA / "openpose_prototxt" / "coco_pose_deploy_linevec.prototxt", tmp_path / "pose_deploy_linevec.prototxt"
        )
        write_caffemodel(tmp_path / "pose_iter_440000.caffemodel", random_layers(proto))
    if "pose_iter_102000.caffemodel" in code:
        # OpenPose's hand and face files likewise, at reduced width (output channels kept).
        sys.path.insert(0, str(REPO / "tests"))
        from caffe_writer import random_layers, shrink_prototxt, write_caffemodel

        for part, weights, channels in (("hand", "pose_iter_102000", 22), ("face", "pose_iter_116000", 71)):
            (tmp_path / part).mkdir()
            proto = shrink_prototxt(
                DATA / "openpose_prototxt" / f"{part}_pose_deploy.prototxt",
                tmp_path / part / "pose_deploy.prototxt",
                keep_below=channels + 1,
            )
            write_caffemodel(tmp_path / part / f"{weights}.caffemodel", random_layers(proto))
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600, env=_env()
    )
    assert r.returncode == 0, f"{BLOCK_IDS[index]} failed:\n{code}\n{r.stderr[-3000:]}"


# Names of files only the maintainers have (the data folder beside their checkout, test models).
_NOT_THE_READERS = ("../shared", "shared/data/", "graph_opt.pb", "TFPOSE_SHARED")


# The pages with examples: the README and docs/, and the READMEs of the other folders a reader runs
# commands from (benchmarks/README.md's examples are commands too: its tables' provenance, naming the
# maintainers' data, is prose, outside code blocks).
EXAMPLE_PAGES = [
    *PAGES,
    *(REPO / name for name in ("cpp/README.md", "cpp/cuda/README.md", "fuzz/README.md", "benchmarks/README.md")),
]


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_examples_name_only_files_the_reader_has(page):
    for block in re.findall(r"```[a-z]*\n(.*?)```", page.read_text(), re.S):
        for name in _NOT_THE_READERS:
            assert name not in block, f"{page.relative_to(REPO)}: an example names {name!r}:\n{block}"


def _help_texts():
    from tfpose.beam import build_parser as beam_parser
    from tfpose.cli import build_parser

    parser = build_parser()
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        "tfpose --help": parser.format_help(),
        "tfpose estimate --help": commands.choices["estimate"].format_help(),
        "tfpose beam --help": beam_parser().format_help(),
    }


def test_help_examples_name_only_files_the_reader_has():
    for command, text in _help_texts().items():
        for name in _NOT_THE_READERS:
            assert name not in text, f"{command} names {name!r}:\n{text}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_point_at_files(page):
    prose = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # links live outside code blocks
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", prose):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.relative_to(REPO)} links to missing {target}"


@pytest.mark.slow
def test_first_command_runs_without_shared(tmp_path):
    section = _section("## Install and run (one command)")
    assert "../shared" not in section
    (command,) = re.findall(r"```bash\n(.*?)\n```", section, re.S)
    assert command.startswith("./install.sh && .venv/bin/tfpose estimate ")
    # the part after the install, with this environment's tfpose
    args = command.split(".venv/bin/tfpose ", 1)[1].split()
    tfpose = Path(sys.executable).with_name("tfpose")
    r = subprocess.run([str(tfpose)] + args, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=_env())
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "out" / "json" / "sample_keypoints.json").read_text())
    assert len(doc["people"]) == 3  # the three astronauts of the sample photo
    assert (tmp_path / "out" / "images" / "sample_rendered.png").stat().st_size > 0
    assert "1 frame written, 3 people" in r.stdout


def test_bundled_files_are_installed_with_their_notice():
    import tfpose
    from tfpose import data

    installed = Path(tfpose.__file__).resolve().parent
    assert REPO / "python" not in installed.parents  # tests run against the installed package
    notice = (installed / "data" / "NOTICE.md").read_text()
    assert "Apache License" in (installed / "data" / "LICENSE-Apache-2.0.txt").read_text()
    for path in (data.default_model(), data.sample_image()):
        assert path.parent == installed / "data"
        assert hashlib.sha256(path.read_bytes()).hexdigest() in notice
    # the installed graph is the repository's copy, which the tests use as mobilenet_thin
    assert data.DEFAULT_MODEL.read_bytes() == THIN_MODEL.read_bytes()


def test_missing_bundled_file_says_how_to_fix(monkeypatch, tmp_path):
    from tfpose import data

    monkeypatch.setattr(data, "DEFAULT_MODEL", tmp_path / "gone.pb")
    with pytest.raises(FileNotFoundError, match="reinstall tfpose"):
        data.default_model()

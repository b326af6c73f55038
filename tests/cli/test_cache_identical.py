"""With and without the caches, the same answers: on the example repository and on the corpus, every
cluster's render and the whole check print the same bytes with ``--no-cache``, with a cold cache,
with a warm one (the kept parses and builds), and when the answer is replayed (``cli/replay.py``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import CORPUS, EXAMPLE

_ENTRY = "import sys; from homeops.cli import main; sys.argv[0] = 'homeops'; main()"


def run(args: list[str], xdg: Path) -> tuple[str, str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEOPS_")}
    env["XDG_CACHE_HOME"] = str(xdg)
    proc = subprocess.run(
        [sys.executable, "-c", _ENTRY, *args], capture_output=True, text=True, env=env, check=False
    )
    return proc.stdout, proc.stderr, proc.returncode


def commands(root: Path, clusters: list[str]) -> list[list[str]]:
    out = [["build", "ks", "--cluster", c, "--path", str(root)] for c in clusters]
    out += [["get", "ks", "--cluster", c, "--path", str(root), "-o", "json"] for c in clusters]
    out.append(["check", "--path", str(root), "--format", "json"])
    return out


def assert_identical(root: Path, clusters: list[str], tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    for args in commands(root, clusters):
        before = sorted(xdg.rglob("*")) if xdg.exists() else []
        fresh = run([*args, "--no-cache"], xdg)
        assert (sorted(xdg.rglob("*")) if xdg.exists() else []) == before, "--no-cache writes nothing"
        cold = run(args, xdg)
        assert cold == fresh, args
        replayed = run(args, xdg)
        assert replayed == fresh, args
        for answer in (xdg / "homeops" / "replay").glob("*.answer"):
            answer.unlink()  # the kept parses and builds only
        warm = run(args, xdg)
        assert warm == fresh, args


def test_example(tmp_path: Path) -> None:
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    assert_identical(root, ["bitty", "chongus"], tmp_path)


@pytest.mark.corpus
def test_corpus(corpus: Path, tmp_path: Path) -> None:
    clusters = sorted(p.name for p in (CORPUS / "clusters").iterdir() if p.is_dir())
    assert_identical(corpus, clusters, tmp_path)

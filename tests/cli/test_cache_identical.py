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


def _git_repository(root: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", *args], check=True, env=env)


def _damage(path: Path) -> bytes:
    """Overwrite part of a cache file: what a crash or a bad disk leaves. A pack is hit in its index
    (just after its 36-byte header): every entry is then lost, so the next run that opens it must write
    it again (a pack hit in one entry only loses that entry, rewritten when a run asks for it:
    tests/core/test_cache.py); any other file is hit in the middle."""
    data = path.read_bytes()
    middle = 36 if path.suffix == ".pack" else len(data) // 2
    damaged = data[:middle] + b"\xff" * min(64, len(data) - middle) + data[middle + 64 :]
    path.write_bytes(damaged)
    return damaged


def test_damaged_files_of_every_cache_area_are_ignored_and_rebuilt(tmp_path: Path) -> None:
    """Parses, builds, findings and kept answers all damaged at once: every command answers as without
    the cache, and writes the damaged files again."""
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    _git_repository(root)
    (root / "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml").write_text(
        (EXAMPLE / "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml")
        .read_text()
        .replace("replicas: 2", "replicas: 3")
    )  # a change for diff to show
    xdg = tmp_path / "xdg"
    args_list = [*commands(root, ["chongus"]), ["diff", "--path", str(root), "--format", "json"]]
    expected = [run([*args, "--no-cache"], xdg) for args in args_list]
    assert [run(args, xdg) for args in args_list] == expected
    files = sorted(p for p in (xdg / "homeops").rglob("*") if p.is_file())
    assert {p.parent.name for p in files} >= {"parse", "build", "render", "rules", "replay"}
    damaged = {path: _damage(path) for path in files}
    assert [run(args, xdg) for args in args_list] == expected
    # builds are read only for renders not kept: with the renders gone, every one is read
    shutil.rmtree(xdg / "homeops" / "render")
    assert [run(args, xdg) for args in args_list] == expected
    rewritten = [path for path, data in damaged.items() if not path.exists() or path.read_bytes() != data]
    assert sorted(rewritten) == sorted(damaged), "every damaged file written again"
    assert [run(args, xdg) for args in args_list] == expected


def test_concurrent_checks_agree_with_an_uncached_run(tmp_path: Path) -> None:
    """Several checks at once writing the same parse, build and findings packs and the same answer."""
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    xdg = tmp_path / "xdg"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEOPS_")}
    env["XDG_CACHE_HOME"] = str(xdg)
    args = [sys.executable, "-c", _ENTRY, "check", "--path", str(root), "--format", "json"]
    expected = run([*args[3:], "--no-cache"], xdg)
    for _round in range(2):  # cold, then over what the first round wrote
        procs = [
            subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(4)
        ]
        for proc in procs:
            out, err = proc.communicate()
            assert (out, err, proc.returncode) == expected

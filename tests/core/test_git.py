"""``homeops.core.git``: the working-tree questions authoring asks (remotes, uncommitted files)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from homeops.core import git


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_remote_url(tmp_path: Path) -> None:
    assert git.remote_url(tmp_path) is None  # not a repository
    _git(tmp_path, "init", "-q")
    assert git.remote_url(tmp_path) is None  # no such remote
    _git(tmp_path, "remote", "add", "origin", "git@github.com:someone/home-ops.git")
    assert git.remote_url(tmp_path) == "git@github.com:someone/home-ops.git"
    assert git.remote_url(tmp_path, "upstream") is None


def test_uncommitted(tmp_path: Path) -> None:
    (tmp_path / "apps/a").mkdir(parents=True)
    (tmp_path / "apps/a/one.yaml").write_text("a: 1\n")
    assert git.uncommitted(tmp_path, ["apps"]) == []  # not a work tree
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.net", "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.net", "commit", "-qm", "one")
    assert git.uncommitted(tmp_path, ["apps/a", ""]) == []
    (tmp_path / "apps/a/one.yaml").write_text("a: 2\n")
    (tmp_path / "apps/a/new/two.yaml").parent.mkdir()
    (tmp_path / "apps/a/new/two.yaml").write_text("b: 1\n")
    (tmp_path / "other.yaml").write_text("c: 1\n")
    assert sorted(git.uncommitted(tmp_path, ["apps/a"])) == ["apps/a/new/two.yaml", "apps/a/one.yaml"]
    assert git.uncommitted(tmp_path, ["apps/b"]) == []

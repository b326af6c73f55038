"""``homeops.core.git``: revisions materialised from Git objects, parses shared by content."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from diff_support import GitRepo

from homeops.core import git
from homeops.core.git import caches
from homeops.core.git.materialise import checkout


@pytest.fixture
def small(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "small")
    repo.path.mkdir()
    repo.git("init", "-q")
    repo.write("apps/a.yaml", "kind: ConfigMap\nmetadata:\n  name: a\n")
    repo.write("apps/run.sh", "#!/bin/sh\n")
    os.chmod(repo.path / "apps/run.sh", 0o755)
    os.symlink("a.yaml", repo.path / "apps/link.yaml")
    repo.commit("one")
    return repo


def test_materialize(small: GitRepo, tmp_path: Path) -> None:
    sha = git.resolve_revision(small.path, "HEAD")
    with checkout(small.path, sha) as (directory, ids):
        assert (directory / "apps/a.yaml").read_text() == "kind: ConfigMap\nmetadata:\n  name: a\n"
        assert os.access(directory / "apps/run.sh", os.X_OK)
        assert os.readlink(directory / "apps/link.yaml") == "a.yaml"
        assert ids["apps/a.yaml"] == git.blob_id((directory / "apps/a.yaml").read_bytes())
        assert "apps/link.yaml" not in ids  # symlinks are not regular files
        kept = directory
    assert not kept.exists()  # removed afterwards
    with checkout(small.path, sha, "apps") as (directory, _ids):
        assert sorted(os.listdir(directory)) == ["a.yaml", "link.yaml", "run.sh"]


def test_working_tree_untouched(small: GitRepo) -> None:
    small.write("apps/a.yaml", "kind: ConfigMap\nmetadata:\n  name: changed\n")
    before = small.git("status", "--porcelain")
    with checkout(small.path, git.resolve_revision(small.path, "HEAD")):
        pass
    assert small.git("status", "--porcelain") == before
    assert "changed" in small.read("apps/a.yaml")


def test_unknown_revision(small: GitRepo) -> None:
    with pytest.raises(git.GitError, match="unknown revision 'nope'"):
        git.resolve_revision(small.path, "nope")
    with pytest.raises(git.GitError, match="unknown revision"):
        git.resolve_revision(small.path, "--output=x")


def test_missing_prefix(small: GitRepo) -> None:
    with pytest.raises(git.GitError, match="does not exist"):
        git.ls_tree(small.path, git.resolve_revision(small.path, "HEAD"), "nowhere")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(git.GitError, match="not inside a Git repository"):
        git.toplevel(tmp_path)


def test_parses_shared_by_content(small: GitRepo) -> None:
    parses = caches.ParseCache()
    sha = git.resolve_revision(small.path, "HEAD")
    with checkout(small.path, sha) as (directory, ids):
        first = caches.ContentFileCache(directory, parses, ids).load_all(directory / "apps/a.yaml")
    second = caches.ContentFileCache(small.path, parses).load_all(small.path / "apps/a.yaml")
    assert second is first  # same path, same content: parsed once
    assert (parses.hits, parses.misses) == (1, 1)
    small.write("apps/a.yaml", "kind: ConfigMap\nmetadata:\n  name: b\n")
    third = caches.ContentFileCache(small.path, parses).load_all(small.path / "apps/a.yaml")
    assert third[0]["metadata"]["name"] == "b" and parses.misses == 2

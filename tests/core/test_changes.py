"""``homeops.core.changes``: which files Git vouches for since a revision (``check --changed``), and
when its word cannot be taken (checkout conversions); ``git.locate``, its first question."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from homeops.core import git
from homeops.core.changes import unchanged_since


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.net", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "kubernetes/apps").mkdir(parents=True)
    (root / "kubernetes/apps/one.yaml").write_text("a: 1\n")
    (root / "kubernetes/apps/two.yaml").write_text("b: 2\n")
    (root / "README.md").write_text("hello\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "one")
    return root


def test_locate_from_a_subdirectory(repo: Path) -> None:
    top, sha, info = git.locate(repo / "kubernetes", "HEAD", "info/attributes")
    assert top == repo.resolve()
    assert sha == _git(repo, "rev-parse", "HEAD")
    assert info.resolve() == (repo / ".git/info/attributes").resolve()


def test_locate_says_what_is_wrong(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(git.GitError, match="unknown revision 'nope'"):
        git.locate(repo, "nope", "info/attributes")
    with pytest.raises(git.GitError, match="unknown revision '--all'"):
        git.locate(repo, "--all", "info/attributes")
    elsewhere = tmp_path / "not-a-repository"
    elsewhere.mkdir()
    with pytest.raises(git.GitError, match="not inside a Git repository"):
        git.locate(elsewhere, "HEAD", "info/attributes")


def test_unchanged_files_below_the_root_with_their_blob_ids(repo: Path) -> None:
    (repo / "kubernetes/apps/one.yaml").write_text("a: 10\n")
    (repo / "kubernetes/apps/three.yaml").write_text("c: 3\n")
    found = unchanged_since(repo / "kubernetes", "HEAD")
    assert found.why_not is None
    assert found.changed == {"apps/one.yaml", "apps/three.yaml"}
    assert found.ids == {"apps/two.yaml": _git(repo, "rev-parse", "HEAD:kubernetes/apps/two.yaml")}


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (lambda root: (root / ".git/info/attributes").write_text("*.yaml eol=crlf\n"), "info/attributes"),
        (lambda root: _git(root, "config", "core.autocrlf", "true"), "core.autocrlf is true"),
    ],
)
def test_no_word_taken_when_checkouts_convert(repo: Path, setup: Callable[[Path], object], why: str) -> None:
    setup(repo)
    found = unchanged_since(repo / "kubernetes", "HEAD")
    assert found.why_not is not None and why in found.why_not
    assert found.ids == {}


def test_no_word_taken_when_the_revision_sets_conversions(repo: Path) -> None:
    (repo / ".gitattributes").write_text("* text=auto\n")
    _git(repo, "add", ".gitattributes")
    _git(repo, "commit", "-qm", "attributes")
    found = unchanged_since(repo, "HEAD")
    assert found.why_not == ".gitattributes sets checkout conversions"
    assert found.ids == {}

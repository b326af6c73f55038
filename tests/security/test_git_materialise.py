"""Materialising a Git revision never writes outside its temporary directory.

A crafted commit (made with ``git mktree``, as an attacker can push one) holds a symlink ``zz`` to a
directory elsewhere and an entry ``zz/FILE``; materialising it naively writes ``FILE`` there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homeops.core.errors import HomeopsError
from homeops.core.git.materialise import background_checkout, checkout
from support import run_cli

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}  # fmt: skip


def sh(repo: Path, *args: str, input: str | None = None) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, input=input, env=ENV, check=True
    )
    return out.stdout.strip()


def crafted(tmp_path: Path, entries: str) -> tuple[Path, str]:
    """A repository with a normal first commit and a branch ``evil`` whose tree is ``entries``
    (``git mktree`` lines, with {blob}, {sub} and {link} to fill)."""
    repo = tmp_path / "repo"
    sh(tmp_path, "init", "-q", "-b", "main", str(repo))
    sh(repo, "commit", "-q", "--allow-empty", "-m", "base")
    blob = sh(repo, "hash-object", "-w", "--stdin", input="pwned\n")
    link = sh(repo, "hash-object", "-w", "--stdin", input=str(tmp_path / "victim"))
    sub = sh(repo, "mktree", input=f"100644 blob {blob}\tFILE\n")
    tree = sh(repo, "mktree", "--missing", input=entries.format(blob=blob, sub=sub, link=link))
    commit = sh(repo, "commit-tree", tree, "-p", "HEAD", "-m", "evil")
    sh(repo, "branch", "evil", commit)
    (tmp_path / "victim").mkdir()
    return repo, commit


LINK_THEN_DIR = "120000 blob {link}\tzz\n040000 tree {sub}\tzz\n"


def test_diff_of_a_commit_writing_through_its_own_symlink(tmp_path: Path) -> None:
    repo, _ = crafted(tmp_path, LINK_THEN_DIR)
    for base, head in (("HEAD", "evil"), ("evil", "HEAD")):
        proc = run_cli("diff", "--base", base, "--head", head, cwd=repo)
        assert proc.returncode in (0, 1, 2), proc.stderr
        assert "Traceback" not in proc.stderr
        assert "below the symlink 'zz'" in proc.stderr
        assert list((tmp_path / "victim").iterdir()) == []


@pytest.mark.parametrize("how", ["scratch", "background"])
def test_both_materialisers_refuse_the_tree(tmp_path: Path, how: str) -> None:
    repo, commit = crafted(tmp_path, LINK_THEN_DIR)
    with pytest.raises(HomeopsError, match="below the symlink 'zz'"):
        if how == "scratch":
            with checkout(repo, commit):
                pass
        else:
            with background_checkout(repo, commit) as pending:
                pending.wait()
    assert list((tmp_path / "victim").iterdir()) == []


@pytest.mark.parametrize("name", [".git", ".GIT", ".."])
def test_paths_git_itself_refuses_are_refused(tmp_path: Path, name: str) -> None:
    entries = f"040000 tree {{sub}}\t{name}\n"
    try:
        repo, commit = crafted(tmp_path, entries)
    except subprocess.CalledProcessError:
        pytest.skip(f"this git refuses to make a tree entry named {name!r}")
    with pytest.raises(HomeopsError, match="invalid path"), checkout(repo, commit):
        pass


def test_an_ordinary_symlink_still_materialises(tmp_path: Path) -> None:
    repo, commit = crafted(tmp_path, "120000 blob {link}\tlink\n040000 tree {sub}\tdir\n")
    with checkout(repo, commit) as (directory, ids):
        assert (directory / "dir" / "FILE").read_text() == "pwned\n"
        assert os.readlink(directory / "link") == str(tmp_path / "victim")
        assert "dir/FILE" in ids
    assert list((tmp_path / "victim").iterdir()) == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to see what every process opens")
def test_materialising_reads_no_account_file_of_the_host(tmp_path: Path) -> None:
    """``tar`` unpacking ``git archive`` looked the archive's owner names up in /etc/passwd and
    /etc/group; with --numeric-owner no process of ``diff`` opens them."""
    repo = tmp_path / "repo"
    sh(tmp_path, "init", "-q", "-b", "main", str(repo))
    (repo / "clusters/c/flux").mkdir(parents=True)
    root = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\n"
    (repo / "clusters/c/flux/root.yaml").write_text(
        root + "spec: {path: ./apps, sourceRef: {kind: GitRepository, name: flux-system}}\n"
    )
    (repo / "apps").mkdir()
    for value in ("a", "b"):
        (repo / "apps/cm.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {{k: {value}}}\n"
        )
        sh(repo, "add", "-A")
        sh(repo, "commit", "-qm", value)
    trace = tmp_path / "trace.txt"
    proc = subprocess.run(
        ["strace", "-f", "-qq", "-y", "-e", "trace=open,openat", "-o", str(trace),
         sys.executable, "-m", "homeops.cli.main", "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json"],
        capture_output=True, text=True, cwd=repo, env=ENV, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and '"changes"' in proc.stdout, proc.stderr
    opened = re.findall(r"= \d+<(/etc/(?:passwd|group|shadow))>", trace.read_text())
    assert opened == []

"""Changed-only work gives what a full run gives: ``check --changed`` (and ``--changed-from REF``)
and ``diff`` with the caches of earlier runs print the same bytes as a full run without any cache,
after random edits of the example repository (values, files added, deleted, renamed, replaced by
links; staged, unstaged, committed)."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from homeops.api import Workspace
from homeops.core import cache, changes
from homeops.core.errors import HomeopsError
from homeops.flux import file_facts
from support import EXAMPLE

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}
_SCALAR = re.compile(r"^(\s*[\w.-]+: )([\w.-]+)\s*$")


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "commit.gpgsign=false", *args],
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )


def homeops(root: Path, xdg: Path, *args: str) -> tuple[str, str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEOPS_")}
    env["XDG_CACHE_HOME"] = str(xdg)
    proc = subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", *args, "--path", str(root)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return proc.stdout, proc.stderr.replace(str(root), "ROOT"), proc.returncode


def yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if ".git" not in p.parts and not p.is_symlink())


def edit_value(root: Path, rng: random.Random) -> str:
    for _ in range(50):
        path = rng.choice(yaml_files(root))
        lines = path.read_text().splitlines(keepends=True)
        candidates = [i for i, line in enumerate(lines) if _SCALAR.match(line)]
        if candidates:
            i = rng.choice(candidates)
            m = _SCALAR.match(lines[i])
            assert m is not None
            lines[i] = f"{m.group(1)}{m.group(2)}{rng.choice(['x', '1', '-b'])}\n"
            path.write_text("".join(lines))
            return f"value in {path.relative_to(root)}:{i + 1}"
    return "nothing"


def add_file(root: Path, rng: random.Random) -> str:
    directory = rng.choice(yaml_files(root)).parent
    name = f"added-{rng.randrange(10**6)}.yaml"
    (directory / name).write_text(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name[:-5]}\n")
    return f"added {directory.relative_to(root)}/{name}"


def delete_file(root: Path, rng: random.Random) -> str:
    path = rng.choice(yaml_files(root))
    path.unlink()
    return f"deleted {path.relative_to(root)}"


def rename_file(root: Path, rng: random.Random) -> str:
    path = rng.choice(yaml_files(root))
    target = path.with_name("renamed-" + path.name)
    path.rename(target)
    return f"renamed {path.relative_to(root)}"


def link_file(root: Path, rng: random.Random) -> str:
    path = rng.choice(yaml_files(root))
    copy = root / "linked" / f"{rng.randrange(10**6)}.yaml"
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(path.read_text().replace("name: ", "name: l", 1))
    path.unlink()
    path.symlink_to(os.path.relpath(copy, path.parent))
    return f"linked {path.relative_to(root)}"


EDITS: list[Callable[[Path, random.Random], str]] = [
    edit_value,
    edit_value,
    edit_value,
    add_file,
    delete_file,
    rename_file,
    link_file,
]


def test_random_edits_full_and_changed_only_agree(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    xdg, fresh = tmp_path / "xdg", tmp_path / "none"
    rng = random.Random(14)
    homeops(root, xdg, "check", "--format", "json", "--changed")  # the caches hold the start
    homeops(root, xdg, "diff", "--format", "json")
    seen_checks, seen_diffs = set(), set()
    for step in range(12):
        what = rng.choice(EDITS)(root, rng)
        where = rng.choice(["staged", "unstaged", "committed"])
        if where != "unstaged":
            git(root, "add", "-A")
        if where == "committed":
            git(root, "commit", "-q", "-m", what)
        full = homeops(root, fresh, "check", "--format", "json", "--no-cache")
        changed = homeops(root, xdg, "check", "--format", "json", "--changed")
        assert changed == full, f"step {step}: {what} ({where})"
        since = homeops(
            root, xdg, "check", "--format", "json", "--changed-from", "HEAD~1" if step else "HEAD"
        )
        assert since == full, f"step {step}: {what} ({where}), --changed-from"
        diff_full = homeops(root, fresh, "diff", "--format", "json", "--no-cache")
        diff_changed = homeops(root, xdg, "diff", "--format", "json")
        assert diff_changed == diff_full, f"step {step}: {what} ({where}), diff"
        seen_checks.add(full)
        seen_diffs.add(diff_full)
    assert len(seen_checks) >= 4, "the edits changed the findings"
    assert len(seen_diffs) >= 8, "the edits changed the rendered difference"


def test_check_changed_asks_git_only_for_the_revision_once_a_runs_stats_vouch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Git's word is what ``check --changed`` takes when nothing else vouches for the working tree's
    files; once a run kept their stats (as a full check's do), Git is only asked that the revision
    exists, and the findings stay those of a full check."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cache.ENV_DISABLE, raising=False)
    monkeypatch.setattr(file_facts, "RACY_NS", 0)  # stats trusted at once: the test does not wait
    asked: list[str] = []
    real = changes.unchanged_since
    monkeypatch.setattr(changes, "unchanged_since", lambda r, ref: asked.append(ref) or real(r, ref))

    def run(**kwargs: str) -> list[object]:
        cache.reset()  # as a new process would
        try:
            return [f.as_json() for f in Workspace(root).check(**kwargs).findings]
        finally:
            cache.flush()

    run(changed_from="HEAD")
    assert asked == ["HEAD"]  # no stats yet: Git vouched
    edit = root / "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml"
    edit.write_text(edit.read_text().replace("replicas: 2", "replicas: 0"))
    git(root, "add", "-A")
    changed = run(changed_from="HEAD")
    assert asked == ["HEAD"]  # the stats the first run kept vouched instead
    monkeypatch.setenv(cache.ENV_DISABLE, "1")
    assert changed == run()  # a full check without any cache
    monkeypatch.delenv(cache.ENV_DISABLE)
    with pytest.raises(HomeopsError, match="no-such-revision"):
        run(changed_from="no-such-revision")

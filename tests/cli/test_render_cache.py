"""Whole Flux Kustomization renders kept across runs (flux/render_memo.py), through the real CLI on a
real Git repository (a copy of the example): after a one-file change, a warm ``diff`` and a warm
``build ks`` print byte for byte what they print without the cache, whatever the change (an edit, a
rename, a deletion, a symlink led elsewhere, a component several Kustomizations use); a warm diff
renders again only what the change can affect; nothing is kept when ``--var`` values are given."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from homeops.core import cache
from homeops.core.snapshot import RACY_NS
from homeops.diff.compare import DiffResult
from homeops.diff.revisions import DiffOptions, diff_repository
from support import EXAMPLE

_ENTRY = "import sys; from homeops.cli import main; sys.argv[0] = 'homeops'; main()"
ECHO = "cluster-apps/chongus/network/echo-server/app"


def run(args: list[str], xdg: Path, cwd: Path) -> tuple[str, str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEOPS_")}
    env["XDG_CACHE_HOME"] = str(xdg)
    proc = subprocess.run(
        [sys.executable, "-c", _ENTRY, *args], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )
    return proc.stdout, proc.stderr, proc.returncode


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", *args], check=True, env=env)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def _edit(root: Path) -> None:
    replace(root / ECHO / "helmrelease.yaml", "replicas: 2", "replicas: 3")


def _rename(root: Path) -> None:
    (root / ECHO / "httproute.yaml").rename(root / ECHO / "route.yaml")
    replace(root / ECHO / "kustomization.yaml", "./httproute.yaml", "./route.yaml")


def _delete(root: Path) -> None:
    (root / ECHO / "httproute.yaml").unlink()
    replace(root / ECHO / "kustomization.yaml", "  - ./httproute.yaml\n", "")


def _linked(root: Path) -> None:
    """Before the first run: the route is a symlink to one of two copies elsewhere in the repository."""
    shared = root / "shared-routes"
    shared.mkdir()
    text = (root / ECHO / "httproute.yaml").read_text()
    (shared / "a.yaml").write_text(text)
    (shared / "b.yaml").write_text(text.replace("echo.home", "echo-b.home"))
    (root / ECHO / "httproute.yaml").unlink()
    (root / ECHO / "httproute.yaml").symlink_to("../../../../../shared-routes/a.yaml")


def _retarget(root: Path) -> None:
    link = root / ECHO / "httproute.yaml"
    link.unlink()
    link.symlink_to("../../../../../shared-routes/b.yaml")


def _shared_component(root: Path) -> None:
    replace(root / "cluster-apps/components/volsync/pvc.yaml", "ReadWriteOnce}", "ReadWriteMany}")
    replace(root / "cluster-apps/components/namespace/namespace.yaml", "\n", "\n  # touched\n")


CHANGES: dict[str, tuple[Callable[[Path], None] | None, Callable[[Path], None]]] = {
    "edit": (None, _edit),
    "rename": (None, _rename),
    "delete": (None, _delete),
    "symlink retargeted": (_linked, _retarget),
    "component of several Kustomizations": (None, _shared_component),
}


def example(tmp_path: Path, setup: Callable[[Path], None] | None = None) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    if setup is not None:
        setup(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_warm_diff_and_build_after_a_change_print_what_no_cache_prints(
    change: tuple[Callable[[Path], None] | None, Callable[[Path], None]], tmp_path: Path
) -> None:
    setup, edit = change
    root = example(tmp_path, setup)
    xdg = tmp_path / "xdg"
    diff = ["diff", "--path", str(root), "--cluster", "chongus", "--format", "json"]
    build = ["build", "ks", "--cluster", "chongus", "--path", str(root)]
    for args in (diff, build):
        run(args, xdg, root)  # the cache of the run before the change
    before = run(build, xdg, root)
    assert list((xdg / "homeops" / "render").glob("*.pack"))
    edit(root)
    for args in (diff, build):
        shutil.rmtree(xdg / "homeops" / "replay", ignore_errors=True)  # kept answers: not what is tested
        warm = run(args, xdg, root)
        assert warm == run([*args, "--no-cache"], xdg, root), args
        assert warm[2] in (0, 1) and warm[0]
    if edit is not _rename:  # a rename keeps every object as it was (the in-process tests print provenance)
        assert run(build, xdg, root) != before


def test_a_warm_diff_renders_again_only_what_the_change_affects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example(tmp_path)
    xdg = tmp_path / "xdg"
    run(["diff", "--path", str(root), "--cluster", "chongus"], xdg, root)
    _edit(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    monkeypatch.delenv(cache.ENV_DISABLE, raising=False)
    cache.reset()
    try:
        result = diff_repository(root, DiffOptions(cluster="chongus"))
    finally:
        cache.flush()
        cache.reset()
    assert result.stats["sides"] == {"hits": 1, "misses": 0}  # the base: kept whole by its commit
    assert result.stats["renders"]["misses"] == 1  # echo-server at the head
    assert result.stats["renders"]["hits"] >= 10  # the head's other Kustomizations
    assert [c.name for c in result.changes] == ["echo-server"]


@pytest.mark.parametrize("command", ["build", "diff", "check"])
def test_nothing_is_kept_with_var_values(command: str, tmp_path: Path) -> None:
    """Values given with --var may be the cluster's secrets: no render is written, nor any of them."""
    root = example(tmp_path)
    replace(root / ECHO / "httproute.yaml", "echo.home.example.net", "echo.${SECRET_DOMAIN}")
    xdg = tmp_path / "xdg"
    secret = "s3cr3t-value-1234"
    args = {
        "build": ["build", "ks", "--cluster", "chongus", "--path", str(root)],
        "diff": ["diff", "--path", str(root), "--cluster", "chongus"],
        "check": ["check", "--path", str(root)],
    }[command]
    out = run([*args, "--var", f"SECRET_DOMAIN={secret}"], xdg, root)
    assert out[2] in (0, 1), out[1]
    if command == "build":
        assert f"echo.{secret}" in out[0]
    assert not list((xdg / "homeops" / "render").glob("*")), "no render kept"
    for path in (xdg / "homeops").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_files_vouched_for_by_their_stat_print_what_no_cache_prints(tmp_path: Path) -> None:
    """Files older than the racy window are vouched for by their stat (flux/file_facts.py): what the
    repository index knew of them is taken without reading them. After an edit, a rename and a new
    source definition (aged too), diff, build and check print what they print without the cache."""
    root = example(tmp_path)
    xdg = tmp_path / "xdg"
    commands = [
        ["diff", "--path", str(root), "--cluster", "chongus", "--format", "json"],
        ["build", "ks", "--cluster", "chongus", "--path", str(root)],
        ["check", "--path", str(root), "--format", "json"],
    ]
    time.sleep(RACY_NS / 1e9 + 0.2)
    for args in commands:
        run(args, xdg, root)
    assert list((xdg / "homeops" / "index").glob("*.pack"))
    _edit(root)
    _rename(root)
    (root / ECHO / "source.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: echo-src\n"
        "  namespace: network\nspec:\n  url: https://example.com/echo.git\n"
    )
    replace(root / ECHO / "kustomization.yaml", "resources:\n", "resources:\n  - ./source.yaml\n")
    time.sleep(RACY_NS / 1e9 + 0.2)
    for args in commands:
        shutil.rmtree(xdg / "homeops" / "replay", ignore_errors=True)  # kept answers: not what is tested
        warm = run(args, xdg, root)
        assert warm == run([*args, "--no-cache"], xdg, root), args
        assert warm[2] in (0, 1) and warm[0]
    assert "echo-src" in run(commands[1], xdg, root)[0]


# ------------------------------------------------------------------------------ sides kept by commit
def _diff_in_process(root: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch, **options: object) -> DiffResult:
    """One diff in this process with the persistent cache of ``xdg`` (its stats say what was reused)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    monkeypatch.delenv(cache.ENV_DISABLE, raising=False)
    cache.reset()
    try:
        return diff_repository(root, DiffOptions(**options))  # type: ignore[arg-type]
    finally:
        cache.flush()
        cache.reset()


def test_a_side_is_kept_by_its_commit_and_never_stands_for_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The working tree against HEAD: the base is kept after the first diff and reused while HEAD is
    the same commit; a new commit is rendered afresh, and every answer is what no cache prints."""
    root = example(tmp_path)
    xdg = tmp_path / "xdg"
    diff = ["diff", "--path", str(root), "--format", "json"]
    first = _diff_in_process(root, xdg, monkeypatch)
    assert first.stats["sides"] == {"hits": 0, "misses": 1}
    _edit(root)
    again = _diff_in_process(root, xdg, monkeypatch)
    assert again.stats["sides"] == {"hits": 1, "misses": 0}
    assert run(diff, xdg, root) == run([*diff, "--no-cache"], xdg, root)
    git(root, "commit", "-q", "-am", "three replicas")  # HEAD moves: the kept base is the old commit
    replace(root / ECHO / "helmrelease.yaml", "replicas: 3", "replicas: 4")
    moved = _diff_in_process(root, xdg, monkeypatch)
    assert moved.stats["sides"] == {"hits": 0, "misses": 1}
    assert [c.name for c in moved.changes] == ["echo-server"]
    warm = run(diff, xdg, root)
    assert warm == run([*diff, "--no-cache"], xdg, root)
    [change] = json.loads(warm[0])["changes"]
    assert "-        replicas: 3\n+        replicas: 4" in change["diff"]  # from the new base, not the old


def test_both_sides_of_two_commits_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review of two commits (a pull request in CI): the second run checks out and renders nothing."""
    root = example(tmp_path)
    _edit(root)
    git(root, "commit", "-q", "-am", "three replicas")
    xdg = tmp_path / "xdg"
    options = {"base": "HEAD~1", "head": "HEAD", "in_place": False}
    assert _diff_in_process(root, xdg, monkeypatch, **options).stats["sides"] == {"hits": 0, "misses": 2}
    kept = _diff_in_process(root, xdg, monkeypatch, **options)
    assert kept.stats["sides"] == {"hits": 2, "misses": 0}
    assert kept.stats["renders"] == {"hits": 0, "misses": 0}
    assert [c.name for c in kept.changes] == ["echo-server"]
    diff = ["diff", "--path", str(root), "--base", "HEAD~1", "--head", "HEAD", "--format", "json"]
    assert run(diff, xdg, root) == run([*diff, "--no-cache"], xdg, root)


def test_the_clusters_asked_for_are_part_of_a_kept_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example(tmp_path)
    xdg = tmp_path / "xdg"
    _diff_in_process(root, xdg, monkeypatch, cluster="chongus")
    _edit(root)
    every = _diff_in_process(root, xdg, monkeypatch)
    assert every.stats["sides"] == {"hits": 0, "misses": 1}
    diff = ["diff", "--path", str(root), "--format", "json"]
    assert run(diff, xdg, root) == run([*diff, "--no-cache"], xdg, root)


@pytest.mark.parametrize(
    "options",
    [{"cli_vars": {"SECRET_DOMAIN": "example.com"}}, {"inspect": lambda *_: None}, {"reuse": False}],
    ids=["--var", "--findings", "no reuse"],
)
def test_no_side_is_kept_with_given_values_findings_or_reuse_off(
    options: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example(tmp_path)
    xdg = tmp_path / "xdg"
    for _ in range(2):
        assert _diff_in_process(root, xdg, monkeypatch, **options).stats["sides"] == {"hits": 0, "misses": 0}
    assert not list((xdg / "homeops" / "render").glob("sides-*.pack"))

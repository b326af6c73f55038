"""Answers of unchanged repositories (cli/replay.py, core/snapshot.py): the console entry point prints
a read-only command's kept answer without loading the library, and only while the tree is the same."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from support import ENTRY_POINT, EXAMPLE, run_entry_point


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[str, str, int, bool]:
    """(stdout, stderr, exit code, whether the library was loaded) of the console entry point."""
    proc, modules = run_entry_point(args, cwd=cwd, env=env)
    return proc.stdout, proc.stderr, proc.returncode, any("homeops.api" in m for m in modules)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("HOMEOPS_")}
    out["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    return out


def answers(env: dict[str, str]) -> list[Path]:
    where = Path(env["XDG_CACHE_HOME"]) / "homeops" / "replay"
    return sorted(where.iterdir()) if where.is_dir() else []


COMMANDS = {
    "build": ["build", "ks", "--cluster", "chongus"],
    "get": ["get", "ks", "-o", "json"],
    "check": ["check", "--format", "json"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_an_unchanged_repository_is_answered_without_the_library(
    command: list[str], repo: Path, env: dict[str, str]
) -> None:
    args = [*command, "--path", str(repo)]
    first = run(args, env)
    assert first[3], "the first run renders"
    second = run(args, env)
    assert second[:3] == first[:3]
    assert not second[3], "the second run is answered from the cache"
    fresh = run([*args, "--no-cache"], env)
    assert fresh[:3] == first[:3] and fresh[3]


def _edit(root: Path) -> None:
    path = root / "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml"
    path.write_text(path.read_text().replace("replicas: 2", "replicas: 3"))


def _edit_kept_times(root: Path) -> None:
    path = root / "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml"
    before = path.stat()
    text = path.read_text()
    assert "replicas: 2" in text
    path.write_text(text.replace("replicas: 2", "replicas: 7"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _rename(root: Path) -> None:
    app = root / "cluster-apps/chongus/network/echo-server/app"
    (app / "helmrelease.yaml").rename(app / "release.yaml")
    kust = app / "kustomization.yaml"
    kust.write_text(kust.read_text().replace("helmrelease.yaml", "release.yaml"))


def _delete(root: Path) -> None:
    shutil.rmtree(root / "cluster-apps/chongus/network/echo-server")


def _symlink(root: Path) -> None:
    path = root / "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml"
    copy = root / "elsewhere.yaml"
    copy.write_text(path.read_text().replace("replicas: 2", "replicas: 5"))
    path.unlink()
    path.symlink_to(copy)


def _new_file(root: Path) -> None:
    (root / "cluster-apps/chongus/network/echo-server/app/extra.yaml").write_text("kind: Nothing\n")


def _git_remote(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(
        ["git", "-C", str(root), "remote", "add", "origin", "https://example.com/other.git"], check=True
    )


EDITS: dict[str, Callable[[Path], None]] = {
    "edit": _edit,
    "edit, times kept": _edit_kept_times,
    "rename": _rename,
    "delete": _delete,
    "symlink": _symlink,
    "new file": _new_file,
    "git remote": _git_remote,
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_a_changed_repository_is_rendered_again(
    edit: Callable[[Path], None], repo: Path, env: dict[str, str]
) -> None:
    args = ["build", "ks", "--cluster", "chongus", "--path", str(repo)]
    run(args, env)
    assert not run(args, env)[3]
    edit(repo)
    after = run(args, env)
    assert after[3], "the tree changed: rendered again"
    assert after[:3] == run([*args, "--no-cache"], env)[:3]
    assert not run(args, env)[3], "and kept again"


def test_a_damaged_answer_is_ignored_and_rewritten(repo: Path, env: dict[str, str]) -> None:
    args = ["check", "--path", str(repo)]
    first = run(args, env)
    [kept] = answers(env)
    kept.write_bytes(kept.read_bytes()[:50])
    again = run(args, env)
    assert again[:3] == first[:3] and again[3]
    assert not run(args, env)[3]


@pytest.mark.parametrize(
    "extra",
    [["--var", "A=1"], ["--va", "A=1"], ["--vars-file", "x.yaml"], ["--no-cache"], ["--enable-helm"]],
    ids=["var", "abbreviated var", "vars-file", "no-cache", "enable-helm"],
)
def test_what_may_carry_secrets_or_leave_the_repository_is_never_kept(
    extra: list[str], repo: Path, env: dict[str, str]
) -> None:
    run(["build", "ks", "--cluster", "chongus", "--path", str(repo), *extra], env)
    assert answers(env) == []


def test_homeops_no_cache_turns_every_cache_off(repo: Path, env: dict[str, str]) -> None:
    args = ["build", "ks", "--cluster", "chongus", "--path", str(repo)]
    run(args, {**env, "HOMEOPS_NO_CACHE": "1"})
    assert not (Path(env["XDG_CACHE_HOME"]) / "homeops").exists()


def test_an_interrupted_write_is_never_answered_for(repo: Path, env: dict[str, str]) -> None:
    """The run after a killed write rolls it back (core/journal): a kept answer must not skip that."""
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    args = ["build", "ks", "--cluster", "chongus", "--path", str(repo)]
    run(args, env)
    assert not run(args, env)[3]
    (repo / ".git" / "homeops-journal").mkdir()  # interrupted before anything was written
    assert run(args, env)[3]
    assert not (repo / ".git" / "homeops-journal").exists(), "the run cleaned it up"
    assert not run(args, env)[3]


_COUNT_WALKS = (
    "import os, sys\n"
    "from homeops.core import snapshot\n"
    "_walk = snapshot.tree_state\n"
    "def _counted(root):\n"
    "    os.write(2, b'<tree walk>')\n"
    "    return _walk(root)\n"
    "snapshot.tree_state = _counted\n"
)


def test_a_changed_repository_is_walked_once_before_the_run_and_once_after(
    repo: Path, env: dict[str, str]
) -> None:
    """The state the kept answer was compared with is the run's state before it read anything (nothing
    was read in between): the tree is walked for it once, and once more after the run (to keep the
    answer only when nothing changed while it ran); the answer kept is that of the changed tree."""
    args = ["check", "--format", "json", "--path", str(repo)]
    run(args, env)
    _edit(repo)
    proc = subprocess.run(
        [sys.executable, "-c", _COUNT_WALKS + ENTRY_POINT, *args], capture_output=True, text=True, env=env
    )
    assert proc.stderr.count("<tree walk>") == 2
    again = run(args, env)
    assert not again[3] and again[0] == proc.stdout == run([*args, "--no-cache"], env)[0]


def test_a_daemons_worker_takes_the_state_its_client_took(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """Through the daemon, the client looks for a kept answer (one walk) and hands the tree's state it
    took to the worker, which takes it as its state before the run: the worker walks once, after."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**env, "XDG_RUNTIME_DIR": str(runtime)}
    args = ["check", "--format", "json", "--path", str(repo)]
    run(args, env)  # the kept answer, without a daemon
    serve = "import sys\nsys.argv = ['homeops', 'daemon', 'run', '--idle', '2']\n" + ENTRY_POINT
    daemon = subprocess.Popen(  # the worker's walks are counted (it writes to its client's stderr)
        [sys.executable, "-c", _COUNT_WALKS + serve],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while run(["daemon", "status"], env)[2] != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        _edit(repo)
        proc = subprocess.run(
            [sys.executable, "-c", ENTRY_POINT, *args], capture_output=True, text=True, env=env
        )
        served = run(["daemon", "status", "-o", "json"], env)[0]
        assert '"served": 1' in served, served
        assert proc.stderr.count("<tree walk>") == 1, proc.stderr
        assert proc.stdout == run([*args, "--no-cache"], {**env, "HOMEOPS_DAEMON": "0"})[0]
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)

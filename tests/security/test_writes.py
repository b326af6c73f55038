"""Writes that cannot be half-done: all of a command's files or none, one writer at a time.

Real ``homeops`` processes on real Git repositories: killed (SIGKILL, SIGINT) at random moments and
at each step of a write, run in parallel, run on a full or read-only filesystem. After each, ``git
status`` shows either nothing or the whole change (once the next homeops run has rolled back what a
SIGKILL interrupted), and no temporary file is left in the working tree.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from homeops.core import journal
from homeops.core.edits import FileEdit, apply_edits
from homeops.core.errors import HomeopsError
from support import EXAMPLE, run_cli

WHOAMI = (
    "ghcr.io/traefik/whoami:v1.10.4@sha256:1699d99cb4b9acc17f74ca670b3d8d0b7ba27c948b3445f0593b58ebece92f04"
)
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}  # fmt: skip
HOMEOPS = [sys.executable, "-m", "homeops.cli.main"]
ATTEMPTS = int(
    os.environ.get("HOMEOPS_KILL_ATTEMPTS", "8")
)  # kills per signal (bench/ or a longer run: raise it)


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=ENV, check=True)
    return out.stdout


def status(repo: Path) -> set[str]:
    """Every changed or untracked file (ignored ones too), one path each."""
    out = git(repo, "status", "--porcelain", "-z", "--untracked-files=all", "--ignored")
    return {entry[3:] for entry in out.split("\0") if entry}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository made by ``homeops init``, committed."""
    repo = tmp_path_factory.mktemp("base") / "repo"
    proc = run_cli("init", str(repo), "--cluster", "alpha", "--domain", "home.example.net")
    assert proc.returncode == 0, proc.stderr
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "commit.gpgsign=false", "commit", "-qm", "init")
    return repo


def fresh(base: Path, where: Path) -> Path:
    shutil.copytree(base, where, symlinks=True)
    return where


def new_app(repo: Path, app: str = "whoami", **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*HOMEOPS, "new", "app", f"default/{app}", "--image", WHOAMI, "--port", "80", "--path", str(repo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="module")
def whole_change(base: Path, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """What an uninterrupted ``new app`` changes."""
    repo = fresh(base, tmp_path_factory.mktemp("reference") / "repo")
    proc = new_app(repo)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    changed = status(repo)
    assert changed and all(not name.endswith((".tmp", ".homeops")) for name in changed)
    return changed


def settle(repo: Path) -> set[str]:
    """The repository once the next homeops run has rolled back an interrupted write."""
    if (repo / ".git" / journal.JOURNAL).exists():
        proc = run_cli("get", "clusters", "--path", str(repo))
        assert proc.returncode == 0, proc.stderr  # (a journal cut short before any file: no note)
    assert not (repo / ".git" / journal.JOURNAL).exists()
    return status(repo)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_at_random_moments_leaves_nothing_or_the_whole_change(
    base: Path, whole_change: set[str], tmp_path: Path, sig: signal.Signals
) -> None:
    rng = random.Random(17 + sig)
    outcomes = {"nothing": 0, "whole": 0}
    for attempt in range(ATTEMPTS):
        repo = fresh(base, tmp_path / f"r{attempt}")
        proc = new_app(repo)
        time.sleep(rng.uniform(0.2, 1.2))
        proc.send_signal(sig)
        proc.communicate(timeout=120)
        after = settle(repo)
        assert after in (set(), whole_change), (attempt, after)
        outcomes["whole" if after else "nothing"] += 1
        again = new_app(repo)  # the next run completes the change (no "already exists")
        _out, err = again.communicate(timeout=120)
        if after:
            assert again.returncode == 2 and "already exists" in err, (attempt, err)
        else:
            assert again.returncode == 0, (attempt, err, sorted(p.name for p in repo.rglob("*")))
        assert status(repo) == whole_change, attempt
    assert sum(outcomes.values()) == ATTEMPTS


MIGRATE = ["migrate", "media/jellyseerr", "--from", "bitty", "--to", "chongus", "--write", "--path"]


def test_migrate_killed_at_random_moments_leaves_nothing_or_the_whole_change(tmp_path: Path) -> None:
    """``migrate --write`` (several files moved, a registration, a removal) killed between its start
    and its end: the next run sees either no change or the whole of it, and no stray file."""
    source = tmp_path / "example"
    shutil.copytree(EXAMPLE, source)
    git(source, "init", "-q", "-b", "main")
    git(source, "add", "-A")
    git(source, "-c", "commit.gpgsign=false", "commit", "-qm", "example")
    reference = fresh(source, tmp_path / "reference")
    started = time.monotonic()
    done = subprocess.run([*HOMEOPS, *MIGRATE, str(reference)], capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    assert done.returncode in (0, 1), done.stderr
    whole = status(reference)
    rng = random.Random(71)
    for attempt in range(ATTEMPTS):
        repo = fresh(source, tmp_path / f"r{attempt}")
        proc = subprocess.Popen(
            [*HOMEOPS, *MIGRATE, str(repo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        time.sleep(rng.uniform(0.1, took))
        proc.send_signal((signal.SIGKILL, signal.SIGINT)[attempt % 2])
        proc.communicate(timeout=120)
        after = settle(repo)
        assert after in (set(), whole), (attempt, after ^ whole)
        assert not [p for p in repo.rglob("*.homeops") if ".git" not in p.parts], attempt


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes into read-only directories (the tmpfs test covers it)"
)
def test_a_read_only_directory_is_one_line_exit_2(base: Path, tmp_path: Path) -> None:
    repo = fresh(base, tmp_path / "repo")
    target = repo / "cluster-apps/alpha"
    directories = [target, *(p for p in target.rglob("*") if p.is_dir())]
    for directory in directories:
        directory.chmod(0o555)
    try:
        proc = new_app(repo)
        _out, err = proc.communicate(timeout=120)
    finally:
        for directory in directories:
            directory.chmod(0o755)
    assert proc.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("homeops: error: "), err
    assert status(repo) == set()


KILL_AT = """
import os, signal, sys
from pathlib import Path
from homeops.core import journal
from homeops.core.edits import FileEdit, apply_edits

calls = 0
replace = journal.Transaction._replace

def counting(self, target, data, mode):
    global calls
    calls += 1
    if calls == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
    replace(self, target, data, mode)

journal.Transaction._replace = counting
root = Path(sys.argv[1])
apply_edits(root, [FileEdit("a.yaml", "a: 2\\n", "a: 1\\n"), FileEdit("new/dir/b.yaml", "b: 1\\n"),
                   FileEdit("c.yaml", "c: 2\\n", "c: 1\\n")])
"""


@pytest.mark.parametrize("step", [1, 2, 3])
def test_a_kill_between_two_files_is_rolled_back_by_the_next_run(tmp_path: Path, step: int) -> None:
    """SIGKILL before the 1st, 2nd and 3rd file is replaced: the next run puts every file back."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.yaml").write_text("a: 1\n")
    (repo / "c.yaml").write_text("c: 1\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "commit.gpgsign=false", "commit", "-qm", "init")
    proc = subprocess.run([sys.executable, "-c", KILL_AT, str(repo), str(step)], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert (repo / ".git" / journal.JOURNAL).exists()
    notes = journal.recover(repo)
    assert len(notes) == 1 and notes[0].startswith("rolled back a write that was interrupted"), notes
    assert status(repo) == set()
    assert (repo / "a.yaml").read_text() == "a: 1\n" and not (repo / "new").exists()


def test_rolling_back_leaves_a_file_changed_since_alone(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.yaml").write_text("a: 1\n")
    (repo / "c.yaml").write_text("c: 1\n")
    proc = subprocess.run([sys.executable, "-c", KILL_AT, str(repo), "3"], check=False)
    assert proc.returncode == -signal.SIGKILL
    (repo / "new/dir/b.yaml").write_text("edited by a person\n")
    notes = journal.recover(repo)
    assert notes[1:] == ["new/dir/b.yaml changed since the interrupted write: left as it is"]
    assert (repo / "new/dir/b.yaml").read_text() == "edited by a person\n"
    assert (repo / "a.yaml").read_text() == "a: 1\n"
    assert not (repo / f".{journal.JOURNAL}").exists()


def test_two_new_apps_at_once_are_both_registered(base: Path, tmp_path: Path) -> None:
    for attempt in range(6):
        repo = fresh(base, tmp_path / f"r{attempt}")
        first, second = new_app(repo, "one"), new_app(repo, "two")
        for proc in (first, second):
            _out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        registered = (repo / "cluster-apps/alpha/default/kustomization.yaml").read_text()
        assert "./one/ks.yaml" in registered and "./two/ks.yaml" in registered, registered


def test_the_lock_waits_for_the_other_writer_then_gives_up(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    with journal.repository_lock(repo):
        holder = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(f"""
                from pathlib import Path
                from homeops.core import journal
                from homeops.core.errors import HomeopsError
                try:
                    with journal.repository_lock(Path({str(repo)!r}), wait=0.3):
                        print("locked")
                except HomeopsError as exc:
                    print(exc.one_line())
            """)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert "another homeops has been writing" in holder.stdout


def test_an_error_midway_puts_every_file_back(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.yaml").write_text("a: 1\n")
    (repo / "blocker").write_text("a file where a directory is needed\n")
    with pytest.raises(HomeopsError) as info:
        apply_edits(repo, [FileEdit("a.yaml", "a: 2\n", "a: 1\n"), FileEdit("blocker/b.yaml", "b: 1\n")])
    assert "nothing was changed" in info.value.one_line()
    assert (repo / "a.yaml").read_text() == "a: 1\n"
    assert sorted(p.name for p in repo.iterdir()) == ["a.yaml", "blocker"]


def _limited_fsize(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_full_disk_is_one_line_exit_2_and_nothing_left(base: Path, tmp_path: Path) -> None:
    """No room for the files (the process may write no file over 600 bytes): one error line."""
    repo = fresh(base, tmp_path / "repo")
    proc = new_app(repo, preexec_fn=lambda: _limited_fsize(600))
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("homeops: error: cannot write"), err
    assert "nothing was changed" in lines[0]
    assert status(repo) == set()
    assert not (repo / ".git" / journal.JOURNAL).exists()


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.mark.skipif(not _can_mount(), reason="mounting a small tmpfs / a read-only bind needs root")
@pytest.mark.parametrize("kind", ["full", "read-only"])
def test_a_real_full_or_read_only_filesystem(base: Path, tmp_path: Path, kind: str) -> None:
    mount = tmp_path / "mnt"
    mount.mkdir()
    options = "size=8m"
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        repo = mount / "repo"
        shutil.copytree(base, repo, symlinks=True)
        if kind == "full":
            with (
                open(mount / "filler", "wb", buffering=0) as handle,
                pytest.raises(OSError),
            ):  # fill what is left
                while True:
                    handle.write(b"\0" * 4096)
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        proc = new_app(repo)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("homeops: error: "), err
        if kind == "full":
            (mount / "filler").unlink()
        assert status(repo) == set()
        assert not (repo / ".git" / journal.JOURNAL).exists()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_new_app_keeps_a_flow_list_and_its_comment(base: Path, tmp_path: Path) -> None:
    repo = fresh(base, tmp_path / "repo")
    target = repo / "cluster-apps/alpha/default/kustomization.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [./existing/ks.yaml]  # apps of default, keep sorted\n"
    )
    proc = new_app(repo)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert (
        "resources: [./existing/ks.yaml, ./whoami/ks.yaml]  # apps of default, keep sorted\n"
        in target.read_text()
    )

"""The start-up daemon (``homeops daemon``): commands it runs answer exactly as without it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry_support import silent_registry
from tests.support import EXAMPLE, ROOT, flux_ks, write_tree


def homeops(*args: str, env: dict[str, str], cwd: Path | None = None, input: str | None = None):
    """The real entry point (``python -m homeops``: kept answers and the daemon's client included)."""
    return subprocess.run(
        [sys.executable, "-m", "homeops", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        input=input,
        check=False,
    )


@pytest.fixture
def daemon_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment whose daemon directory is private to the test; the daemon is stopped after."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEOPS_")}
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    yield env
    homeops("daemon", "stop", env=env)


def served(env: dict[str, str]) -> int:
    status = homeops("daemon", "status", "-o", "json", env=env)
    data = json.loads(status.stdout)
    return int(data["served"]) if data["running"] else -1


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@e", "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "base")
    return root


def test_commands_through_the_daemon_answer_as_without_it(daemon_env: dict[str, str], repo: Path) -> None:
    env = daemon_env
    assert homeops("daemon", "status", env=env).returncode == 1
    started = homeops("daemon", "start", "--idle", "5", env=env)
    assert started.returncode == 0, started.stderr
    assert "daemon running" in started.stderr
    assert served(env) == 0
    release = next(p for p in sorted(repo.rglob("helmrelease.yaml")) if "interval:" in p.read_text())
    release.write_text(release.read_text().replace("interval:", "interval: 9m #", 1))
    commands = [
        ["build", "ks", "--cluster", "chongus", "--path", "."],
        ["check", "--format", "json", "--path", "."],
        ["diff", "--path", ".", "--cluster", "chongus"],
        ["get", "ks", "--cluster", "chongus", "-o", "json"],
        ["build", "ks", "--no-such-option"],
        ["check", "missing-directory"],
    ]
    for argv in commands:
        before = served(env)
        through = homeops(*argv, env=env, cwd=repo)
        assert served(env) == before + 1, argv  # the daemon ran it
        alone = homeops(*argv, env={**env, "HOMEOPS_DAEMON": "0"}, cwd=repo)
        assert served(env) == before + 1, argv  # HOMEOPS_DAEMON=0: it did not
        assert (through.returncode, through.stdout, through.stderr) == (
            alone.returncode,
            alone.stdout,
            alone.stderr,
        ), argv
    assert "homeops: error:" in homeops("build", "ks", "--no-such-option", env=env).stderr
    stopped = homeops("daemon", "stop", env=env)
    assert stopped.returncode == 0 and "daemon stopped" in stopped.stderr
    assert homeops("daemon", "status", env=env).returncode == 1
    assert not list((Path(env["XDG_RUNTIME_DIR"]) / "homeops").glob("*.sock"))


def test_the_daemon_loads_ahead_what_commands_load_on_demand(daemon_env: dict[str, str]) -> None:
    """Every worker is forked with jsonschema (the rules' schema validation) imported and the lazy
    patterns compiled, which a command in its own process loads only when it needs them."""
    assert homeops("daemon", "start", "--idle", "5", env=daemon_env).returncode == 0
    status = json.loads(homeops("daemon", "status", "-o", "json", env=daemon_env).stdout)
    assert {"jsonschema", "referencing", "tempfile"} <= set(status["preloaded"])
    defined = sum(p.read_text().count("lazy_pattern(") for p in (ROOT / "src").rglob("*.py"))
    assert status["patterns"] == defined - 1  # every one (the count includes the definition)


def test_the_worker_keeps_the_clients_umask(daemon_env: dict[str, str], tmp_path: Path) -> None:
    env = daemon_env
    assert homeops("daemon", "start", env=env).returncode == 0
    target = tmp_path / "new-repo"
    through = subprocess.run(
        [sys.executable, "-c", "import os,sys,runpy; os.umask(0o077); sys.argv=['homeops',*sys.argv[1:]];"
         " runpy.run_module('homeops', run_name='__main__')",
         "init", str(target), "--cluster", "alpha", "--domain", "example.com"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert through.returncode == 0, through.stderr
    assert served(env) == 1
    modes = {p.stat().st_mode & 0o777 for p in target.rglob("*") if p.is_dir()}
    assert modes == {0o700}  # directories made under the client's umask, not the daemon's (022)


def test_a_directory_others_can_enter_is_never_used(daemon_env: dict[str, str], repo: Path) -> None:
    env = daemon_env
    runtime = Path(env["XDG_RUNTIME_DIR"]) / "homeops"
    runtime.mkdir(mode=0o755)
    runtime.chmod(0o755)
    refused = homeops("daemon", "start", env=env)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "not a directory private to this user" in refused.stderr
    runtime.chmod(0o700)
    assert homeops("daemon", "start", env=env).returncode == 0
    runtime.chmod(0o755)  # opened up while a daemon listens there: clients stop using it
    ran = homeops("build", "ks", "--cluster", "chongus", "--path", ".", env=env, cwd=repo)
    assert ran.returncode == 0 and "kind: HelmRelease" in ran.stdout
    runtime.chmod(0o700)
    assert served(env) == 0


def test_a_second_daemon_is_refused(daemon_env: dict[str, str]) -> None:
    env = daemon_env
    assert homeops("daemon", "start", env=env).returncode == 0
    again = homeops("daemon", "start", env=env)
    assert again.returncode == 0 and "already running" in again.stderr
    second = homeops("daemon", "run", "--idle", "1", env=env)
    assert second.returncode == 2 and "already running" in second.stderr


def test_an_idle_daemon_stops_and_removes_its_socket(daemon_env: dict[str, str]) -> None:
    env = daemon_env
    done = homeops("daemon", "run", "--idle", "0.01", env=env)  # 0.6 s without a command
    assert done.returncode == 0, done.stderr
    assert homeops("daemon", "status", env=env).returncode == 1
    assert not list((Path(env["XDG_RUNTIME_DIR"]) / "homeops").glob("*.sock"))


def test_bad_idle_is_a_usage_error(daemon_env: dict[str, str]) -> None:
    bad = homeops("daemon", "start", "--idle", "0", env=daemon_env)
    assert bad.returncode == 2 and bad.stderr.startswith("homeops: error: --idle")


def test_auto_starts_a_daemon_for_the_next_commands(daemon_env: dict[str, str], repo: Path) -> None:
    env = {**daemon_env, "HOMEOPS_DAEMON": "auto"}
    argv = ["diff", "--path", ".", "--cluster", "chongus", "--format", "json"]  # never a kept answer
    first = homeops(*argv, env=env, cwd=repo)
    assert first.returncode == 0, first.stderr
    deadline = time.monotonic() + 30
    while served(daemon_env) < 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert served(daemon_env) == 0  # started in the background by the first command, which ran itself
    second = homeops(*argv, env=env, cwd=repo)
    assert (second.returncode, second.stdout) == (0, first.stdout)
    assert served(daemon_env) == 1


def test_a_spare_worker_that_died_is_replaced_by_a_fork(daemon_env: dict[str, str], repo: Path) -> None:
    env = daemon_env
    assert homeops("daemon", "start", env=env).returncode == 0
    status = json.loads(homeops("daemon", "status", "-o", "json", env=env).stdout)
    os.kill(int(status["spare"]), signal.SIGKILL)
    argv = ["diff", "--path", ".", "--cluster", "chongus", "--format", "json"]
    through = homeops(*argv, env=env, cwd=repo)
    alone = homeops(*argv, env={**env, "HOMEOPS_DAEMON": "0"}, cwd=repo)
    assert served(env) == 1
    assert (through.returncode, through.stdout, through.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    again = homeops(*argv, env=env, cwd=repo)  # a new spare was forked after the fallback
    assert served(env) == 2 and again.stdout == alone.stdout


def _foreground_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("through_daemon", [True, False], ids=["daemon", "own-process"])
def test_ctrl_c_ends_a_command_waiting_on_a_registry(
    daemon_env: dict[str, str], tmp_path: Path, through_daemon: bool
) -> None:
    """A command waiting on a registry that never answers ends at once on Ctrl-C (exit 130, no
    traceback), through the daemon (the client passes the signal on to the worker) as in its own
    process; the requests in flight do not hold it until their limit (60 s here)."""
    env = {**daemon_env, "DOCKER_CONFIG": str(tmp_path / "docker")}
    if through_daemon:
        assert homeops("daemon", "start", env=env).returncode == 0
    else:
        env["HOMEOPS_DAEMON"] = "0"
    with silent_registry() as host:
        repo = write_tree(
            tmp_path / "repo",
            {
                "clusters/c/flux/root.yaml": flux_ks("apps", "./apps"),
                "apps/deploy.yaml": f"""
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {{name: web, namespace: media}}
                    spec:
                      selector: {{matchLabels: {{app: web}}}}
                      template:
                        metadata: {{labels: {{app: web}}}}
                        spec: {{containers: [{{name: web, image: "{host}/apps/web:1.0"}}]}}
                    """,
                ".homeops.yaml": "limits:\n  request_seconds: 60\n",
            },
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "homeops", "images", "pin", "--path", str(repo)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # a command in the foreground of a terminal: Ctrl-C's signal is not ignored, even when this
            # test runs where it is (a background job of a shell without job control inherits SIG_IGN)
            preexec_fn=_foreground_signals,
        )
        deadline = time.monotonic() + 30
        while through_daemon and served(env) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0 if through_daemon else 4.0)  # the command now waits on the silent registry
        assert proc.poll() is None
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    # 130 is the worker's answer to KeyboardInterrupt (the deadline would be exit 2, and a client that
    # did not pass the signal on would die of it with a traceback, leaving the worker running)
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 10
    assert "Traceback" not in err


def test_a_changed_package_directory_is_not_served_by_the_old_daemon(
    daemon_env: dict[str, str], repo: Path, tmp_path: Path
) -> None:
    """A package installed or upgraded where the daemon's imports come from (a ``site-packages``
    directory whose contents changed) means a new daemon: the old one no longer answers."""
    packages = tmp_path / "lib" / "site-packages"
    packages.mkdir(parents=True)
    env = {**daemon_env, "PYTHONPATH": str(packages)}
    assert homeops("daemon", "start", "--idle", "5", env=env).returncode == 0
    argv = ["get", "ks", "--cluster", "chongus", "-o", "json", "--path", "."]
    assert homeops(*argv, env=env, cwd=repo).returncode == 0
    assert served(env) == 1
    pid = int(json.loads(homeops("daemon", "status", "-o", "json", env=env).stdout)["pid"])
    try:
        (packages / "newpkg-1.0.dist-info").mkdir()  # what pip does installing or upgrading a package
        later = time.time_ns() + 10**9  # a clock coarser than the two steps above
        os.utime(packages, ns=(later, later))
        assert served(env) == -1  # the running daemon is not this environment's any more
        after = homeops(*argv, env=env, cwd=repo)
        assert after.returncode == 0, after.stderr  # ran in its own process
        os.kill(pid, 0)  # the old daemon still runs (until idle): it just is not asked
    finally:
        os.kill(pid, signal.SIGTERM)

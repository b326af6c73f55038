"""Shared by bench/probe_security.py: running the real command line as an attacker's pull request
makes it run, and judging what came out.

Each run is ``python -m homeops.cli.main`` in its own process group (killed at its deadline), with
its own chart cache, traced by ``strace`` when it is installed: every file any process of the run
opened successfully (the Helm worker's Go loader and ``git`` included) is compared with what lies
outside the repository. Output is searched for the bytes that must never appear: lines of
``/etc/passwd`` and ``/etc/shadow`` (and the base64 of their start), the fake token put in the
environment, the marker written outside the repository, and any Secret value a probe names.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "security"))
from security_support import write  # noqa: E402

TOKEN = "ghp_FAKE"
"""The GITHUB_TOKEN every run has in its environment (the issue's CI probe)."""
MARKER = "OUTSIDE-MARKER-5b1e77"
"""Written in every file of the ``outside`` directory next to the repositories."""
GIT_ENV = {
    "GIT_AUTHOR_NAME": "probe", "GIT_AUTHOR_EMAIL": "probe@example.com",
    "GIT_COMMITTER_NAME": "probe", "GIT_COMMITTER_EMAIL": "probe@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}  # fmt: skip
STRACE = shutil.which("strace")
HOST_FILES = ("/etc/passwd", "/etc/shadow")
ENVIRON = re.compile(r"^/proc/(self|\d+)/environ$")


def git(repo: Path, *args: str, input: str | None = None) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        capture_output=True, text=True, input=input, env={**os.environ, **GIT_ENV}, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def commit_all(repo: Path, message: str) -> None:
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def changed(repo: Path) -> set[str]:
    """Every changed, untracked or ignored file of the working tree."""
    out = git(repo, "status", "--porcelain", "-z", "--untracked-files=all", "--ignored")
    return {entry[3:] for entry in out.split("\0") if entry}


def tree_state(root: Path) -> dict[str, str]:
    """Every entry below ``root`` and a hash of what it holds (to tell that nothing was written)."""
    state = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            state[str(path)] = "-> " + os.readlink(path)
        elif path.is_file():
            state[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[str(path)] = "dir"
    return state


@dataclass
class Secrets:
    """What must never be printed: label -> byte strings (text) to look for."""

    needles: dict[str, list[str]] = field(default_factory=dict)

    def add(self, label: str, value: str, *, prefix: int = 0) -> None:
        """``value``, its base64 (as a Secret's ``data`` holds it) and, with ``prefix``, its start."""
        found = self.needles.setdefault(label, [])
        found.append(value)
        found.append(base64.b64encode(value.encode()).decode().rstrip("="))
        if prefix:
            found.append(value[:prefix])

    def leaked(self, text: str) -> list[str]:
        return [label for label, needles in self.needles.items() if any(n and n in text for n in needles)]


def host_secrets() -> Secrets:
    """Lines of the host's account files and the base64 of their start, the token, the marker."""
    secrets = Secrets()
    for name in HOST_FILES:
        try:
            text = Path(name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        needles = secrets.needles.setdefault(name, [])
        needles += [line for line in text.splitlines() if len(line) >= 12]
        needles.append(base64.b64encode(text[:48].encode()).decode()[:60])
    secrets.needles["GITHUB_TOKEN"] = [TOKEN, "GITHUB_TOKEN="]
    secrets.needles["marker outside"] = [
        MARKER,
        MARKER.lower(),
        base64.b64encode(MARKER.encode()).decode()[:20],
    ]
    return secrets


@dataclass
class Run:
    argv: list[str]
    code: int | None  # None: killed at its deadline
    stdout: str
    stderr: str
    seconds: float
    opened: list[str]  # files opened by any process of the run (when traced)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def sane(self, codes: tuple[int, ...] = (0, 1, 2)) -> list[str]:
        """What is wrong with the run whatever the input: its exit code, a traceback, a line on
        stderr not from homeops, a raw control character."""
        out = []
        if self.code is None:
            out.append(f"killed at its deadline ({self.seconds:.0f} s)")
        elif self.code not in codes:
            out.append(
                f"exit {self.code}, expected {'/'.join(map(str, codes))}: {self.stderr.strip()[-300:]!r}"
            )
        if "Traceback" in self.stderr or "internal error" in self.stderr:
            out.append(f"traceback / internal error: {self.stderr.strip()[-300:]!r}")
        for line in self.stderr.splitlines():
            if not line.startswith("homeops"):
                out.append(f"stderr line not from homeops: {line[:120]!r}")
                break
        if "\x1b" in self.output:
            out.append("a raw escape character reached the terminal")
        return out

    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("homeops: error: ")]


class Runner:
    """Runs the command line for the probes, in ``base`` (a temporary directory)."""

    def __init__(self, base: Path, trace: bool) -> None:
        self.base = base
        self.trace = trace and STRACE is not None
        self.outside = base / "outside"
        self.victim = base / "victim"
        self.cache = base / "cache"
        self.secrets = host_secrets()
        self.env = {**os.environ, **GIT_ENV, "GITHUB_TOKEN": TOKEN, "XDG_CACHE_HOME": str(self.cache)}
        for name in ("CI", "HOMEOPS_OFFLINE", "HOMEOPS_HELM_ENGINE"):
            self.env.pop(name, None)
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        )
        write(self.outside, {
            "secret.txt": f"token={MARKER}\n",
            "secret.env": f"TOKEN={MARKER}\n",
            "cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {MARKER.lower()}\ndata:\n  k: v\n",
            "patch.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  leak: {MARKER}\n",
            "base/kustomization.yaml": "resources: [cm.yaml]\n",
            "base/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {MARKER.lower()}\n",
            "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            f"commonLabels: {{leak: {MARKER}}}\n",
            "apps/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {MARKER.lower()}\n",
            "chart/Chart.yaml": "apiVersion: v2\nname: chart\nversion: 1.0.0\n",
            "chart/templates/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {MARKER.lower()}\n",
            ".homeops.yaml": f"domain: {MARKER.lower()}.example\n",
        })  # fmt: skip
        self.victim.mkdir(exist_ok=True)
        self.outside_state = tree_state(self.base / "outside")

    def forbidden(self, path: str) -> bool:
        """A file no run may open: outside the repositories' side of ``base``, or the host's secrets."""
        if path in HOST_FILES or path == "/dev/zero" or ENVIRON.match(path):
            return True
        return any(path == str(d) or path.startswith(f"{d}/") for d in (self.outside, self.victim))

    def wrote_outside(self) -> list[str]:
        out = []
        if tree_state(self.outside) != self.outside_state:
            out.append("the outside directory changed")
        if any(self.victim.iterdir()):
            out.append(f"written outside: {sorted(p.name for p in self.victim.iterdir())}")
        return out

    def homeops(self, *args: str, **options: Any) -> Run:
        """``homeops ARGS`` (options as for :meth:`command`)."""
        return self.command([sys.executable, "-m", "homeops.cli.main", *args], **options)

    def command(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        trace: bool = True,
        preexec: Callable[[], object] | None = None,
    ) -> Run:
        trace_file = None
        full = argv
        if trace and self.trace:
            fd, trace_file = tempfile.mkstemp(prefix="strace-", dir=self.base)
            os.close(fd)
            full = [STRACE or "strace", "-f", "-qq", "-y", "-e", "trace=open,openat,openat2", "-e", "signal=none",
                    "-o", trace_file, *argv]  # fmt: skip
        started = time.monotonic()
        proc = subprocess.Popen(
            full, cwd=cwd, env={**self.env, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, errors="replace", start_new_session=True, preexec_fn=preexec,
        )  # fmt: skip
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            code = None
        seconds = time.monotonic() - started
        opened = []
        if trace_file is not None:
            opened = self._opened(Path(trace_file))
            os.unlink(trace_file)
        return Run(argv, code, stdout, stderr, seconds, opened)

    def _opened(self, trace: Path) -> list[str]:
        """Files opened successfully, as the kernel resolved them (``strace -y`` shows the target)."""
        out = []
        for line in trace.read_text(errors="replace").splitlines():
            match = re.search(r"= \d+<(.*)>$", line)
            if match and self.forbidden(match.group(1)):
                out.append(match.group(1))
        return sorted(set(out))

    def leaks(self, runs: list[Run], extra: Secrets | None = None, texts: tuple[str, ...] = ()) -> list[str]:
        """Everything that leaked through ``runs``: printed secrets, files opened outside."""
        out: list[str] = []
        for run in runs:
            for text in (run.output, *texts):
                for label in self.secrets.leaked(text) + (extra.leaked(text) if extra else []):
                    if f"printed {label}" not in out:
                        out.append(f"printed {label}")
            out += [f"opened {p}" for p in run.opened if f"opened {p}" not in out]
        return out + self.wrote_outside()

"""Shared by tests (import as ``support``): where things are, and running the real CLI."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "rtrox-home-ops"
EXAMPLE = ROOT / "examples" / "home-ops"


def run_cli(
    *args: str, cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess (exit codes and stderr as users see them)."""
    return subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=input,
        check=False,
    )


ENTRY_POINT = "import sys; from homeops.cli import main; sys.argv[0] = 'homeops'; main()"
"""What the ``homeops`` console script runs, as ``python -c`` code (the entry point, not ``-m``)."""

_MODULES_MARK = "\x00modules loaded:"
_REPORT_MODULES = (
    "import atexit, os, sys\n"
    "def _report_modules():\n"
    "    for stream in (sys.stdout, sys.stderr):\n"
    "        try:\n"
    "            stream.flush()\n"
    "        except (OSError, ValueError):\n"
    "            pass\n"
    f"    os.write(2, ({_MODULES_MARK!r} + ' '.join(sys.modules)).encode())\n"
    "atexit.register(_report_modules)\n"
)


def run_entry_point(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The console entry point run as the ``homeops`` script runs: the process, and every module it had
    loaded when it exited (``sys.modules``; ``-X importtime`` misses those ``importlib`` loads)."""
    proc = subprocess.run(
        [sys.executable, "-c", _REPORT_MODULES + ENTRY_POINT, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )
    proc.stderr, _, modules = proc.stderr.partition(_MODULES_MARK)
    return proc, modules.split()


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root`` (texts dedented, leading newline dropped)."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def flux_ks(name: str, path: str, namespace: str = "flux-system", extra: str = "") -> str:
    """One Flux Kustomization of the repository's own source, ``extra`` added under ``spec``."""
    head = textwrap.dedent(f"""
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: {name}
          namespace: {namespace}
        spec:
          interval: 1h
          path: {path}
          prune: true
          sourceRef:
            kind: GitRepository
            name: flux-system
            namespace: flux-system
        """)
    return head + textwrap.indent(textwrap.dedent(extra).strip("\n"), "  ") + ("\n" if extra else "")

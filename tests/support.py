"""Shared by tests (import as ``support``): where things are, and running the real CLI."""

from __future__ import annotations

import subprocess
import sys
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

"""Shared fixtures: where the shared corpus is, and skips that say why."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "rtrox-home-ops"
EXAMPLE = ROOT / "examples" / "home-ops"

sys.path.insert(0, str(Path(__file__).resolve().parent / "kustomize"))


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"../shared is absent: the corpus {CORPUS} is needed for this test")
    return CORPUS


@pytest.fixture
def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip("kubectl is not on PATH: the reference kustomize is needed for this test")
    return path


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess (exit codes and stderr as users see them)."""
    return subprocess.run([sys.executable, "-m", "homeops.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, input=input, check=False)

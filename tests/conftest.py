"""Shared fixtures: where the shared corpus is, and skips that say why."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "kustomize"))

from support import CORPUS, EXAMPLE, ROOT, SHARED, run_cli

__all__ = ["CORPUS", "EXAMPLE", "ROOT", "SHARED", "run_cli"]


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


@pytest.fixture(autouse=True, scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test run gets its own persistent cache (parses, builds, answers), shared by its tests:
    the suite exercises the caches warm, and nothing leaks into the user's ~/.cache."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))

"""Fixtures of the diff tests: a Git repository holding the example, optionally with a plain-manifest app."""

from __future__ import annotations

from pathlib import Path

import pytest
from diff_support import GitRepo, add_raw_app, make_repo


@pytest.fixture(params=["in-place", "materialised"])
def repo(tmp_path: Path, request: pytest.FixtureRequest) -> GitRepo:
    """The example repository, committed once (``main``); the head of a diff is either rendered from
    the checked-out working tree or materialised from Git like the base."""
    return make_repo(tmp_path / "home-ops", in_place=request.param == "in-place")


@pytest.fixture
def raw_repo(repo: GitRepo) -> GitRepo:
    """The example plus the ``default/raw`` app of plain manifests, committed."""
    add_raw_app(repo)
    repo.commit("add raw app")
    return repo

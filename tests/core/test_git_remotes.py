"""Remotes through ``homeops.core.git``: they decide which GitRepositories are this repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from homeops.core import git


def test_remote_url_forms_compare_equal() -> None:
    forms = [
        "git@github.com:Org/home-ops.git",
        "ssh://git@github.com/org/home-ops",
        "https://github.com/org/home-ops/",
        "https://github.com/org/home-ops.git",
    ]
    assert {git.normalise_remote_url(f) for f in forms} == {"github.com/org/home-ops"}


def test_remote_urls_only_at_the_top_level(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:org/home-ops.git"], check=True
    )
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "set-url", "--push", "origin", "https://example.com/push.git"],
        check=True,
    )
    (tmp_path / "sub").mkdir()
    assert git.remote_urls(tmp_path) == {"github.com/org/home-ops", "example.com/push"}
    assert git.remote_urls(tmp_path / "sub") == set()
    assert git.remote_urls(tmp_path / "sub" / "absent") == set()

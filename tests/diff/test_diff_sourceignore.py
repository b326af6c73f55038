"""A change to what the source hides is a rendered change (render reuse must not hide it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support import run_cli

_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.net",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.net",
}


def _git(root: Path, *args: str) -> None:
    import os

    subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, env={**os.environ, **_ENV}
    )


def test_sourceignore_added_between_revisions_removes_the_object(tmp_path: Path) -> None:
    (tmp_path / "clusters/c/flux").mkdir(parents=True)
    (tmp_path / "apps").mkdir()
    (tmp_path / "clusters/c/flux/ks.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\n"
        "spec: {interval: 1h, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}\n"
    )
    for name in ("a", "b"):
        (tmp_path / f"apps/{name}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{k: v}}\n"
        )
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "one")
    (tmp_path / ".sourceignore").write_text("apps/b.yaml\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "two")
    proc = run_cli("diff", "--base", "HEAD~1", "--head", "HEAD", "--path", str(tmp_path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    changes = json.loads(proc.stdout)["changes"]
    assert [(c["change"], c["kind"], c["name"]) for c in changes] == [("removed", "ConfigMap", "b")]

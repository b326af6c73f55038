"""Repositories laid out otherwise than ``clusters/<name>/flux``: homeops finds their clusters too."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from support import CORPUS, run_cli

KS = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: flux-system}}
spec: {{interval: 10m, path: {path}, prune: true, sourceRef: {{kind: GitRepository, name: flux-system}}}}
"""
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: default}}\ndata: {{a: b}}\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def kustomizations(root: Path) -> list[tuple[str, str, str]]:
    proc = run_cli("get", "ks", "-A", "--path", str(root), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    return [(i["cluster"], i["name"], i["status"]) for i in json.loads(proc.stdout)["items"]]


def test_flux_bootstrap_layout(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/production/flux-system/gotk-sync.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
            "metadata: {name: flux-system, namespace: flux-system}\n"
            "spec: {interval: 1m, ref: {branch: main}, url: ssh://git@example.com/fleet}\n---"
            + KS.format(name="flux-system", path="./clusters/production")
        ),
        "clusters/production/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        "clusters/production/apps.yaml": KS.format(name="apps", path="./apps/production"),
        "apps/production/cm.yaml": CM.format(name="podinfo"),
    })  # fmt: skip
    assert kustomizations(tmp_path) == [
        ("production", "flux-system", "rendered"),
        ("production", "apps", "rendered"),
    ]


def test_flux_bootstrapped_at_the_repository_root(tmp_path: Path) -> None:
    """``flux bootstrap --path=./``: flux-system/ at the top, its Kustomization builds the whole tree."""
    write(tmp_path, {
        "flux-system/gotk-sync.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
            "metadata: {name: flux-system, namespace: flux-system}\n"
            "spec: {interval: 1m, ref: {branch: main}, url: ssh://git@example.com/fleet}\n---"
            + KS.format(name="flux-system", path="./")
        ),
        "flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        "default/echo/cm.yaml": CM.format(name="echo"),
    })  # fmt: skip
    assert kustomizations(tmp_path) == [("default", "flux-system", "rendered")]


def test_kubernetes_directory_layout(tmp_path: Path) -> None:
    write(tmp_path, {
        "kubernetes/flux/cluster/ks.yaml": KS.format(name="cluster-apps", path="./kubernetes/apps"),
        "kubernetes/apps/default/echo/cm.yaml": CM.format(name="echo"),
    })  # fmt: skip
    assert kustomizations(tmp_path) == [("kubernetes", "cluster-apps", "rendered")]


def test_corpus_clusters_are_unchanged() -> None:
    if not CORPUS.is_dir():
        import pytest

        pytest.skip("../shared is absent: the corpus is needed for this test")
    proc = run_cli("get", "clusters", "--path", str(CORPUS), "-o", "json")
    assert json.loads(proc.stdout)["items"] == [
        {"name": "bitty", "path": "clusters/bitty/flux"},
        {"name": "chongus", "path": "clusters/chongus/flux/cluster"},
        {"name": "chongus-old", "path": "clusters/chongus-old/flux"},
    ]


def test_a_repository_kept_inside_another_repository_is_not_judged_by_its_remotes(tmp_path: Path) -> None:
    import subprocess

    outer = tmp_path / "project"
    repo = outer / "examples" / "home-ops"
    write(repo, {
        "clusters/c/flux/sync.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
            "metadata: {name: home-ops, namespace: flux-system}\n"
            "spec: {interval: 1h, url: 'https://git.example.net/me/home-ops', ref: {branch: main}}\n---"
            + KS.format(name="apps", path="./apps").replace("name: flux-system}", "name: home-ops}")
        ),
        "apps/cm.yaml": CM.format(name="a"),
    })  # fmt: skip
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    subprocess.run(
        ["git", "-C", str(outer), "remote", "add", "origin", "https://git.example.net/me/project"], check=True
    )
    assert kustomizations(repo) == [("c", "apps", "rendered")]

"""The repositories the browser tests look at: the example with a two-commit change, and the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diff"))

from diff_support import GitRepo, make_repo

from support import run_cli

ECHO = "cluster-apps/chongus/network/echo-server/app"
LINKDING_HR = "cluster-apps/chongus/default/linkding/app/helmrelease.yaml"
ECHO_PIN = "tag: v0.3.7@sha256:b9d790bbffe59120141361a5d49105115ebd54f9e10c217bd6ca22dd7d9d361d"
LINKDING_PIN = "tag: v1.41.0@sha256:3664d6139d79e736955153fdd079afdb81946892e169a84be9544b24eca9d114"

CLUSTER_ROLE = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: echo-server-reader
rules:
  - apiGroups: [""]
    resources: ["pods", "services"]
    verbs: ["get", "list", "watch"]
  - apiGroups: ["gateway.networking.k8s.io"]
    resources: ["*"]
    verbs: ["*"]
"""


def two_commit_change(path: Path) -> GitRepo:
    """The example (commit ``base``), then two commits a reviewer would look at:

    1. echo-server on a new, unpinned tag and on the host network; the shared alerts component
       on ``info`` (one line, every namespace's Alert);
    2. a ClusterRole with wildcards for echo-server, echo-server scaled to 0, linkding's image bumped.
    """
    repo = make_repo(path)
    repo.edit(f"{ECHO}/helmrelease.yaml", ECHO_PIN, "tag: v0.3.8")
    repo.edit(
        f"{ECHO}/helmrelease.yaml",
        "        replicas: 2\n",
        "        replicas: 2\n        pod:\n          hostNetwork: true\n",
    )
    repo.edit("cluster-apps/components/flux/alerts/alert.yaml", "eventSeverity: error", "eventSeverity: info")
    repo.commit("echo-server on v0.3.8 and the host network; alerts on info")
    repo.write(f"{ECHO}/clusterrole.yaml", CLUSTER_ROLE)
    repo.edit(
        f"{ECHO}/kustomization.yaml",
        "  - ./httproute.yaml\n",
        "  - ./httproute.yaml\n  - ./clusterrole.yaml\n",
    )
    repo.edit(f"{ECHO}/helmrelease.yaml", "        replicas: 2\n", "        replicas: 0\n")
    repo.edit(LINKDING_HR, LINKDING_PIN, "tag: v1.42.0")
    repo.commit("echo-server reads gateways, scaled down; linkding 1.42")
    return repo


def diff_json(repo: GitRepo, *args: str) -> dict[str, Any]:
    proc = run_cli(
        "diff", "--path", str(repo.path), "--base", "HEAD~2", "--head", "HEAD", "--format", "json", *args
    )
    assert proc.returncode in (0, 1), proc.stderr
    return dict(json.loads(proc.stdout))


def diff_html(repo: GitRepo, target: Path, *args: str) -> Path:
    proc = run_cli(
        "diff",
        "--path",
        str(repo.path),
        "--base",
        "HEAD~2",
        "--head",
        "HEAD",
        "--format",
        "html",
        "-o",
        str(target),
        *args,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout == ""
    return target


__all__ = ["ECHO", "GitRepo", "diff_html", "diff_json", "make_repo", "two_commit_change"]

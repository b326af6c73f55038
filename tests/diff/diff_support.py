"""Real Git repositories for the diff tests: the example repository committed, then changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from homeops.diff.compare import DiffResult
from homeops.diff.revisions import DiffOptions, diff_repository

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "home-ops"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}  # fmt: skip


class GitRepo:
    """A repository made by a test: write files, commit, diff."""

    def __init__(self, path: Path, in_place: bool = True) -> None:
        self.path = path
        self.in_place = in_place  # False: both revisions materialised even when the head is checked out

    def git(self, *args: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(self.path), "-c", "commit.gpgsign=false", *args],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **GIT_ENV},
        )
        return out.stdout.strip()

    def write(self, rel: str, text: str) -> None:
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

    def read(self, rel: str) -> str:
        return (self.path / rel).read_text(encoding="utf-8")

    def edit(self, rel: str, old: str, new: str, count: int = 1) -> None:
        text = self.read(rel)
        assert old in text, f"{old!r} not in {rel}"
        (self.path / rel).write_text(text.replace(old, new, count), encoding="utf-8")

    def remove(self, rel: str) -> None:
        path = self.path / rel
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def diff(self, **options: Any) -> DiffResult:
        """HEAD~1 against HEAD unless told otherwise."""
        options.setdefault("base", "HEAD~1")
        options.setdefault("head", "HEAD")
        options.setdefault("in_place", self.in_place)
        return diff_repository(self.path, DiffOptions(**options))

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "homeops.cli.main", "diff", "--path", str(self.path), *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **(env or {})},
        )


def make_repo(path: Path, in_place: bool = True) -> GitRepo:
    """The example repository as the first commit of a new Git repository."""
    shutil.copytree(EXAMPLE, path)
    repo = GitRepo(path, in_place)
    repo.git("init", "-q", "-b", "main")
    repo.commit("base")
    return repo


def changed(result: DiffResult) -> set[tuple[str, str, str, str, str]]:
    """(change, cluster, kind, namespace, name) of every change."""
    return {(c.change, c.cluster, c.kind, c.namespace, c.name) for c in result.changes}


RAW_KS = """
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: raw
  namespace: default
spec:
  interval: 1h
  path: ./cluster-apps/chongus/default/raw/app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  targetNamespace: default
"""

RAW_APP = {
    "kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./workloads.yaml
          - ./storage.yaml
          - ./rbac.yaml
          - ./crd.yaml
    """,
    "workloads.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
            spec:
              containers:
                - name: web
                  image: ghcr.io/example/web:1.0.0
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: db
        spec:
          serviceName: db
          selector:
            matchLabels:
              app: db
          template:
            metadata:
              labels:
                app: db
            spec:
              containers:
                - name: db
                  image: docker.io/library/postgres:16.4
          volumeClaimTemplates:
            - metadata:
                name: data
              spec:
                accessModes: ["ReadWriteOnce"]
                resources:
                  requests:
                    storage: 10Gi
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: migrate
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: migrate
                  image: ghcr.io/example/migrate:1.0.0
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          clusterIP: 10.96.0.50
          selector:
            app: web
          ports:
            - port: 80
    """,
    "storage.yaml": """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: cache
        spec:
          accessModes: ["ReadWriteOnce"]
          storageClassName: ceph-block
          resources:
            requests:
              storage: 20Gi
    """,
    "rbac.yaml": """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: web
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: Role
          name: web-reader
        subjects:
          - kind: ServiceAccount
            name: web
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata:
          name: web-view
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: ClusterRole
          name: view
        subjects:
          - kind: ServiceAccount
            name: web
            namespace: default
    """,
    "crd.yaml": """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.example.com
        spec:
          group: example.com
          names:
            kind: Widget
            plural: widgets
          scope: Namespaced
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema:
                  type: object
    """,
}


def add_raw_app(repo: GitRepo) -> None:
    """A Flux Kustomization of plain manifests (no Helm), for the danger notes."""
    repo.write("cluster-apps/chongus/default/raw/ks.yaml", RAW_KS)
    for name, text in RAW_APP.items():
        repo.write(f"cluster-apps/chongus/default/raw/app/{name}", text)
    repo.edit(
        "cluster-apps/chongus/default/kustomization.yaml",
        "  - ./ntfy/ks.yaml\n",
        "  - ./ntfy/ks.yaml\n  - ./raw/ks.yaml\n",
    )

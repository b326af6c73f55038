"""``new app`` in the layout most home-ops repositories share: one cluster whose root Flux Kustomization
applies ``kubernetes/apps``, apps as ``kubernetes/apps/<namespace>/<app>/ks.yaml`` and components in
``kubernetes/components`` (before: refused, it knew only ``cluster-apps/<cluster>/``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from authoring import WHOAMI

from homeops.api import AppOptions, Workspace
from homeops.core.errors import HomeopsError
from support import write_tree

KS = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  interval: 1h
  path: {path}
  prune: true
  sourceRef: {{kind: GitRepository, name: flux-system, namespace: flux-system}}
"""


def repository(root: Path) -> Path:
    write_tree(root, {
        "kubernetes/flux/cluster/ks.yaml": KS.format(name="cluster-apps", namespace="flux-system",
                                                    path="./kubernetes/apps"),
        "kubernetes/apps/default/kustomization.yaml": """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: default
            # the apps of this namespace
            resources:
              - ./echo/ks.yaml
            """,
        "kubernetes/apps/default/echo/ks.yaml": KS.format(name="echo", namespace="default",
                                                          path="./kubernetes/apps/default/echo/app"),
        "kubernetes/apps/default/echo/app/kustomization.yaml": "resources: [cm.yaml]\n",
        "kubernetes/apps/default/echo/app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: echo}\n",
        "kubernetes/components/volsync/kustomization.yaml": """
            apiVersion: kustomize.config.k8s.io/v1alpha1
            kind: Component
            resources: [pvc.yaml]
            """,
        "kubernetes/components/volsync/pvc.yaml": """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: "${APP}"}
            spec:
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: "${VOLSYNC_CAPACITY}"}}
            """,
    })  # fmt: skip
    return root


def options(**more: object) -> AppOptions:
    return AppOptions(
        namespace="default", app="whoami", image=WHOAMI, port=80, host="whoami.example.org", **more
    )  # type: ignore[arg-type]


def test_an_app_is_added_where_the_cluster_keeps_its_apps_and_renders(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo")
    ws = Workspace(root)
    result = ws.new_app(options(volsync="1Gi"), write=True, resolve=False)
    paths = sorted(e.path for e in result.edits)
    assert paths == [
        "kubernetes/apps/default/kustomization.yaml",
        "kubernetes/apps/default/whoami/app/helmrelease.yaml",
        "kubernetes/apps/default/whoami/app/kustomization.yaml",
        "kubernetes/apps/default/whoami/app/ocirepository.yaml",
        "kubernetes/apps/default/whoami/ks.yaml",
    ]
    ks = (root / "kubernetes/apps/default/whoami/ks.yaml").read_text()
    assert "path: ./kubernetes/apps/default/whoami/app" in ks
    assert "- ../../../../components/volsync" in ks  # relative to the app's path, as Flux reads it
    listing = (root / "kubernetes/apps/default/kustomization.yaml").read_text()
    assert "# the apps of this namespace\nresources:\n  - ./echo/ks.yaml\n  - ./whoami/ks.yaml\n" in listing
    rendered = Workspace(root).render()
    whoami = {f"{o.kind}/{o.name}" for o in rendered.objects if o.name == "whoami"}
    assert {"HelmRelease/whoami", "OCIRepository/whoami", "PersistentVolumeClaim/whoami"} <= whoami
    assert not [f for f in rendered.findings if f.rule in ("HO101", "HO102")]


def test_a_namespace_it_cannot_write_by_the_repository_s_own_ways_is_refused(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo")
    with pytest.raises(HomeopsError, match="namespace directory kubernetes/apps/media does not exist"):
        Workspace(root).new_app(AppOptions(namespace="media", app="whoami", image=WHOAMI, port=80,
                                           host="w.example.org"), resolve=False)  # fmt: skip
    (root / "kubernetes/components/volsync/kustomization.yaml").unlink()
    (root / "kubernetes/components/volsync/pvc.yaml").unlink()
    (root / "kubernetes/components/volsync").rmdir()
    with pytest.raises(
        HomeopsError, match="no volsync component in cluster-apps/components or beside kubernetes/apps"
    ):
        Workspace(root).new_app(options(volsync="1Gi"), resolve=False)

"""Danger notes: one test per note, on a real repository with a plain-manifest app (``default/raw``)."""

from __future__ import annotations

import pytest
from diff_support import GitRepo

from homeops.diff.danger import parse_quantity

RAW = "cluster-apps/chongus/default/raw"
ECHO = "cluster-apps/chongus/network/echo-server"


def dangers(repo: GitRepo) -> list[tuple[str, str, str, str | None]]:
    """(type, severity, object, field) of every danger note of HEAD~1..HEAD."""
    return [(d.type, d.severity, f"{d.kind}/{d.name}", d.field) for d in repo.diff().dangers]


IMMUTABLE = {
    "deployment selector": (
        "workloads.yaml",
        "matchLabels:\n      app: web\n",
        "matchLabels:\n      app: web2\n",
        "Deployment/web",
        "spec.selector",
    ),
    "statefulset volumeClaimTemplates": (
        "workloads.yaml",
        "storage: 10Gi",
        "storage: 20Gi",
        "StatefulSet/db",
        "spec.volumeClaimTemplates",
    ),
    "statefulset serviceName": (
        "workloads.yaml",
        "serviceName: db",
        "serviceName: db-headless",
        "StatefulSet/db",
        "spec.serviceName",
    ),
    "pvc storage class": (
        "storage.yaml",
        "storageClassName: ceph-block",
        "storageClassName: openebs-hostpath",
        "PersistentVolumeClaim/cache",
        "spec.storageClassName",
    ),
    "pvc shrink": (
        "storage.yaml",
        "storage: 20Gi",
        "storage: 15000Mi",
        "PersistentVolumeClaim/cache",
        "spec.resources.requests.storage",
    ),
    "service clusterIP": (
        "workloads.yaml",
        "clusterIP: 10.96.0.50",
        "clusterIP: 10.96.0.51",
        "Service/web",
        "spec.clusterIP",
    ),
    "rolebinding roleRef": ("rbac.yaml", "name: web-reader", "name: web-admin", "RoleBinding/web", "roleRef"),
    "clusterrolebinding roleRef": (
        "rbac.yaml",
        "name: view",
        "name: edit",
        "ClusterRoleBinding/web-view",
        "roleRef",
    ),
    "job template": ("workloads.yaml", "migrate:1.0.0", "migrate:1.1.0", "Job/migrate", "spec.template"),
}


@pytest.mark.parametrize("case", sorted(IMMUTABLE))
def test_immutable_field(raw_repo: GitRepo, case: str) -> None:
    file, old, new, obj, field = IMMUTABLE[case]
    raw_repo.edit(f"{RAW}/app/{file}", old, new)
    raw_repo.commit(case)
    assert dangers(raw_repo) == [("immutable", "error", obj, field)]
    note = raw_repo.diff().dangers[0]
    assert note.ks == "default/raw" and note.cluster == "chongus"
    assert ("cannot shrink" if case == "pvc shrink" else "immutable") in note.message
    assert "apply will fail" in note.message


def test_pvc_growth_is_fine(raw_repo: GitRepo) -> None:
    raw_repo.edit(f"{RAW}/app/storage.yaml", "storage: 20Gi", "storage: 30Gi")
    raw_repo.commit()
    assert len(raw_repo.diff().changes) == 1
    assert dangers(raw_repo) == []


def test_volsync_capacity_shrink_through_variables(repo: GitRepo) -> None:
    """A PVC built by a component from postBuild variables: the shrink is seen in the rendered object."""
    repo.edit(
        "cluster-apps/chongus/media/jellyfin/ks.yaml", "VOLSYNC_CAPACITY: 15Gi", "VOLSYNC_CAPACITY: 10Gi"
    )
    repo.commit()
    found = dangers(repo)
    assert (
        "immutable",
        "error",
        "PersistentVolumeClaim/jellyfin",
        "spec.resources.requests.storage",
    ) in found


def test_force_recreates_instead_of_failing(raw_repo: GitRepo) -> None:
    raw_repo.edit(f"{RAW}/ks.yaml", "  prune: true\n", "  prune: true\n  force: true\n")
    raw_repo.commit("force")
    raw_repo.edit(f"{RAW}/app/workloads.yaml", "migrate:1.0.0", "migrate:1.1.0")
    raw_repo.commit("new job")
    note = raw_repo.diff().dangers[0]
    assert (note.type, note.severity, note.kind) == ("immutable", "warning", "Job")
    assert "delete and recreate" in note.message


def test_harmless_change_has_no_danger(raw_repo: GitRepo) -> None:
    raw_repo.edit(f"{RAW}/app/workloads.yaml", "web:1.0.0", "web:1.1.0")
    raw_repo.commit()
    result = raw_repo.diff()
    assert result.dangers == []
    assert [(i.image, i.from_, i.to, i.workloads) for i in result.images] == [
        ("ghcr.io/example/web", "1.0.0", "1.1.0", ["chongus/Deployment/default/web"])
    ]


def test_removal_under_prune_true_deletes(raw_repo: GitRepo) -> None:
    raw_repo.edit(f"{RAW}/app/kustomization.yaml", "  - ./storage.yaml\n", "")
    raw_repo.commit("drop the cache claim")
    assert dangers(raw_repo) == [("prune-delete", "error", "PersistentVolumeClaim/cache", None)]
    note = raw_repo.diff().dangers[0]
    assert "deleted from the cluster" in note.message and "prune: true" in note.message
    assert "data is lost" in note.message


def test_removal_of_a_plain_object_is_a_warning(raw_repo: GitRepo) -> None:
    raw_repo.edit(f"{RAW}/app/kustomization.yaml", "  - ./rbac.yaml\n", "")
    raw_repo.commit()
    assert sorted(dangers(raw_repo)) == [
        ("prune-delete", "warning", "ClusterRoleBinding/web-view", None),
        ("prune-delete", "warning", "RoleBinding/web", None),
    ]


def test_removal_under_prune_false_orphans(raw_repo: GitRepo) -> None:
    raw_repo.edit(f"{RAW}/ks.yaml", "prune: true", "prune: false")
    raw_repo.edit(f"{RAW}/app/kustomization.yaml", "  - ./storage.yaml\n", "")
    raw_repo.commit()
    assert ("prune-orphan", "info", "PersistentVolumeClaim/cache", None) in dangers(raw_repo)
    assert "prune: false" in next(d.message for d in raw_repo.diff().dangers if d.type == "prune-orphan")


def test_removal_with_prune_disabled_annotation_orphans(raw_repo: GitRepo) -> None:
    raw_repo.edit(
        f"{RAW}/app/storage.yaml",
        "  name: cache\n",
        "  name: cache\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n",
    )
    raw_repo.commit("keep the claim")
    raw_repo.edit(f"{RAW}/app/kustomization.yaml", "  - ./storage.yaml\n", "")
    raw_repo.commit("drop it")
    assert dangers(raw_repo) == [("prune-orphan", "info", "PersistentVolumeClaim/cache", None)]


def test_whole_kustomization_removed(raw_repo: GitRepo) -> None:
    raw_repo.edit("cluster-apps/chongus/default/kustomization.yaml", "  - ./raw/ks.yaml\n", "")
    raw_repo.commit()
    result = raw_repo.diff()
    notes = {(d.type, d.kind) for d in result.dangers}
    assert ("crd-removal", "CustomResourceDefinition") in notes
    assert ("prune-delete", "PersistentVolumeClaim") in notes
    assert ("prune-delete", "Kustomization") in notes  # the Flux Kustomization object itself
    assert all("removed as well" in d.message for d in result.dangers if d.ks == "default/raw")


def test_crd_removal(raw_repo: GitRepo) -> None:
    raw_repo.edit(f"{RAW}/app/kustomization.yaml", "  - ./crd.yaml\n", "")
    raw_repo.commit()
    assert dangers(raw_repo) == [
        ("crd-removal", "error", "CustomResourceDefinition/widgets.example.com", None)
    ]
    assert "every Widget object" in raw_repo.diff().dangers[0].message


@pytest.mark.parametrize("kind", ["Kustomization", "HelmRelease"])
def test_suspend_flip(repo: GitRepo, kind: str) -> None:
    if kind == "Kustomization":
        repo.edit(f"{ECHO}/ks.yaml", "  prune: true\n", "  prune: true\n  suspend: true\n")
    else:
        repo.edit(f"{ECHO}/app/helmrelease.yaml", "  interval: 1h\n", "  interval: 1h\n  suspend: true\n")
    repo.commit("suspend")
    assert dangers(repo) == [("suspend", "warning", f"{kind}/echo-server", "spec.suspend")]
    assert "suspended" in repo.diff().dangers[0].message
    resumed = repo.diff(base="HEAD", head="HEAD~1").dangers
    assert [(d.type, d.kind) for d in resumed] == [("suspend", kind)] and "resumed" in resumed[0].message


def test_chart_major_bump_through_chart_ref(repo: GitRepo) -> None:
    repo.edit(f"{ECHO}/app/ocirepository.yaml", "tag: 4.2.0", "tag: 5.0.0")
    repo.commit()
    assert dangers(repo) == [("chart-major", "warning", "HelmRelease/echo-server", "chart")]
    assert "4.2.0 → 5.0.0" in repo.diff().dangers[0].message


def test_chart_major_bump_through_chart_spec(repo: GitRepo) -> None:
    repo.edit("cluster-cd/apps/bitty/media/tautulli/app/helmrelease.yaml", "version: 3.7.3", "version: 4.0.0")
    repo.commit()
    assert dangers(repo) == [("chart-major", "warning", "HelmRelease/tautulli", "chart")]


def test_chart_minor_bump_is_fine(repo: GitRepo) -> None:
    repo.edit(f"{ECHO}/app/ocirepository.yaml", "tag: 4.2.0", "tag: 4.3.0")
    repo.commit()
    assert dangers(repo) == []


def test_parse_quantity() -> None:
    assert parse_quantity("10Gi") == 10 * 2**30
    assert parse_quantity("500M") == 500e6
    assert parse_quantity("1.5e3") == 1500
    assert parse_quantity(3) == 3
    assert parse_quantity("lots") is None
    assert parse_quantity(True) is None

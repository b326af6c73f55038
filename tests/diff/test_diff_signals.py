"""Review signals beyond the danger notes: RBAC/privilege/availability lint, changes under suspended
Flux objects, the blast radius of each changed file, and the findings a change introduces or fixes."""

from __future__ import annotations

import json

from diff_support import GitRepo

from homeops.api import Workspace

RAW = "cluster-apps/chongus/default/raw"
ECHO_HR = "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml"


def signals(repo: GitRepo, *types: str) -> list[tuple[str, str, str, str | None]]:
    """(type, severity, kind/name, field) of the diff's notes of the given types."""
    return [
        (d.type, d.severity, f"{d.kind}/{d.name}", d.field)
        for d in repo.diff().dangers
        if not types or d.type in types
    ]


def test_clusterrole_wildcard_is_flagged(raw_repo: GitRepo) -> None:
    raw_repo.write(
        f"{RAW}/app/role.yaml",
        """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: web-admin
        rules:
          - apiGroups: [""]
            resources: ["pods"]
            verbs: ["get", "list"]
          - apiGroups: ["apps"]
            resources: ["deployments"]
            verbs: ["*"]
        """,
    )
    raw_repo.edit(f"{RAW}/app/kustomization.yaml", "  - ./crd.yaml\n", "  - ./crd.yaml\n  - ./role.yaml\n")
    raw_repo.commit("clusterrole")
    assert signals(raw_repo, "rbac-wildcard") == [
        ("rbac-wildcard", "warning", "ClusterRole/web-admin", "rules")
    ]
    note = next(d for d in raw_repo.diff().dangers if d.type == "rbac-wildcard")
    assert "verbs [*] on deployments" in note.message
    # an unchanged wildcard is not flagged again when something else in the role changes
    raw_repo.edit(f"{RAW}/app/role.yaml", 'verbs: ["get", "list"]', 'verbs: ["get", "list", "watch"]')
    raw_repo.commit("widen a non-wildcard rule")
    assert signals(raw_repo, "rbac-wildcard") == []


def test_privileged_hostpath_hostnetwork(raw_repo: GitRepo) -> None:
    raw_repo.edit(
        f"{RAW}/app/workloads.yaml",
        "      containers:\n        - name: web\n          image: ghcr.io/example/web:1.0.0\n",
        "      hostNetwork: true\n"
        "      containers:\n        - name: web\n          image: ghcr.io/example/web:1.0.0\n"
        "          securityContext:\n            privileged: true\n"
        "      volumes:\n        - name: dev\n          hostPath:\n"
        "            path: /dev\n",
    )
    raw_repo.commit("privileged web")
    assert sorted(signals(raw_repo, "privileged", "host-path", "host-network")) == [
        ("host-network", "warning", "Deployment/web", "spec.template.spec.hostNetwork"),
        ("host-path", "warning", "Deployment/web", "spec.template.spec.volumes[dev].hostPath"),
        (
            "privileged",
            "warning",
            "Deployment/web",
            "spec.template.spec.containers[web].securityContext.privileged",
        ),
    ]
    # nothing new at the next change: the facts were already there at base
    raw_repo.edit(f"{RAW}/app/workloads.yaml", "web:1.0.0", "web:1.0.1")
    raw_repo.commit("bump")
    assert signals(raw_repo, "privileged", "host-path", "host-network") == []


def test_helm_values_are_read_too(repo: GitRepo) -> None:
    """app-template values (``controllers.*.pod.hostNetwork``) count as much as a pod spec."""
    repo.edit(
        ECHO_HR,
        "        replicas: 2\n",
        "        replicas: 2\n        pod:\n          hostNetwork: true\n",
    )
    repo.commit("echo on the host network")
    assert signals(repo, "host-network") == [
        (
            "host-network",
            "warning",
            "HelmRelease/echo-server",
            "spec.values.controllers.echo-server.pod.hostNetwork",
        )
    ]


def test_scale_to_zero_and_pdb_removal(raw_repo: GitRepo) -> None:
    raw_repo.write(
        f"{RAW}/app/pdb.yaml",
        """
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata:
          name: web
        spec:
          minAvailable: 1
          selector:
            matchLabels:
              app: web
        """,
    )
    raw_repo.edit(f"{RAW}/app/kustomization.yaml", "  - ./crd.yaml\n", "  - ./crd.yaml\n  - ./pdb.yaml\n")
    raw_repo.commit("pdb")
    raw_repo.edit(f"{RAW}/app/kustomization.yaml", "  - ./pdb.yaml\n", "")
    raw_repo.edit(f"{RAW}/app/workloads.yaml", "  serviceName: db\n", "  serviceName: db\n  replicas: 0\n")
    raw_repo.edit(ECHO_HR, "        replicas: 2\n", "        replicas: 0\n")
    raw_repo.commit("scale down, drop the pdb")
    assert sorted(signals(raw_repo, "scale-to-zero", "pdb-removal")) == [
        ("pdb-removal", "warning", "PodDisruptionBudget/web", None),
        (
            "scale-to-zero",
            "warning",
            "HelmRelease/echo-server",
            "spec.values.controllers.echo-server.replicas",
        ),
        ("scale-to-zero", "warning", "StatefulSet/db", "spec.replicas"),
    ]
    note = next(d for d in raw_repo.diff().dangers if d.kind == "StatefulSet")
    assert "from 1 to 0" in note.message  # unset replicas is 1


def test_changes_under_a_suspended_kustomization(raw_repo: GitRepo) -> None:
    raw_repo.edit(f"{RAW}/ks.yaml", "  prune: true\n", "  prune: true\n  suspend: true\n")
    raw_repo.commit("suspend raw")
    raw_repo.edit(f"{RAW}/app/workloads.yaml", "web:1.0.0", "web:1.0.1")
    raw_repo.commit("bump web while suspended")
    notes = [d for d in raw_repo.diff().dangers if d.type == "suspended"]
    assert [(d.kind, d.namespace, d.name, d.ks) for d in notes] == [
        ("Kustomization", "default", "raw", "flux-system/cluster-apps")
    ]
    assert "1 changed object (Deployment web)" in notes[0].message
    assert "not applied until it is resumed" in notes[0].message


def test_changes_of_a_suspended_helmrelease(repo: GitRepo) -> None:
    repo.edit(ECHO_HR, "  interval: 1h\n", "  interval: 1h\n  suspend: true\n")
    repo.commit("suspend echo-server")
    assert {d.type for d in repo.diff().dangers} == {"suspend"}  # the flip itself: the danger note
    repo.edit(ECHO_HR, 'LOG_HTTP_HEADERS: "true"', 'LOG_HTTP_HEADERS: "false"')
    repo.commit("change values while suspended")
    notes = [d for d in repo.diff().dangers if d.type == "suspended"]
    assert [(d.kind, d.name) for d in notes] == [("HelmRelease", "echo-server")]
    assert "helm-controller does not upgrade" in notes[0].message


def test_blast_radius_of_a_component_line(repo: GitRepo) -> None:
    """One line of the shared alerts component changes the Alert of every namespace using it."""
    repo.edit("cluster-apps/components/flux/alerts/alert.yaml", "eventSeverity: error", "eventSeverity: info")
    repo.commit("alerts on info")
    result = repo.diff()
    alerts = {f"{c.cluster}/{c.kind}/{c.namespace}/{c.name}" for c in result.changes if c.kind == "Alert"}
    assert len(alerts) >= 5
    [entry] = result.blast_radius
    assert (entry.file, entry.added, entry.removed) == (
        "cluster-apps/components/flux/alerts/alert.yaml",
        1,
        1,
    )
    assert (
        set(entry.objects)
        == alerts
        == {f"{c.cluster}/{c.kind}/{c.namespace}/{c.name}" for c in result.changes}
    )
    assert entry.count == len(alerts)
    assert result.unattributed == []


def test_blast_radius_of_a_ks_input(repo: GitRepo) -> None:
    """A postBuild variable in ks.yaml explains every object of that Kustomization it changes; the
    HelmRelease edited in the same change is explained by its own file."""
    repo.edit("cluster-apps/chongus/network/echo-server/ks.yaml", "wait: false", "wait: true")
    repo.edit(
        "cluster-apps/chongus/network/echo-server/ks.yaml",
        "      app.kubernetes.io/name: *app\n",
        "      app.kubernetes.io/name: *app\n      team: edge\n",
    )
    repo.edit(ECHO_HR, "memory: 64Mi", "memory: 128Mi")
    repo.commit("label echo-server, raise its memory")
    result = repo.diff()
    by_file = {b.file: b for b in result.blast_radius}
    ks_file = by_file["cluster-apps/chongus/network/echo-server/ks.yaml"]
    hr_file = by_file[ECHO_HR]
    echo_objects = {
        f"{c.cluster}/{c.kind}/{c.namespace}/{c.name}"
        for c in result.changes
        if c.ks == "network/echo-server"
    }
    # the Kustomization object itself (applied by its parent) and every object it applies
    assert set(ks_file.objects) == echo_objects | {"chongus/Kustomization/network/echo-server"}
    assert len(echo_objects) >= 3
    assert hr_file.objects == ["chongus/HelmRelease/network/echo-server"]
    assert (hr_file.added, hr_file.removed) == (1, 1)


def test_signals_in_json(repo: GitRepo) -> None:
    repo.edit("cluster-apps/components/flux/alerts/alert.yaml", "eventSeverity: error", "eventSeverity: info")
    repo.commit("alerts on info")
    proc = repo.cli("--base", "HEAD~1", "--head", "HEAD", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    [entry] = data["blast_radius"]["files"]
    assert entry["file"] == "cluster-apps/components/flux/alerts/alert.yaml"
    assert entry["count"] == len(data["changes"]) == len(entry["objects"])
    assert data["findings"] is None  # the rules were not asked for
    assert all("verify" not in image for image in data["images"])
    proc = repo.cli("--base", "HEAD~1", "--head", "HEAD", "--format", "markdown")
    assert (
        "#### Blast radius" in proc.stdout and "cluster-apps/components/flux/alerts/alert.yaml" in proc.stdout
    )


def test_findings_introduced_and_fixed(repo: GitRepo) -> None:
    """Unpinning an image introduces HO009; pinning it back fixes it."""
    pinned = "tag: v0.3.7@sha256:b9d790bbffe59120141361a5d49105115ebd54f9e10c217bd6ca22dd7d9d361d"
    repo.edit(ECHO_HR, pinned, "tag: v0.3.8")
    repo.commit("unpin echo-server")
    ws = Workspace(repo.path)
    result = ws.diff("HEAD~1", "HEAD", findings=True)
    assert result.findings_fixed == []
    assert [(f.rule, f.name) for f in result.findings_introduced or []] == [("HO009", "echo-server")]
    back = ws.diff("HEAD", "HEAD~1", findings=True)
    assert [(f.rule, f.name) for f in back.findings_fixed or []] == [("HO009", "echo-server")]
    assert back.findings_introduced == []
    proc = repo.cli("--base", "HEAD~1", "--head", "HEAD", "--format", "json", "--findings")
    data = json.loads(proc.stdout)
    assert [f["rule"] for f in data["findings"]["introduced"]] == ["HO009"]
    assert data["findings"]["fixed"] == []

"""False errors the hand-judged field sample found (issue 12), each on our own small fixture: pods in
their own user namespace (HO026), values of a chart that is not app-template (HO026), claims named
``{{ .Release.Name }}`` and apps that back up part of their data themselves (HO024)."""

from __future__ import annotations

from pathlib import Path

from homeops.api import Workspace
from support import flux_ks, write_tree

DIGEST = "c" * 64


def _repo(root: Path, apps: dict[str, dict[str, str]]) -> Path:
    files = {"clusters/home/flux/cluster.yaml": flux_ks("apps", "./flux/apps")}
    for name, app_files in apps.items():
        files[f"flux/apps/{name}.yaml"] = flux_ks(name, f"./apps/{name}", "media", "targetNamespace: media\n")
        files.update({f"apps/{name}/{rel}": text for rel, text in app_files.items()})
    write_tree(root, files)
    (root / ".homeops.yaml").write_text("vars: {}\n")  # the document's conventions
    return root


def _messages(root: Path, rule: str) -> list[tuple[str, str, str]]:
    """(object or file, severity, message) of the rule's findings."""
    return sorted(
        (str(f.name or f.file), f.severity, f.message)
        for f in Workspace(root).check(select=[rule]).findings
        if f.rule == rule
    )


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  template:
    spec:
      {host_users}
      containers:
        - name: app
          image: ghcr.io/example/app:1@sha256:{digest}
          securityContext: {{readOnlyRootFilesystem: true}}
"""


def _oci(name: str, url: str) -> str:
    return (
        f"---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {{name: {name}}}\n"
        f"spec:\n  url: {url}\n  ref: {{tag: 1.0.0}}\n"
        "  layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}\n"
    )


def _release(name: str, source: str, pod_options: str = "") -> str:
    return f"""---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: {name}}}
spec:
  interval: 1h
  chartRef: {{kind: OCIRepository, name: {source}}}
  values:
    {pod_options}
    controllers:
      {name}:
        containers:
          app:
            image: {{repository: ghcr.io/example/{name}, tag: "1@sha256:{DIGEST}"}}
            resources: {{limits: {{memory: 64Mi}}}}
"""


def test_a_pod_in_its_own_user_namespace_is_not_asked_for_run_as_non_root(tmp_path: Path) -> None:
    template = "oci://ghcr.io/example/helm/app-template"
    root = _repo(tmp_path, {
        "userns": {"d.yaml": DEPLOYMENT.format(name="userns", host_users="hostUsers: false", digest=DIGEST)},
        "hostns": {"d.yaml": DEPLOYMENT.format(name="hostns", host_users="", digest=DIGEST)},
        "chartns": {"hr.yaml": _oci("chartns", template)
                    + _release("chartns", "chartns", "defaultPodOptions: {hostUsers: false}")},
        "charthost": {"hr.yaml": _oci("charthost", template) + _release("charthost", "charthost")},
    })  # fmt: skip
    found = _messages(root, "HO026")
    non_root = {name for name, _s, message in found if "runAsNonRoot" in message}
    assert non_root == {"hostns", "charthost"}
    escalation = {name for name, _s, message in found if "allowPrivilegeEscalation" in message}
    assert escalation == {"userns", "hostns", "chartns", "charthost"}  # a user namespace does not excuse it


def test_values_of_a_chart_that_is_not_app_template_are_not_read_as_app_template(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "own": {"hr.yaml": _oci("own", "oci://registry.example.net/charts/own-chart") + _release("own", "own")},
        "template": {"hr.yaml": _oci("template", "oci://ghcr.io/example/helm/app-template")
                     + _release("template", "template")},
        "unknown": {"hr.yaml": _release("unknown", "not-rendered")},  # the source is not in the render
    })  # fmt: skip
    assert {name for name, _s, _m in _messages(root, "HO026")} == {"template", "unknown"}


PVC = """---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
"""

SOURCE = """---
apiVersion: volsync.backube/v1alpha1
kind: ReplicationSource
metadata: {{name: {name}}}
spec: {{sourcePVC: {name}}}
"""

SNAPSHOT_POLICY = """---
apiVersion: backups.example.com/v1alpha1
kind: SnapshotPolicy
metadata: {{name: {name}}}
spec:
  repository: {{name: nas}}
  sources:
    - pvc: {{name: {name}}}
"""

DATABASE_BACKUP = """---
apiVersion: postgresql.cnpg.io/v1
kind: ScheduledBackup
metadata: {name: db}
spec: {schedule: "0 0 0 * * *", cluster: {name: db}}
"""


def _claiming_release(name: str, claim: str) -> str:
    return (
        f"---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: {name}}}\n"
        f"spec:\n  chartRef: {{kind: OCIRepository, name: {name}}}\n  values:\n    persistence:\n"
        f"      config: {{existingClaim: '{claim}'}}\n"
    )


def test_release_named_claims_and_apps_that_back_up_part_of_their_data(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        # the chart names the claim after the release: the ReplicationSource backs it up
        "named": {"hr.yaml": _claiming_release("named", "{{ .Release.Name }}"),
                  "pvc.yaml": PVC.format(name="named"), "rs.yaml": SOURCE.format(name="named")},
        # one claim backed up by the app's own ReplicationSource, the other left out
        "partial": {"pvc.yaml": PVC.format(name="partial") + PVC.format(name="partial-extra"),
                    "rs.yaml": SOURCE.format(name="partial")},
        # the data lives in a database the app backs up; its claim is not
        "database": {"pvc.yaml": PVC.format(name="database"), "backup.yaml": DATABASE_BACKUP},
        "bare": {"pvc.yaml": PVC.format(name="bare")},
        # another backup tool's object names the claim as its source: backed up
        "snapshotted": {"pvc.yaml": PVC.format(name="snapshotted"), "policy.yaml": SNAPSHOT_POLICY.format(name="snapshotted")},
    })  # fmt: skip
    found = {(message.split(" ", 1)[0], severity) for _n, severity, message in _messages(root, "HO024")}
    assert found == {("media/partial", "warning"), ("media/database", "warning"), ("media/bare", "error")}
    messages = [m for _n, _s, m in _messages(root, "HO024")]
    assert any("media/partial backs up some of its data itself (ReplicationSource)" in m for m in messages)
    assert any("PersistentVolumeClaim partial-extra" in m for m in messages)
    assert any("media/database backs up some of its data itself (ScheduledBackup)" in m for m in messages)


def test_a_privileged_or_sys_admin_container_is_not_asked_to_forbid_escalation(tmp_path: Path) -> None:
    """Kubernetes refuses allowPrivilegeEscalation: false beside privileged: true or CAP_SYS_ADMIN."""
    container = "securityContext: {{readOnlyRootFilesystem: true, {extra}}}"
    deployment = DEPLOYMENT.replace("securityContext: {{readOnlyRootFilesystem: true}}", container)
    root = _repo(tmp_path, {
        "priv": {"d.yaml": deployment.format(name="priv", host_users="", digest=DIGEST, extra="privileged: true")},
        "admin": {"d.yaml": deployment.format(name="admin", host_users="", digest=DIGEST,
                                              extra="capabilities: {add: [SYS_ADMIN]}")},
        "net": {"d.yaml": deployment.format(name="net", host_users="", digest=DIGEST,
                                            extra="capabilities: {add: [NET_ADMIN]}")},
    })  # fmt: skip
    found = _messages(root, "HO026")
    assert {name for name, _s, message in found if "allowPrivilegeEscalation" in message} == {"net"}
    assert any(name == "priv" and "is privileged" in message for name, _s, message in found)


def test_the_claim_named_is_the_data_not_the_logs(tmp_path: Path) -> None:
    """Of several unbacked claims, the one cited is not a logs/core-dump/scratch claim when another is."""
    root = _repo(
        tmp_path, {"game": {"pvc.yaml": PVC.format(name="game-cores") + PVC.format(name="game-world")}}
    )
    [(_name, severity, message)] = _messages(root, "HO024")
    assert (
        severity == "error" and "PersistentVolumeClaim game-world" in message and "game-cores" not in message
    )

"""What public repositories showed the rules must know (our own small fixtures): claims that are not
app data (HO024), backups made by split or nested components, containers that are non-root by
``runAsUser`` and namespaces labelled for privileged pods (HO026), a repository that does not harden
its containers (HO026 as warnings under its inferred profile)."""

from __future__ import annotations

from pathlib import Path

from homeops.api import Workspace
from homeops.core.profile import DEFAULT
from homeops.core.yamlio import YMap
from homeops.flux.render_one import _map_files
from support import flux_ks, write_tree

PVC = """
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
{extra}"""


def _app(name: str, extra_files: dict[str, str], ks_extra: str = "") -> dict[str, str]:
    return {
        f"flux/apps/{name}.yaml": flux_ks(
            name, f"./apps/{name}", "media", f"targetNamespace: media\n{ks_extra}"
        ),
        **{f"apps/{name}/{rel}": text for rel, text in extra_files.items()},
    }


def _repo(root: Path, files: dict[str, str]) -> Path:
    write_tree(root, {"clusters/home/flux/cluster.yaml": flux_ks("apps", "./flux/apps"), **files})
    (root / ".homeops.yaml").write_text("vars: {}\n")  # the document's conventions
    return root


def _findings(root: Path, rule: str, *, inferred: bool = False) -> list[str]:
    ws = Workspace(root) if not inferred else Workspace(root, profile=None)
    return sorted(
        f"{f.name or f.file}:{f.severity}" for f in ws.check(select=[rule]).findings if f.rule == rule
    )


def test_claims_that_are_not_app_data_need_no_backup(tmp_path: Path) -> None:
    nfs = "---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: share}\nspec:\n  storageClassName: share\n"
    root = _repo(tmp_path, {
        **_app("plain", {"pvc.yaml": PVC.format(name="plain", extra="  storageClassName: ceph-block\n")}),
        **_app("static", {"pvc.yaml": PVC.format(name="static", extra="  storageClassName: \"\"\n  volumeName: zfs\n")}),
        **_app("shared", {"pvc.yaml": nfs + PVC.format(name="shared", extra="  storageClassName: share\n")}),
        **_app("cached", {"pvc.yaml": PVC.format(name="thumbnail-cache", extra="")}),
        **_app("copied", {
            "pvc.yaml": PVC.format(name="copied", extra=""),
            "replicationsource.yaml": "apiVersion: volsync.backube/v1alpha1\nkind: ReplicationSource\n"
            "metadata: {name: copied}\nspec: {sourcePVC: copied}\n",
        }),
    })  # fmt: skip
    flagged = [f for f in Workspace(root).check(select=["HO024"]).findings if "is stateful" in f.message]
    assert [f.message.split(" is stateful")[0] for f in flagged] == ["media/plain"]


def test_a_kustomization_of_several_apps_is_not_one_app(tmp_path: Path) -> None:
    release = (
        "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: {n}, namespace: {ns}}}\n"
        "spec:\n  chartRef: {{kind: OCIRepository, name: x}}\n  values:\n    persistence:\n"
        "      data: {{existingClaim: {n}}}\n"
    )
    root = _repo(tmp_path, {
        "flux/apps/all.yaml": flux_ks("all", "./apps/all"),
        "apps/all/releases.yaml": release.format(n="a", ns="one") + release.format(n="b", ns="two"),
    })  # fmt: skip
    assert [f for f in Workspace(root).check(select=["HO024"]).findings if "is stateful" in f.message] == []


BACKUP_POLICY = """
apiVersion: snapshots.example.io/v1
kind: SnapshotPolicy
metadata:
  name: ${APP}
spec:
  sources: [{pvc: {name: "${APP}"}}]
"""
COMPONENT = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [{files}]\n"


def test_backups_from_split_and_nested_components(tmp_path: Path) -> None:
    root = tmp_path
    files = {
        "components/snap/claim/kustomization.yaml": COMPONENT.format(files="pvc.yaml"),
        "components/snap/claim/pvc.yaml": PVC.format(name="${APP}", extra=""),
        "components/snap/policy/kustomization.yaml": COMPONENT.format(files="policy.yaml"),
        "components/snap/policy/policy.yaml": BACKUP_POLICY,
        "components/db/kustomization.yaml": COMPONENT.format(files="db.yaml"),
        "components/db/db.yaml": 'apiVersion: db.example.io/v1\nkind: Database\nmetadata: {name: "${APP}"}\nspec: {size: 1}\n',
        "components/vs/kustomization.yaml": COMPONENT.format(files="pvc.yaml").replace(
            "resources", "components: [restic]\nresources"
        ),
        "components/vs/pvc.yaml": PVC.format(name="${APP}", extra="  storageClassName: ${CLASS:=ceph}\n"),
        "components/vs/restic/kustomization.yaml": COMPONENT.format(files="source.yaml"),
        "components/vs/restic/source.yaml": "# was ${APP}-${OLD_ZONE}; a stray ${ in a comment\n"  # not substituted
        "apiVersion: volsync.backube/v1alpha1\nkind: ReplicationSource\n"
        "metadata: {name: \"${APP}\"}\nspec: {sourcePVC: '${APP}', restic: {repository: '${APP}-${ZONE}'}}\n",
    }
    for app, comps in (
        ("films", "snap/claim, ../../components/snap/policy, ../../components/db"),
        ("books", "vs"),
    ):
        entries = ", ".join(
            f"../../components/{c}" if not c.startswith("..") else c for c in comps.split(", ")
        )
        files.update(_app(app, {"cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {app}}}\n"},
                          f"components: [{entries}]\npostBuild:\n  substitute: {{APP: {app}, ZONE: z}}\n"))  # fmt: skip
    write_tree(root, {"clusters/home/flux/cluster.yaml": flux_ks("apps", "./flux/apps"), **files})
    values = Workspace(root).infer_profile().overrides()
    # the claim's and the policy's components back films up; the database component is no backup
    assert values["backup_components"] == ["components/snap/claim", "components/snap/policy", "components/vs"]
    assert (values["components_dir"], values["volsync_component"]) == ("components", "vs")
    assert values["volsync_variables"] == ["APP", "ZONE"]  # CLASS has a default
    assert [f for f in Workspace(root).check(select=["HO024"]).findings] == []


def test_security_context_non_root_by_uid_and_privileged_namespaces(tmp_path: Path) -> None:
    deployment = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  template:
    spec:
      securityContext: {pod}
      containers:
        - name: app
          image: ghcr.io/example/app:1@sha256:{digest}
          securityContext: {{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true{extra}}}
"""
    digest = "a" * 64
    root = _repo(tmp_path, {
        **_app("byuid", {"d.yaml": deployment.format(name="byuid", pod="{runAsUser: 1000}", digest=digest, extra="")}),
        **_app("rooted", {"d.yaml": deployment.format(name="rooted", pod="{}", digest=digest, extra="")}),
        **_app("hw", {
            "d.yaml": deployment.format(name="hw", pod="{runAsNonRoot: true}", digest=digest, extra=", privileged: true"),
            "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: media\n  labels:\n"
            "    pod-security.kubernetes.io/enforce: privileged\n",
        }),
    })  # fmt: skip
    document = [
        (f.name, f.message.split(": ", 1)[1]) for f in Workspace(root).check(select=["HO026"]).findings
    ]
    assert ("byuid", "runAsNonRoot is not true for the pod (containers 'app')") not in document
    assert ("rooted", "runAsNonRoot is not true for the pod (containers 'app')") in document
    assert any(name == "hw" and "privileged" in message for name, message in document)
    (root / ".homeops.yaml").unlink()
    inferred = Workspace(root)
    assert inferred.profile.privileged_namespaces == ("media", "kube-system")
    assert not any(f.name == "hw" for f in inferred.check(select=["HO026"]).findings)


def test_a_repository_that_does_not_harden_gets_warnings(tmp_path: Path) -> None:
    deployment = (
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {n}}}\nspec:\n  template:\n    spec:\n"
        "      containers: [{{name: app, image: 'x:1'}}]\n"
    )
    root = _repo(
        tmp_path,
        {
            **_app("a", {"d.yaml": deployment.format(n="a")}),
            **_app("b", {"d.yaml": deployment.format(n="b")}),
        },
    )
    assert {f.severity for f in Workspace(root).check(select=["HO026"]).findings} >= {"error"}
    (root / ".homeops.yaml").unlink()
    ws = Workspace(root)
    assert ws.infer_profile().overrides()["rules"]["HO026"] == "warning"
    assert {f.severity for f in ws.check(select=["HO026"]).findings} == {"warning"}
    assert DEFAULT.privileged_namespaces == ()


def test_values_read_from_a_laid_out_artifact_name_the_repository_file() -> None:
    inner = YMap({"a": 1})
    inner.file = "/dev/shm/x/app/values.yaml"
    outer = YMap({"values": inner, "list": [inner]})
    outer.file = "/dev/shm/x/app/release.yaml"
    _map_files(outer, {"/dev/shm/x/app/values.yaml": "apps/x/values.yaml"})
    assert (outer.file, inner.file) == ("/dev/shm/x/app/release.yaml", "apps/x/values.yaml")


def test_shared_chart_sources_and_no_pod_security_labels(tmp_path: Path) -> None:
    release = (
        "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: {n}}}\n"
        "spec:\n  chartRef: {{kind: OCIRepository, name: app-template, namespace: flux-system}}\n  values:\n"
        "    controllers:\n      main:\n        containers:\n          app:\n"
        "            image: {{repository: ghcr.io/example/{n}, tag: '1@sha256:{d}'}}\n"
        "            securityContext: {{privileged: true, allowPrivilegeEscalation: false}}\n"
    )
    namespace = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: media}\n"
    files = {
        **_app("a", {"hr.yaml": release.format(n="a", d="a" * 64), "ns.yaml": namespace}),
        **_app("b", {"hr.yaml": release.format(n="b", d="b" * 64)}),
    }
    root = _repo(tmp_path, files)
    assert {f.rule for f in Workspace(root).check(select=["HO001", "HO026"]).findings} >= {"HO001", "HO026"}
    (root / ".homeops.yaml").unlink()
    ws = Workspace(root)
    values = ws.infer_profile().overrides()
    assert values["rules"]["HO001"] is False  # both releases share one OCIRepository: the repository's way
    assert values["privileged_namespaces"] == ["*"]  # no Pod Security labels: nothing fences privileged pods
    assert not any("privileged" in f.message for f in ws.check(select=["HO026"]).findings)

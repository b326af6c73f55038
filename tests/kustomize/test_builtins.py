"""One builtin at a time: concrete expectations, and the same output as ``kubectl kustomize``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from differential import kubectl_text

from homeops.core import yamlemit, yamlio
from homeops.kustomize.build import Builder
from support import run_cli
from support import write_tree as write


def build(root: Path, directory: str = ".") -> list[dict[str, Any]]:
    """Our build, checked against kubectl's when kubectl is here."""
    text = yamlemit.dump_all(r.obj for r in Builder(root).build(root / directory))
    ours = yamlio.load_all(text)
    if shutil.which("kubectl"):
        theirs, err = kubectl_text(root / directory)
        assert theirs is not None, err
        assert ours == yamlio.load_all(theirs)
        assert text == theirs  # byte for byte
    return ours


DEPLOY = """
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
      serviceAccountName: web
      containers:
        - name: web
          image: nginx:1.25
          envFrom:
            - configMapRef:
                name: settings
            - secretRef:
                name: creds
          volumeMounts:
            - name: data
              mountPath: /data
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: data
"""
SA = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n"
PVC = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  resources:\n    requests:\n      storage: 1Gi\n"
SVC = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 80\n"


def by_kind(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objs}


def test_namespace_prefix_suffix_and_name_references(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": """
            namespace: media
            namePrefix: pre-
            nameSuffix: -suf
            resources: [deploy.yaml, sa.yaml, pvc.yaml, svc.yaml, ns.yaml, crb.yaml]
            configMapGenerator:
              - name: settings
                literals: [A=1]
            secretGenerator:
              - name: creds
                literals: [B=2]
            """,
        "deploy.yaml": DEPLOY, "sa.yaml": SA, "pvc.yaml": PVC, "svc.yaml": SVC,
        "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: placeholder\n",
        "crb.yaml": """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: web
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: view
            subjects:
              - kind: ServiceAccount
                name: web
            """,
    })  # fmt: skip
    objs = by_kind(build(tmp_path))
    assert objs["Namespace"]["metadata"]["name"] == "media"  # renamed, never prefixed
    deploy = objs["Deployment"]
    assert deploy["metadata"] == {"name": "pre-web-suf", "namespace": "media"}
    spec = deploy["spec"]["template"]["spec"]
    cm_name = objs["ConfigMap"]["metadata"]["name"]
    assert cm_name.startswith("pre-settings-suf-") and len(cm_name) == len("pre-settings-suf-") + 10
    assert spec["containers"][0]["envFrom"][0]["configMapRef"]["name"] == cm_name
    assert spec["containers"][0]["envFrom"][1]["secretRef"]["name"] == objs["Secret"]["metadata"]["name"]
    assert spec["serviceAccountName"] == "pre-web-suf"
    assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "pre-data-suf"
    assert objs["ClusterRoleBinding"]["subjects"][0] == {
        "kind": "ServiceAccount",
        "name": "pre-web-suf",
        "namespace": "media",
    }


def test_common_labels_reach_selectors_but_labels_do_not_by_default(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": """
            resources: [deploy.yaml, svc.yaml]
            commonLabels:
              team: media
            labels:
              - pairs:
                  tier: web
              - pairs:
                  release: one
                includeTemplates: true
            commonAnnotations:
              owner: me
            """,
        "deploy.yaml": DEPLOY, "svc.yaml": SVC,
    })  # fmt: skip
    objs = by_kind(build(tmp_path))
    deploy = objs["Deployment"]
    assert deploy["metadata"]["labels"] == {"team": "media", "tier": "web", "release": "one"}
    assert deploy["spec"]["selector"]["matchLabels"] == {"app": "web", "team": "media"}
    assert deploy["spec"]["template"]["metadata"]["labels"] == {
        "app": "web",
        "team": "media",
        "release": "one",
    }
    assert deploy["spec"]["template"]["metadata"]["annotations"] == {"owner": "me"}
    assert objs["Service"]["spec"]["selector"] == {"app": "web", "team": "media"}


@pytest.mark.parametrize(
    ("entry", "image"),
    [
        ("{name: nginx, newTag: '1.27'}", "nginx:1.27"),
        ("{name: nginx, newName: ghcr.io/x/nginx}", "ghcr.io/x/nginx:1.25"),
        ("{name: nginx, digest: 'sha256:" + "a" * 64 + "'}", "nginx@sha256:" + "a" * 64),
        ("{name: nginx, newTag: '1.27', digest: 'sha256:" + "b" * 64 + "'}", "nginx:1.27@sha256:" + "b" * 64),
        ("{name: other, newTag: '9'}", "nginx:1.25"),
    ],
)
def test_images(tmp_path: Path, entry: str, image: str) -> None:
    write(
        tmp_path,
        {"kustomization.yaml": f"resources: [deploy.yaml]\nimages:\n  - {entry}\n", "deploy.yaml": DEPLOY},
    )
    deploy = by_kind(build(tmp_path))["Deployment"]
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == image


def test_replicas_and_legacy_order_and_local_config(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": """
            resources: [deploy.yaml, svc.yaml, sa.yaml, local.yaml, crd.yaml, ns.yaml]
            replicas:
              - name: web
                count: 4
            """,
        "deploy.yaml": DEPLOY, "svc.yaml": SVC, "sa.yaml": SA,
        "local.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: only-for-tools
              annotations:
                config.kubernetes.io/local-config: "true"
            """,
        "crd.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
        "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: z\n",
    })  # fmt: skip
    objs = build(tmp_path)
    assert [o["kind"] for o in objs] == ["Namespace", "ServiceAccount", "Service", "Deployment", "Widget"]
    assert by_kind(objs)["Deployment"]["spec"]["replicas"] == 4


def test_sort_options_fifo_keeps_input_order(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": "resources: [deploy.yaml, svc.yaml, sa.yaml]\nsortOptions:\n  order: fifo\n",
        "deploy.yaml": DEPLOY, "svc.yaml": SVC, "sa.yaml": SA,
    })  # fmt: skip
    assert [o["kind"] for o in build(tmp_path)] == ["Deployment", "Service", "ServiceAccount"]


def test_components_apply_to_what_was_accumulated_and_configurations_follow_hashes(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/kustomization.yaml": """
            resources: [hr.yaml]
            components: [../component]
            configMapGenerator:
              - name: values
                files: [values.yaml]
            configurations: [kustomizeconfig.yaml]
            """,
        "app/values.yaml": "replicas: 2\n",
        "app/kustomizeconfig.yaml": """
            nameReference:
              - kind: ConfigMap
                version: v1
                fieldSpecs:
                  - path: spec/valuesFrom/name
                    kind: HelmRelease
            """,
        "app/hr.yaml": """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: app
            spec:
              valuesFrom:
                - kind: ConfigMap
                  name: values
            """,
        "component/kustomization.yaml": """
            apiVersion: kustomize.config.k8s.io/v1alpha1
            kind: Component
            commonLabels:
              from-component: "yes"
            """,
    })  # fmt: skip
    objs = by_kind(build(tmp_path, "app"))
    cm = objs["ConfigMap"]
    assert cm["metadata"]["name"].startswith("values-")
    assert objs["HelmRelease"]["spec"]["valuesFrom"][0]["name"] == cm["metadata"]["name"]
    assert objs["HelmRelease"]["metadata"]["labels"] == {"from-component": "yes"}
    assert cm["metadata"]["labels"] == {"from-component": "yes"}  # generated before components run


def test_replacements_copy_a_field(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": """
            resources: [deploy.yaml, svc.yaml]
            replacements:
              - source:
                  kind: Service
                  name: web
                  fieldPath: spec.ports.0.port
                targets:
                  - select:
                      kind: Deployment
                    fieldPaths:
                      - spec.template.spec.containers.[name=web].ports.0.containerPort
                    options:
                      create: true
            """,
        "deploy.yaml": DEPLOY, "svc.yaml": SVC,
    })  # fmt: skip
    deploy = by_kind(build(tmp_path))["Deployment"]
    assert deploy["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80}]


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        (
            {"kustomization.yaml": "resources: [missing.yaml]\n"},
            "kustomization.yaml:1: accumulating resources: 'missing.yaml' does not exist",
        ),
        ({"kustomization.yaml": "resources: [../outside.yaml]\n"}, "is not in or below"),
        ({"kustomization.yaml": "resources: [.]\n"}, "cycle detected"),
        (
            {"kustomization.yaml": "resources: [a.yaml]\nfoo: bar\n", "a.yaml": SA},
            "kustomization.yaml:2: invalid Kustomization: unknown field 'foo'",
        ),
        (
            {"kustomization.yaml": "resources: [a.yaml]\n", "a.yaml": "kind: A\nmetadata: {name: x\n"},
            "a.yaml:2: malformed YAML",
        ),
        (
            {"kustomization.yaml": "resources: [a.yaml, b.yaml]\n", "a.yaml": SA, "b.yaml": SA},
            "already registered id",
        ),
        (
            {"kustomization.yaml": "helmCharts:\n  - name: x\n"},
            "helmCharts are not supported by the native engine",
        ),
        (
            {"kustomization.yaml": "resources: [github.com/org/repo?ref=v1]\n"},
            "remote base (a Git repository)",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, files: dict[str, str], fragment: str) -> None:
    (tmp_path / "outside.yaml").write_text(SA)
    write(tmp_path / "k", files)
    proc = run_cli("kustomize", str(tmp_path / "k"), "--path", str(tmp_path / "k"))
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("homeops: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: [missing.yaml]\n"})
    proc = run_cli("--debug", "kustomize", str(tmp_path))
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr


def test_kubectl_engine_runs_the_real_kustomize(tmp_path: Path, kubectl: str) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: [sa.yaml]\nnamePrefix: x-\n", "sa.yaml": SA})
    proc = run_cli("kustomize", str(tmp_path), "--engine", "kubectl")
    assert proc.returncode == 0, proc.stderr
    assert "name: x-web" in proc.stdout


def test_folded_scalars_and_redefined_anchors_match_kubectl(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": "resources: [cm.yaml]\n",
        "cm.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: rules
            data:
              expr: >-
                first(c,
                  indented
                )
              base: &v one
              again: *v
              other: &v two
              last: *v
            """,
    })  # fmt: skip
    data = build(tmp_path)[0]["data"]
    assert data == {
        "expr": "first(c,\n\n  indented\n)",
        "base": "one",
        "again": "one",
        "other": "two",
        "last": "two",
    }

"""kustomize-controller emulation: behaviour by behaviour on small repositories, then the example and corpus."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from homeops.core import yamlemit
from homeops.core.profile import DEFAULT
from homeops.flux.cluster import Cluster, resolve_cluster
from homeops.flux.render import render_cluster
from homeops.flux.rendered import ClusterRender
from support import EXAMPLE, run_cli
from support import write_tree as write


def ks(name: str, path: str, *, namespace: str = "flux-system", extra: str = "") -> str:
    body = f"""
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: {name}
      namespace: {namespace}
    spec:
      interval: 10m
      path: {path}
      prune: true
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
    """
    return textwrap.dedent(body) + textwrap.indent(textwrap.dedent(extra), "  ")


def cm(name: str, data: str, namespace: str | None = None, annotations: str = "") -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}{ns}\n{annotations}data:\n{textwrap.indent(data, '  ')}"


def render(root: Path, cluster_dir: str = "clusters/c/flux", **kwargs: object) -> ClusterRender:
    return render_cluster(root, Cluster("c", cluster_dir), **kwargs)  # type: ignore[arg-type]


def objects(result: ClusterRender, ks_name: str) -> list[dict]:
    return [r.obj for rk in result.rendered.values() if rk.ks.name == ks_name for r in rk.resources]


def rules(result: ClusterRender) -> list[str]:
    return sorted(f.rule for f in result.findings)


def test_generated_kustomization_includes_yaml_files_and_kustomization_dirs(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/root.yaml": ks("apps", "./apps"),
        "apps/a.yaml": cm("a", "k: v\n"),
        "apps/sub/b.yml": cm("b", "k: v\n"),
        "apps/kdir/kustomization.yaml": "resources: [c.yaml]\n",
        "apps/kdir/c.yaml": cm("c", "k: v\n"),
        "apps/kdir/ignored.yaml": cm("ignored", "k: v\n"),
        "apps/notes.txt": "not yaml",
        "apps/.sops.yaml": "creation_rules: []\n",
    })  # fmt: skip
    result = render(tmp_path)
    assert rules(result) == []
    names = sorted(o["metadata"]["name"] for o in objects(result, "apps"))
    assert names == ["a", "b", "c"]


def test_generated_kustomization_rejects_non_kubernetes_yaml(tmp_path: Path) -> None:
    write(tmp_path, {"clusters/c/flux/root.yaml": ks("apps", "./apps"), "apps/values.yaml": "replicas: 2\n"})
    result = render(tmp_path)
    assert rules(result) == ["HO101"]
    assert result.findings[0].file == "apps/values.yaml"


def test_target_namespace_overrides_and_owner_labels_and_common_metadata(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/root.yaml": ks("app", "./app", extra="""
            targetNamespace: media
            commonMetadata:
              labels:
                app.kubernetes.io/name: app
              annotations:
                team: home
            """),
        "app/kustomization.yaml": "namespace: other\nresources: [cm.yaml]\n",
        "app/cm.yaml": cm("settings", "k: v\n"),
    })  # fmt: skip
    obj = objects(render(tmp_path), "app")[0]
    assert obj["metadata"]["namespace"] == "media"
    assert obj["metadata"]["labels"] == {
        "kustomize.toolkit.fluxcd.io/name": "app",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
        "app.kubernetes.io/name": "app",
    }
    assert obj["metadata"]["annotations"] == {"team": "home"}


def test_components_are_relative_to_the_path_and_patches_images_prefix_apply(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/root.yaml": ks("app", "./apps/app", extra="""
            components:
              - ../../components/extra
            namePrefix: p-
            images:
              - name: nginx
                newTag: "1.27"
            patches:
              - patch: |
                  - op: add
                    path: /spec/replicas
                    value: 3
                target:
                  kind: Deployment
            """),
        "apps/app/deploy.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                    - name: web
                      image: nginx:1.25
            """,
        "components/extra/kustomization.yaml": """
            apiVersion: kustomize.config.k8s.io/v1alpha1
            kind: Component
            resources: [cm.yaml]
            """,
        "components/extra/cm.yaml": cm("extra", "k: v\n"),
    })  # fmt: skip
    result = render(tmp_path)
    assert rules(result) == []
    by_kind = {o["kind"]: o for o in objects(result, "app")}
    assert by_kind["ConfigMap"]["metadata"]["name"] == "p-extra"
    deploy = by_kind["Deployment"]
    assert deploy["metadata"]["name"] == "p-web"
    assert deploy["spec"]["replicas"] == 3
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_postbuild_substitute_order_types_defaults_and_disabled(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/root.yaml": ks("vars", "./vars") + ks("app", "./app", extra="""
            dependsOn:
              - name: vars
            postBuild:
              substitute:
                APP: demo
                PORT: "8080"
              substituteFrom:
                - kind: ConfigMap
                  name: settings
                - kind: Secret
                  name: overrides
                - kind: ConfigMap
                  name: absent
                  optional: true
            """),
        "vars/settings.yaml": cm("settings", "APP: ignored\nZONE: Europe/Oslo\nFLAG: \"yes\"\n", "flux-system"),
        "vars/secret.yaml": """
            apiVersion: v1
            kind: Secret
            metadata:
              name: overrides
              namespace: flux-system
            stringData:
              ZONE: Europe/Paris
            """,
        "app/kustomization.yaml": "resources: [cm.yaml, raw.yaml]\n",
        "app/cm.yaml": cm("${APP}-config", "port: ${PORT}\nzone: ${ZONE}\nflag: ${FLAG}\nuid: ${UID:-1000}\n"
                          "label: \"${APP}\"\nmissing: ${NOT_SET}\n"),
        "app/raw.yaml": cm("raw", "script: echo ${HOME}\n",
                           annotations="  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"),
    })  # fmt: skip
    result = render(tmp_path)
    objs = {o["metadata"]["name"]: o for o in objects(result, "app")}
    data = objs["demo-config"]["data"]
    # Flux re-reads substituted YAML with YAML 1.1 rules: numbers and yes become typed values
    assert data["port"] == 8080
    assert data["zone"] == "Europe/Paris"
    assert data["flag"] is True
    assert data["uid"] == 1000
    assert data["label"] == "demo"
    assert data["missing"] == "${NOT_SET}"  # kept and reported, not blanked
    assert objs["raw"]["data"]["script"] == "echo ${HOME}"
    unresolved = [f for f in result.findings if f.rule == "HO103"]
    assert [(f.file, f.line) for f in unresolved] == [("app/cm.yaml", 11)]
    assert "NOT_SET" in unresolved[0].message


def test_substitution_inside_child_kustomizations_resolves_their_paths(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/root.yaml": ks("apps", "./apps", extra="""
            postBuild:
              substitute:
                CLUSTER_NAME: blue
            """),
        "apps/child.yaml": ks("child", "./deploy/${CLUSTER_NAME}"),
        "deploy/blue/cm.yaml": cm("blue", "k: v\n"),
    })  # fmt: skip
    result = render(tmp_path)
    assert rules(result) == []
    assert [o["metadata"]["name"] for o in objects(result, "child")] == ["blue"]
    assert result.rendered["flux-system/child"].ks.parent == "flux-system/apps"


def test_cli_var_supplies_values_only_the_cluster_knows(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/root.yaml": ks("apps", "./apps", extra="""
            postBuild:
              substituteFrom:
                - kind: Secret
                  name: cluster-secrets
            """),
        "apps/secret.sops.yaml": """
            apiVersion: v1
            kind: Secret
            metadata:
              name: cluster-secrets
              namespace: flux-system
            stringData:
              DOMAIN: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]
            sops:
              version: 3.8.1
            """,
        "apps/cm.yaml": cm("web", "host: web.${DOMAIN}\n"),
    })  # fmt: skip
    without = render(tmp_path)
    assert [f.rule for f in without.findings] == ["HO103"]
    assert "SOPS-encrypted: only the cluster can read it" in without.findings[0].message
    assert without.findings[0].severity == "warning"  # the cluster has it; homeops never decrypts
    with_var = render(tmp_path, cli_vars={"DOMAIN": "example.net"})
    assert with_var.findings == []
    web = next(o for o in objects(with_var, "apps") if o["metadata"]["name"] == "web")
    assert web["data"]["host"] == "web.example.net"


@pytest.mark.parametrize(
    ("files", "rule"),
    [
        ({"clusters/c/flux/root.yaml": ks("a", "./missing")}, "HO102"),
        ({"clusters/c/flux/root.yaml": ks("a", "../outside")}, "HO107"),
        (
            {
                "clusters/c/flux/root.yaml": ks("a", "./a", extra="dependsOn:\n  - name: nope\n"),
                "a/cm.yaml": cm("x", "k: v\n"),
            },
            "HO104",
        ),
        (
            {
                "clusters/c/flux/root.yaml": ks("a", "./a"),
                "a/child.yaml": ks("child", "./b").replace(
                    "name: flux-system\n    namespace", "name: elsewhere\n    namespace"
                ),
                "b/cm.yaml": cm("x", "k: v\n"),
            },
            "HO106",
        ),
    ],
)
def test_graph_and_path_errors_are_findings(tmp_path: Path, files: dict[str, str], rule: str) -> None:
    write(tmp_path, files)
    result = render(tmp_path)
    assert rules(result) == [rule]
    assert result.findings[0].file == ("a/child.yaml" if rule == "HO106" else "clusters/c/flux/root.yaml")
    assert result.findings[0].line and result.findings[0].line > 1


def test_dependency_cycle_is_reported_once(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/root.yaml": ks("a", "./a", extra="dependsOn:\n  - name: b\n")
        + ks("b", "./b", extra="dependsOn:\n  - name: a\n"),
        "a/cm.yaml": cm("a", "k: v\n"),
        "b/cm.yaml": cm("b", "k: v\n"),
    })  # fmt: skip
    result = render(tmp_path)
    assert rules(result) == ["HO105"]
    assert "a -> " in result.findings[0].message or "b -> " in result.findings[0].message


def test_one_broken_kustomization_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/root.yaml": ks("good", "./good") + ks("bad", "./bad"),
        "good/cm.yaml": cm("good", "k: v\n"),
        "bad/kustomization.yaml": "resources: [cm.yaml]\n",
        "bad/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  k: [unclosed\n",
    })  # fmt: skip
    proc = run_cli("build", "ks", "--path", str(tmp_path), "--cluster", "clusters/c/flux")
    assert proc.returncode == 1
    assert "name: good" in proc.stdout
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 1
    assert re.match(r"homeops: error: bad/cm\.yaml:6: .*\[HO101\]$", errors[0]), errors[0]


def test_example_chongus_renders_without_errors() -> None:
    root = EXAMPLE
    cluster = resolve_cluster(root, DEFAULT, "chongus")
    result = render_cluster(root, cluster)
    assert [f for f in result.findings if f.severity == "error"] == []
    names = {rk.ks.name for rk in result.rendered.values()}
    assert {"cluster-apps", "grafana", "jellyfin", "linkding", "ntfy", "echo-server"} <= names
    jellyfin = yamlemit.dump_all(r.obj for r in result.rendered["media/jellyfin"].resources)
    assert "${" not in jellyfin.replace("${VOLSYNC_", "")


def test_cli_build_ks_json_has_sources_and_get_ks_json_contract() -> None:
    proc = run_cli("get", "ks", "-A", "--path", str(EXAMPLE), "--cluster", "chongus", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    import json

    items = json.loads(proc.stdout)["items"]
    grafana = next(i for i in items if i["name"] == "grafana")
    assert grafana["namespace"] == "observability"
    assert grafana["path"] == "./cluster-apps/chongus/observability/grafana/app"
    assert grafana["dependsOn"] == ["database/postgres"]
    assert re.fullmatch(r"cluster-apps/chongus/observability/grafana/ks\.yaml:\d+", grafana["source"])


def test_clusters_declared_in_the_profile_and_directories_as_clusters(tmp_path: Path) -> None:
    write(tmp_path, {
        ".homeops.yaml": "clusters:\n  lab: deploy/lab\n",
        "deploy/lab/root.yaml": ks("apps", "./apps"),
        "apps/cm.yaml": cm("a", "k: v\n"),
        "clusters/ignored/flux/root.yaml": ks("other", "./apps"),
    })  # fmt: skip
    proc = run_cli("get", "clusters", "--path", str(tmp_path), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    import json

    assert json.loads(proc.stdout)["items"] == [{"name": "lab", "path": "deploy/lab"}]
    by_dir = run_cli("get", "ks", "--path", str(tmp_path), "--cluster", "clusters/ignored/flux", "-o", "json")
    assert by_dir.returncode == 0, by_dir.stderr
    assert [i["name"] for i in json.loads(by_dir.stdout)["items"]] == ["other"]
    outside = run_cli("get", "ks", "--path", str(tmp_path), "--cluster", "../elsewhere")
    assert outside.returncode == 2
    assert "outside the repository" in outside.stderr


def test_build_ks_name_reports_only_its_own_errors(tmp_path: Path) -> None:
    component = {
        "components/shared/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "resources: [cm.yaml]\n",
        "components/shared/cm.yaml": cm("${APP}-shared", "zone: ${ZONE}\n"),
    }
    write(tmp_path, {
        **component,
        "clusters/c/flux/root.yaml": ks("good", "./apps/good", extra="""
            components: [../../components/shared]
            postBuild:
              substitute: {APP: good, ZONE: here}
            """) + ks("bad", "./apps/bad", extra="""
            components: [../../components/shared]
            postBuild:
              substitute: {APP: bad}
            """),
        "apps/good/cm.yaml": cm("good", "k: v\n"),
        "apps/bad/cm.yaml": cm("bad", "k: v\n"),
    })  # fmt: skip
    good = run_cli("build", "ks", "good", "--path", str(tmp_path), "--cluster", "clusters/c/flux")
    assert good.returncode == 0, good.stderr
    assert "zone: here" in good.stdout
    bad = run_cli("build", "ks", "bad", "--path", str(tmp_path), "--cluster", "clusters/c/flux")
    assert bad.returncode == 1
    assert (
        "components/shared/cm.yaml:6: variable ${ZONE} has no value in cluster clusters-c-flux "
        "(1 use in flux-system/bad)" in bad.stderr
    )

"""flux-operator ResourceSet expansion, behaviour by behaviour (fixtures written here; semantics from
flux-operator's docs/api/v1/resourceset.md and internal/builder, internal/inputs)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from test_render import ks, render, write

from homeops.flux.rendered import ClusterRender
from homeops.flux.resourceset import input_id, normalise
from homeops.helm import render as helm_render
from support import run_cli


@pytest.fixture(autouse=True)
def _engine() -> None:
    try:
        helm_render.get_engine()
    except helm_render.EngineMissingError as exc:
        pytest.skip(f"ResourceSet templates run in Helm's engine, which is missing: {exc.hint}")


def _rset(spec: str, name: str = "tenants", namespace: str = "flux-system") -> str:
    return (
        f"apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: {name}\n"
        f"  namespace: {namespace}\nspec:\n" + textwrap.indent(textwrap.dedent(spec), "  ")
    )


def _render(tmp: Path, *docs: str) -> ClusterRender:
    write(tmp, {
        "clusters/c/flux/root.yaml": ks("sets", "./sets"),
        "sets/kustomization.yaml": "resources:\n" + "".join(f"  - d{i}.yaml\n" for i in range(len(docs))),
        **{f"sets/d{i}.yaml": doc for i, doc in enumerate(docs)},
    })  # fmt: skip
    return render(tmp)


def _generated(result: ClusterRender) -> list[dict[str, Any]]:
    return [
        r.obj for rk in result.rendered.values() for r in rk.resources
        if "resourceset.fluxcd.controlplane.io/name" in ((r.obj.get("metadata") or {}).get("labels") or {})
    ]  # fmt: skip


def _names(result: ClusterRender) -> list[str]:
    return [
        f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
        for o in _generated(result)
    ]


INLINE = """
inputs:
  - tenant: team1
    app: {version: "6.7.x", replicas: 2}
  - tenant: team2
    app: {version: "6.6.x", replicas: 3}
resources:
  - apiVersion: v1
    kind: Namespace
    metadata:
      name: << inputs.tenant >>
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: app
      namespace: << inputs.tenant >>
    data:
      version: << inputs.app.version | quote >>
      replicas: << inputs.app.replicas | quote >>
      provider: << inputs.provider.kind >>/<< inputs.provider.name >>
"""


def test_inline_inputs_one_object_per_input_set_in_flux_operator_order(tmp_path: Path) -> None:
    result = _render(tmp_path, _rset(INLINE))
    assert _names(result) == [
        "Namespace//team1",
        "Namespace//team2",
        "ConfigMap/team1/app",
        "ConfigMap/team2/app",
    ]  # each template for every input set, template by template
    cms = {o["metadata"]["namespace"]: o["data"] for o in _generated(result) if o["kind"] == "ConfigMap"}
    assert cms["team2"] == {"version": "6.6.x", "replicas": "3", "provider": "ResourceSet/tenants"}
    assert not [f for f in result.findings if f.severity == "error"]


def test_owner_labels_and_common_metadata(tmp_path: Path) -> None:
    spec = INLINE + "commonMetadata:\n  labels: {team: platform}\n  annotations: {owner: ops}\n"
    result = _render(tmp_path, _rset(spec))
    meta = _generated(result)[0]["metadata"]
    assert meta["labels"] == {
        "resourceset.fluxcd.controlplane.io/name": "tenants",
        "resourceset.fluxcd.controlplane.io/namespace": "flux-system",
        "team": "platform",
    }
    assert meta["annotations"] == {"owner": "ops"}
    assert "kustomize.toolkit.fluxcd.io/name" not in meta["labels"]  # applied by the operator, not Flux


def test_deduplication_keeps_the_first_and_disabled_objects_are_left_out(tmp_path: Path) -> None:
    result = _render(
        tmp_path,
        _rset("""
        inputs: [{tenant: team1}, {tenant: team2}]
        resources:
          - apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata: {name: podinfo, namespace: default}
            spec: {url: oci://ghcr.io/stefanprodan/charts/podinfo}
          - apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: flux
              namespace: << inputs.tenant >>
              annotations:
                fluxcd.controlplane.io/reconcile: << if eq inputs.tenant "team1" >>enabled<< else >>disabled<< end >>
        """),
    )
    assert _names(result) == ["OCIRepository/default/podinfo", "ServiceAccount/team1/flux"]


def test_templating_functions_sprig_toyaml_get_default_slugify(tmp_path: Path) -> None:
    result = _render(
        tmp_path,
        _rset("""
        inputs:
          - namespace: apps
            title: "My Great App!"
            layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}
        resources:
          - apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata:
              name: << get inputs "name" | default inputs.namespace >>
              namespace: << inputs.namespace >>
              labels:
                slug: << inputs.title | slugify >>
            spec:
              layerSelector: << inputs.layerSelector | toYaml | nindent 4 >>
              url: << printf "oci://%s/%s" "ghcr.io" (inputs.namespace | upper) | lower >>
              literal: '{{ .Values.kept }}'
        """),
    )
    [repo] = _generated(result)
    assert repo["metadata"]["name"] == "apps"
    assert repo["metadata"]["labels"]["slug"] == "my-great-app"
    assert repo["spec"]["layerSelector"] == {
        "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        "operation": "copy",
    }
    assert repo["spec"]["url"] == "oci://ghcr.io/apps"
    assert repo["spec"]["literal"] == "{{ .Values.kept }}"  # Helm's delimiters in the text stay text


def test_resources_template_and_steps(tmp_path: Path) -> None:
    template = _rset("""
        inputs: [{n: a}, {n: b}]
        resourcesTemplate: |
          ---
          apiVersion: v1
          kind: ConfigMap
          metadata:
            name: cm-<< inputs.n >>
          << if eq inputs.n "a" >>
          ---
          apiVersion: v1
          kind: Secret
          metadata:
            name: only-a
          << end >>
        """)
    steps = _rset(
        """
        inputs: [{n: x}]
        steps:
          - name: first
            resources:
              - {apiVersion: v1, kind: ConfigMap, metadata: {name: step1-<< inputs.n >>}}
          - name: second
            resourcesTemplate: |
              apiVersion: v1
              kind: ConfigMap
              metadata:
                name: step2-<< inputs.n >>
        """,
        name="stepped",
    )
    result = _render(tmp_path, template, steps)
    # kustomize puts ResourceSet "stepped" before "tenants"; each expands in its own order
    assert _names(result) == [
        "ConfigMap//step1-x",
        "ConfigMap//step2-x",
        "ConfigMap//cm-a",
        "Secret//only-a",
        "ConfigMap//cm-b",
    ]


def test_inputs_from_static_providers_by_name_and_selector(tmp_path: Path) -> None:
    def rsip(name: str, labels: str, values: str) -> str:
        return (
            "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSetInputProvider\nmetadata:\n"
            f"  name: {name}\n  namespace: flux-system\n  labels: {labels}\n"
            f"spec:\n  type: Static\n  defaultValues: {values}\n"
        )

    result = _render(
        tmp_path,
        rsip("zeta", "{app: podinfo}", "{env: prod}"),
        rsip("alpha", "{app: podinfo}", "{env: dev}"),
        rsip("other", "{app: other}", "{env: other}"),
        _rset("""
            inputs: [{env: inline}]
            inputsFrom:
              - kind: ResourceSetInputProvider
                selector: {matchLabels: {app: podinfo}}
            resources:
              - apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: << inputs.env >>
                data:
                  from: << inputs.provider.kind >>/<< inputs.provider.name >>
                  id: << get inputs "id" | default "none" | quote >>
            """),
    )
    cms = {o["metadata"]["name"]: o["data"] for o in _generated(result)}
    assert list(cms) == ["inline", "dev", "prod"]  # the ResourceSet's own, then providers by name
    assert cms["dev"]["from"] == "ResourceSetInputProvider/alpha"
    assert cms["dev"]["id"] == input_id("flux-system/alpha")
    assert cms["inline"]["id"] == "none"


def test_dynamic_provider_exports_its_manifest_status_or_nothing_with_a_note(tmp_path: Path) -> None:
    result = _render(
        tmp_path,
        "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSetInputProvider\nmetadata:\n  name: prs\n"
        "  namespace: flux-system\nspec:\n  type: GitHubPullRequest\n  url: https://github.com/o/r\n",
        _rset("""
            inputsFrom: [{name: prs}]
            resources:
              - {apiVersion: v1, kind: ConfigMap, metadata: {name: pr-<< inputs.id >>}}
            """),
    )
    assert _names(result) == []
    notes = [n for rk in result.rendered.values() for n in rk.notes]
    assert any("prs" in n and "exports none offline" in n for n in notes)
    baked = _render(
        tmp_path / "baked",
        "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSetInputProvider\nmetadata:\n  name: prs\n"
        "  namespace: flux-system\nspec:\n  type: GitHubPullRequest\nstatus:\n  exportedInputs:\n"
        "    - {id: '42', branch: feat}\n",
        _rset("""
            inputsFrom: [{name: prs}]
            resources:
              - {apiVersion: v1, kind: ConfigMap, metadata: {name: pr-<< inputs.id >>-<< inputs.branch >>}}
            """),
    )
    assert _names(baked) == ["ConfigMap//pr-42-feat"]


def test_permute_strategy(tmp_path: Path) -> None:
    def rsip(name: str, values: str) -> str:
        return (
            "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSetInputProvider\nmetadata:\n"
            f"  name: {name}\n  namespace: flux-system\nspec:\n  type: Static\n  defaultValues: {values}\n"
        )

    result = _render(
        tmp_path,
        rsip("git-tag", "{sha: abc}"),
        rsip("oci-tag", "{digest: 'sha256:1'}"),
        _rset(
            """
            inputStrategy: {name: Permute}
            inputs: [{id: id1, f: foo}, {id: id2, f: bar}]
            inputsFrom: [{name: git-tag}, {name: oci-tag}]
            resources:
              - apiVersion: v1
                kind: ConfigMap
                metadata: {name: cm-<< inputs.id >>}
                data:
                  rset: << inputs.my_rset.id >>
                  sha: << inputs.git_tag.sha >>
                  digest: << inputs.oci_tag.digest | quote >>
            """,
            name="my-rset",
        ),
    )
    cms = _generated(result)
    ids = [input_id(f"my_rset={i}/git_tag=0/oci_tag=0") for i in (0, 1)]
    assert [o["metadata"]["name"] for o in cms] == [f"cm-{i}" for i in ids]
    assert [o["data"]["rset"] for o in cms] == ["id1", "id2"]
    assert cms[0]["data"] == {"rset": "id1", "sha": "abc", "digest": "sha256:1"}
    assert normalise("My-RSet v2.0") == "my_rset_v2_0"


def test_generated_flux_kustomizations_are_rendered_too(tmp_path: Path) -> None:
    write(tmp_path, {"apps/team1/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team1-app\n"})
    result = _render(
        tmp_path,
        _rset("""
        inputs: [{tenant: team1}]
        resources:
          - apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: << inputs.tenant >>, namespace: flux-system}
            spec:
              interval: 10m
              path: ./apps/<< inputs.tenant >>
              prune: true
              sourceRef: {kind: GitRepository, name: flux-system}
        """),
    )
    assert "flux-system/team1" in result.rendered
    assert [r.obj["metadata"]["name"] for r in result.rendered["flux-system/team1"].resources] == [
        "team1-app"
    ]


def test_depends_on_targets_must_be_in_the_cluster(tmp_path: Path) -> None:
    result = _render(
        tmp_path,
        _rset("""
        dependsOn:
          - apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            name: missing.example.com
          - apiVersion: fluxcd.controlplane.io/v1
            kind: ResourceSet
            name: tenants
            namespace: flux-system
        inputs: [{n: a}]
        resources:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: << inputs.n >>}}
        """),
    )
    missing = [f for f in result.findings if f.rule == "HO104"]
    assert len(missing) == 1 and "missing.example.com" in missing[0].message
    assert missing[0].file == "sets/d0.yaml"


def test_crd_dependencies_flux_brings_or_a_chart_may_bring(tmp_path: Path) -> None:
    """Flux's own CRDs exist wherever the operator runs; another CRD no file defines is a warning
    (a chart's crds/ may install it), a missing object of another kind stays an error."""
    result = _render(
        tmp_path,
        _rset("""
        dependsOn:
          - {apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, name: helmreleases.helm.toolkit.fluxcd.io}
          - {apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, name: widgets.example.com}
          - {apiVersion: v1, kind: ConfigMap, name: settings, namespace: flux-system}
        inputs: [{n: a}]
        resources:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: << inputs.n >>}}
        """),
    )
    found = sorted((f.severity, f.message) for f in result.findings if f.rule == "HO104")
    assert [s for s, _m in found] == ["error", "warning"]
    assert "ConfigMap flux-system/settings" in found[0][1]
    assert "widgets.example.com" in found[1][1] and "crds/" in found[1][1]


def test_a_broken_template_is_one_finding_and_the_rest_renders(tmp_path: Path) -> None:
    result = _render(
        tmp_path,
        _rset("""
        inputs: [{n: a}]
        resources:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: "<< inputs.n | nosuchfunc >>"}}
        """),
    )
    [failure] = [f for f in result.findings if f.rule == "HO115"]
    assert failure.file == "sets/d0.yaml" and "ResourceSet flux-system/tenants" in failure.message
    assert any(r.obj["kind"] == "ResourceSet" for rk in result.rendered.values() for r in rk.resources)
    proc = run_cli("build", "ks", "sets", "--path", str(tmp_path), "--cluster", "clusters/c/flux")
    assert proc.returncode == 1 and "[HO115]" in proc.stderr

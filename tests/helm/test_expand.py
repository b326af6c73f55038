"""HelmRelease expansion (helm-controller emulation) on small repositories, against a real registry."""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helm_support import CHART_DIR, PushedCharts, anonymous_client, chart_tgz

import registry_support as testing
from homeops.core.profile import DEFAULT
from homeops.flux.cluster import Cluster
from homeops.flux.helm_expand import NAME_LABEL, NAMESPACE_LABEL, ReleaseRender, expand
from homeops.flux.helm_release import release_name, release_namespace, shorten_name
from homeops.flux.render import render_cluster
from homeops.flux.rendered import ClusterRender
from homeops.helm import render as helm_render
from homeops.helm.cache import Cache
from homeops.helm.sources import SourceResolver
from homeops.rules.engine import run_checks
from support import flux_ks


@pytest.fixture(autouse=True)
def _engine() -> None:
    try:
        helm_render.get_engine()
    except helm_render.EngineMissingError as exc:
        pytest.skip(f"no Helm engine: {exc.hint}")


# -- helpers ---------------------------------------------------------------------------------------

ROOT_KS = flux_ks("apps", "./apps")


def write_repo(root: Path, files: dict[str, str]) -> Path:
    files = {"clusters/c/flux/apps.yaml": ROOT_KS, **files}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def oci_source(url: str, ref: str = "tag: 1.2.0", name: str = "demo", namespace: str = "media") -> str:
    return f"""
    ---
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata:
      name: {name}
      namespace: {namespace}
    spec:
      interval: 1h
      layerSelector:
        mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
        operation: copy
      ref:
        {ref}
      url: {url}
    """


def helmrelease(body: str, name: str = "demo", namespace: str = "media") -> str:
    head = f"""
    ---
    # the app
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: {name}
      namespace: {namespace}
    spec:
      interval: 1h
    """
    return textwrap.dedent(head) + textwrap.indent(textwrap.dedent(body).lstrip("\n"), "  ")


def render(root: Path) -> ClusterRender:
    return render_cluster(root, Cluster("c", "clusters/c/flux"))


def resolver(cache: Cache, *, offline: bool = False) -> SourceResolver:
    return SourceResolver(cache=cache, client=anonymous_client(), offline=offline)


def expanded(root: Path, cache: Cache, **kwargs: Any) -> tuple[ClusterRender, list[ReleaseRender]]:
    result = render(root)
    offline = bool(kwargs.pop("offline", False))
    return result, expand(root, result, resolver=resolver(cache, offline=offline), profile=DEFAULT, **kwargs)


def objects(result: ClusterRender) -> list[dict[str, Any]]:
    return [res.obj for _rk, res in result.objects()]


def by_kind(result: ClusterRender, kind: str) -> list[Any]:
    return [res for _rk, res in result.objects() if res.kind == kind]


def hr_line(root: Path, rel: str = "apps/hr.yaml", name: str = "demo") -> int:
    """The line of the HelmRelease document's first key (what the render records as its line)."""
    lines = (root / rel).read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("apiVersion: helm.toolkit") and f"  name: {name}" in lines[i : i + 5]:
            return i + 1
    raise AssertionError(f"no HelmRelease {name} in {rel}")


# -- naming rules ----------------------------------------------------------------------------------


def test_release_name_and_namespace_follow_helm_controller() -> None:
    hr = {"metadata": {"name": "app", "namespace": "media"}, "spec": {}}
    assert (release_name(hr), release_namespace(hr)) == ("app", "media")
    hr["spec"] = {"targetNamespace": "apps"}
    assert (release_name(hr), release_namespace(hr)) == ("apps-app", "apps")
    hr["spec"] = {"targetNamespace": "apps", "releaseName": "custom"}
    assert release_name(hr) == "custom"
    long = "a" * 30 + "-" + "b" * 30
    short = shorten_name(long)
    assert len(short) == 53
    assert short == long[:40] + "-" + hashlib.sha256(long.encode()).hexdigest()[:12]
    assert shorten_name("x" * 53) == "x" * 53
    hr["spec"] = {"targetNamespace": "t" * 30}
    hr["metadata"]["name"] = "n" * 30
    assert release_name(hr) == shorten_name("t" * 30 + "-" + "n" * 30)


# -- OCIRepository chartRef --------------------------------------------------------------------------


def test_oci_chart_ref_renders_with_values_from_and_values(
    tmp_path: Path, charts: PushedCharts, cache: Cache
) -> None:
    root = write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(charts.url),
        "apps/values.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: demo-values
              namespace: media
            data:
              values.yaml: |
                replicaCount: 2
                env:
                  FROM_CM: "yes"
                podAnnotations:
                  layer: configmap
            """,
        "apps/secret.yaml": """
            apiVersion: v1
            kind: Secret
            metadata:
              name: demo-secret
              namespace: media
            stringData:
              tag: v9.9.9
            """,
        "apps/hr.yaml": helmrelease("""
            targetNamespace: apps
            chartRef:
              kind: OCIRepository
              name: demo
            valuesFrom:
              - kind: ConfigMap
                name: demo-values
              - kind: Secret
                name: demo-secret
                valuesKey: tag
                targetPath: image.tag
            values:
              replicaCount: 4
              podAnnotations:
                layer: values
            """),
    })  # fmt: skip
    result, releases = expanded(root, cache)
    assert [f.rule for f in result.findings] == []
    assert len(releases) == 1 and releases[0].ok
    assert releases[0].chart is not None and releases[0].chart.version == "1.2.0"
    deploy = by_kind(result, "Deployment")[0]
    obj = deploy.obj
    assert obj["metadata"]["name"] == "apps-demo-testchart"
    assert obj["metadata"]["namespace"] == "apps"
    assert obj["metadata"]["labels"][NAME_LABEL] == "demo"
    assert obj["metadata"]["labels"][NAMESPACE_LABEL] == "media"
    assert obj["spec"]["replicas"] == 4  # spec.values wins over valuesFrom
    pod = obj["spec"]["template"]
    assert pod["metadata"]["annotations"] == {"layer": "values"}
    container = pod["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/example/app:v9.9.9"  # targetPath from the Secret
    assert {"name": "FROM_CM", "value": "yes"} in container["env"]
    assert {"name": "TZ", "value": "UTC"} in container["env"]  # chart default kept
    assert obj["metadata"]["annotations"]["homeops.io/kube-version"] == "v" + DEFAULT.kubernetes_version
    # provenance: the HelmRelease's file and line
    assert (deploy.file, deploy.line) == ("apps/hr.yaml", hr_line(root))
    assert deploy.where() == f"apps/hr.yaml:{hr_line(root)}"
    # the HelmRelease stays, its objects follow it
    kinds = [o["kind"] for o in objects(result)]
    index = kinds.index("HelmRelease")
    assert kinds[index + 1 : index + 3] == ["Service", "Deployment"]


def test_expanding_twice_changes_nothing(tmp_path: Path, charts: PushedCharts, cache: Cache) -> None:
    root = write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(charts.url),
        "apps/hr.yaml": helmrelease("chartRef:\n  kind: OCIRepository\n  name: demo\n"),
    })  # fmt: skip
    result, _ = expanded(root, cache)
    count = len(objects(result))
    assert expand(root, result, resolver=resolver(cache), profile=DEFAULT) == []
    assert len(objects(result)) == count


def test_only_selected_kustomizations_are_expanded(
    tmp_path: Path, charts: PushedCharts, cache: Cache
) -> None:
    root = write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(charts.url),
        "apps/hr.yaml": helmrelease("chartRef:\n  kind: OCIRepository\n  name: demo\n"),
    })  # fmt: skip
    result = render(root)
    assert expand(root, result, [], resolver=resolver(cache), profile=DEFAULT) == []
    assert by_kind(result, "Deployment") == []


# -- other chart sources -----------------------------------------------------------------------------


def test_helm_repository_oci_and_helm_chart_ref(tmp_path: Path, charts: PushedCharts, cache: Cache) -> None:
    base = charts.url.rsplit("/", 1)[0]
    root = write_repo(tmp_path, {
        "apps/repo.yaml": f"""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: HelmRepository
            metadata:
              name: local
              namespace: flux-system
            spec:
              type: oci
              url: {base}
            ---
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: HelmChart
            metadata:
              name: media-viachart
              namespace: flux-system
            spec:
              chart: testchart
              version: "~1.2"
              sourceRef:
                kind: HelmRepository
                name: local
            """,
        "apps/hr.yaml": helmrelease("""
            chart:
              spec:
                chart: testchart
                version: "1.0.0"
                sourceRef:
                  kind: HelmRepository
                  name: local
                  namespace: flux-system
            """) + helmrelease("""
            chartRef:
              kind: HelmChart
              name: media-viachart
              namespace: flux-system
            """, name="viachart"),
    })  # fmt: skip
    result, releases = expanded(root, cache)
    assert [f.rule for f in result.findings] == []
    versions = {r.release.name: r.chart.version for r in releases if r.chart}
    assert versions == {"demo": "1.0.0", "viachart": "1.2.7"}
    deployments = {d.obj["metadata"]["labels"][NAME_LABEL]: d.obj for d in by_kind(result, "Deployment")}
    assert deployments["viachart"]["metadata"]["labels"]["helm.sh/chart"] == "testchart-1.2.7"
    assert deployments["demo"]["metadata"]["namespace"] == "media"


def test_helm_repository_http(tmp_path: Path, cache: Cache) -> None:
    served = tmp_path / "served"
    served.mkdir()
    data = chart_tgz("1.1.0")
    (served / "testchart-1.1.0.tgz").write_bytes(data)
    (served / "index.yaml").write_text(
        testing.helm_repo_index({"testchart": [("1.1.0", "testchart-1.1.0.tgz", data)]})
    )
    server, url = testing.serve_directory(served)
    try:
        root = write_repo(tmp_path / "repo", {
            "apps/repo.yaml": f"""
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: HelmRepository
                metadata:
                  name: web
                  namespace: media
                spec:
                  url: {url}
                """,
            "apps/hr.yaml": helmrelease("""
                chart:
                  spec:
                    chart: testchart
                    version: ">=1.0.0"
                    sourceRef:
                      kind: HelmRepository
                      name: web
                """),
        })  # fmt: skip
        result, releases = expanded(root, cache)
    finally:
        server.shutdown()
        server.server_close()
    assert [f.rule for f in result.findings] == []
    assert releases[0].chart is not None and releases[0].chart.version == "1.1.0"
    assert len(by_kind(result, "Deployment")) == 1


def test_git_repository_chart_in_this_repository(tmp_path: Path, cache: Cache) -> None:
    root = write_repo(tmp_path, {
        "apps/hr.yaml": helmrelease("""
            chart:
              spec:
                chart: ./charts/testchart
                sourceRef:
                  kind: GitRepository
                  name: flux-system
                  namespace: flux-system
                valuesFiles:
                  - values.yaml
                  - values-prod.yaml
            values:
              service:
                enabled: false
            """),
    })  # fmt: skip
    shutil.copytree(CHART_DIR, root / "charts" / "testchart")
    (root / "charts/testchart/values-prod.yaml").write_text("replicaCount: 5\n")
    result, _ = expanded(root, cache)
    assert [f.rule for f in result.findings] == []
    assert by_kind(result, "Service") == []
    assert by_kind(result, "Deployment")[0].obj["spec"]["replicas"] == 5


def test_external_git_repository_is_a_source_finding(tmp_path: Path, cache: Cache) -> None:
    root = write_repo(tmp_path, {
        "apps/git.yaml": """
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata:
              name: other
              namespace: media
            spec:
              url: https://example.invalid/other.git
              ref:
                branch: main
            """,
        "apps/hr.yaml": helmrelease("""
            chart:
              spec:
                chart: ./chart
                sourceRef:
                  kind: GitRepository
                  name: other
            """),
    })  # fmt: skip
    result, _ = expanded(root, cache)
    assert [(f.rule, f.file, f.line) for f in result.findings] == [("HO120", "apps/hr.yaml", hr_line(root))]
    assert "another repository" in result.findings[0].message


# -- post-renderers, CRDs and capabilities -----------------------------------------------------------


def test_post_renderers_common_metadata_and_origin_labels(
    tmp_path: Path, charts: PushedCharts, cache: Cache
) -> None:
    root = write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(charts.url),
        "apps/hr.yaml": helmrelease("""
            chartRef:
              kind: OCIRepository
              name: demo
            commonMetadata:
              labels:
                team: home
              annotations:
                owner: me
            postRenderers:
              - kustomize:
                  patches:
                    - patch: |
                        apiVersion: apps/v1
                        kind: Deployment
                        metadata:
                          name: demo-testchart
                        spec:
                          template:
                            spec:
                              containers:
                                - name: main
                                  resources:
                                    limits:
                                      memory: 1Gi
                    - target:
                        kind: Service
                      patch: |
                        - op: replace
                          path: /spec/type
                          value: NodePort
                  images:
                    - name: ghcr.io/example/app
                      newTag: v2.0.0
              - kustomize:
                  patches:
                    - target:
                        kind: Deployment
                      patch: |
                        - op: add
                          path: /metadata/annotations/second
                          value: pass
            """),
    })  # fmt: skip
    result, _ = expanded(root, cache)
    assert [f.rule for f in result.findings] == []
    deploy = by_kind(result, "Deployment")[0].obj
    service = by_kind(result, "Service")[0].obj
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "1Gi"
    assert container["image"] == "ghcr.io/example/app:v2.0.0"
    assert service["spec"]["type"] == "NodePort"
    assert deploy["metadata"]["annotations"]["second"] == "pass"
    for obj in (deploy, service):
        assert obj["metadata"]["labels"]["team"] == "home"
        assert obj["metadata"]["labels"][NAME_LABEL] == "demo"
        assert obj["metadata"]["annotations"]["owner"] == "me"
        assert obj["metadata"]["namespace"] == "media"


def test_bad_post_renderer_is_a_render_finding(tmp_path: Path, charts: PushedCharts, cache: Cache) -> None:
    root = write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(charts.url),
        "apps/hr.yaml": helmrelease("""
            chartRef:
              kind: OCIRepository
              name: demo
            postRenderers:
              - kustomize:
                  patches:
                    - target:
                        kind: Deployment
                      patch: |
                        - op: remove
                          path: /spec/nothing
            """),
    })  # fmt: skip
    result, _ = expanded(root, cache)
    assert [f.rule for f in result.findings] == ["HO121"]
    assert result.findings[0].file == "apps/hr.yaml"
    assert by_kind(result, "Deployment") == []


def test_crds_in_the_render_are_capabilities(tmp_path: Path, charts: PushedCharts, cache: Cache) -> None:
    crd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: servicemonitors.monitoring.coreos.com
        spec:
          group: monitoring.coreos.com
          names:
            kind: ServiceMonitor
            plural: servicemonitors
          scope: Namespaced
          versions:
            - name: v1
              served: true
              storage: true
        """
    hr = helmrelease(
        "chartRef:\n  kind: OCIRepository\n  name: demo\nvalues:\n  monitoring:\n    enabled: true\n"
    )
    files = {"apps/oci.yaml": oci_source(charts.url), "apps/hr.yaml": hr}
    without, _ = expanded(write_repo(tmp_path / "a", files), cache)
    assert by_kind(without, "ServiceMonitor") == []
    with_crd, _ = expanded(write_repo(tmp_path / "b", {**files, "apps/crd.yaml": crd}), cache)
    monitors = by_kind(with_crd, "ServiceMonitor")
    assert len(monitors) == 1 and monitors[0].namespace == "media"


# -- failures become findings ------------------------------------------------------------------------


def test_render_error_reports_helms_message_at_the_release(tmp_path: Path, cache: Cache) -> None:
    root = write_repo(tmp_path, {
        "charts/broken/Chart.yaml": "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
        "charts/broken/templates/cm.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}
            data:
              host: {{ required "ingress.host is required" .Values.ingress.host }}
            """,
        "apps/hr.yaml": helmrelease("""
            chart:
              spec:
                chart: ./charts/broken
                sourceRef:
                  kind: GitRepository
                  name: flux-system
                  namespace: flux-system
            values:
              ingress: {}
            """),
    })  # fmt: skip
    result, releases = expanded(root, cache)
    assert [(f.rule, f.severity, f.file, f.line) for f in result.findings] == [
        ("HO121", "error", "apps/hr.yaml", hr_line(root))
    ]
    assert "ingress.host is required" in result.findings[0].message
    assert result.findings[0].kind == "HelmRelease" and result.findings[0].name == "demo"
    assert not releases[0].ok and releases[0].objects == []


def test_unreachable_registry_is_a_finding_and_others_still_render(
    tmp_path: Path, charts: PushedCharts, cache: Cache
) -> None:
    dead = f"oci://127.0.0.1:{testing.free_port()}/charts/testchart"
    root = write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(dead, name="dead") + oci_source(charts.url),
        "apps/hr.yaml": helmrelease("chartRef:\n  kind: OCIRepository\n  name: dead\n", name="dead")
        + helmrelease("chartRef:\n  kind: OCIRepository\n  name: demo\n"),
    })  # fmt: skip
    result, _ = expanded(root, cache)
    assert [(f.rule, f.name, f.line) for f in result.findings] == [
        ("HO120", "dead", hr_line(root, name="dead"))
    ]
    assert "chart source unavailable" in result.findings[0].message
    assert [d.obj["metadata"]["labels"][NAME_LABEL] for d in by_kind(result, "Deployment")] == ["demo"]


def test_missing_source_and_values_are_findings(tmp_path: Path, charts: PushedCharts, cache: Cache) -> None:
    root = write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(charts.url),
        "apps/hr.yaml": helmrelease("chartRef:\n  kind: OCIRepository\n  name: nothere\n", name="nosource")
        + helmrelease("""
            chartRef:
              kind: OCIRepository
              name: demo
            valuesFrom:
              - kind: ConfigMap
                name: missing
            """),
    })  # fmt: skip
    result, _ = expanded(root, cache)
    assert sorted((f.rule, f.name) for f in result.findings) == [("HO120", "nosource"), ("HO121", "demo")]
    values = next(f for f in result.findings if f.rule == "HO121")
    assert "ConfigMap media/missing" in values.message


def test_values_only_in_the_cluster_are_skipped_with_a_note(
    tmp_path: Path, charts: PushedCharts, cache: Cache
) -> None:
    root = write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(charts.url),
        "apps/es.yaml": """
            apiVersion: external-secrets.io/v1
            kind: ExternalSecret
            metadata:
              name: demo
              namespace: media
            spec:
              target:
                name: demo-secret
            """,
        "apps/hr.yaml": helmrelease("""
            chartRef:
              kind: OCIRepository
              name: demo
            valuesFrom:
              - kind: Secret
                name: demo-secret
            """),
    })  # fmt: skip
    result, _ = expanded(root, cache)
    assert [(f.rule, f.severity) for f in result.findings] == [("HO122", "info")]
    assert len(by_kind(result, "Deployment")) == 1


def test_offline_miss_then_hit(tmp_path: Path, charts: PushedCharts, cache: Cache) -> None:
    root = write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(charts.url),
        "apps/hr.yaml": helmrelease("chartRef:\n  kind: OCIRepository\n  name: demo\n"),
    })  # fmt: skip
    miss, _ = expanded(root, cache, offline=True)
    assert [f.rule for f in miss.findings] == ["HO120"]
    assert "offline" in miss.findings[0].message and "not in the cache" in miss.findings[0].message
    online, _ = expanded(root, cache)
    assert online.findings == []
    hit, _ = expanded(root, cache, offline=True)
    assert hit.findings == [] and len(by_kind(hit, "Deployment")) == 1


# -- rules see chart output ------------------------------------------------------------------------


@pytest.fixture
def ruled_repo(tmp_path: Path, charts: PushedCharts) -> Iterator[Path]:
    yield write_repo(tmp_path, {
        "apps/oci.yaml": oci_source(charts.url),
        "apps/hr.yaml": helmrelease("""
            chartRef:
              kind: OCIRepository
              name: demo
            values:
              resources:
                limits: null
            """),
    })  # fmt: skip


def test_rules_report_chart_output_at_the_helmrelease_line(ruled_repo: Path, cache: Cache) -> None:
    result, _ = expanded(ruled_repo, cache)
    findings, _ctx = run_checks(ruled_repo, DEFAULT, renders=[result], select=["HO009", "HO010"])
    line = hr_line(ruled_repo)
    got = {(f.rule, f.file, f.line, f.kind) for f in findings}
    assert ("HO009", "apps/hr.yaml", line, "Deployment") in got
    assert ("HO010", "apps/hr.yaml", line, "Deployment") in got
    plain = render(ruled_repo)
    without, _ = run_checks(ruled_repo, DEFAULT, renders=[plain], select=["HO009", "HO010"])
    assert not any(f.kind == "Deployment" for f in without)

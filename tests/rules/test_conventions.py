"""Conventions read from the repository (``homeops profile infer``), and rules whose premise it does
not share staying quiet. Our own fixture: a small repository that keeps a Vault store, a Kopia-style
backup component, gateways whose plain listeners admit only their own namespace, a domain, scripts.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from homeops.api import Workspace
from homeops.core.profile import DEFAULT, load_profile
from homeops.core.snapshot import RACY_NS
from support import flux_ks as _ks
from support import run_cli
from support import write_tree as write

GATEWAY = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: {name}
  namespace: edge
spec:
  gatewayClassName: envoy
  addresses: [{{type: IPAddress, value: {address}}}]
  listeners:
    - name: http
      protocol: HTTP
      port: 80
      allowedRoutes:
        namespaces:
          from: {http_from}
    - name: https
      protocol: HTTPS
      port: 443
      allowedRoutes:
        namespaces:
          from: All
"""

RELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {app}
spec:
  interval: 1h
  chartRef: {{kind: OCIRepository, name: {app}}}
  values:
    controllers:
      main:
        containers:
          main:
            image: {{repository: ghcr.io/example/{app}, tag: 1.0.0}}
    route:
      app:
        hostnames: [{app}.example.org]
        parentRefs:
          - name: {gateway}
            namespace: edge
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {app}
spec:
  interval: 1h
  layerSelector: {{mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}}
  ref: {{tag: 4.6.2}}
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {app}
spec:
  secretStoreRef: {{kind: ClusterSecretStore, name: vault}}
  target: {{name: {app}}}
  dataFrom: [{{extract: {{key: {app}}}}}]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    files = {
        "clusters/home/flux/cluster.yaml": _ks("platform", "./kube/platform")
        + _ks("apps", "./kube/flux-apps"),
        **{
            f"kube/flux-apps/{app}.yaml": _ks(
                app,
                f"./kube/apps/{app}",
                "media",
                f"components: [../../components/snap]\npostBuild:\n  substitute: {{APP: {app}}}\n"
                "targetNamespace: media",
            )
            for app in ("films", "books")
        },
        "kube/platform/gateways.yaml": GATEWAY.format(
            name="gw-internal", address="10.0.0.1", http_from="Same"
        )
        + GATEWAY.format(name="gw-external", address="10.0.0.2", http_from="All"),
        "kube/platform/store.yaml": """
            apiVersion: external-secrets.io/v1
            kind: ClusterSecretStore
            metadata:
              name: vault
            spec:
              provider: {vault: {server: https://vault.example.org}}
            """,
        "kube/components/snap/kustomization.yaml": """
            apiVersion: kustomize.config.k8s.io/v1alpha1
            kind: Component
            resources: [pvc.yaml, policy.yaml]
            """,
        "kube/components/snap/pvc.yaml": """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: ${APP}
            spec:
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: "${CAPACITY:=5Gi}"}}
            """,
        "kube/components/snap/policy.yaml": """
            apiVersion: snapshots.example.io/v1
            kind: SnapshotPolicy
            metadata:
              name: ${APP}
            spec:
              sources: [{pvc: {name: "${APP}"}}]
            """,
        "kube/apps/films/release.yaml": RELEASE.format(app="films", gateway="gw-internal"),
        "kube/apps/books/release.yaml": RELEASE.format(app="books", gateway="gw-external"),
        "hack/bootstrap.sh": "#!/bin/sh\necho bootstrap\n",
    }
    return write(tmp_path, files)


def _rules(ws: Workspace) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in ws.check().findings:
        out.setdefault(f.rule, []).append(f)
    return out


def test_inferred_conventions_and_where_they_were_read(repo: Path) -> None:
    inferred = Workspace(repo).infer_profile()
    values = inferred.overrides()
    assert values["secret_store_kind"] == "ClusterSecretStore" and values["secret_store"] == "vault"
    assert values["backup_components"] == ["kube/components/snap"]
    assert values["gateway_internal"] == {
        "name": "gw-internal",
        "namespace": "edge",
        "address": "10.0.0.1",
        "section": "https",
        "listeners": {
            "http": {"protocol": "HTTP", "from": "Same"},
            "https": {"protocol": "HTTPS", "from": "All"},
        },
    }
    assert values["gateway_external"]["name"] == "gw-external"
    assert values["domain"] == "example.org"
    assert values["app_template_version"] == "4.6.2"
    assert values["app_template_chart"] == "oci://ghcr.io/bjw-s-labs/helm/app-template"
    assert values["script_allowed_paths"] == ["hack/**"]
    # routes are never marked internet-facing here, and its containers are not hardened
    assert values["rules"] == {"HO013": False, "HO026": "warning"}
    text = inferred.text()
    assert (
        "# ClusterSecretStore/vault (defined at kube/platform/store.yaml:1) serves 2 ExternalSecrets" in text
    )
    # the text is a .homeops.yaml homeops reads back as the same conventions
    (repo / ".homeops.yaml").write_text(text)
    profile = load_profile(repo)
    assert profile.secret_store == "vault" and profile.domain == "example.org"
    assert profile.gateway_internal.listeners["http"] == {"protocol": "HTTP", "from": "Same"}
    assert profile.script_allowed_paths == ("hack/**",)


def test_check_uses_the_inferred_profile_without_homeops_yaml(repo: Path) -> None:
    inferred = _rules(Workspace(repo))
    assert "HO023" not in inferred and "HO024" not in inferred and "HO005" not in inferred
    # with a .homeops.yaml, the document's conventions apply again
    (repo / ".homeops.yaml").write_text("vars: {}\n")
    document = _rules(Workspace(repo))
    assert len(document["HO023"]) == 2  # vault is not the document's doppler
    assert {f.file for f in document["HO024"]} == {"kube/flux-apps/films.yaml", "kube/flux-apps/books.yaml"}
    assert [f.file for f in document["HO005"]] == ["hack/bootstrap.sh"]  # no script path is exempt


def test_ho028_states_the_risk_from_the_listeners(repo: Path) -> None:
    findings = {f.name: f for f in _rules(Workspace(repo))["HO028"]}
    films, books = findings["films"], findings["books"]
    # gw-internal's http listener admits routes of its own namespace only: no plain-HTTP exposure
    assert films.severity == "info"
    assert "today it attaches to 'https' only ('http' admits routes of namespace edge only)" in films.message
    # gw-external's http listener admits every namespace: the app is served without TLS there too
    assert books.severity == "warning"
    assert "it also attaches to 'http' (HTTP, allowedRoutes from All)" in books.message


def test_no_gateway_api_turns_the_route_rules_off(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/cluster.yaml": _ks("app", "./app"),
        "app/ingress.yaml": """
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: web, namespace: default}
            spec:
              rules: [{host: web.example.net}]
            """,
    })  # fmt: skip
    ws = Workspace(tmp_path)
    assert ws.infer_profile().overrides()["rules"] == {
        **{rid: False for rid in ("HO006", "HO013", "HO028")},  # no Gateway API
        **{rid: False for rid in ("HO002", "HO003", "HO007")},  # no ExternalSecret: secrets stay with SOPS
    }
    assert ws.infer_profile().overrides()["domain"] == "example.net"
    assert "HO006" not in _rules(ws)
    (tmp_path / ".homeops.yaml").write_text("vars: {}\n")
    assert "HO006" in _rules(Workspace(tmp_path))


def test_document_defaults_exempt_no_script_and_know_the_documents_namespaces() -> None:
    assert DEFAULT.script_allowed_paths == ()
    assert DEFAULT.is_namespace_name("rook-ceph") and DEFAULT.is_namespace_name("external-secrets")
    assert not DEFAULT.is_namespace_name("home-automation")


def test_cli_profile_infer_and_the_check_note(repo: Path) -> None:
    shown = run_cli("profile", "infer", "--path", str(repo))
    assert shown.returncode == 0, shown.stderr
    assert "secret_store: vault" in shown.stdout and not (repo / ".homeops.yaml").exists()
    check = run_cli("check", str(repo), "--format", "json")
    notes = [line for line in check.stderr.splitlines() if "homeops.yaml" in line]
    assert notes == [
        "homeops: note: no .homeops.yaml: checking against the conventions the repository follows "
        "('homeops profile infer' shows them)"
    ]
    written = run_cli("profile", "infer", "--path", str(repo), "--write")
    assert written.returncode == 0 and (repo / ".homeops.yaml").read_text() == shown.stdout
    again = run_cli("profile", "infer", "--path", str(repo), "--write")
    assert (
        again.returncode == 2
        and "homeops: error: .homeops.yaml: .homeops.yaml already exists" in again.stderr
    )
    quiet = run_cli("check", str(repo), "--format", "json")
    assert ".homeops.yaml" not in quiet.stderr


def test_a_route_marked_later_is_seen_through_the_kept_answers(repo: Path) -> None:
    """Whether any file mentions the internet-facing annotation is kept per file content across runs:
    marking a route, then unmarking it, turns HO013 on and off again with the cache of the run before."""
    release = repo / "kube/apps/books/release.yaml"
    plain = release.read_text()
    marked = plain.replace(
        "metadata:\n  name: books\n",
        f"metadata:\n  name: books\n  annotations: {{{DEFAULT.internet_facing_annotation}: 'true'}}\n",
        1,
    )
    assert marked != plain
    time.sleep(RACY_NS / 1e9 + 0.1)  # older than the racy window: files are vouched for by their stat
    runs = []
    for text in (plain, marked, plain):
        release.write_text(text)
        shown = run_cli("profile", "infer", "--path", str(repo))
        assert shown.returncode == 0, shown.stderr
        runs.append("HO013: false" in shown.stdout)
    assert runs == [True, False, True]


def _chart_app(name: str, selector: bool) -> str:
    layer = (
        "  layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}\n"
        if selector
        else ""
    )
    return (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\n"
        f"metadata: {{name: {name}, namespace: default}}\n"
        f"spec:\n  url: oci://ghcr.io/example/charts/{name}\n  ref: {{tag: 1.0.0}}\n{layer}"
        "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        f"metadata: {{name: {name}, namespace: default}}\n"
        f"spec:\n  interval: 1h\n  chartRef: {{kind: OCIRepository, name: {name}}}\n"
    )


@pytest.mark.parametrize("with_selector", [0, 1, 3])
def test_chart_sources_mostly_without_a_layer_selector_are_the_repositorys_way(
    tmp_path: Path, with_selector: int
) -> None:
    """Flux's own example fleets give chart OCIRepositories no layerSelector: source-controller extracts
    the first layer, the chart for one pushed with ``helm push``. Where most go without one, HO027 does
    not ask for it (its pinned-ref check stays); where most have one, the others are findings."""
    files = {"clusters/c/flux/cluster.yaml": _ks("apps", "./apps")}
    for i in range(3):
        files[f"apps/app{i}.yaml"] = _chart_app(f"app{i}", selector=i < with_selector)
    files["apps/latest.yaml"] = _chart_app("latest", selector=True).replace("ref: {tag: 1.0.0}", "ref: {}")
    write(tmp_path, files)
    ws = Workspace(tmp_path)
    layer = [f.name for f in _rules(ws).get("HO027", []) if "layerSelector" in f.message]
    unpinned = [f.name for f in _rules(ws).get("HO027", []) if "no pinned ref" in f.message]
    assert unpinned == ["latest"]
    if with_selector == 3:  # every chart source selects the layer
        assert "helm_layer_selector" not in ws.infer_profile().overrides()
        assert layer == []
    elif with_selector == 1:  # two of four: not most without one
        assert "helm_layer_selector" not in ws.infer_profile().overrides()
        assert sorted(layer) == ["app1", "app2"]
    else:  # one of four has one
        assert ws.infer_profile().overrides()["helm_layer_selector"] is False
        assert layer == []
        (tmp_path / ".homeops.yaml").write_text("vars: {}\n")  # the document's conventions again
        assert sorted(
            f.name for f in _rules(Workspace(tmp_path))["HO027"] if "layerSelector" in f.message
        ) == [
            "app0",
            "app1",
            "app2",
        ]

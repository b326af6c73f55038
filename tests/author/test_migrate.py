"""``homeops migrate``: golden migrations of the example's legacy apps, conversions one by one,
refusals, and the whole legacy tree of the corpus moved to the modern cluster."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from authoring import assert_golden, snapshot

from homeops.author.migrate import (
    MigrateOptions,
    MigrationPlan,
    app_names,
    doppler_key,
    existing_target,
    find_old_app,
    ingress_to_routes,
    plan_migration,
    render_old,
    replace_variable,
    variables_in,
)
from homeops.core.edits import apply_edits, unified_diff
from homeops.core.errors import HomeopsError
from homeops.core.profile import DEFAULT, load_profile
from homeops.core.yamledit import list_items
from homeops.flux.cluster import resolve_cluster
from homeops.flux.render import render_cluster
from homeops.flux.rendered import ClusterRender
from homeops.images.pin import scan_text
from homeops.rules.engine import run_checks
from support import EXAMPLE, run_cli

FORBIDDEN = ("HO001", "HO002", "HO003", "HO006", "HO007")
# render findings that mean a Flux Kustomization does not build (HO103, a variable only the cluster
# knows, is judged separately: it must come from a source the cluster has)
RENDER_ERRORS = ("HO101", "HO102", "HO104", "HO105", "HO106", "HO107", "HO108", "HO109", "HO110")
EXAMPLE_APPS = ("media/jellyseerr", "media/tautulli", "network/ingress-nginx")
DIGEST = "sha256:" + "b" * 64

# HelmRepository URL -> OCI location of its charts, as the corpus's own modern apps use them (their
# OCIRepository URLs); proposed for the profile's chart_repository_oci, given here as .homeops.yaml.
CORPUS_CHART_REPOSITORY_OCI = {
    "https://cloudnative-pg.github.io/charts": "oci://ghcr.io/cloudnative-pg/charts",
    "https://coredns.github.io/helm": "oci://ghcr.io/coredns/charts",
    "https://charts.external-secrets.io": "oci://ghcr.io/external-secrets/charts",
    "https://grafana.github.io/helm-charts": "oci://ghcr.io/grafana/helm-charts",
    "https://prometheus-community.github.io/helm-charts": "oci://ghcr.io/prometheus-community/charts",
    "https://charts.rook.io/release": "oci://ghcr.io/rook",
    "https://stakater.github.io/stakater-charts": "oci://ghcr.io/stakater/charts",
    "https://charts.jetstack.io": "oci://quay.io/jetstack/charts",
    "https://itzg.github.io/minecraft-server-charts": "oci://ghcr.io/itzg/minecraft-server-charts",
    "https://piraeus.io/helm-charts": "oci://ghcr.io/piraeusdatastore/helm-charts",
    "https://helm.cilium.io": "oci://ghcr.io/home-operations/charts-mirror",
    "https://kubernetes-sigs.github.io/descheduler": "oci://ghcr.io/home-operations/charts-mirror",
    "https://kubernetes-sigs.github.io/external-dns": "oci://ghcr.io/home-operations/charts-mirror",
    "https://kubernetes-sigs.github.io/metrics-server": "oci://ghcr.io/home-operations/charts-mirror",
    "https://kubernetes-sigs.github.io/node-feature-discovery/charts": "oci://ghcr.io/home-operations/charts-mirror",
    "https://nvidia.github.io/k8s-device-plugin": "oci://ghcr.io/home-operations/charts-mirror",
    "https://openebs.github.io/charts": "oci://ghcr.io/home-operations/charts-mirror",
    "https://backube.github.io/helm-charts": "oci://ghcr.io/home-operations/charts-mirror",
}
CORPUS_DOMAIN = "rtrox.io"  # the domain the context document's examples use (app.rtrox.io)


# ----------------------------------------------------------------------------------------------
# helpers


def copy_example(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    return root


def options(target: str, **kwargs: object) -> MigrateOptions:
    namespace, app = target.split("/")
    return MigrateOptions(
        namespace, app, str(kwargs.pop("old", "bitty")), str(kwargs.pop("new", "chongus")), **kwargs
    )  # type: ignore[arg-type]


def migrate(root: Path, target: str, **kwargs: object) -> MigrationPlan:
    plan = plan_migration(root, load_profile(root), options(target, **kwargs), images=scan_text)
    apply_edits(root, plan.edits)
    return plan


def render_new(root: Path, cluster: str = "chongus", **cli_vars: str) -> ClusterRender:
    profile = load_profile(root)
    return render_cluster(root, resolve_cluster(root, profile, cluster), profile=profile, cli_vars=cli_vars)


def judge(root: Path, plan: MigrationPlan, render: ClusterRender) -> list[str]:
    """Why a migrated app is not clean: not listed, not rendering, or forbidden findings inside it."""
    problems: list[str] = []
    by_name = {rk.ks.name: rk for rk in render.rendered.values()}
    for name in plan.kustomizations:
        rk = by_name.get(name)
        if rk is None:
            problems.append(f"{name}: not listed in the new cluster")
        elif rk.error is not None:
            problems.append(f"{name}: does not render ({rk.error})")
    findings, _ = run_checks(
        root,
        load_profile(root),
        cluster="chongus",
        renders=[render],
        select=[*FORBIDDEN, *RENDER_ERRORS, "HO103"],
    )
    for f in findings:
        if not (f.file or "").startswith(plan.new_dir + "/"):
            continue
        if f.rule == "HO103" and f.severity == "info":
            continue  # a variable the new cluster reads from an ExternalSecret: its value lives there
        problems.append(f"{f.rule} {f.file}:{f.line}: {f.message}")
    return problems


# ----------------------------------------------------------------------------------------------
# golden migrations of the example's legacy apps


@pytest.mark.parametrize("target", EXAMPLE_APPS)
def test_example_migration_matches_golden(tmp_path: Path, target: str) -> None:
    root = copy_example(tmp_path)
    plan = plan_migration(root, load_profile(root), options(target), images=scan_text)
    files = {e.path: e.new or "" for e in plan.edits}
    files["STEPS.txt"] = "".join(f"{i}. {s}\n" for i, s in enumerate(plan.steps, 1))
    files["NOTES.txt"] = "".join(f"- {n}\n" for n in plan.notes)
    assert_golden(f"migrate/{target.replace('/', '-')}", files)


@pytest.mark.parametrize("target", ["media/jellyseerr", "media/tautulli"])
def test_example_migration_is_clean(tmp_path: Path, target: str) -> None:
    root = copy_example(tmp_path)
    plan = migrate(root, target)
    assert judge(root, plan, render_new(root)) == []
    text = (root / plan.new_dir / "app" / "helmrelease.yaml").read_text()
    assert (
        "chartRef:" in text and "spec:\n  interval: 30m\n  chartRef:" in text
    )  # the rest of the file as it was
    assert (root / plan.new_dir / "app" / "httproute.yaml").is_file()
    assert not (root / plan.new_dir / "app" / "ingress.yaml").exists()


def test_example_all_legacy_apps_together(tmp_path: Path) -> None:
    """Every legacy app of the example, one after the other, into the same cluster; only the chart
    without a known OCI location (ingress-nginx) is left, and named as a manual step."""
    root = copy_example(tmp_path)
    plans = {t: migrate(root, t) for t in EXAMPLE_APPS}
    render = render_new(root)
    assert judge(root, plans["media/jellyseerr"], render) == []
    assert judge(root, plans["media/tautulli"], render) == []
    problems = judge(root, plans["network/ingress-nginx"], render)
    assert [p.split()[0] for p in problems] == ["HO001"]
    assert any(
        "no OCI location known for chart ingress-nginx" in s for s in plans["network/ingress-nginx"].steps
    )


# ----------------------------------------------------------------------------------------------
# the conversions


def test_ingress_becomes_internal_httproute_with_same_hosts_and_backend(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    plan = migrate(root, "media/jellyseerr")
    route = yaml.safe_load((root / plan.new_dir / "app" / "httproute.yaml").read_text())
    assert route["kind"] == "HTTPRoute"
    assert route["spec"]["hostnames"] == ["requests.home.example.net"]
    assert route["spec"]["parentRefs"] == [
        {"name": "envoy-internal", "namespace": "network", "sectionName": "https"}
    ]
    assert route["spec"]["rules"] == [
        {
            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
            "backendRefs": [{"name": "jellyseerr", "port": 5055}],
        }
    ]
    assert "annotations" not in route["metadata"]  # cert-manager / external-dns target belong to the gateway
    kust = (root / plan.new_dir / "app" / "kustomization.yaml").read_text()
    assert "./httproute.yaml" in list_items(kust, "resources") and "./ingress.yaml" not in kust


def test_external_flag_publishes_on_external_gateway_with_opt_in(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    plan = migrate(root, "media/jellyseerr", external=True)
    route = yaml.safe_load((root / plan.new_dir / "app" / "httproute.yaml").read_text())
    assert route["spec"]["parentRefs"][0]["name"] == "envoy-external"
    assert route["metadata"]["annotations"][DEFAULT.internet_facing_annotation] == "true"
    findings, _ = run_checks(root, load_profile(root), cluster="chongus", select=["HO013", "HO006"])
    assert [f for f in findings if (f.file or "").startswith(plan.new_dir)] == []


def test_chart_ingress_values_become_app_template_route(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    release = root / "cluster-cd/apps/bitty/media/jellyseerr/app/helmrelease.yaml"
    text = release.read_text() + "\n".join(
        [
            "    ingress:",
            "      app:",
            "        className: nginx-external",
            "        annotations:",
            "          nginx.ingress.kubernetes.io/proxy-body-size: 50m",
            "        hosts:",
            "          - host: &host requests.${SECRET_DOMAIN}",
            "            paths:",
            "              - path: /",
            "                service:",
            "                  identifier: app",
            "                  port: http",
            "        tls:",
            "          - hosts: [*host]",
            "    # a comment after the ingress values stays",
            "",
        ]
    )
    release.write_text(text)
    (root / "cluster-cd/apps/bitty/media/jellyseerr/app/ingress.yaml").unlink()
    kust = root / "cluster-cd/apps/bitty/media/jellyseerr/app/kustomization.yaml"
    kust.write_text(kust.read_text().replace("  - ./ingress.yaml\n", ""))
    plan = migrate(root, "media/jellyseerr")
    new = (root / plan.new_dir / "app" / "helmrelease.yaml").read_text()
    values = yaml.safe_load(new)["spec"]["values"]
    assert "ingress" not in values
    assert values["route"] == {
        "app": {
            "hostnames": ["requests.home.example.net"],
            "parentRefs": [{"name": "envoy-internal", "namespace": "network", "sectionName": "https"}],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"identifier": "app", "port": 5055}],
                }
            ],
        }
    }
    assert "    # a comment after the ingress values stays\n" in new
    assert any(
        "proxy-body-size" in s for s in plan.steps
    )  # controller annotations are named, not dropped silently
    assert any("external ingress class" in s and "--external" in s for s in plan.steps)
    assert judge(root, plan, render_new(root)) == []


def test_sops_secret_becomes_externalsecret_without_reading_values(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    app = root / "cluster-cd/apps/bitty/media/tautulli/app"
    secret = "\n".join(
        [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            "    name: tautulli-secret",
            "type: Opaque",
            "stringData:",
            "    API_KEY: ENC[AES256_GCM,data:c2VjcmV0LXZhbHVl,iv:aXY=,tag:dGFn,type:str]",
            "    db-password: ENC[AES256_GCM,data:aHVudGVyMg==,iv:aXY=,tag:dGFn,type:str]",
            "sops:",
            "    age:",
            "        - recipient: age1xyz",
            "          enc: |",
            "            -----BEGIN AGE-----",
            '    lastmodified: "2025-01-01T00:00:00Z"',
            "    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]",
            "    version: 3.10.2",
            "",
        ]
    )
    (app / "secret.sops.yaml").write_text(secret)
    kust = app / "kustomization.yaml"
    kust.write_text(kust.read_text() + "  - ./secret.sops.yaml\n")
    plan = migrate(root, "media/tautulli")
    es = yaml.safe_load((root / plan.new_dir / "app" / "externalsecret.yaml").read_text())
    assert es["kind"] == "ExternalSecret" and es["apiVersion"] == "external-secrets.io/v1"
    assert es["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "doppler"}
    assert es["spec"]["target"]["name"] == "tautulli-secret"
    assert es["spec"]["data"] == [
        {"secretKey": "API_KEY", "remoteRef": {"key": "TAUTULLI_API_KEY"}},
        {"secretKey": "db-password", "remoteRef": {"key": "TAUTULLI_DB_PASSWORD"}},
    ]
    assert not (root / plan.new_dir / "app" / "secret.sops.yaml").exists()
    assert "./externalsecret.yaml" in list_items(
        (root / plan.new_dir / "app/kustomization.yaml").read_text(), "resources"
    )
    everything = unified_diff(plan.edits) + "\n".join(plan.steps + plan.notes)
    assert "ENC[" not in everything and "c2VjcmV0" not in everything and "aHVudGVy" not in everything
    assert any("TAUTULLI_API_KEY (key API_KEY)" in s and "TAUTULLI_DB_PASSWORD" in s for s in plan.steps)
    findings, _ = run_checks(root, load_profile(root), cluster="chongus", select=list(FORBIDDEN))
    assert [f for f in findings if (f.file or "").startswith(plan.new_dir)] == []


def test_substitution_from_sops_secret_is_replaced(tmp_path: Path) -> None:
    """Known variables are written in place (cluster name, profile domain and storage class, plain
    ConfigMap values); SOPS ones come from an ExternalSecret through a Kustomization of their own."""
    root = copy_example(tmp_path)
    plan = migrate(root, "media/tautulli")
    ks_docs = list(yaml.safe_load_all((root / plan.new_dir / "ks.yaml").read_text()))
    assert [d["metadata"]["name"] for d in ks_docs] == ["tautulli-vars", "tautulli"]
    app_ks = ks_docs[1]["spec"]
    assert app_ks["postBuild"] == {"substituteFrom": [{"kind": "Secret", "name": "tautulli-vars"}]}
    assert {"name": "tautulli-vars", "namespace": "media"} in app_ks["dependsOn"]
    assert "decryption" not in app_ks
    assert app_ks["sourceRef"] == {"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"}
    assert (
        app_ks["targetNamespace"] == "media" and app_ks["path"] == "./cluster-apps/chongus/media/tautulli/app"
    )
    vars_es = yaml.safe_load((root / plan.new_dir / "vars" / "externalsecret.yaml").read_text())
    assert vars_es["spec"]["data"] == [
        {"secretKey": "TAUTULLI_API_KEY", "remoteRef": {"key": "TAUTULLI_API_KEY"}}
    ]
    release = (root / plan.new_dir / "app" / "helmrelease.yaml").read_text()
    assert "TZ: America/Chicago" in release and "storageClass: ceph-block" in release
    assert "${TAUTULLI_API_KEY}" in release
    assert any("TAUTULLI_API_KEY" in s and "doppler" in s for s in plan.steps)
    # the app renders once the cluster-only variable is given, and HO003 has nothing to say
    render = render_new(root, TAUTULLI_API_KEY="x")
    assert judge(root, plan, render) == []
    assert not [f for f in render.findings if f.rule == "HO103" and plan.new_dir in (f.file or "")]


def test_domain_unknown_goes_to_doppler_too(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    (root / ".homeops.yaml").unlink()
    plan = migrate(root, "media/jellyseerr")
    vars_es = yaml.safe_load((root / plan.new_dir / "vars" / "externalsecret.yaml").read_text())
    assert [d["secretKey"] for d in vars_es["spec"]["data"]] == ["SECRET_DOMAIN"]
    route = yaml.safe_load((root / plan.new_dir / "app" / "httproute.yaml").read_text())
    assert route["spec"]["hostnames"] == ["requests.${SECRET_DOMAIN}"]


def test_chart_url_gives_the_missing_oci_location(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    url = "oci://ghcr.io/home-operations/charts-mirror/ingress-nginx"
    plan = migrate(root, "network/ingress-nginx", chart_url=url)
    oci = yaml.safe_load((root / plan.new_dir / "app" / "ocirepository.yaml").read_text())
    assert oci["spec"]["url"] == url and oci["spec"]["ref"] == {"tag": "4.12.3"}
    assert not any("OCI location" in s for s in plan.steps)
    assert judge(root, plan, render_new(root, INGRESS_NGINX_IPV4="x")) == []


def test_unpinned_image_is_a_step_or_pinned_with_a_resolver(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    plan = plan_migration(root, load_profile(root), options("media/jellyseerr"), images=scan_text)
    assert any("pin image docker.io/fallenbagel/jellyseerr:2.7.3" in s for s in plan.steps)
    asked: list[str] = []

    def resolve(ref: str) -> str:
        asked.append(ref)
        return DIGEST

    pinned = plan_migration(
        root, load_profile(root), options("media/jellyseerr", pin=True), resolve=resolve, images=scan_text
    )
    assert asked == ["docker.io/fallenbagel/jellyseerr:2.7.3"]
    assert not any("pin image" in s for s in pinned.steps)
    release = next(e.new for e in pinned.edits if e.path.endswith("app/helmrelease.yaml"))
    assert f"tag: 2.7.3@{DIGEST}" in (release or "")


def test_volsync_template_becomes_the_component(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    template = root / "cluster-cd/apps/base/_templates/volsync"
    template.mkdir(parents=True)
    (template / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./claim.yaml\n"
    )
    (template / "claim.yaml").write_text(
        "\n".join(
            [
                "apiVersion: v1",
                "kind: PersistentVolumeClaim",
                "metadata:",
                "  name: ${APP}",
                "spec:",
                "  accessModes: [ReadWriteOnce]",
                "  dataSourceRef:",
                "    kind: ReplicationDestination",
                "    apiGroup: volsync.backube",
                "    name: ${APP}-dst",
                "  resources:",
                "    requests:",
                "      storage: ${VOLSYNC_CAPACITY}",
                "---",
                "apiVersion: volsync.backube/v1alpha1",
                "kind: ReplicationSource",
                "metadata:",
                "  name: ${APP}",
                "spec:",
                "  sourcePVC: ${APP}",
                "",
            ]
        )
    )
    app = root / "cluster-cd/apps/bitty/media/tautulli"
    (app / "app/kustomization.yaml").write_text(
        (app / "app/kustomization.yaml").read_text() + "  - ../../../../base/_templates/volsync\n"
    )
    (app / "ks.yaml").write_text(
        (app / "ks.yaml")
        .read_text()
        .replace(
            "  postBuild:\n",
            "  postBuild:\n    substitute:\n      APP: *appname\n      VOLSYNC_CAPACITY: 2Gi\n",
        )
    )
    plan = migrate(root, "media/tautulli", force=True)  # the template is outside bitty's artifact
    ks = list(yaml.safe_load_all((root / plan.new_dir / "ks.yaml").read_text()))[-1]["spec"]
    assert ks["components"] == ["../../../../components/volsync"]
    assert ks["postBuild"]["substitute"] == {"APP": "tautulli", "VOLSYNC_CAPACITY": "2Gi"}
    assert {"name": "volsync", "namespace": "system"} in ks["dependsOn"]
    kust = (root / plan.new_dir / "app/kustomization.yaml").read_text()
    assert "_templates" not in kust and "../" not in kust
    assert any(s.startswith("move the data") for s in plan.steps)
    assert judge(root, plan, render_new(root, TAUTULLI_API_KEY="x")) == []


def test_borrowed_directories_are_copied_into_the_app(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    shared = root / "cluster-cd/apps/base/_templates/extra"
    shared.mkdir(parents=True)
    (shared / "kustomization.yaml").write_text("resources:\n  - ./cm.yaml\n")
    (shared / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${APP}-extra\n"
        "data:\n  url: https://${APP}.${SECRET_DOMAIN}\n"
    )
    app = root / "cluster-cd/apps/bitty/media/jellyseerr"
    (app / "app/kustomization.yaml").write_text(
        (app / "app/kustomization.yaml").read_text() + "  # borrowed\n  - ../../../../base/_templates/extra\n"
    )
    (app / "ks.yaml").write_text(
        (app / "ks.yaml")
        .read_text()
        .replace("  postBuild:\n", "  postBuild:\n    substitute:\n      APP: *appname\n")
    )
    # bitty's GitRepository ignores everything outside its own tree, so bitty does not render the app
    # with the borrowed directory: migrating it anyway takes --force
    with pytest.raises(HomeopsError, match="cluster bitty does not render media/jellyseerr"):
        migrate(root, "media/jellyseerr")
    plan = migrate(root, "media/jellyseerr", force=True)
    assert any("migrated as it is (--force)" in n for n in plan.notes)
    kust = (root / plan.new_dir / "app/kustomization.yaml").read_text()
    assert "  # borrowed\n  - ../extra\n" in kust
    copied = (root / plan.new_dir / "extra/cm.yaml").read_text()
    assert "https://${APP}.home.example.net" in copied
    render = render_new(root)
    assert judge(root, plan, render) == []
    assert render.find("ConfigMap", "jellyseerr-extra")


def test_to_helm_converts_a_simple_deployment(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    write_raw_app(root, "whoami", containers=1)
    plan = migrate(root, "media/whoami", to_helm=True)
    app = root / plan.new_dir / "app"
    assert not (app / "deployment.yaml").exists() and not (app / "service.yaml").exists()
    release = yaml.safe_load((app / "helmrelease.yaml").read_text())
    assert release["spec"]["chartRef"] == {"kind": "OCIRepository", "name": "whoami"}
    values = release["spec"]["values"]
    container = values["controllers"]["whoami"]["containers"]["app"]
    assert container["image"] == {"repository": "ghcr.io/traefik/whoami", "tag": f"v1.10.4@{DIGEST}"}
    assert container["env"] == {"WHOAMI_PORT_NUMBER": "8080"}
    assert container["resources"]["limits"]["memory"] == "64Mi"
    assert values["service"]["app"]["forceRename"] == "whoami"
    assert values["service"]["app"]["ports"] == {"http": {"port": 80, "targetPort": 8080}}
    assert values["persistence"]["data"] == {
        "existingClaim": "whoami-data",
        "globalMounts": [{"path": "/data"}],
    }
    oci = yaml.safe_load((app / "ocirepository.yaml").read_text())
    assert (
        oci["spec"]["url"] == DEFAULT.app_template_chart
        and oci["spec"]["ref"]["tag"] == DEFAULT.app_template_version
    )
    route = yaml.safe_load((app / "httproute.yaml").read_text())
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "whoami", "port": 80}]
    assert plan.steps == [next(s for s in plan.steps if s.startswith("move the data"))]
    assert judge(root, plan, render_new(root)) == []


def test_to_helm_refuses_with_the_reason(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    write_raw_app(root, "whoami", containers=2)
    plan = migrate(root, "media/whoami", to_helm=True)
    assert (root / plan.new_dir / "app/deployment.yaml").is_file()
    assert any(s.startswith("--to-helm: whoami keeps its raw manifests: 2 containers") for s in plan.steps)


def write_raw_app(root: Path, name: str, containers: int) -> None:
    """A legacy app of raw manifests: Deployment, Service, Ingress (image pinned, no secrets)."""
    app = root / f"cluster-cd/apps/bitty/media/{name}"
    (app / "app").mkdir(parents=True)
    (app / "ks.yaml").write_text(
        (root / "cluster-cd/apps/bitty/media/jellyseerr/ks.yaml").read_text().replace("jellyseerr", name)
    )
    sidecar = ["        - name: sidecar", "          image: busybox:1.37@" + DIGEST] if containers > 1 else []
    (app / "app/deployment.yaml").write_text(
        "\n".join(
            [
                "apiVersion: apps/v1",
                "kind: Deployment",
                "metadata:",
                f"  name: {name}",
                "spec:",
                "  selector:",
                "    matchLabels:",
                f"      app: {name}",
                "  template:",
                "    metadata:",
                "      labels:",
                f"        app: {name}",
                "    spec:",
                "      containers:",
                f"        - name: {name}",
                f"          image: ghcr.io/traefik/whoami:v1.10.4@{DIGEST}",
                "          env:",
                "            - name: WHOAMI_PORT_NUMBER",
                '              value: "8080"',
                "          ports:",
                "            - name: http",
                "              containerPort: 8080",
                "          resources:",
                "            limits:",
                "              memory: 64Mi",
                "          volumeMounts:",
                "            - name: data",
                "              mountPath: /data",
                *sidecar,
                "      volumes:",
                "        - name: data",
                "          persistentVolumeClaim:",
                f"            claimName: {name}-data",
                "",
            ]
        )
    )
    (app / "app/service.yaml").write_text(
        "\n".join(
            [
                "apiVersion: v1",
                "kind: Service",
                "metadata:",
                f"  name: {name}",
                "spec:",
                "  selector:",
                f"    app: {name}",
                "  ports:",
                "    - name: http",
                "      port: 80",
                "      targetPort: http",
                "",
            ]
        )
    )
    (app / "app/ingress.yaml").write_text(
        "\n".join(
            [
                "apiVersion: networking.k8s.io/v1",
                "kind: Ingress",
                "metadata:",
                f"  name: {name}",
                "spec:",
                "  ingressClassName: nginx",
                "  rules:",
                f"    - host: {name}.${{SECRET_DOMAIN}}",
                "      http:",
                "        paths:",
                "          - path: /",
                "            pathType: Prefix",
                "            backend:",
                "              service:",
                f"                name: {name}",
                "                port:",
                "                  name: http",
                "",
            ]
        )
    )
    (app / "app/kustomization.yaml").write_text(
        "resources:\n  - ./deployment.yaml\n  - ./service.yaml\n  - ./ingress.yaml\n"
    )
    ns = root / "cluster-cd/apps/bitty/media/kustomization.yaml"
    ns.write_text(
        ns.read_text().replace(
            "  - ./jellyseerr/ks.yaml\n", f"  - ./jellyseerr/ks.yaml\n  - ./{name}/ks.yaml\n"
        )
    )


# ----------------------------------------------------------------------------------------------
# registration, removal, refusals


def test_new_namespace_directory_is_created_and_registered(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    plan = migrate(root, "network/ingress-nginx")
    assert "./ingress-nginx/ks.yaml" in list_items(
        (root / "cluster-apps/chongus/network/kustomization.yaml").read_text(), "resources"
    )
    shutil.rmtree(root / "cluster-apps/chongus/media")
    plan = migrate(root, "media/jellyseerr")
    text = (root / "cluster-apps/chongus/media/kustomization.yaml").read_text()
    assert "namespace: media" in text and "../../components/namespace" in text
    assert list_items(text, "resources") == ["./jellyseerr/ks.yaml"]
    assert "media/jellyseerr" in {
        f"{rk.ks.namespace}/{rk.ks.name}" for rk in render_new(root).rendered.values()
    }
    assert plan.kustomizations == ["jellyseerr"]


def test_remove_source_deletes_and_unregisters_keeping_comments(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    migrate(root, "media/tautulli", remove_source=True)
    assert not (root / "cluster-cd/apps/bitty/media/tautulli").exists()
    text = (root / "cluster-cd/apps/bitty/media/kustomization.yaml").read_text()
    assert "tautulli" not in text and "  # - ./plex/ks.yaml\n" in text and "  # Flux-Kustomizations\n" in text
    bitty = render_old(root, load_profile(root), options("media/tautulli"))
    assert "tautulli" not in {rk.ks.name for rk in bitty.rendered.values()}


def test_remove_source_after_the_app_moved(tmp_path: Path) -> None:
    """Deploy, test, then remove: with the target in place, --remove-source only removes the old copy."""
    root = copy_example(tmp_path)
    migrate(root, "media/jellyseerr")
    before = snapshot(root / "cluster-apps")
    plan = migrate(root, "media/jellyseerr", remove_source=True)
    assert {e.action for e in plan.edits} == {"delete", "modify"}
    assert snapshot(root / "cluster-apps") == before
    assert not (root / "cluster-cd/apps/bitty/media/jellyseerr").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["media/nope"], "app media/nope not found in cluster bitty"),
        (["media/jellyfin"], "not found in cluster bitty"),
        (["media/jellyseerr", "--to", "bitty", "--from", "chongus"], "deprecated"),
        (["media/jellyseerr", "--chart-url", "https://example.net/charts"], "is not an OCI URL"),
        (["jellyseerr"], "is not NAMESPACE/APP"),
    ],
)
def test_refusals_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    root = copy_example(tmp_path)
    before = snapshot(root)
    defaults = [] if "--from" in args else ["--from", "bitty", "--to", "chongus"]
    proc = run_cli("migrate", *args, *defaults, "--write", "--path", str(root))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and proc.stderr.startswith("homeops: error: ")
    assert snapshot(root) == before


def test_existing_target_is_refused(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    assert (
        run_cli(
            "migrate",
            "media/jellyseerr",
            "--from",
            "bitty",
            "--to",
            "chongus",
            "--write",
            "--path",
            str(root),
        ).returncode
        == 1
    )  # written, with a step left (the image digest)
    before = snapshot(root)
    proc = run_cli(
        "migrate", "media/jellyseerr", "--from", "bitty", "--to", "chongus", "--write", "--path", str(root)
    )
    assert proc.returncode == 2 and "already exists in cluster chongus" in proc.stderr
    assert snapshot(root) == before


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.net",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.net",
            "HOME": str(root),
            "PATH": "/usr/bin:/bin",
        },
    )


def test_uncommitted_changes_in_touched_paths_refuse_unless_forced(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = copy_example(tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    (root / "README.md").write_text("changed elsewhere: not in the way\n")
    plan = plan_migration(root, load_profile(root), options("media/jellyseerr"))
    assert plan.edits
    ns = root / "cluster-apps/chongus/media/kustomization.yaml"
    ns.write_text(ns.read_text() + "# uncommitted\n")
    with pytest.raises(HomeopsError, match="uncommitted changes") as err:
        plan_migration(root, load_profile(root), options("media/jellyseerr"))
    assert err.value.exit_code == 2
    assert plan_migration(root, load_profile(root), options("media/jellyseerr", force=True)).edits


# ----------------------------------------------------------------------------------------------
# the command line


def test_cli_dry_run_prints_diff_and_steps_and_writes_nothing(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    before = snapshot(root)
    proc = run_cli("migrate", "media/tautulli", "--from", "bitty", "--to", "chongus", "--path", str(root))
    assert proc.returncode == 0, proc.stderr
    assert "+++ b/cluster-apps/chongus/media/tautulli/ks.yaml" in proc.stdout
    assert "--- a/cluster-apps/chongus/media/kustomization.yaml" in proc.stdout
    assert "\nManual steps (2):\n1. move the data: tautulli keeps data in volume claims" in proc.stdout
    assert "\n2. create in doppler the key(s) TAUTULLI_API_KEY" in proc.stdout
    assert snapshot(root) == before
    patch = proc.stdout.split("\nManual steps")[0]
    applied = subprocess.run(
        ["git", "apply", "--check", "-"], input=patch, text=True, cwd=root, capture_output=True, check=False
    )
    assert applied.returncode == 0, applied.stderr


def test_cli_write_exit_codes(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    write_raw_app(root, "whoami", containers=1)
    proc = run_cli(
        "migrate", "media/whoami", "--from", "bitty", "--to", "chongus", "--write", "--path", str(root)
    )
    assert proc.returncode == 1 and "move the data" in proc.stdout  # a volume claim: data to move by hand
    (root / "cluster-cd/apps/bitty/media/whoami/app/deployment.yaml").write_text(
        (root / "cluster-cd/apps/bitty/media/whoami/app/deployment.yaml")
        .read_text()
        .split("          volumeMounts:")[0]
        + "\n"
    )
    shutil.rmtree(root / "cluster-apps/chongus/media/whoami")
    ns = root / "cluster-apps/chongus/media/kustomization.yaml"
    ns.write_text(ns.read_text().replace("  - ./whoami/ks.yaml\n", ""))
    proc = run_cli(
        "migrate", "media/whoami", "--from", "bitty", "--to", "chongus", "--write", "--path", str(root)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No manual steps left." in proc.stdout
    listed = run_cli("get", "ks", "--cluster", "chongus", "-o", "json", "--path", str(root))
    assert "whoami" in {i["name"] for i in json.loads(listed.stdout)["items"]}
    built = run_cli("build", "ks", "whoami", "--cluster", "chongus", "--path", str(root))
    assert built.returncode == 0, built.stderr
    assert "kind: HTTPRoute" in built.stdout


# ----------------------------------------------------------------------------------------------
# small pieces


def test_variables() -> None:
    assert variables_in("a ${A} ${B:=x} ${C:-y} $${D} ${A:=z}") == {"A": False, "B": True, "C": True}
    assert replace_variable("x.${D}.${D:=d}.${DD}.$${D}", "D", "v") == "x.v.v.${DD}.$${D}"
    assert replace_variable("${D:=${E}}", "D", "v") == "v"
    assert replace_variable("${D:-dflt}", "D", "") == "dflt"


def test_doppler_keys() -> None:
    assert doppler_key("tautulli", "API_KEY") == "TAUTULLI_API_KEY"
    assert doppler_key("tautulli", "TAUTULLI_API_KEY") == "TAUTULLI_API_KEY"
    assert doppler_key("paperless-ngx", ".dockerconfigjson") == "PAPERLESS_NGX_DOCKERCONFIGJSON"


def test_ingress_hosts_with_different_paths_get_separate_routes() -> None:
    ingress = {
        "metadata": {"name": "web"},
        "spec": {
            "rules": [
                {
                    "host": "a.example.net",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                },
                {
                    "host": "b.example.net",
                    "http": {
                        "paths": [
                            {
                                "path": "/api",
                                "pathType": "Exact",
                                "backend": {"service": {"name": "api", "port": {"name": "http"}}},
                            }
                        ]
                    },
                },
                {
                    "host": "c.example.net",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                },
            ]
        },
    }
    steps: list[str] = []
    routes = ingress_to_routes(
        ingress, "default", {("default", "api"): {"http": 8080}}, DEFAULT, False, "w", steps, []
    )
    assert routes is not None and steps == []
    assert [(r["metadata"]["name"], r["spec"]["hostnames"]) for r in routes] == [
        ("web", ["a.example.net", "c.example.net"]),
        ("web-2", ["b.example.net"]),
    ]
    assert routes[1]["spec"]["rules"] == [
        {
            "matches": [{"path": {"type": "Exact", "value": "/api"}}],
            "backendRefs": [{"name": "api", "port": 8080}],
        }
    ]
    assert ingress_to_routes(ingress, "default", {}, DEFAULT, False, "Ingress web", steps, []) is None
    assert "Service api (not found" in steps[0]


# ----------------------------------------------------------------------------------------------
# the corpus: every legacy app of bitty that chongus does not have yet


def corpus_apps(root: Path) -> list[str]:
    """NS/APP of every app registered in a ``cluster-cd/apps/bitty/*/kustomization.yaml``."""
    out = []
    for kfile in sorted((root / "cluster-cd/apps/bitty").glob("*/kustomization.yaml")):
        for item in list_items(kfile.read_text(), "resources"):
            if item.endswith("/ks.yaml"):
                out.append(f"{kfile.parent.name}/{item.removeprefix('./').split('/')[0]}")
    return out


@pytest.mark.corpus
def test_corpus_legacy_apps_migrate(corpus: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    root = tmp_path / "corpus"
    shutil.copytree(corpus, root)
    (root / ".homeops.yaml").write_text(
        f"domain: {CORPUS_DOMAIN}\nchart_repository_oci:\n"
        + "".join(f"  {k}: {v}\n" for k, v in CORPUS_CHART_REPOSITORY_OCI.items())
    )
    profile = load_profile(root)
    cli_vars = {"CLUSTER_NAME": "bitty"}
    apps = corpus_apps(root)
    assert len(apps) > 30

    # the command line, for two representative apps: a refusal and a raw-manifest app with secrets
    refused = run_cli(
        "migrate",
        "cert-manager/cert-manager",
        "--from",
        "bitty",
        "--to",
        "chongus",
        "--var",
        "CLUSTER_NAME=bitty",
        "--write",
        "--path",
        str(root),
    )
    assert refused.returncode == 2 and "already exists in cluster chongus" in refused.stderr
    proc = run_cli(
        "migrate",
        "downloads/sonarr",
        "--from",
        "bitty",
        "--to",
        "chongus",
        "--var",
        "CLUSTER_NAME=bitty",
        "--write",
        "--path",
        str(root),
    )
    assert proc.returncode == 1 and "create cluster-apps/chongus/downloads/sonarr/ks.yaml" in proc.stdout, (
        proc.stderr
    )
    listed = run_cli("get", "ks", "--cluster", "chongus", "-o", "json", "--path", str(root))
    assert {"sonarr", "sonarr-vars"} <= {i["name"] for i in json.loads(listed.stdout)["items"]}
    built = run_cli(
        "build",
        "ks",
        "sonarr",
        "--cluster",
        "chongus",
        "--var",
        "NFS_SERVER=nas.example.net",
        "--var",
        "LOCAL_TZ=Etc/UTC",
        "--path",
        str(root),
    )
    # errors build reports are other apps' (the corpus's own apps leave ${CLUSTER_NAME} of the shared
    # volsync component unset); sonarr itself renders without any
    assert [e for e in built.stderr.splitlines() if "downloads/sonarr" in e] == [], built.stderr
    assert "kind: HTTPRoute" in built.stdout and "kind: Ingress\n" not in built.stdout
    assert (
        "name: sonarr-b2" in built.stdout
        and "s3:{{ .endpoint }}/{{ .bucket }}/chongus/sonarr" in built.stdout
    )

    # the library for the rest (one render of bitty serves every plan: bitty does not change)
    old = render_old(root, profile, options("x/y", cli_vars=cli_vars))
    plans: dict[str, MigrationPlan] = {}
    existing: dict[str, str] = {}
    for target in apps:
        if target == "downloads/sonarr":
            continue
        opts = options(target, cli_vars=cli_vars)
        why = existing_target(root, profile, opts, app_names(find_old_app(root, profile, opts, old)))
        if why is not None:
            with pytest.raises(HomeopsError, match="already exists") as err:
                plan_migration(root, profile, opts, old_render=old, images=scan_text)
            assert err.value.exit_code == 2
            existing[target] = why
            continue
        plans[target] = plan = plan_migration(root, profile, opts, old_render=old, images=scan_text)
        apply_edits(root, plan.edits)
    sonarr = plan_migration(
        root, profile, options("downloads/sonarr", cli_vars=cli_vars, remove_source=True), old_render=old
    )
    assert {e.action for e in sonarr.edits} == {"delete", "modify"}  # already moved: removal only
    plans["downloads/sonarr"] = MigrationPlan(
        old_dir=sonarr.old_dir,
        new_dir="cluster-apps/chongus/downloads/sonarr",
        kustomizations=["sonarr-vars", "sonarr"],
    )

    render = render_new(root)
    failed: dict[str, list[str]] = {}
    for target, plan in sorted(plans.items()):
        problems = judge(root, plan, render)
        if problems:
            failed[target] = problems
            # every forbidden pattern left behind is a named manual step
            for problem in problems:
                rule, where = problem.split()[:2]
                if rule in FORBIDDEN and target != "downloads/sonarr":
                    assert any(where.split(":")[0] in step for step in plan.steps), (
                        target,
                        problem,
                        plan.steps,
                    )
    clean = len(plans) - len(failed)
    share = clean / len(plans)
    report = "\n".join(
        [
            f"migrated clean: {clean}/{len(plans)} ({share:.0%}); refused (already in chongus): "
            f"{len(existing)}",
            *[f"  {t}: {p[0]}" + (f" (+{len(p) - 1})" if len(p) > 1 else "") for t, p in failed.items()],
        ]
    )
    print(report)
    assert "cert-manager/cert-manager" in existing and "default/echo" in existing
    assert share >= 0.8, report
    assert time.monotonic() - started < 60


def test_variables_are_read_and_written_as_flux_substitutes_them() -> None:
    # any expression of known variables is evaluated; unknown ones stay as written
    assert replace_variable("${D^^}.${#D}.${D:0:2}.${DD}", "D", "value") == "VALUE.5.va.${DD}"
    assert replace_variable("${X:-${D}} ${D:=${X}}", "D", "") == "${X:-} ${X}"
    assert replace_variable("${D:+alt}|${D:+alt}", "D", "") == "alt|alt"  # every default form, as Flux
    # a malformed expression (here in a comment) does not stop the rest of the file
    text = "# see ${D-x} for details\nname: ${D}\n"
    assert variables_in(text) == {"D": False}
    assert replace_variable(text, "D", "v") == "# see ${D-x} for details\nname: v\n"

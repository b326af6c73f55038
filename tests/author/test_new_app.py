"""``homeops new app``: the nine steps, golden files per variant, refusals, comment-preserving registration."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from authoring import (
    DOMAIN,
    PAPERLESS,
    VARIANTS,
    WHOAMI,
    add_app,
    assert_golden,
    blocking_findings,
    copy_repo,
    init_repo,
    read_tree,
    snapshot,
)

from homeops.author.new_app import AppOptions, Image, parse_image, plan_new_app
from homeops.core.edits import apply_edits
from homeops.core.errors import HomeopsError
from homeops.core.profile import DEFAULT, load_profile
from homeops.kustomize.build import Builder
from support import run_cli

DIGEST = "sha256:" + "a" * 64


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly initialised repository, copied by each test that changes it."""
    return init_repo(tmp_path_factory.mktemp("base") / "repo")


@pytest.fixture
def repo(base_repo: Path, tmp_path: Path) -> Path:
    return copy_repo(base_repo, tmp_path / "repo")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_new_app_matches_golden(repo: Path, variant: str) -> None:
    plan = plan_new_app(repo, load_profile(repo), VARIANTS[variant])
    assert_golden(f"new-app/{variant}", {e.path: e.new or "" for e in plan.edits})
    apply_edits(repo, plan.edits)
    assert blocking_findings(repo) == []


def test_done_when_scenario(tmp_path: Path) -> None:
    """init, a stateless internal app and a stateful app with Volsync and a secret: everything agrees."""
    root = tmp_path / "repo"
    assert run_cli("init", str(root), "--cluster", "alpha", "--domain", DOMAIN).returncode == 0
    proc = run_cli("new", "app", "default/whoami", "--image", WHOAMI, "--port", "80", "--path", str(root))
    assert proc.returncode == 0, proc.stderr
    assert "create cluster-apps/alpha/default/whoami/ks.yaml" in proc.stdout
    proc = run_cli(
        "new",
        "app",
        "media/paperless-ngx",
        "--image",
        PAPERLESS,
        "--port",
        "8000",
        "--volsync",
        "10Gi",
        "--secret",
        "PAPERLESS",
        "--path",
        str(root),
    )
    assert proc.returncode == 0, proc.stderr
    assert blocking_findings(root) == []
    proc = run_cli("check", "--path", str(root))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_cli("get", "ks", "-A", "-o", "json", "--path", str(root))
    assert proc.returncode == 0, proc.stderr
    items = {(i["namespace"], i["name"]): i for i in json.loads(proc.stdout)["items"]}
    assert ("default", "whoami") in items and ("media", "paperless-ngx") in items
    deps = items[("media", "paperless-ngx")]["dependsOn"]
    assert {"system/openebs", "system/volsync", "security/external-secrets"} <= {
        d if isinstance(d, str) else f"{d.get('namespace')}/{d.get('name')}" for d in deps
    }

    files = read_tree(root)
    ks = yaml.safe_load(files["cluster-apps/alpha/media/paperless-ngx/ks.yaml"])
    assert ks["spec"]["components"] == ["../../../../components/volsync"]
    assert ks["spec"]["postBuild"]["substitute"] == {"APP": "paperless-ngx", "VOLSYNC_CAPACITY": "10Gi"}
    es = yaml.safe_load(files["cluster-apps/alpha/media/paperless-ngx/app/externalsecret.yaml"])
    assert es["spec"]["secretStoreRef"] == {"kind": DEFAULT.secret_store_kind, "name": DEFAULT.secret_store}
    assert es["spec"]["dataFrom"] == [{"extract": {"key": "PAPERLESS"}}]
    ns = yaml.safe_load(files["cluster-apps/alpha/media/kustomization.yaml"])
    assert ns["namespace"] == "media" and ns["resources"] == ["./paperless-ngx/ks.yaml"]
    assert ns["components"] == ["../../components/namespace", "../../components/flux/alerts"]


def test_values_follow_the_document(repo: Path) -> None:
    add_app(repo, VARIANTS["stateful-volsync-secret"])
    add_app(repo, VARIANTS["external"])
    files = read_tree(repo)
    hr = yaml.safe_load(files["cluster-apps/alpha/media/paperless-ngx/app/helmrelease.yaml"])
    assert hr["spec"]["chartRef"] == {"kind": "OCIRepository", "name": "paperless-ngx"}
    controller = hr["spec"]["values"]["controllers"]["paperless-ngx"]
    assert controller["annotations"] == {DEFAULT.reloader_annotation: "true"}
    container = controller["containers"]["app"]
    assert re.fullmatch(r"2\.17\.1@sha256:[0-9a-f]{64}", container["image"]["tag"])
    assert (
        container["resources"]["limits"]["memory"] == "2Gi" and container["resources"]["requests"]["memory"]
    )
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["probes"]["liveness"]["spec"]["httpGet"] == {"path": "/api/", "port": 8000}
    assert hr["spec"]["values"]["defaultPodOptions"]["securityContext"]["runAsNonRoot"] is True
    route = hr["spec"]["values"]["route"]["app"]
    gw = DEFAULT.gateway_internal
    assert route["parentRefs"] == [{"name": gw.name, "namespace": gw.namespace, "sectionName": gw.section}]
    assert route["hostnames"] == [f"paperless-ngx.{DOMAIN}"]
    assert hr["spec"]["values"]["persistence"]["data"]["existingClaim"] == "paperless-ngx"
    assert "annotations" not in hr["metadata"]

    ext = yaml.safe_load(files["cluster-apps/alpha/default/ntfy/app/helmrelease.yaml"])
    assert ext["metadata"]["annotations"] == {DEFAULT.internet_facing_annotation: "true"}
    assert ext["spec"]["values"]["route"]["app"]["parentRefs"][0]["name"] == DEFAULT.gateway_external.name
    oci = yaml.safe_load(files["cluster-apps/alpha/default/ntfy/app/ocirepository.yaml"])
    assert oci["spec"]["url"] == DEFAULT.app_template_chart
    assert oci["spec"]["ref"] == {"tag": DEFAULT.app_template_version}
    assert oci["spec"]["layerSelector"] == {"mediaType": DEFAULT.helm_layer_media_type, "operation": "copy"}


def test_registration_keeps_every_comment(repo: Path) -> None:
    ns_file = repo / "cluster-apps/alpha/default/kustomization.yaml"
    ns_file.parent.mkdir(parents=True)
    original = (
        "---\n"
        "# yaml-language-server: $schema=https://json.schemastore.org/kustomization\n"
        "# Apps of the default namespace. Keep this header.\n"
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "namespace: default  # the namespace of every app below\n"
        "components:\n"
        "  # one namespace object for the whole directory\n"
        "  - ../../components/namespace\n"
        "  - ../../components/flux/alerts\n"
        "resources:\n"
        "  # apps, roughly in the order they were added\n"
        "  - ./whoami/ks.yaml  # the first app\n"
        "  # - ./retired/ks.yaml\n"
    )
    ns_file.write_text(original, encoding="utf-8")
    add_app(repo, VARIANTS["stateless-internal"])
    add_app(repo, VARIANTS["external"])
    text = ns_file.read_text(encoding="utf-8")
    comments = [line.strip() for line in original.splitlines() if "#" in line]
    for comment in comments:
        assert any(comment in line for line in text.splitlines()), comment
    assert text.startswith(original.rstrip("\n"))  # the old lines are untouched, in order
    assert yaml.safe_load(text)["resources"] == ["./whoami/ks.yaml", "./ntfy/ks.yaml"]
    names = {r.name for r in Builder(repo).build(ns_file.parent)}
    assert {"whoami", "ntfy", "default"} <= names


def test_dry_run_prints_the_patch_and_writes_nothing(repo: Path) -> None:
    add_app(repo, VARIANTS["stateless-internal"])
    before = snapshot(repo)
    proc = run_cli(
        "new", "app", "default/ntfy", "--image", WHOAMI, "--port", "80", "--dry-run", "--path", str(repo)
    )
    assert proc.returncode == 0, proc.stderr
    assert snapshot(repo) == before
    assert "+++ b/cluster-apps/alpha/default/ntfy/app/helmrelease.yaml" in proc.stdout
    assert "--- a/cluster-apps/alpha/default/kustomization.yaml" in proc.stdout
    assert "+  - ./ntfy/ks.yaml" in proc.stdout
    assert " - ./whoami/ks.yaml" in proc.stdout  # context of the registration diff


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["default/Whoami", "--image", WHOAMI, "--port", "80"], "kebab-case"),
        (["default/who_ami", "--image", WHOAMI, "--port", "80"], "kebab-case"),
        (["home-automation/whoami", "--image", WHOAMI, "--port", "80"], "one lowercase word"),
        (["default/no", "--image", WHOAMI, "--port", "80"], "YAML boolean"),
        (["on/whoami", "--image", WHOAMI, "--port", "80"], "YAML boolean"),
        (["whoami", "--image", WHOAMI, "--port", "80"], "NAMESPACE/APP"),
        (["system/volsync", "--image", WHOAMI, "--port", "80"], "already exists"),
        (["default/x", "--image", "127.0.0.1:1/some/image:1.0", "--port", "80"], "cannot pin image"),
        (["default/x", "--image", "ghcr.io/some/image", "--port", "80"], "has no tag"),
        (["default/x", "--image", WHOAMI, "--port", "80", "--route", "public"], "--route"),
        (["default/x", "--image", WHOAMI, "--port", "0"], "--port"),
        (["default/x", "--image", WHOAMI, "--port", "80", "--volsync", "lots"], "--volsync"),
        (["default/x", "--image", WHOAMI, "--port", "80", "--secret", "lower"], "--secret"),
        (["default/x", "--image", WHOAMI, "--port", "80", "--chart", "oci://x/y"], "--chart-version"),
        (["default/x", "--image", WHOAMI, "--port", "80", "--cluster", "bitty"], "deprecated"),
        (["default/x", "--image", WHOAMI, "--port", "80", "--cluster", "nope"], "nope"),
    ],
    ids=[
        "uppercase",
        "underscore",
        "namespace",
        "yaml-bool-app",
        "yaml-bool-namespace",
        "no-namespace",
        "exists",
        "unpinned",
        "no-tag",
        "route",
        "port",
        "size",
        "secret",
        "chart",
        "deprecated",
        "unknown-cluster",
    ],
)
def test_refusals_exit_2_and_write_nothing(repo: Path, args: list[str], needle: str) -> None:
    before = snapshot(repo)
    proc = run_cli("new", "app", *args, "--path", str(repo))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("homeops: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert needle in proc.stderr
    assert snapshot(repo) == before


def test_unpinned_image_allowed_on_request(repo: Path) -> None:
    proc = run_cli(
        "new",
        "app",
        "default/x",
        "--image",
        "127.0.0.1:1/some/image:1.0",
        "--port",
        "80",
        "--allow-unpinned",
        "--path",
        str(repo),
    )
    assert proc.returncode == 0, proc.stderr
    assert "not pinned" in proc.stderr
    hr = yaml.safe_load(
        (repo / "cluster-apps/alpha/default/x/app/helmrelease.yaml").read_text(encoding="utf-8")
    )
    assert hr["spec"]["values"]["controllers"]["x"]["containers"]["app"]["image"]["tag"] == "1.0"


def test_digest_resolved_through_the_registry(repo: Path) -> None:
    asked: list[str] = []

    def resolve(ref: str) -> str:
        asked.append(ref)
        return DIGEST

    options = AppOptions(namespace="default", app="x", image="ghcr.io/some/image:1.2.3", port=80)
    plan = plan_new_app(repo, load_profile(repo), options, resolve=resolve)
    assert asked == ["ghcr.io/some/image:1.2.3"]
    hr = next(e.new for e in plan.edits if e.path.endswith("helmrelease.yaml"))
    assert f"tag: 1.2.3@{DIGEST}" in (hr or "")

    def failing(ref: str) -> str:
        raise HomeopsError("cannot reach registry ghcr.io")

    with pytest.raises(HomeopsError, match=r"cannot pin image .*cannot reach registry"):
        plan_new_app(repo, load_profile(repo), options, resolve=failing)
    with pytest.raises(HomeopsError, match="not available"):
        plan_new_app(repo, load_profile(repo), options, resolve=None)


def test_two_clusters_need_cluster(repo: Path) -> None:
    init_repo(repo, cluster="beta", domain=None, gateway_internal="10.1.0.1", gateway_external="10.1.0.2")
    proc = run_cli("new", "app", "default/x", "--image", WHOAMI, "--port", "80", "--path", str(repo))
    assert proc.returncode == 2 and "several clusters" in proc.stderr
    proc = run_cli(
        "new", "app", "default/x", "--image", WHOAMI, "--port", "80", "--cluster", "beta", "--path", str(repo)
    )
    assert proc.returncode == 0, proc.stderr
    assert (repo / "cluster-apps/beta/default/x/ks.yaml").is_file()
    assert blocking_findings(repo) == []


def test_parse_image() -> None:
    assert parse_image(WHOAMI) == Image("ghcr.io/traefik/whoami", "v1.10.4", WHOAMI.split("@")[1])
    assert parse_image("localhost:5000/a/b:1") == Image("localhost:5000/a/b", "1", None)
    assert str(parse_image("nginx:1.27")) == "nginx:1.27"
    for bad in ("Nginx:1", "nginx:1@sha256:xyz", "nginx", "nginx:", "a b:1"):
        with pytest.raises(HomeopsError):
            parse_image(bad)

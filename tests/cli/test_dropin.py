"""Every flux-local and flate command of docs/dropin.md, run as their users run it, on the example.

Commands that render charts use the example with its ``observability/gatus`` release pointed at the
test chart in a real local registry (the other releases' registries are out of reach, which the
commands must say). Each test names the upstream command it stands for.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helm"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diff"))

from diff_support import EXAMPLE, GitRepo, make_repo
from helm_support import PushedCharts, chart_meta, chart_registry, chart_tgz, require_registry

import registry_support as testing
from homeops.core import yamlio
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.credentials import Credentials, CredentialStore

GATUS = "cluster-apps/chongus/observability/gatus"
GRAFANA_VALUES = "cluster-apps/chongus/observability/grafana/app/values.yaml"


def cli(*args: str, home: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real entry point; with ``home``, its own chart cache and no Docker credentials of the machine."""
    env = {**os.environ, "NO_COLOR": "1"}
    if home is not None:
        env.update(XDG_CACHE_HOME=str(home / "cache"), DOCKER_CONFIG=str(home / "docker"))
        env.pop("HOMEOPS_OFFLINE", None)
        env.pop("REGISTRY_AUTH_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", *args],
        capture_output=True, text=True, env=env, cwd=cwd, check=False,
    )  # fmt: skip


E = str(EXAMPLE)


def build_gatus(root: Path | str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``homeops build hr gatus --cluster chongus --path ROOT --enable-helm ARGS...``"""
    return cli(
        "build", "hr", "gatus", "--cluster", "chongus", "--path", str(root), "--enable-helm", *args, home=home
    )  # fmt: skip


# ------------------------------------------------------------------------------------------ get
def test_get_ks_wide_as_flux_local_prints_it() -> None:
    """flux-local get ks -o wide"""
    proc = cli("get", "ks", "-o", "wide", "--path", E)
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0].split()
    assert header[:4] == ["CLUSTER", "NAMESPACE", "NAME", "PATH"] and "DEPENDSON" in header
    assert any(line.split()[2] == "gatus" for line in proc.stdout.splitlines()[1:])


def test_get_hr_all_namespaces_and_one_namespace() -> None:
    """flux-local get hr -A; flux-local get hr -n metallb"""
    every = cli("get", "hr", "-A", "--path", E)
    assert every.returncode == 0, every.stderr
    namespaces = {line.split()[1] for line in every.stdout.splitlines()[1:]}
    assert {"observability", "database"} <= namespaces
    one = cli("get", "hr", "-n", "observability", "--path", E)
    assert {line.split()[1] for line in one.stdout.splitlines()[1:]} == {"observability"}


def test_get_cluster_alias() -> None:
    """flux-local get cluster"""
    proc = cli("get", "cluster", "--path", E, "-o", "name")
    assert proc.returncode == 0 and proc.stdout.split() == ["bitty", "chongus"]


@pytest.mark.parametrize("output", ["yaml", "json", "name", "table"])
def test_get_ks_outputs_as_flate_offers_them(output: str) -> None:
    """flate get ks --path ./kubernetes [-o table|yaml|json|name]"""
    proc = cli("get", "ks", "gatus", "--path", E, "-o", output)
    assert proc.returncode == 0, proc.stderr
    if output == "yaml":
        docs = yamlio.load_all(proc.stdout)
        assert [d["name"] for d in docs] == ["gatus"] and docs[0]["path"].endswith("gatus/app")
    elif output == "json":
        assert [i["name"] for i in json.loads(proc.stdout)["items"]] == ["gatus"]
    elif output == "name":
        assert proc.stdout == "gatus\n"
    else:
        assert proc.stdout.splitlines()[1].split()[2] == "gatus"
    missing = cli("get", "ks", "nope", "--path", E)
    assert missing.returncode == 2 and "no Flux Kustomization named 'nope'" in missing.stderr


def test_get_images_name_is_one_image_a_line() -> None:
    """flate get images (-o name)"""
    proc = cli("get", "images", "-o", "name", "--path", E)
    assert proc.returncode == 0, proc.stderr
    images = proc.stdout.splitlines()
    assert images == sorted(set(images)) and any(i.startswith("ghcr.io/twin/gatus:") for i in images)


def test_get_all_summarises_each_cluster() -> None:
    """flate get all -o json"""
    proc = cli("get", "all", "--path", E, "-o", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["cluster"]: r for r in json.loads(proc.stdout)["items"]}
    assert rows["chongus"]["kustomizations"] > 5 and rows["chongus"]["helmReleases"] > 5
    assert rows["bitty"]["errors"] == 0


# ------------------------------------------------------------------------------------------ build
def test_build_ks_prints_what_kustomize_prints() -> None:
    """flux-local build ks --path tests/testdata/cluster/ | kustomize cfg count"""
    proc = cli("build", "ks", "--path", E, "--cluster", "chongus")
    assert proc.returncode == 0, proc.stderr
    kinds = {d["kind"] for d in yamlio.load_all(proc.stdout)}
    assert {"Kustomization", "HelmRelease", "OCIRepository"} <= kinds
    one = cli("build", "kustomization", "gatus", "--path", E, "--cluster", "chongus")
    objects = yamlio.load_all(one.stdout)
    assert {o["metadata"]["namespace"] for o in objects} == {"observability"}


def test_build_all_with_kind_filters() -> None:
    """flux-local build all; --skip-secrets --skip-crds --skip-kinds"""
    every = cli("build", "all", "--path", E, "--cluster", "bitty")
    assert every.returncode == 0, every.stderr
    kinds = [d["kind"] for d in yamlio.load_all(every.stdout)]
    assert "Secret" in kinds
    skipped = cli(
        "build",
        "all",
        "--path",
        E,
        "--cluster",
        "bitty",
        "--skip-secrets",
        "--skip-kinds",
        "HelmRelease,Namespace",
    )
    left = {d["kind"] for d in yamlio.load_all(skipped.stdout)}
    assert not left & {"Secret", "HelmRelease", "Namespace"} and left
    assert cli("build", "all", "--path", E, "--no-skip-secrets", "--cluster", "bitty").stdout == every.stdout


def test_sources_maps_a_source_to_a_directory(tmp_path: Path) -> None:
    """flux-local --sources cluster=./k8s/: a Kustomization of another GitRepository rendered from PATH"""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    (root / "vendored/app").mkdir(parents=True)
    (root / "vendored/app/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-vendored\n  namespace: default\ndata:\n  a: b\n"
    )
    (root / "vendored/app/kustomization.yaml").write_text("resources: [cm.yaml]\n")
    ks = root / "clusters/bitty/flux/config/vendored.yaml"
    ks.write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: vendored\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./app\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: vendor-repo\n"
    )
    kust = root / "clusters/bitty/flux/config/kustomization.yaml"
    if kust.exists():
        text = kust.read_text()
        kust.write_text(text.replace("resources:\n", "resources:\n  - vendored.yaml\n", 1))
    (root / "clusters/bitty/flux/config/vendor-repo.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: vendor-repo\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  url: https://example.com/vendor.git\n  ref:\n    branch: main\n"
    )
    before = cli("build", "ks", "vendored", "--path", str(root), "--cluster", "bitty")
    assert "from-vendored" not in before.stdout
    after = cli(
        "build",
        "ks",
        "vendored",
        "--path",
        str(root),
        "--cluster",
        "bitty",
        "--sources",
        "vendor-repo=vendored",
    )
    assert after.returncode == 0, after.stderr
    assert "name: from-vendored" in after.stdout
    bad = cli("build", "ks", "--path", str(root), "--sources", "vendor-repo=nowhere")
    assert bad.returncode == 2 and "'nowhere' is not a directory" in bad.stderr


# ------------------------------------------------------------------------------------------ test
def test_test_reports_one_line_each_and_fails_on_any_failure(tmp_path: Path) -> None:
    """flux-local test; flate test all --path ./kubernetes"""
    ok = cli("test", "--path", E)
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0].split() == ["STATUS", "CLUSTER", "KIND", "NAME", "REASON"]
    assert all(line.split()[0] == "rendered" for line in lines[1:-1])
    assert lines[-1].startswith(f"{len(lines) - 2} rendered, 0 failed")
    assert cli("test", "ks", "gatus", "--path", E).stdout.count("rendered  chongus") == 1
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    (root / GATUS / "app/kustomization.yaml").write_text("resources: [missing.yaml]\n")
    bad = cli("test", "all", "--path", str(root), "-o", "json")
    assert bad.returncode == 1
    failed = [i for i in json.loads(bad.stdout)["items"] if i["status"] == "failed"]
    assert [i["name"] for i in failed] == ["gatus"] and "missing.yaml" in failed[0]["reason"]


# ------------------------------------------------------------------------------------------ diff
@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_repo(tmp_path / "home-ops")


def _bump_gatus(repo: GitRepo) -> None:
    repo.edit(f"{GATUS}/app/helmrelease.yaml", "tag: v5.20.0", "tag: v5.21.0")


def test_diff_ks_name_narrows_to_one_kustomization(repo: GitRepo) -> None:
    """flux-local diff ks apps"""
    _bump_gatus(repo)
    repo.write(GRAFANA_VALUES, repo.read(GRAFANA_VALUES) + "homeopsTestValue: 1\n")
    assert "grafana" in repo.cli().stdout  # the whole diff has both changes
    proc = repo.cli("ks", "gatus")
    assert proc.returncode == 0, proc.stderr
    assert "# chongus: modified HelmRelease observability/gatus" in proc.stdout
    assert "grafana" not in proc.stdout
    flags_first = repo.cli("--exit-code", "ks", "gatus")  # options before or after the subcommand
    assert flags_first.returncode == 1 and flags_first.stdout == proc.stdout
    unknown = repo.cli("ks", "nope")
    assert unknown.returncode == 2 and "no Flux Kustomization named 'nope' at either side" in unknown.stderr


def test_diff_all_and_path_orig(repo: GitRepo, tmp_path: Path) -> None:
    """flate diff all --path ./kubernetes --path-orig ../baseline/kubernetes; flate diff ks ..."""
    baseline = tmp_path / "baseline"
    shutil.copytree(repo.path, baseline)
    _bump_gatus(repo)
    for command in (["all"], ["ks"], []):
        proc = repo.cli(*command, "--path-orig", str(baseline))
        assert proc.returncode == 0, proc.stderr
        assert "+              tag: v5.21.0" in proc.stdout
    same = repo.cli("--path-orig", str(repo.path))
    assert same.returncode == 0 and "+0 -0" not in same.stdout and "modified" not in same.stdout
    both = repo.cli("--path-orig", str(baseline), "--base", "HEAD")
    assert both.returncode == 2 and "--path-orig compares directories" in both.stderr


def test_diff_images_lists_added_images(repo: GitRepo, tmp_path: Path) -> None:
    """flate diff images --path ./kubernetes --path-orig ../baseline/kubernetes -o json"""
    _bump_gatus(repo)
    proc = repo.cli("images", "-o", "list")  # flate's bare array
    assert proc.returncode == 0, proc.stderr
    added = json.loads(proc.stdout)
    assert json.loads(repo.cli("images", "-o", "json").stdout) == {"items": added}  # the contract's shape
    assert isinstance(added, list) and len(added) == 1 and added[0].startswith("ghcr.io/twin/gatus:v5.21.0@")
    names = repo.cli("images")
    assert names.stdout == added[0] + "\n"
    both = repo.cli("images", "--include-removed", "-o", "yaml")
    assert yamlio.load_one(both.stdout) == sorted([added[0], added[0].replace("v5.21.0", "v5.20.0")])
    repo.commit("bump")
    assert repo.cli("images", "-o", "list").stdout == "[]\n"  # HEAD and the working tree are the same


def test_diff_says_what_it_cannot_compare_and_exits_2(repo: GitRepo) -> None:
    """Never silent: a Kustomization that renders at neither side is a warning with why, exit 2."""
    repo.write(f"{GATUS}/app/kustomization.yaml", "resources: [missing.yaml]\n")
    repo.commit("break gatus at both sides")
    _bump_gatus(repo)
    proc = repo.cli()
    assert proc.returncode == 2
    assert "missing.yaml" in proc.stderr and "(at both sides)" in proc.stderr
    assert "observability/gatus did not render at base" in proc.stderr
    assert repo.cli("--exit-code").returncode == 1
    data = json.loads(repo.cli("--format", "json").stdout)
    assert {(u["kind"], u["name"]) for u in data["unrendered"]} == {("Kustomization", "observability/gatus")}
    assert repo.cli("ks", "grafana").returncode == 0  # another Kustomization compares fine


# ------------------------------------------------------------------------------------------ helm
@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushedCharts]:
    with chart_registry(tmp_path_factory.mktemp("dropin-registry")) as pushed_charts:
        yield pushed_charts


def _point_gatus_at(root: Path, url: str) -> None:
    oci_file = root / GATUS / "app/ocirepository.yaml"
    text = oci_file.read_text().replace("oci://ghcr.io/bjw-s-labs/helm/app-template", url)
    oci_file.write_text(text.replace("tag: 4.2.0", "tag: 1.2.0"))


@pytest.fixture
def helm_repo(tmp_path: Path, pushed: PushedCharts) -> GitRepo:
    repo = make_repo(tmp_path / "home-ops")
    _point_gatus_at(repo.path, pushed.url)
    repo.commit("gatus from the local registry")
    return repo


def test_build_hr_one_and_every_release(helm_repo: GitRepo, tmp_path: Path) -> None:
    """flux-local build hr podinfo -n podinfo --path ...; flate build hr --path ./kubernetes plex"""
    home, root = tmp_path / "home", str(helm_repo.path)
    one = build_gatus(root, "-n", "observability", home=home)
    assert one.returncode == 0, one.stderr
    kinds = [d["kind"] for d in yamlio.load_all(one.stdout)]
    assert "Deployment" in kinds and "HelmRelease" not in kinds
    every = cli("build", "helmreleases", "--path", root, "--cluster", "chongus", "--enable-helm", home=home)
    assert every.returncode == 1  # the other charts' registries are out of reach: said, not hidden
    assert "chart source unavailable" in every.stderr
    objects = yamlio.load_all(every.stdout)
    assert objects and all(o["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "gatus" for o in objects)


def test_kube_version_and_api_versions_reach_the_chart(helm_repo: GitRepo, tmp_path: Path) -> None:
    """flux-local/flate --kube-version, --api-versions"""
    home, root = tmp_path / "home", str(helm_repo.path)
    (helm_repo.path / GATUS / "app/helmrelease.yaml").write_text(
        (helm_repo.path / GATUS / "app/helmrelease.yaml")
        .read_text()
        .replace("  values:\n", "  values:\n    monitoring:\n      enabled: true\n", 1)
    )
    plain = build_gatus(root, home=home)
    assert "ServiceMonitor" not in plain.stdout
    proc = build_gatus(root, "--kube-version", "1.29.4", "-a", "monitoring.coreos.com/v1", home=home)
    assert proc.returncode == 0, proc.stderr
    assert "homeops.io/kube-version: v1.29.4" in proc.stdout
    assert "kind: ServiceMonitor" in proc.stdout
    bad = build_gatus(root, "--kube-version", "latest", home=home)
    assert bad.returncode == 2 and "--kube-version 'latest' is not a version" in bad.stderr


def test_diff_hr_name_with_helm(helm_repo: GitRepo, tmp_path: Path) -> None:
    """flux-local diff hr -n podinfo podinfo"""
    helm_repo.edit(f"{GATUS}/app/helmrelease.yaml", "  values:\n", "  values:\n    replicaCount: 5\n")
    env_home = tmp_path / "home"
    proc = cli(
        "diff",
        "--path",
        str(helm_repo.path),
        "hr",
        "gatus",
        "-n",
        "observability",
        "--enable-helm",
        home=env_home,
    )
    assert proc.returncode == 0, proc.stderr
    assert "modified Deployment observability/gatus" in proc.stdout and "+  replicas: 5" in proc.stdout
    needs = cli("diff", "--path", str(helm_repo.path), "hr", "gatus", home=env_home)
    assert needs.returncode == 2 and "diff hr needs --enable-helm" in needs.stderr
    every = cli("diff", "--path", str(helm_repo.path), "--enable-helm", home=env_home)
    assert every.returncode == 2  # charts that cannot be fetched: not compared, said, exit 2
    assert "did not render at base and head" in every.stderr and "(at both sides)" in every.stderr


def test_test_enable_helm_tests_releases(helm_repo: GitRepo, tmp_path: Path) -> None:
    """flux-local test --enable-helm; flate test hr"""
    home, root = tmp_path / "home", str(helm_repo.path)
    one = cli("test", "hr", "gatus", "--path", root, "--enable-helm", home=home)
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines()[1].split()[:4] == [
        "rendered",
        "chongus",
        "HelmRelease",
        "observability/gatus",
    ]
    every = cli("test", "--path", root, "--enable-helm", "--cluster", "chongus", "-o", "json", home=home)
    assert every.returncode == 1
    failed = {i["name"] for i in json.loads(every.stdout)["items"] if i["status"] == "failed"}
    assert "gatus" not in failed and failed
    assert cli("test", "hr", "--path", root, home=home).returncode == 2


def test_registry_config_supplies_credentials(tmp_path: Path) -> None:
    """flux-local/flate --registry-config: a Docker config.json for an OCI registry needing a login"""
    require_registry()
    with testing.LocalRegistry(tmp_path / "auth", htpasswd=("homeops", "s3cret-pass")) as reg:
        creds = CredentialStore([], static={reg.host: Credentials("homeops", "s3cret-pass")})
        repository = f"{reg.host}/charts/testchart"
        testing.push_chart(
            RegistryClient(credentials=creds),
            repository,
            "1.2.0",
            chart_tgz("1.2.0"),
            chart_yaml=chart_meta("1.2.0"),
        )
        root = tmp_path / "repo"
        shutil.copytree(EXAMPLE, root)
        _point_gatus_at(root, f"oci://{repository}")
        config = tmp_path / "login.json"
        config.write_text(
            json.dumps({"auths": {reg.host: {"username": "homeops", "password": "s3cret-pass"}}})
        )
        denied = build_gatus(root, home=tmp_path / "h1")
        assert denied.returncode == 1 and "s3cret" not in denied.stderr
        allowed = build_gatus(root, "--registry-config", str(config), home=tmp_path / "h2")
        assert allowed.returncode == 0, allowed.stderr
        assert "kind: Deployment" in allowed.stdout
    missing = build_gatus(E, "--registry-config", str(tmp_path / "none"), home=tmp_path / "h3")
    assert missing.returncode == 2 and "is not a file" in missing.stderr

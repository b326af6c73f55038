"""``build hr``, ``build ks --enable-helm`` and ``check --enable-helm`` as users run them, with a real registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helm"))

from helm_support import PushedCharts, chart_registry, require_registry

import registry_support as testing
from support import flux_ks


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushedCharts]:
    with chart_registry(tmp_path_factory.mktemp("hr-registry")) as pushed_charts:
        yield pushed_charts


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The real entry point with its own chart cache and no Docker credentials of the machine."""
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(home / "cache"),
        "DOCKER_CONFIG": str(home / "docker"),
        "NO_COLOR": "1",
    }
    env.pop("HOMEOPS_OFFLINE", None)
    env.pop("REGISTRY_AUTH_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


ROOT_KS = flux_ks("apps", "./apps")


def repo(root: Path, url: str) -> Path:
    files = {
        "clusters/c/flux/apps.yaml": ROOT_KS,
        "apps/oci.yaml": f"""\
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata:
              name: demo
              namespace: media
            spec:
              interval: 1h
              layerSelector:
                mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
                operation: copy
              ref:
                tag: 1.2.0
              url: {url}
            """,
        "apps/hr.yaml": """\
            ---
            # demo app: replicas and memory set here
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: demo
              namespace: media
            spec:
              interval: 1h
              chartRef:
                kind: OCIRepository
                name: demo
              values:
                replicaCount: 3
                env:
                  MODE: cli
                resources:
                  limits: null
            """,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


HR_LINE = 3  # apiVersion of the HelmRelease in apps/hr.yaml


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_build_hr_renders_the_chart_with_the_release_values(
    tmp_path: Path, pushed: PushedCharts, home: Path
) -> None:
    root = repo(tmp_path / "r", pushed.url)
    proc = cli("build", "hr", "demo", "-n", "media", "--path", str(root), "--enable-helm", home=home)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "kind: Deployment" in proc.stdout and "kind: Service" in proc.stdout
    assert "kind: HelmRelease" not in proc.stdout
    assert "replicas: 3" in proc.stdout
    assert "value: cli" in proc.stdout
    assert "helm.toolkit.fluxcd.io/name: demo" in proc.stdout
    as_json = cli("build", "hr", "demo", "--path", str(root), "--enable-helm", "-o", "json", home=home)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["release"] == {"name": "demo", "namespace": "media", "source": f"apps/hr.yaml:{HR_LINE}"}
    deploy = next(o for o in data["items"] if o["kind"] == "Deployment")
    assert deploy["metadata"]["namespace"] == "media"
    assert deploy["spec"]["replicas"] == 3


def test_build_hr_needs_enable_helm(tmp_path: Path, pushed: PushedCharts, home: Path) -> None:
    root = repo(tmp_path / "r", pushed.url)
    proc = cli("build", "hr", "demo", "-n", "media", "--path", str(root), home=home)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("homeops: error: build hr needs --enable-helm")
    assert "network" not in lines[0] or "--enable-helm" in lines[0]


def test_build_hr_unknown_release_is_a_usage_error(tmp_path: Path, pushed: PushedCharts, home: Path) -> None:
    root = repo(tmp_path / "r", pushed.url)
    proc = cli("build", "hr", "nope", "--path", str(root), "--enable-helm", home=home)
    assert proc.returncode == 2
    assert "no HelmRelease named 'nope'" in proc.stderr and "media/demo" in proc.stderr


def test_build_hr_offline_miss_then_hit(tmp_path: Path, pushed: PushedCharts, home: Path) -> None:
    root = repo(tmp_path / "r", pushed.url)
    miss = cli("build", "hr", "demo", "--path", str(root), "--enable-helm", "--offline", home=home)
    assert miss.returncode == 1
    assert "Traceback" not in miss.stderr
    line = miss.stderr.strip()
    assert line.startswith(f"homeops: error: apps/hr.yaml:{HR_LINE}: ")
    assert "offline" in line and "not in the cache" in line and line.endswith("[HO120]")
    assert cli("build", "hr", "demo", "--path", str(root), "--enable-helm", home=home).returncode == 0
    hit = cli("build", "hr", "demo", "--path", str(root), "--enable-helm", "--offline", home=home)
    assert hit.returncode == 0, hit.stderr
    assert "kind: Deployment" in hit.stdout


def test_build_hr_unreachable_registry_is_one_error_line(tmp_path: Path, home: Path) -> None:
    require_registry()
    root = repo(tmp_path / "r", f"oci://127.0.0.1:{testing.free_port()}/charts/testchart")
    proc = cli("build", "hr", "demo", "--path", str(root), "--enable-helm", home=home)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"homeops: error: apps/hr.yaml:{HR_LINE}: HelmRelease media/demo: chart source unavailable"
    )


def test_build_ks_enable_helm_includes_the_labelled_deployment(
    tmp_path: Path, pushed: PushedCharts, home: Path
) -> None:
    root = repo(tmp_path / "r", pushed.url)
    plain = cli("build", "ks", "--path", str(root), "-o", "json", home=home)
    assert plain.returncode == 0, plain.stderr
    assert "Deployment" not in {i["object"]["kind"] for i in json.loads(plain.stdout)["items"]}
    proc = cli("build", "ks", "--path", str(root), "-o", "json", "--enable-helm", home=home)
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)["items"]
    kinds = [i["object"]["kind"] for i in items]
    assert "HelmRelease" in kinds
    deploy = next(i for i in items if i["object"]["kind"] == "Deployment")
    labels = deploy["object"]["metadata"]["labels"]
    assert labels["helm.toolkit.fluxcd.io/name"] == "demo"
    assert labels["helm.toolkit.fluxcd.io/namespace"] == "media"
    assert (
        "kustomize.toolkit.fluxcd.io/name" not in labels
    )  # helm-controller applies it, not kustomize-controller
    assert deploy["source"] == f"apps/hr.yaml:{HR_LINE}"
    assert deploy["ks"] == "flux-system/apps"


def test_check_enable_helm_reports_chart_output_at_the_helmrelease_line(
    tmp_path: Path, pushed: PushedCharts, home: Path
) -> None:
    root = repo(tmp_path / "r", pushed.url)
    args = ("check", str(root), "--select", "HO009,HO010", "--format", "json")
    without = cli(*args, home=home)
    assert without.returncode in (0, 1), without.stderr
    assert not any(f["object"]["kind"] == "Deployment" for f in json.loads(without.stdout)["findings"])
    proc = cli(*args, "--enable-helm", home=home)
    assert proc.returncode == 1, proc.stderr
    found = {
        (f["rule"], f["file"], f["line"], f["object"]["kind"]) for f in json.loads(proc.stdout)["findings"]
    }
    assert ("HO009", "apps/hr.yaml", HR_LINE, "Deployment") in found
    assert ("HO010", "apps/hr.yaml", HR_LINE, "Deployment") in found

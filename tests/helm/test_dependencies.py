"""A chart kept in the repository whose dependencies are not in its ``charts/``: each is fetched from
its repository (a real local OCI registry, a real HTTP Helm repository on loopback, a ``file://`` path)
before rendering, as source-controller's dependency build does; the repository is never written."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helm_support import CHART_DIR, PushedCharts, chart_registry

import registry_support as testing
from homeops.core import yamlio


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushedCharts]:
    with chart_registry(tmp_path_factory.mktemp("deps-registry"), ("1.2.0", "1.2.7")) as charts:
        yield charts


@pytest.fixture(scope="module")
def http_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTP Helm repository serving ``httpchart`` 0.3.0 and 0.4.0 (index.yaml and archives)."""
    root = tmp_path_factory.mktemp("http-repo")
    entries = []
    for version in ("0.3.0", "0.4.0"):
        src = root / "src" / "httpchart"
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(CHART_DIR, src)
        meta = (src / "Chart.yaml").read_text().replace("name: testchart", "name: httpchart")
        (src / "Chart.yaml").write_text(meta.replace("version: 1.2.0", f"version: {version}"))
        data = testing.package_chart(src)
        (root / f"httpchart-{version}.tgz").write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        entries.append(
            f"  - name: httpchart\n    version: {version}\n    digest: {digest}\n"
            f"    urls: [httpchart-{version}.tgz]\n"
        )
    (root / "index.yaml").write_text("apiVersion: v1\nentries:\n  httpchart:\n" + "".join(entries))
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _repo(root: Path, dependencies: str) -> Path:
    files = {
        "clusters/c/flux/apps.yaml": """\
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata:
              name: apps
              namespace: flux-system
            spec:
              interval: 10m
              path: ./apps
              prune: true
              sourceRef:
                kind: GitRepository
                name: flux-system
            """,
        "apps/hr.yaml": """\
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: umbrella
              namespace: media
            spec:
              interval: 1h
              chart:
                spec:
                  chart: ./charts/umbrella
                  sourceRef:
                    kind: GitRepository
                    name: flux-system
                    namespace: flux-system
            """,
        "charts/umbrella/Chart.yaml": "apiVersion: v2\nname: umbrella\nversion: 0.1.0\n" + dependencies,
        "charts/umbrella/templates/cm.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}-umbrella
            data:
              subcharts: {{ keys .Subcharts | sortAlpha | join "," | quote }}
            """,
        "charts/common/Chart.yaml": "apiVersion: v2\nname: common\nversion: 2.0.0\n",
        "charts/common/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-common\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def _build(root: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(home / "cache"), "DOCKER_CONFIG": str(home / "docker")}
    env.pop("HOMEOPS_OFFLINE", None)
    return subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", "build", "hr", "umbrella", "--path", str(root), "--enable-helm"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_dependencies_from_oci_http_and_file_are_fetched(
    tmp_path: Path, pushed: PushedCharts, http_repo: str
) -> None:
    root = _repo(tmp_path / "repo", f"""\
dependencies:
  - name: testchart
    version: ~1.2.0
    repository: oci://{pushed.registry.host}/charts
  - name: httpchart
    version: ">=0.3.0 <0.4.0"
    repository: {http_repo}
  - name: common
    version: 2.0.0
    repository: file://../common
""")  # fmt: skip
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    proc = _build(root, tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yamlio.load_all(proc.stdout)}
    assert objects[("ConfigMap", "umbrella-umbrella")]["data"]["subcharts"] == "common,httpchart,testchart"
    assert ("ConfigMap", "from-common") in objects
    labels = {o["metadata"].get("labels", {}).get("helm.sh/chart") for o in objects.values()}
    assert {"testchart-1.2.7", "httpchart-0.3.0"} <= labels  # highest allowed by each constraint
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing written to the repository
    again = _build(root, tmp_path / "home")  # the built copy is reused
    assert again.returncode == 0 and again.stdout == proc.stdout


def test_chart_lock_pins_the_version(tmp_path: Path, pushed: PushedCharts) -> None:
    root = _repo(tmp_path / "repo", f"""\
dependencies:
  - name: testchart
    version: ^1.0.0
    repository: oci://{pushed.registry.host}/charts
""")  # fmt: skip
    (root / "charts/umbrella/Chart.lock").write_text(
        f"dependencies:\n- name: testchart\n  repository: oci://{pushed.registry.host}/charts\n  version: 1.2.0\n"
    )
    proc = _build(root, tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    assert "helm.sh/chart: testchart-1.2.0" in proc.stdout


def test_a_dependency_that_cannot_be_had_is_one_error_line(tmp_path: Path) -> None:
    root = _repo(
        tmp_path / "repo", "dependencies:\n  - name: redis\n    version: 1.0.0\n    repository: '@bitnami'\n"
    )
    proc = _build(root, tmp_path / "home")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "dependency redis (@bitnami)" in lines[0] and "[HO120]" in lines[0]
    present = _repo(
        tmp_path / "repo2", "dependencies:\n  - name: common\n    version: 2.0.0\n    repository: '@x'\n"
    )
    shutil.copytree(present / "charts/common", present / "charts/umbrella/charts/common")
    ok = _build(present, tmp_path / "home")  # already in charts/: nothing to fetch
    assert ok.returncode == 0, ok.stderr

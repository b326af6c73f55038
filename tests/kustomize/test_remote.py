"""Files a kustomization names by URL, fetched with ``--remote`` from a real HTTP server on 127.0.0.1:
the native engine prints what ``kubectl kustomize`` prints for the same directory (kubectl fetches the
same URLs); without ``--remote`` nothing is fetched and the Flux Kustomization does not render; what was
fetched once is read from the cache offline; a 404, a page that is no manifest and an uncached URL
offline are one clear finding each."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from differential import kubectl_text, native_text

from homeops.api import RenderSettings, Workspace
from homeops.core import cache
from homeops.kustomize.build import Builder, BuildOptions
from homeops.kustomize.remote import RemoteFiles, is_remote_file
from support import write_tree

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
---
apiVersion: v1
kind: Namespace
metadata:
  name: widgets
"""
DASHBOARD = json.dumps({"title": "Widgets", "panels": [{"id": 1, "type": "graph"}]}, indent=2) + "\n"
PAGE = "<!DOCTYPE html>\n<html><body>a repository page</body></html>\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving crd.yaml, dashboard.json and page.html (others: 404)."""
    served = tmp_path / "served"
    write_tree(served, {"crd.yaml": CRD, "dashboard.json": DASHBOARD, "page.html": PAGE})

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(served), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def repository(root: Path, url: str, resource: str = "crd.yaml") -> Path:
    write_tree(root, {
        "clusters/home/flux/apps.yaml": """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: apps, namespace: flux-system}
            spec:
              interval: 1h
              path: ./apps
              prune: true
              sourceRef: {kind: GitRepository, name: flux-system}
            """,
        "apps/kustomization.yaml": f"""
            resources:
              - {url}/{resource}
              - cm.yaml
            configMapGenerator:
              - name: dashboards
                files:
                  - widgets.json={url}/dashboard.json
            """,
        "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local, namespace: widgets}\n",
    })  # fmt: skip
    return root


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    monkeypatch.delenv(cache.ENV_DISABLE, raising=False)
    monkeypatch.delenv("HOMEOPS_OFFLINE", raising=False)
    cache.reset()
    yield xdg
    cache.flush()
    cache.reset()


def test_what_urls_serve_builds_as_kubectl_builds_it(
    server: str, tmp_path: Path, kubectl: str, own_cache: Path
) -> None:
    root = repository(tmp_path / "repo", server)
    expected, error = kubectl_text(root / "apps")
    assert expected is not None, error
    builder = Builder(root, options=BuildOptions(remote=RemoteFiles()))
    actual, native_error = native_text(builder, root / "apps")
    assert native_error == ""
    assert actual == expected
    assert "kind: CustomResourceDefinition" in actual and '"title": "Widgets"' in actual


def test_a_flux_render_fetches_only_with_remote(server: str, tmp_path: Path, own_cache: Path) -> None:
    root = repository(tmp_path / "repo", server)
    offline = Workspace(root).render()
    [why] = [f for f in offline.findings if f.rule == "HO101"]
    assert "not supported by the native engine" in why.message and "--remote" in (
        why.message + str(why.extra)
    )
    assert not list(offline.objects)

    fetched = Workspace(root, settings=RenderSettings(remote=True)).render()
    kinds = sorted(f"{o.kind}/{o.name}" for o in fetched.objects)
    assert kinds[:2] == ["ConfigMap/dashboards-" + kinds[0].split("-")[-1], "ConfigMap/local"]
    assert "CustomResourceDefinition/widgets.example.com" in kinds and "Namespace/widgets" in kinds
    crd = next(o for o in fetched.objects if o.kind == "CustomResourceDefinition")
    assert crd.file == f"{server}/crd.yaml"  # provenance: where the object was read


def _cli(root: Path, xdg: Path, *args: str, offline: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEOPS_")}
    env |= {
        "XDG_CACHE_HOME": str(xdg),
        "HOMEOPS_DAEMON": "0",
        **({"HOMEOPS_OFFLINE": "1"} if offline else {}),
    }
    code = "import sys; from homeops.cli import main; sys.argv[0] = 'homeops'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args, "--path", str(root)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_fetched_once_then_read_from_the_cache_offline(server: str, tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", server)
    xdg = tmp_path / "xdg"
    online = _cli(root, xdg, "build", "ks", "--remote")
    assert online.returncode == 0, online.stderr
    assert "widgets.example.com" in online.stdout
    (tmp_path / "served" / "crd.yaml").unlink()  # the server no longer has it: only the cache does
    again = _cli(root, xdg, "build", "ks", "--remote", offline=True)
    assert (again.returncode, again.stdout) == (0, online.stdout)
    missing = repository(tmp_path / "other", server, "crd-v2.yaml")  # served, but never fetched
    assert "crd-v2.yaml is not in the cache (offline)" in _ho101(missing, xdg, offline=True)


def _ho101(root: Path, xdg: Path, *, offline: bool = False) -> str:
    proc = _cli(root, xdg, "check", "--select", "HO101", "--remote", "--format", "json", offline=offline)
    found = json.loads(proc.stdout)["findings"]
    return "\n".join(f["message"] for f in found)


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("missing.yaml", "HTTP 404 from"),
        ("page.html", "is not a manifest"),
    ],
    ids=["404", "a page"],
)
def test_a_url_that_serves_no_manifest_is_one_finding(
    resource: str, message: str, server: str, tmp_path: Path
) -> None:
    root = repository(tmp_path / "repo", server, resource)
    found = _ho101(root, tmp_path / "xdg")
    assert message in found and f"{server}/{resource}" in found


@pytest.mark.parametrize(
    ("entry", "fetched"),
    [
        ("https://raw.githubusercontent.com/o/r/v1.0/crd.yaml", True),
        ("https://github.com/o/r/releases/download/v1/install.yaml", True),
        ("https://github.com/o/r//deploy?ref=v1.0", False),
        ("https://github.com/o/r.git", False),
        ("github.com/o/r/deploy?ref=v1", False),
        ("git@github.com:o/r.git", False),
        ("./local.yaml", False),
    ],
)
def test_which_entries_are_files_to_fetch(entry: str, fetched: bool) -> None:
    assert is_remote_file(entry) is fetched

"""``images list`` and ``images pin`` as users run them, against a real registry on loopback."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helm"))

from helm_support import CHART_DIR, anonymous_client, require_registry

import registry_support as testing
from homeops.helm import render as helm_render
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.credentials import Credentials, CredentialStore
from homeops.registry.oci.manifests import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from homeops.registry.oci.references import parse_reference
from support import flux_ks


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.LocalRegistry]:
    require_registry()
    with testing.LocalRegistry(tmp_path_factory.mktemp("images-registry")) as reg:
        client = anonymous_client()
        testing.push_image(client, f"{reg.host}/org/single", "v1.2.3")
        testing.push_index(client, f"{reg.host}/org/multi", "v4.5.6")
        testing.push_image(client, f"{reg.host}/org/app", "1.0", docker=True)
        yield reg


def served_digest(reg: testing.LocalRegistry, repository: str, tag: str) -> str:
    """What the registry itself answers for the tag: the digest a pin must carry."""
    accept = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST))
    request = urllib.request.Request(
        f"{reg.url}/v2/{repository}/manifests/{tag}", method="HEAD", headers={"Accept": accept}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(resp.headers["Docker-Content-Digest"])


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(home / "cache"),
        "DOCKER_CONFIG": str(home / "docker"),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


ROOT_KS = flux_ks("apps", "./apps")

DEPLOY = """\
# raw workload
apiVersion: apps/v1
kind: Deployment
metadata:
  name: raw
  namespace: default
spec:
  selector:
    matchLabels: {{app: raw}}
  template:
    metadata:
      labels: {{app: raw}}
    spec:
      initContainers:
        - name: init
          image: "{host}/org/multi:v4.5.6"   # multi-arch, keep this comment
      containers:
        - name: main
          image: {host}/org/single:v1.2.3 # single platform
        - name: pinned
          image: {host}/org/single:v1.2.3@sha256:{zeros}
"""

HR = """\
---
# chart-managed app
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
  namespace: default
spec:
  interval: 1h
  chart:
    spec:
      chart: ./charts/testchart
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  values:
    image:
      repository: {host}/org/app
      tag: "1.0"  # renovate: keep
"""


def repo(root: Path, host: str, *, extra: dict[str, str] | None = None) -> Path:
    files = {
        "clusters/c/flux/apps.yaml": ROOT_KS,
        "apps/deploy.yaml": DEPLOY.format(host=host, zeros="0" * 64),
        "apps/hr.yaml": HR.format(host=host),
        **(extra or {}),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    shutil.copytree(CHART_DIR, root / "charts" / "testchart")
    return root


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


# -- list ------------------------------------------------------------------------------------------


def test_images_list_json(tmp_path: Path, registry: testing.LocalRegistry, home: Path) -> None:
    root = repo(tmp_path / "r", registry.host)
    proc = cli("images", "list", "--path", str(root), "-o", "json", home=home)
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)["items"]
    got = {(i["image"], i["pinned"], i["origin"], i["source"], i["container"]) for i in items}
    deploy, hr = root / "apps/deploy.yaml", root / "apps/hr.yaml"
    host = registry.host
    assert got == {
        (f"{host}/org/multi:v4.5.6", False, "workload", f"apps/deploy.yaml:{line_of(deploy, 'org/multi')}", "init"),
        (f"{host}/org/single:v1.2.3", False, "workload", f"apps/deploy.yaml:{line_of(deploy, 'single platform')}", "main"),
        (f"{host}/org/single:v1.2.3@sha256:" + "0" * 64, True, "workload",
         f"apps/deploy.yaml:{line_of(deploy, '@sha256')}", "pinned"),
        (f"{host}/org/app:1.0", False, "values", f"apps/hr.yaml:{line_of(hr, 'tag:')}", ""),
    }  # fmt: skip
    assert all(i["cluster"] == "c" and i["file"] and i["line"] for i in items)


def test_images_list_with_charts(tmp_path: Path, registry: testing.LocalRegistry, home: Path) -> None:
    try:
        helm_render.get_engine()
    except helm_render.EngineMissingError as exc:
        pytest.skip(f"no Helm engine: {exc.hint}")
    root = repo(tmp_path / "r", registry.host)
    proc = cli("images", "list", "--path", str(root), "-o", "json", "--enable-helm", home=home)
    assert proc.returncode == 0, proc.stderr
    chart_rows = [i for i in json.loads(proc.stdout)["items"] if i["origin"] == "chart"]
    assert [(r["image"], r["kind"], r["name"], r["source"]) for r in chart_rows] == [
        (f"{registry.host}/org/app:1.0", "Deployment", "app-testchart", "apps/hr.yaml:3")
    ]
    table = cli("images", "list", "--path", str(root), "-o", "wide", home=home)
    assert table.returncode == 0 and "ORIGIN" in table.stdout and "apps/deploy.yaml:" in table.stdout


# -- pin -------------------------------------------------------------------------------------------


def test_images_pin_diff_then_write(tmp_path: Path, registry: testing.LocalRegistry, home: Path) -> None:
    root = repo(tmp_path / "r", registry.host)
    deploy, hr = root / "apps/deploy.yaml", root / "apps/hr.yaml"
    before = {p: p.read_text() for p in (deploy, hr)}
    single = served_digest(registry, "org/single", "v1.2.3")
    multi = served_digest(registry, "org/multi", "v4.5.6")
    app = served_digest(registry, "org/app", "1.0")

    dry = cli("images", "pin", "--path", str(root), home=home)
    assert dry.returncode == 0, dry.stderr
    assert {p: p.read_text() for p in (deploy, hr)} == before  # nothing written without --write
    assert "--- a/apps/deploy.yaml" in dry.stdout and "+++ b/apps/hr.yaml" in dry.stdout
    assert (
        f'+          image: "{registry.host}/org/multi:v4.5.6@{multi}"   # multi-arch, keep this comment'
        in dry.stdout
    )

    table = cli("images", "pin", "--path", str(root), "-o", "json", home=home)
    rows = json.loads(table.stdout)["items"]
    assert {(r["image"], r["digest"], r["status"]) for r in rows} == {
        (f"{registry.host}/org/multi:v4.5.6", multi, "pinned"),
        (f"{registry.host}/org/single:v1.2.3", single, "pinned"),
        (f"{registry.host}/org/app:1.0", app, "pinned"),
    }

    wrote = cli("images", "pin", "--path", str(root), "--write", home=home)
    assert wrote.returncode == 0, wrote.stderr
    assert "pinned 2 images in apps/deploy.yaml" in wrote.stdout
    assert "pinned 1 image in apps/hr.yaml" in wrote.stdout
    expected_deploy = (
        before[deploy]
        .replace(f'"{registry.host}/org/multi:v4.5.6"', f'"{registry.host}/org/multi:v4.5.6@{multi}"')
        .replace(f"{registry.host}/org/single:v1.2.3 #", f"{registry.host}/org/single:v1.2.3@{single} #")
    )
    assert deploy.read_text() == expected_deploy  # only the references changed; comments and quotes kept
    assert hr.read_text() == before[hr].replace(
        'tag: "1.0"  # renovate: keep', f'tag: "1.0@{app}"  # renovate: keep'
    )
    # a second run has nothing left to do
    again = cli("images", "pin", "--path", str(root), home=home)
    assert again.returncode == 0 and again.stdout == ""
    listed = json.loads(cli("images", "list", "--path", str(root), "-o", "json", home=home).stdout)["items"]
    assert all(i["pinned"] for i in listed)


def test_images_pin_errors_are_per_image(tmp_path: Path, registry: testing.LocalRegistry, home: Path) -> None:
    dead = f"127.0.0.1:{testing.free_port()}"
    extra = {
        "apps/more.yaml": textwrap.dedent(f"""\
            apiVersion: v1
            kind: Pod
            metadata:
              name: more
              namespace: default
            spec:
              containers:
                - name: missing
                  image: {registry.host}/org/single:nope
                - name: unreachable
                  image: {dead}/org/x:1.0
                - name: untagged
                  image: {registry.host}/org/single
            """)
    }
    root = repo(tmp_path / "r", registry.host, extra=extra)
    more = root / "apps/more.yaml"
    listed = cli("images", "pin", "--path", str(root), "-o", "json", home=home)
    assert listed.returncode == 1
    failed = {(r["image"], r["status"]) for r in json.loads(listed.stdout)["items"] if r["status"] == "error"}
    assert failed == {
        (f"{registry.host}/org/single:nope", "error"),
        (f"{dead}/org/x:1.0", "error"),
        (f"{registry.host}/org/single", "error"),
    }
    proc = cli("images", "pin", "--path", str(root), "--write", home=home)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 3
    assert errors[0].startswith(f"homeops: error: apps/more.yaml:{line_of(more, ':nope')}: cannot pin ")
    assert "tag nope of" in errors[0] and "does not exist" in errors[0]
    assert errors[1].startswith(
        f"homeops: error: apps/more.yaml:{line_of(more, dead)}: cannot pin {dead}/org/x:1.0"
    )
    assert errors[2] == (
        f"homeops: error: apps/more.yaml:{len(more.read_text().splitlines())}: image {registry.host}/org/single "
        "has no tag to pin (add the tag to track)"
    )
    # the other images were still pinned
    assert "@sha256:" in (root / "apps/hr.yaml").read_text()
    assert ":nope\n" in more.read_text()


def test_images_pin_bad_output_is_usage(tmp_path: Path, registry: testing.LocalRegistry, home: Path) -> None:
    root = repo(tmp_path / "r", registry.host)
    proc = cli("images", "pin", "--path", str(root), "-o", "yaml", home=home)
    assert proc.returncode == 2 and proc.stderr.startswith("homeops: error: unknown output 'yaml'")


def test_images_pin_with_credentials_never_prints_them(tmp_path: Path, home: Path) -> None:
    require_registry()
    password = "s3cret-Pa55word"
    with testing.LocalRegistry(tmp_path / "auth-registry", htpasswd=("homeops", password)) as reg:
        pusher = RegistryClient(
            credentials=CredentialStore([], static={reg.host: Credentials("homeops", password)})
        )
        testing.push_image(pusher, f"{reg.host}/org/single", "v1.2.3")
        testing.push_index(pusher, f"{reg.host}/org/multi", "v4.5.6")
        testing.push_image(pusher, f"{reg.host}/org/app", "1.0")
        root = repo(tmp_path / "r", reg.host)
        config = home / "docker" / "config.json"
        config.parent.mkdir(parents=True)
        wrong = "wrong-" + password
        token = base64.b64encode(f"homeops:{wrong}".encode()).decode()
        config.write_text(json.dumps({"auths": {reg.host: {"auth": token}}}))
        refused = cli("images", "pin", "--path", str(root), "-o", "json", home=home)
        assert refused.returncode == 1
        assert "Traceback" not in refused.stderr
        assert refused.stderr.count("homeops: error: ") == 3
        for secret in (wrong, token, password):
            assert secret not in refused.stdout + refused.stderr
        token = base64.b64encode(f"homeops:{password}".encode()).decode()
        config.write_text(json.dumps({"auths": {reg.host: {"auth": token}}}))
        allowed = cli("images", "pin", "--path", str(root), "--write", home=home)
        assert allowed.returncode == 0, allowed.stderr
        assert password not in allowed.stdout + allowed.stderr
        pinned = (root / "apps/deploy.yaml").read_text()
        assert (
            f"org/single:v1.2.3@{pusher.head_manifest(parse_reference(f'{reg.host}/org/single:v1.2.3')).digest}"
            in pinned
        )

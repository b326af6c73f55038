"""Bounded work: every limit of SECURITY.md, hit by a small repository built for it.

Each refusal is one line naming the file or reference, exit 2 for ``build``/``images pin`` (a finding
HO114 under ``check``), and quick. Registries are real HTTP servers on loopback: the local
``docker-registry`` where a chart is pushed as Helm pushes it, and a lying or stalling one
(``lying_registry``) where the registry itself misbehaves.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lying_registry import LyingRegistry
from security_support import FLUX_KS, write

import registry_support as testing
from homeops.core import limits, yamlio
from homeops.helm import render as helm_render
from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.credentials import CredentialStore

ROOT_KS = FLUX_KS.format(path="./apps")
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: {value}\n"


def cli(*args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real entry point with its own chart cache and no credentials of the machine."""
    env = {**os.environ, "XDG_CACHE_HOME": str(home / "cache"), "DOCKER_CONFIG": str(home / "docker")}
    env.pop("HOMEOPS_OFFLINE", None)
    return subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def one_error(proc: subprocess.CompletedProcess[str], code: int, fragment: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("homeops: error: ")]
    assert len(errors) == 1, proc.stderr
    assert fragment in errors[0], errors[0]
    assert len(errors[0]) < 1000, len(errors[0])
    return errors[0]


# ------------------------------------------------------------------------------------------ YAML
def test_documents_parse_in_linear_time() -> None:
    """An alias scan of the whole text per document made 100k documents take 21 s; now it is
    linear: four times the documents take about four times as long (sixteen when quadratic)."""

    def seconds(count: int) -> float:
        text = "".join(f"---\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n" for i in range(count))
        started = time.perf_counter()
        assert len(yamlio.load_all(text, "many.yaml")) == count
        return time.perf_counter() - started

    small, large = min(seconds(20_000) for _ in range(2)), seconds(80_000)
    assert large / small < 9, (small, large)


def test_the_document_limit_is_counted_while_parsing() -> None:
    limits.configure(limits.Limits(yaml_documents=10))
    try:
        with pytest.raises(limits.LimitError, match="more than 10 YAML documents"):
            yamlio.load_all("---\na: 1\n" * 11, "many.yaml")
        assert len(yamlio.load_all("---\na: 1\n" * 10, "ten.yaml")) == 10
    finally:
        limits.configure(limits.DEFAULT)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)
DEEP = "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v: 1\n"


@pytest.mark.parametrize(
    ("name", "profile", "text", "fragment"),
    [
        ("documents", "limits:\n  yaml_documents: 50\n", "---\n".join(CM.format(name=f"c{i}", value=1) for i in range(60)), "more than 50 YAML documents"),
        ("aliases", "", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  " + BOMB.replace("\n", "\n  "), "excessive aliasing"),
        ("depth", "", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n" + DEEP, "nests deeper than 200 levels"),
        ("size", "limits:\n  file_bytes: 2000\n", CM.format(name="big", value="x" * 3000), "over the limit of 2.0 KiB"),
    ],
)  # fmt: skip
def test_yaml_over_a_limit(tmp_path: Path, name: str, profile: str, text: str, fragment: str) -> None:
    repo = write(tmp_path / "repo", {"clusters/c/flux/root.yaml": ROOT_KS, "apps/x.yaml": text})
    if profile:
        write(repo, {".homeops.yaml": profile})
    started = time.monotonic()
    line = one_error(cli("build", "ks", "--path", str(repo), home=tmp_path), 2, fragment)
    assert "apps/x.yaml" in line and line.endswith("[HO114]")
    check = cli("check", "--format", "json", "--path", str(repo), home=tmp_path)
    assert check.returncode == 1, check.stderr
    assert any(
        f["rule"] == "HO114" and fragment in f["message"] for f in json.loads(check.stdout)["findings"]
    )
    assert time.monotonic() - started < 60


def test_an_integer_of_thousands_of_digits_is_a_string_as_go_reads_it(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {
        "clusters/c/flux/root.yaml": ROOT_KS,
        "apps/x.yaml": CM.format(name="n", value="9" * 5000),
    })  # fmt: skip
    proc = cli("build", "ks", "--path", str(repo), "-o", "json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    item = json.loads(proc.stdout)["items"][0]["object"]
    assert item["data"]["k"] == "9" * 5000


@pytest.mark.parametrize(
    ("profile", "fragment"),
    [
        ("limits:\n  file_bytes: 999999999999\n", "limits.file_bytes is above its ceiling"),
        ("limits:\n  template_memory_bytes: 1000\n", "limits.template_memory_bytes is below its floor"),
        ("limits:\n  nonsense: 1\n", "unknown key 'nonsense' under limits"),
        ("limits:\n  request_seconds: fast\n", "limits.request_seconds must be a positive number"),
        ("limits: 5\n", "limits must be a mapping"),
    ],
)
def test_limits_in_homeops_yaml_are_checked(tmp_path: Path, profile: str, fragment: str) -> None:
    repo = write(tmp_path / "repo", {"clusters/c/flux/root.yaml": ROOT_KS, ".homeops.yaml": profile})
    one_error(cli("build", "ks", "--path", str(repo), home=tmp_path), 2, fragment)


# -------------------------------------------------------------------------------------- registries
def helm_repo(root: Path, url: str, profile: str = "", image: str | None = None) -> Path:
    files = {
        "clusters/c/flux/root.yaml": ROOT_KS,
        "apps/oci.yaml": textwrap.dedent(f"""\
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
                tag: 1.0.0
              url: {url}
            """),
        "apps/hr.yaml": textwrap.dedent("""\
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
            """),
    }
    if image:
        files["apps/deploy.yaml"] = textwrap.dedent(f"""\
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: media
            spec:
              selector: {{matchLabels: {{app: web}}}}
              template:
                metadata: {{labels: {{app: web}}}}
                spec:
                  containers:
                    - name: web
                      image: {image}
            """)
    if profile:
        files[".homeops.yaml"] = profile
    return write(root, files)


def chart(templates: dict[str, str], name: str = "demo", extra: dict[str, bytes] | None = None) -> bytes:
    """A chart archive made here (Helm's ``<name>/`` layout)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        files = {
            f"{name}/Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n".encode(),
            **{f"{name}/templates/{k}": v.encode() for k, v in templates.items()},
            **{f"{name}/{k}": v for k, v in (extra or {}).items()},
        }
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


OK_CHART = chart({"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"})


@pytest.fixture
def lying() -> Iterator[LyingRegistry]:
    with LyingRegistry() as registry:
        yield registry


def cached_blobs(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "cache").rglob("blobs/sha256/*"))


def test_a_stalling_registry_meets_its_deadline(tmp_path: Path, lying: LyingRegistry) -> None:
    """One byte every 0.2 s: build hr and images pin stop at the deadline, one line, exit 2."""
    lying.add_chart("charts/demo", "1.0.0", OK_CHART)
    lying.add_chart("apps/web", "1.0", OK_CHART)
    lying.byte_delay = 0.2
    profile = "limits:\n  request_seconds: 2\n"
    repo = helm_repo(
        tmp_path / "repo", f"oci://{lying.host}/charts/demo", profile, f"{lying.host}/apps/web:1.0"
    )
    for args in (("build", "hr", "demo", "-n", "media", "--enable-helm"), ("images", "pin")):
        started = time.monotonic()
        proc = cli(*args, "--path", str(repo), home=tmp_path)
        assert time.monotonic() - started < 30, args
        one_error(proc, 2, "no complete answer within 2 s")


def test_a_silent_registry_meets_its_deadline(tmp_path: Path) -> None:
    """A registry that accepts the connection and never says a byte: the overall deadline ends it."""
    with testing.silent_registry() as host:
        repo = helm_repo(
            tmp_path / "repo",
            f"oci://{host}/charts/demo",
            "limits:\n  request_seconds: 2\n",
            f"{host}/apps/web:1.0",
        )
        for args in (("build", "hr", "demo", "-n", "media", "--enable-helm"), ("images", "pin")):
            started = time.monotonic()
            proc = cli(*args, "--path", str(repo), home=tmp_path)
            assert time.monotonic() - started < 30, args
            one_error(proc, 2, "within 2 s")


def test_a_chart_larger_than_the_limit_is_refused_before_downloading(
    tmp_path: Path, lying: LyingRegistry
) -> None:
    lying.add_chart("charts/demo", "1.0.0", OK_CHART, declared_size=200 * 1024 * 1024)
    repo = helm_repo(tmp_path / "repo", f"oci://{lying.host}/charts/demo")
    proc = cli("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo), home=tmp_path)
    one_error(proc, 2, f"is {200 * 1024 * 1024} bytes, over the limit of {limits.DEFAULT.chart_bytes}")
    assert not any("/blobs/" in r for r in lying.requests), lying.requests
    assert cached_blobs(tmp_path) == [] or all(
        b != testing.hashlib.sha256(OK_CHART).hexdigest() for b in cached_blobs(tmp_path)
    )


def test_a_blob_longer_than_its_descriptor_is_cut_off_and_not_cached(
    tmp_path: Path, lying: LyingRegistry
) -> None:
    served = OK_CHART + os.urandom(1024 * 1024)
    lying.add_chart("charts/demo", "1.0.0", OK_CHART, declared_size=12, served=served)
    repo = helm_repo(tmp_path / "repo", f"oci://{lying.host}/charts/demo")
    proc = cli("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo), home=tmp_path)
    one_error(proc, 2, "bytes, over the limit of 12 [")
    layer = testing.hashlib.sha256(OK_CHART).hexdigest()
    assert layer not in cached_blobs(tmp_path)
    assert not list((tmp_path / "cache").rglob(".part-*"))


@pytest.mark.parametrize(
    ("manifest", "fragment"),
    [
        ({"schemaVersion": 2, "layers": {}}, "layers must be a list"),
        ({"schemaVersion": 2, "layers": [{"mediaType": "x", "digest": "sha256:" + "0" * 64, "size": "huge"}]}, 'size must be a non-negative integer, got "huge"'),
        ({"schemaVersion": 2, "layers": ["nope"]}, "layers[0] is not a JSON object"),
    ],
)  # fmt: skip
def test_wrong_typed_manifest_json_is_one_error(
    tmp_path: Path, lying: LyingRegistry, manifest: dict[str, object], fragment: str
) -> None:
    lying.add_chart("charts/demo", "1.0.0", OK_CHART, manifest=manifest)
    repo = helm_repo(tmp_path / "repo", f"oci://{lying.host}/charts/demo")
    proc = cli("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo), home=tmp_path)
    one_error(proc, 1, fragment)


def test_a_refused_archive_leaves_nothing_in_the_cache(tmp_path: Path, lying: LyingRegistry) -> None:
    evil = chart({"cm.yaml": "a: 1\n"}, extra={"../../escape.yaml": b"x: 1\n"})
    lying.add_chart("charts/demo", "1.0.0", evil)
    repo = helm_repo(tmp_path / "repo", f"oci://{lying.host}/charts/demo")
    proc = cli("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo), home=tmp_path)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr
    assert testing.hashlib.sha256(evil).hexdigest() not in cached_blobs(tmp_path)


# ------------------------------------------------------------------------------------------- Helm
@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.LocalRegistry]:
    if testing.registry_binary() is None:
        pytest.skip("docker-registry binary absent: apt-get install docker-registry (CNCF distribution)")
    try:
        helm_render.get_engine("sdk")
    except helm_render.EngineMissingError as exc:
        pytest.skip(f"no in-process Helm engine: {exc.hint}")
    with testing.LocalRegistry(tmp_path_factory.mktemp("limits-registry")) as reg:
        yield reg


def push(registry: testing.LocalRegistry, name: str, template: str) -> str:
    client = RegistryClient(credentials=CredentialStore([]))
    repository = f"{registry.host}/charts/{name}"
    archive = chart({"cm.yaml": template}, name=name)
    testing.push_chart(
        client,
        repository,
        "1.0.0",
        archive,
        chart_yaml={"apiVersion": "v2", "name": name, "version": "1.0.0"},
    )
    return f"oci://{repository}"


@pytest.mark.parametrize(
    ("name", "template", "profile", "fragment"),
    [
        ("doubling", '{{- $s := "xxxxxxxx" }}{{- range until 40 }}{{- $s = print $s $s }}{{- end }}\na: {{ len $s }}\n',
         "limits:\n  template_memory_bytes: 1073741824\n", "exhausted the engine's memory (1024 MiB)"),
        ("until", "{{ range until 1000000000 }}x{{ end }}\n",
         "limits:\n  template_memory_bytes: 1073741824\n", "exhausted the engine's memory (1024 MiB)"),
        ("spin", "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n",
         "limits:\n  template_seconds: 3\n", "the chart's templates ran longer than 3 s"),
    ],
)  # fmt: skip
def test_runaway_templates_are_stopped(
    tmp_path: Path, registry: testing.LocalRegistry, name: str, template: str, profile: str, fragment: str
) -> None:
    repo = helm_repo(tmp_path / "repo", push(registry, name, template), profile)
    started = time.monotonic()
    proc = cli("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo), home=tmp_path)
    line = one_error(proc, 2, fragment)
    assert line.endswith("[HO114]")
    assert time.monotonic() - started < 60


def test_recursion_through_include_is_one_short_line(tmp_path: Path, registry: testing.LocalRegistry) -> None:
    url = push(registry, "recursive", '{{- define "r" }}{{ include "r" . }}{{ end }}\n{{ include "r" . }}\n')
    repo = helm_repo(tmp_path / "repo", url)
    proc = cli("build", "hr", "demo", "-n", "media", "--enable-helm", "--path", str(repo), home=tmp_path)
    line = one_error(proc, 1, "characters)")
    assert "error calling include" in line

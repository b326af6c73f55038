"""The OCI distribution client against a real docker-registry (anonymous, htpasswd and token auth)."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helm_support import PushedCharts, anonymous_client, require_registry

import registry_support as testing
from homeops.core.profile import Profile
from homeops.registry.oci.client import RegistryClient, _next_link, parse_challenge
from homeops.registry.oci.credentials import Credentials, CredentialStore
from homeops.registry.oci.errors import (
    AuthError,
    NotFoundError,
    RegistryError,
    TooLargeError,
    UnreachableError,
)
from homeops.registry.oci.manifests import HELM_CHART_LAYER, HELM_CONFIG, OCI_MANIFEST
from homeops.registry.oci.references import parse_reference, scheme_for

# -- references --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("docker.io/nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("index.docker.io/bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        ("bitnami/redis", "docker.io", "bitnami/redis", None, None),
        (
            "oci://ghcr.io/bjw-s-labs/helm/app-template:4.2.0",
            "ghcr.io",
            "bjw-s-labs/helm/app-template",
            "4.2.0",
            None,
        ),
        ("localhost:5000/a/b:v1", "localhost:5000", "a/b", "v1", None),
        ("127.0.0.1:5000/a", "127.0.0.1:5000", "a", None, None),
        ("ghcr.io/org/app:v1.2.3@sha256:" + "a" * 64, "ghcr.io", "org/app", "v1.2.3", "sha256:" + "a" * 64),
        ("ghcr.io/org/app@sha256:" + "b" * 64, "ghcr.io", "org/app", None, "sha256:" + "b" * 64),
    ],
)
def test_parse_reference(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


def test_docker_hub_api_host_and_str() -> None:
    ref = parse_reference("nginx:1.27")
    assert ref.api_host == "registry-1.docker.io"
    assert str(ref) == "docker.io/library/nginx:1.27"
    assert ref.reference == "1.27"
    assert parse_reference("ghcr.io/a/b").reference == "latest"


@pytest.mark.parametrize(
    "text",
    ["", "Ghcr.io/UPPER/Case:1", "ghcr.io/a/b:bad tag", "ghcr.io/a/b@sha256:short", "ghcr.io/a//b", "a/b:"],
)
def test_parse_reference_rejects(text: str) -> None:
    with pytest.raises(RegistryError) as info:
        parse_reference(text, file="x.yaml", line=3)
    assert "\n" not in str(info.value)


def test_scheme_plain_http_only_for_loopback_and_listed() -> None:
    assert scheme_for("127.0.0.1:5000") == "http"
    assert scheme_for("127.8.9.1:80") == "http"
    assert scheme_for("localhost:5000") == "http"
    assert scheme_for("[::1]:5000") == "http"
    assert scheme_for("ghcr.io") == "https"
    assert scheme_for("10.0.0.5:5000") == "https"
    profile = Profile(insecure_registries=("registry.lan:5000", "harbor.home"))
    assert scheme_for("registry.lan:5000", profile.insecure_registries) == "http"
    assert scheme_for("harbor.home:443", profile.insecure_registries) == "http"
    assert scheme_for("registry.lan:6000", profile.insecure_registries) == "https"
    assert scheme_for("ghcr.io", insecure=True) == "http"


def test_parse_challenge() -> None:
    scheme, params = parse_challenge(
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/app:pull"'
    )
    assert scheme == "bearer"
    assert params == {
        "realm": "https://ghcr.io/token",
        "service": "ghcr.io",
        "scope": "repository:org/app:pull",
    }


# -- credentials --------------------------------------------------------------------------------


def test_docker_config_auths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hubuser:hubpass").decode()},
            "ghcr.io": {"auth": base64.b64encode(b"me:ghp_token:with:colons").decode()},
            "registry.lan:5000": {"username": "u", "password": "p"},
        }
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    store = CredentialStore()
    assert store.lookup("docker.io") == Credentials("hubuser", "hubpass")
    assert store.lookup("ghcr.io") == Credentials("me", "ghp_token:with:colons")
    assert store.lookup("registry.lan:5000") == Credentials("u", "p")
    assert store.lookup("quay.io") is None
    assert "hubpass" not in repr(store.lookup("docker.io"))


def test_missing_cred_helper_means_no_credentials(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "homeops-test-no-such-helper"}))
    assert CredentialStore([tmp_path / "config.json"]).lookup("ghcr.io") is None


def test_broken_credential_file_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(AuthError) as info:
        CredentialStore([tmp_path / "config.json"]).lookup("ghcr.io")
    assert str(tmp_path / "config.json") in str(info.value)


# -- the distribution API against the real registry -------------------------------------------


def _served_digest(url: str, accept: str) -> str:
    request = urllib.request.Request(url, method="HEAD", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(resp.headers["Docker-Content-Digest"])


def test_head_and_get_manifest(charts: PushedCharts) -> None:
    client = anonymous_client()
    ref = parse_reference(f"{charts.repository}:1.2.0")
    head = client.head_manifest(ref)
    assert head.digest == charts.digests["1.2.0"]
    assert head.digest == _served_digest(
        f"{charts.registry.url}/v2/charts/testchart/manifests/1.2.0", OCI_MANIFEST
    )
    manifest = client.get_manifest(ref)
    assert manifest.digest == head.digest
    assert manifest.media_type == OCI_MANIFEST
    assert [layer.media_type for layer in manifest.layers] == [HELM_CHART_LAYER]
    assert manifest.config is not None and manifest.config.media_type == HELM_CONFIG
    by_digest = client.get_manifest(ref.with_tag(None).with_digest(head.digest))
    assert by_digest.data == manifest.data


def test_fetch_blob_verifies_digest(charts: PushedCharts, tmp_path: Path) -> None:
    client = anonymous_client()
    ref = parse_reference(charts.repository)
    layer = client.get_manifest(ref.with_tag("1.0.0")).layers[0]
    data = client.fetch_blob(ref, layer.digest)
    assert data == charts.archives["1.0.0"]
    dest = tmp_path / "blob"
    client.fetch_blob(ref, layer.digest, dest)
    assert dest.read_bytes() == charts.archives["1.0.0"]
    with pytest.raises(NotFoundError):
        client.fetch_blob(ref, "sha256:" + "0" * 64)


def test_size_limits(charts: PushedCharts) -> None:
    client = RegistryClient(credentials=CredentialStore([]), max_manifest_bytes=64, max_blob_bytes=100)
    ref = parse_reference(f"{charts.repository}:1.0.0")
    with pytest.raises(TooLargeError):
        client.get_manifest(ref)
    big = anonymous_client().get_manifest(ref).layers[0].digest
    with pytest.raises(TooLargeError):
        client.fetch_blob(ref, big)


def test_list_tags(charts: PushedCharts) -> None:
    client = anonymous_client()
    ref = parse_reference(charts.repository)
    assert sorted(client.list_tags(ref)) == sorted(charts.digests)
    # distribution 2.8 ignores ?n= for tags; 3.x pages with Link headers, which the client follows
    assert sorted(client.list_tags(ref, page_size=2)) == sorted(charts.digests)


def test_next_link() -> None:
    current = "https://ghcr.io/v2/org/app/tags/list?n=2"
    assert (
        _next_link('</v2/org/app/tags/list?last=b&n=2>; rel="next"', current)
        == "https://ghcr.io/v2/org/app/tags/list?last=b&n=2"
    )
    assert _next_link(None, current) is None
    assert _next_link('</x>; rel="prev"', current) is None


def test_unknown_tag_is_not_found(charts: PushedCharts) -> None:
    with pytest.raises(NotFoundError) as info:
        anonymous_client().head_manifest(parse_reference(f"{charts.repository}:9.9.9"))
    assert "9.9.9" in str(info.value)


def test_unreachable_registry() -> None:
    port = testing.free_port()
    client = RegistryClient(credentials=CredentialStore([]), timeout=5)
    with pytest.raises(UnreachableError) as info:
        client.head_manifest(parse_reference(f"127.0.0.1:{port}/a/b:1"))
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "\n" not in message


# -- authentication -------------------------------------------------------------------------------

USER, PASSWORD = "alice", "s3cret-Pa55word"


@pytest.fixture(scope="module")
def htpasswd_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.LocalRegistry]:
    require_registry()
    with testing.LocalRegistry(tmp_path_factory.mktemp("htpasswd"), htpasswd=(USER, PASSWORD)) as reg:
        yield reg


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.LocalRegistry]:
    require_registry()
    root = tmp_path_factory.mktemp("token")
    server = testing.TokenServer(root / "token", {USER: PASSWORD}).start()
    try:
        with testing.LocalRegistry(root / "registry", token=server) as reg:
            yield reg
    finally:
        server.stop()


def _client_for(host: str, user: str | None, password: str | None) -> RegistryClient:
    static = {host: Credentials(user, password)} if user and password else {}
    return RegistryClient(credentials=CredentialStore([], static=static))


def test_basic_auth_registry(htpasswd_registry: testing.LocalRegistry) -> None:
    host = htpasswd_registry.host
    digest = testing.push_image(_client_for(host, USER, PASSWORD), f"{host}/private/app", "v1")
    assert (
        _client_for(host, USER, PASSWORD).head_manifest(parse_reference(f"{host}/private/app:v1")).digest
        == digest
    )
    with pytest.raises(AuthError) as anonymous:
        _client_for(host, None, None).head_manifest(parse_reference(f"{host}/private/app:v1"))
    assert "docker login" in str(anonymous.value)
    with pytest.raises(AuthError) as wrong:
        _client_for(host, USER, "wrong-password").head_manifest(parse_reference(f"{host}/private/app:v1"))
    assert "wrong-password" not in str(wrong.value)
    assert "refused" in str(wrong.value)


def test_basic_auth_from_docker_config(
    htpasswd_registry: testing.LocalRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = htpasswd_registry.host
    testing.push_image(_client_for(host, USER, PASSWORD), f"{host}/private/fromfile", "v1")
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    client = RegistryClient()
    assert client.head_manifest(parse_reference(f"{host}/private/fromfile:v1")).digest.startswith("sha256:")


def test_token_auth_anonymous_pull_of_public_repository(token_registry: testing.LocalRegistry) -> None:
    host = token_registry.host
    digest = testing.push_image(_client_for(host, USER, PASSWORD), f"{host}/public/app", "v1")
    client = _client_for(host, None, None)
    assert client.head_manifest(parse_reference(f"{host}/public/app:v1")).digest == digest
    assert client.stats.token_requests == 1
    client.head_manifest(parse_reference(f"{host}/public/app:v1"))
    assert client.stats.token_requests == 1  # the token is reused for the same scope


def test_token_auth_with_credentials_and_failures(token_registry: testing.LocalRegistry) -> None:
    host = token_registry.host
    digest = testing.push_image(_client_for(host, USER, PASSWORD), f"{host}/private/app", "v2")
    assert (
        _client_for(host, USER, PASSWORD).head_manifest(parse_reference(f"{host}/private/app:v2")).digest
        == digest
    )
    with pytest.raises(AuthError) as anonymous:
        _client_for(host, None, None).head_manifest(parse_reference(f"{host}/private/app:v2"))
    assert "anonymous" in str(anonymous.value)
    with pytest.raises(AuthError) as wrong:
        _client_for(host, USER, "not-the-password").head_manifest(parse_reference(f"{host}/private/app:v2"))
    text = str(wrong.value)
    assert (
        "not-the-password" not in text
        and base64.b64encode(f"{USER}:not-the-password".encode()).decode() not in text
    )


def test_errors_redact_secrets() -> None:
    client = RegistryClient(credentials=CredentialStore([]))
    client._remember("supersecrettoken")
    assert client.redact("got supersecrettoken back; Authorization: Bearer abc.def") == (
        "got *** back; Authorization: Bearer ***"
    )

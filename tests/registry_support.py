"""A real local OCI registry for tests and benchmarks, and a minimal pusher.

Runs Debian's ``docker-registry`` (CNCF distribution) on a free loopback port with its own config
and storage, optionally behind htpasswd basic auth or a token service, so the client is exercised
against the real thing rather than a mock. Nothing here is used by the CLI.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.registry.oci.client import RegistryClient
from homeops.registry.oci.manifests import (
    DOCKER_MANIFEST,
    HELM_CHART_LAYER,
    HELM_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    digest_of,
)
from homeops.registry.oci.references import Reference, parse_reference

REGISTRY_BINARY = "docker-registry"


def registry_binary() -> str | None:
    """The distribution binary, or None when ``apt-get install docker-registry`` was not done."""
    return (
        os.environ.get("HOMEOPS_REGISTRY_BINARY")
        or shutil.which(REGISTRY_BINARY)
        or (("/usr/bin/" + REGISTRY_BINARY) if os.path.exists("/usr/bin/" + REGISTRY_BINARY) else None)
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def silent_registry() -> Iterator[str]:
    """The ``host:port`` of a registry that accepts connections and never says a byte (they wait in the
    kernel's backlog, never answered): what only a deadline or Ctrl-C ends."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        yield f"127.0.0.1:{silent.getsockname()[1]}"


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry: the ``bcrypt`` package when installed, else ``htpasswd -nbB``."""
    try:
        import bcrypt

        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
        return f"{user}:{hashed}"
    except ImportError:
        pass
    binary = shutil.which("htpasswd")
    if binary is None:
        raise RuntimeError("need the bcrypt package or htpasswd (apache2-utils) to make an htpasswd file")
    out = subprocess.run(
        [binary, "-nbB", "-C", "5", user, password], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@dataclass
class LocalRegistry:
    """One ``docker-registry serve`` process on 127.0.0.1:<port>."""

    root: Path
    htpasswd: tuple[str, str] | None = None
    token: TokenServer | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def config(self) -> str:
        lines = [
            "version: 0.1",
            "log:",
            "  level: error",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.root / 'data'}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: 127.0.0.1:{self.port}",
            f"  secret: homeops-test-{self.port}",
        ]
        if self.htpasswd is not None:
            path = self.root / "htpasswd"
            path.write_text(htpasswd_line(*self.htpasswd) + "\n", encoding="utf-8")
            lines += ["auth:", "  htpasswd:", "    realm: homeops-test", f"    path: {path}"]
        elif self.token is not None:
            lines += [
                "auth:",
                "  token:",
                f"    realm: {self.token.url}/token",
                f"    service: {self.token.service}",
                f"    issuer: {self.token.issuer}",
                f"    rootcertbundle: {self.token.cert_path}",
            ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 20.0) -> LocalRegistry:
        binary = registry_binary()
        if binary is None:
            raise FileNotFoundError("docker-registry")
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        config = self.root / "config.yml"
        config.write_text(self.config(), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        log = open(self.root / "registry.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT, env=env
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(self.root / 'registry.log').read_text()[-2000:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not listen on {self.host} within {timeout}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ----------------------------------------------------------------------------------------------
# Token service (distribution's "auth: token"), for the Bearer challenge flow


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """Issues RS256 JWTs the registry trusts (``x5c`` with a self-signed certificate).

    ``users`` may pull and push anything; anonymous requests may only pull repositories under
    ``public/``, as on ghcr.io for public packages.
    """

    def __init__(self, root: Path, users: Mapping[str, str], *, service: str = "homeops-test") -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.users = dict(users)
        self.service = service
        self.issuer = "homeops-test-issuer"
        self.requests: list[dict[str, Any]] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "homeops-test-token")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        root.mkdir(parents=True, exist_ok=True)
        self.cert_path = root / "token-cert.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._cert_der = cert.public_bytes(serialization.Encoding.DER)
        self._hashes = hashes
        self.port = free_port()
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _sign(self, claims: dict[str, Any]) -> str:
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(self._cert_der).decode()]}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), self._hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def issue(self, user: str | None, scopes: Sequence[str]) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            granted = (
                wanted if user else ([a for a in wanted if a == "pull"] if name.startswith("public/") else [])
            )
            if kind == "repository" and granted:
                access.append({"type": "repository", "name": name, "actions": granted})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": hashlib.sha256(os.urandom(16)).hexdigest(),
            "access": access,
        }
        return self._sign(claims)

    def start(self) -> TokenServer:
        server_self = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parts.query)
                user: str | None = None
                auth = self.headers.get("Authorization", "")
                server_self.requests.append({"path": parts.path, "query": query, "auth": bool(auth)})
                if auth.startswith("Basic "):
                    decoded = base64.b64decode(auth[6:]).decode()
                    name, _, password = decoded.partition(":")
                    if server_self.users.get(name) != password:
                        self.send_response(401)
                        self.end_headers()
                        return
                    user = name
                token = server_self.issue(user, query.get("scope", []))
                body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# ----------------------------------------------------------------------------------------------
# Packaging and pushing


def package_chart(chart_dir: Path, *, name: str | None = None) -> bytes:
    """A chart ``.tgz`` in Helm's layout (``<name>/Chart.yaml`` …), byte-for-byte reproducible."""
    top = name or chart_dir.name
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(chart_dir.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{top}/{path.relative_to(chart_dir).as_posix()}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def push_blob(client: RegistryClient, ref: Reference, data: bytes) -> str:
    """Monolithic upload: ``POST /blobs/uploads/`` then ``PUT <location>?digest=``."""
    digest = digest_of(data)
    resp = client.request("POST", ref, f"/v2/{ref.repository}/blobs/uploads/", actions="pull,push")
    if resp.status != 202:
        raise RuntimeError(f"upload start failed: HTTP {resp.status} {resp.body[:200]!r}")
    location = resp.header("Location") or ""
    url = urllib.parse.urljoin(client.base_url(ref) + "/", location)
    url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"digest": digest})
    resp = client.request(
        "PUT",
        ref,
        url,
        actions="pull,push",
        body=data,
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))},
    )
    if resp.status != 201:
        raise RuntimeError(f"blob upload failed: HTTP {resp.status} {resp.body[:200]!r}")
    return digest


def push_manifest(
    client: RegistryClient, ref: Reference, reference: str, manifest: Mapping[str, Any]
) -> tuple[str, bytes]:
    data = json.dumps(manifest, separators=(",", ":")).encode()
    media_type = str(manifest.get("mediaType") or OCI_MANIFEST)
    resp = client.request(
        "PUT",
        ref,
        f"/v2/{ref.repository}/manifests/{reference}",
        actions="pull,push",
        body=data,
        headers={"Content-Type": media_type, "Content-Length": str(len(data))},
    )
    if resp.status != 201:
        raise RuntimeError(f"manifest upload failed: HTTP {resp.status} {resp.body[:300]!r}")
    return digest_of(data), data


def push_chart(
    client: RegistryClient, repository: str, tag: str, chart_tgz: bytes, *, chart_yaml: Mapping[str, Any]
) -> str:
    """Push a chart as Helm does (config + chart layer with Helm's media types); the manifest digest."""
    ref = parse_reference(repository)
    config = json.dumps(dict(chart_yaml), separators=(",", ":")).encode()
    config_digest = push_blob(client, ref, config)
    layer_digest = push_blob(client, ref, chart_tgz)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": HELM_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": HELM_CHART_LAYER, "digest": layer_digest, "size": len(chart_tgz)}],
        "annotations": {"org.opencontainers.image.title": str(chart_yaml.get("name", ""))},
    }
    digest, _ = push_manifest(client, ref, tag, manifest)
    return digest


def push_image(
    client: RegistryClient,
    repository: str,
    tag: str,
    *,
    platform: str = "linux/amd64",
    docker: bool = False,
) -> str:
    """A tiny single-platform image (one layer); the manifest digest."""
    ref = parse_reference(repository)
    os_name, arch = platform.split("/", 1)
    layer = gzip.compress(f"layer for {repository}:{tag} {platform}".encode(), mtime=0)
    config = json.dumps(
        {"architecture": arch, "os": os_name, "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    config_digest = push_blob(client, ref, config)
    layer_digest = push_blob(client, ref, layer)
    media = DOCKER_MANIFEST if docker else OCI_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": media,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json"
            if docker
            else "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"
                if docker
                else "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer_digest,
                "size": len(layer),
            }
        ],
    }
    digest, _ = push_manifest(client, ref, tag, manifest)
    return digest


def push_index(
    client: RegistryClient,
    repository: str,
    tag: str,
    platforms: Sequence[str] = ("linux/amd64", "linux/arm64"),
) -> tuple[str, dict[str, str]]:
    """A multi-arch image: one manifest per platform and an OCI index tagged ``tag``."""
    ref = parse_reference(repository)
    children: dict[str, str] = {}
    entries = []
    for platform in platforms:
        digest = push_image(client, repository, f"{tag}-{platform.replace('/', '-')}", platform=platform)
        manifest = client.get_manifest(ref.with_digest(digest))
        children[platform] = digest
        os_name, arch = platform.split("/", 1)
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": len(manifest.data),
                "platform": {"os": os_name, "architecture": arch},
            }
        )
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    digest, _ = push_manifest(client, ref, tag, index)
    return digest, children


def serve_directory(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A loopback HTTP server for a Helm repository directory (``index.yaml`` + archives)."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def helm_repo_index(entries: Mapping[str, Sequence[tuple[str, str, bytes]]]) -> str:
    """``index.yaml`` text: chart name → [(version, relative url, archive bytes)]."""
    doc: dict[str, Any] = {"apiVersion": "v1", "entries": {}}
    for name, versions in entries.items():
        doc["entries"][name] = [
            {
                "apiVersion": "v2",
                "name": name,
                "version": version,
                "urls": [url],
                "digest": hashlib.sha256(data).hexdigest(),
                "created": "2024-01-01T00:00:00Z",
            }
            for version, url, data in versions
        ]
    return json.dumps(doc, indent=1)


def wait_closed(url: str, timeout: float = 5.0) -> None:
    """Block until nothing listens at ``url`` any more (after stopping a registry)."""
    deadline = time.monotonic() + timeout
    parts = urllib.parse.urlsplit(url)
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=0.2):
                time.sleep(0.05)
        except OSError:
            return


__all__ = [
    "LocalRegistry",
    "TokenServer",
    "free_port",
    "helm_repo_index",
    "htpasswd_line",
    "package_chart",
    "push_blob",
    "push_chart",
    "push_image",
    "push_index",
    "registry_binary",
    "serve_directory",
]

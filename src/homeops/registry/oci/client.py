"""A small OCI distribution client: token auth, manifests, blobs and tags over HTTP.

Written on the standard library (``http.client``) so rendering charts and pinning images needs no
extra dependency. It speaks just enough of the distribution API for what Flux's source-controller
and Renovate do: resolve a tag to a digest, fetch a manifest and a layer, list tags.

Loopback registries are reached over plain HTTP, every other one over HTTPS unless it is listed in
``Profile.insecure_registries`` (or the source says ``insecure: true``). Credentials come from the
Docker credential file (:mod:`.credentials`) and never appear in an error message."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeops.core import limits
from homeops.registry.oci.credentials import CredentialStore
from homeops.registry.oci.errors import (
    AuthError,
    DeadlineError,
    DigestMismatchError,
    NotFoundError,
    RegistryError,
    TooLargeError,
    UnreachableError,
)
from homeops.registry.oci.manifests import ALL_MANIFEST_TYPES, Descriptor, Manifest, digest_of, hasher_for
from homeops.registry.oci.references import Reference, is_digest, scheme_for

if TYPE_CHECKING:  # annotations only: http.client (and ssl, email) load when a request is made (start-up)
    import http.client


MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""Distribution itself refuses manifests larger than 4 MiB."""
MAX_BLOB_BYTES = 512 * 1024 * 1024
MAX_TAG_PAGES = 100
USER_AGENT = "homeops (+oci-client)"


@dataclass
class _Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


_CHALLENGE_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="…",service="…",scope="…"`` → ``("bearer", {...})``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _CHALLENGE_PARAM.finditer(rest)
    }
    return scheme.lower(), {k: v.replace('\\"', '"') for k, v in params.items()}


@dataclass
class ClientStats:
    """Counts of what the client sent: tests use it to prove a cache hit made no request."""

    requests: int = 0
    token_requests: int = 0
    bytes_downloaded: int = 0


class _Watchdog:
    """Cuts a connection off when its deadline passes (a read blocked then returns or fails at once)."""

    def __init__(self, conn: http.client.HTTPConnection, seconds: float) -> None:
        self.conn = conn
        self.seconds = seconds
        self.expired = seconds <= 0
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        if not self.expired:
            self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        sock = self.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()

    def check(self, what: str) -> None:
        if self.expired:
            raise DeadlineError(
                f"{what}: no complete answer within {limits.current().request_seconds:g} s",
                None,
                None,
                "the registry is too slow or stalls; raise limits.request_seconds if it is only slow",
            )


class RegistryClient:
    """Talks to OCI registries; one instance caches tokens per registry and scope.

    Sizes and the deadline of each request default to :mod:`homeops.core.limits` in force.
    """

    def __init__(
        self,
        *,
        insecure_registries: Iterable[str] = (),
        credentials: CredentialStore | None = None,
        timeout: float = 30.0,
        max_manifest_bytes: int | None = None,
        max_blob_bytes: int = MAX_BLOB_BYTES,
        user_agent: str = USER_AGENT,
        deadline: float | None = None,
    ) -> None:
        self.insecure_registries = tuple(insecure_registries)
        self.credentials = credentials if credentials is not None else CredentialStore()
        self.timeout = timeout
        self._deadline = deadline
        self._max_manifest_bytes = max_manifest_bytes
        self.max_blob_bytes = max_blob_bytes
        self.user_agent = user_agent
        self.stats = ClientStats()
        self._auth: dict[tuple[str, str], str] = {}
        self._secrets: set[str] = set()

    @property
    def deadline(self) -> float:
        """Seconds one request may take in all (``limits.request_seconds`` unless given)."""
        return self._deadline if self._deadline is not None else limits.current().request_seconds

    @property
    def max_manifest_bytes(self) -> int:
        """The most a manifest, index or token answer may be (``limits.registry_response_bytes``)."""
        given = self._max_manifest_bytes
        return given if given is not None else limits.current().registry_response_bytes

    # -- redaction ---------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """Remove every credential and token this client has seen from ``text``."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return re.sub(r"(?i)(authorization:\s*\w+\s+)\S+", r"\1***", text)

    def _remember(self, *secrets: str) -> None:
        self._secrets.update(s for s in secrets if s)

    # -- transport ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        max_bytes: int,
        sink: Any = None,
        what: str = "",
    ) -> _Response:
        """One request, following redirects; the Authorization header never leaves the first host.

        The whole exchange (redirects included) has a deadline, ``limits.request_seconds``: a server
        that answers one byte at a time is cut off, whatever the per-read timeout.
        """
        import http.client  # start-up: references are parsed everywhere, requests made rarely

        current = url
        first_host = urllib.parse.urlsplit(url).netloc
        deadline = time.monotonic() + self.deadline
        for _ in range(6):
            parts = urllib.parse.urlsplit(current)
            send_headers = {"User-Agent": self.user_agent, **headers}
            if parts.netloc != first_host:
                send_headers.pop("Authorization", None)
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            conn: http.client.HTTPConnection
            if parts.scheme == "https":
                conn = http.client.HTTPSConnection(parts.netloc, timeout=self.timeout)
            elif parts.scheme == "http":
                conn = http.client.HTTPConnection(parts.netloc, timeout=self.timeout)
            else:
                raise RegistryError(f"unsupported URL scheme in {self.redact(current)!r}")
            self.stats.requests += 1
            watchdog = _Watchdog(conn, deadline - time.monotonic())
            try:
                conn.request(method, path, body=body, headers=send_headers)
                resp = conn.getresponse()
                if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
                    resp.read()
                    current = urllib.parse.urljoin(current, resp.getheader("Location") or "")
                    if resp.status == 303:
                        method, body = "GET", None
                    continue
                data = b""
                if method != "HEAD":
                    if resp.status < 300 and sink is not None:
                        self._stream(resp, sink, max_bytes, what or current)
                    else:
                        length = resp.getheader("Content-Length")
                        limit = max_bytes if resp.status < 300 else 1024 * 1024
                        if length and length.isdigit() and int(length) > limit:
                            raise TooLargeError(
                                f"{what or 'response'} is {length} bytes, over the limit of {limit}",
                                None,
                                None,
                                "raise the size limit if this is expected",
                            )
                        data = resp.read(limit + 1)
                        if len(data) > limit:
                            raise TooLargeError(f"{what or 'response'} is over the limit of {limit} bytes")
                        self.stats.bytes_downloaded += len(data)
                watchdog.check(what or "response")
                return _Response(resp.status, resp.headers, data, current)
            except (OSError, http.client.HTTPException) as exc:
                watchdog.check(what or "response")
                host = urllib.parse.urlsplit(current).netloc
                hint = "check the address, or list it under insecure_registries if it serves plain HTTP"
                raise UnreachableError(
                    self.redact(f"cannot reach registry {host}: {type(exc).__name__}: {exc}"),
                    None,
                    None,
                    hint,
                ) from None
            finally:
                watchdog.cancel()
                conn.close()
        raise RegistryError(f"too many redirects fetching {self.redact(url)}")

    def _stream(self, resp: http.client.HTTPResponse, sink: Any, max_bytes: int, what: str) -> None:
        length = resp.getheader("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise TooLargeError(f"{what} is {length} bytes, over the limit of {max_bytes}")
        total = 0
        while True:
            chunk = resp.read(1 << 16)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise TooLargeError(f"{what} is over the limit of {max_bytes} bytes")
            sink(chunk)
        self.stats.bytes_downloaded += total

    def http_get(self, url: str, *, max_bytes: int, what: str = "") -> _Response:
        """A plain GET (Helm repository ``index.yaml`` and archives), with limits and redirects."""
        return self._send("GET", url, {}, max_bytes=max_bytes, what=what)

    def base_url(self, ref: Reference, insecure: bool = False) -> str:
        scheme = scheme_for(ref.api_host, self.insecure_registries, insecure)
        return f"{scheme}://{ref.api_host}"

    def request(
        self,
        method: str,
        ref: Reference,
        path: str,
        *,
        actions: str = "pull",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int | None = None,
        sink: Any = None,
        insecure: bool = False,
        what: str = "",
    ) -> _Response:
        """A distribution API request with the token or basic auth dance done on a 401."""
        url = path if path.startswith(("http://", "https://")) else self.base_url(ref, insecure) + path
        scope = f"repository:{ref.repository}:{actions}"
        key = (ref.api_host, scope)
        send = dict(headers or {})
        limit = max_bytes if max_bytes is not None else self.max_manifest_bytes
        if key in self._auth:
            send["Authorization"] = self._auth[key]
        resp = self._send(method, url, send, body, max_bytes=limit, sink=sink, what=what)
        if resp.status != 401:
            return resp
        challenge = resp.headers.get("WWW-Authenticate")
        if not challenge:
            raise AuthError(
                f"registry {ref.registry} answered 401 without a challenge", None, None, "check the URL"
            )
        authorization = self._authorize(ref, challenge, scope)
        self._auth[key] = authorization
        send["Authorization"] = authorization
        resp = self._send(method, url, send, body, max_bytes=limit, sink=sink, what=what)
        if resp.status == 401:
            creds = self.credentials.lookup(ref.registry)
            raise AuthError(
                f"registry {ref.registry} refused the {'credentials' if creds else 'anonymous request'} for {ref.repository}",
                None,
                None,
                "check the credentials in ~/.docker/config.json (docker login)"
                if creds
                else "run docker login for this registry",
            )
        return resp

    def _authorize(self, ref: Reference, challenge: str, scope: str) -> str:
        scheme, params = parse_challenge(challenge)
        creds = self.credentials.lookup(ref.registry)
        if creds:
            self._remember(creds.password, creds.basic().split(" ", 1)[1])
        if scheme == "basic":
            if creds is None:
                raise AuthError(
                    f"registry {ref.registry} requires credentials for {ref.repository}",
                    None,
                    None,
                    "run docker login for this registry",
                )
            return creds.basic()
        if scheme != "bearer" or "realm" not in params:
            raise AuthError(f"registry {ref.registry} asked for unsupported authentication {scheme!r}")
        query = {"scope": scope}
        if params.get("service"):
            query["service"] = params["service"]
        realm = params["realm"]
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        if creds:
            headers["Authorization"] = creds.basic()
        self.stats.token_requests += 1
        resp = self._send("GET", url, headers, max_bytes=1024 * 1024, what="token")
        if resp.status in (401, 403):
            raise AuthError(
                f"the token service of {ref.registry} refused the {'credentials' if creds else 'anonymous request'} for {ref.repository}",
                None,
                None,
                "check the credentials in ~/.docker/config.json (docker login)"
                if creds
                else "run docker login for this registry",
            )
        if resp.status != 200:
            raise AuthError(f"the token service of {ref.registry} answered HTTP {resp.status}")
        try:
            data = json.loads(resp.body)
            token = str(data.get("token") or data.get("access_token") or "")
        except (ValueError, AttributeError):
            token = ""
        if not token:
            raise AuthError(f"the token service of {ref.registry} returned no token")
        self._remember(token)
        return f"Bearer {token}"

    def _check(self, resp: _Response, ref: Reference, what: str) -> None:
        if resp.status < 300:
            return
        detail = ""
        try:
            errors = json.loads(resp.body).get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict))
        except (ValueError, AttributeError):
            pass
        text = self.redact(f"{what}: HTTP {resp.status}" + (f" ({detail})" if detail else ""))
        if resp.status == 404:
            raise NotFoundError(text, None, None, "check the repository name and tag")
        if resp.status in (401, 403):
            raise AuthError(text, None, None, "check the credentials in ~/.docker/config.json")
        raise RegistryError(text)

    # -- distribution API ---------------------------------------------------------------------

    def head_manifest(
        self, ref: Reference, *, accept: Sequence[str] = ALL_MANIFEST_TYPES, insecure: bool = False
    ) -> Descriptor:
        """The digest a registry serves for a tag or digest (the index digest for multi-arch)."""
        path = f"/v2/{ref.repository}/manifests/{ref.reference}"
        resp = self.request(
            "HEAD",
            ref,
            path,
            headers={"Accept": ", ".join(accept)},
            insecure=insecure,
            what=f"manifest {ref}",
        )
        if resp.status == 404:
            raise NotFoundError(
                f"manifest unknown: {ref}", None, None, "check that the tag exists in the registry"
            )
        self._check(resp, ref, f"HEAD manifest {ref}")
        digest = resp.header("Docker-Content-Digest")
        if not digest or not is_digest(digest):
            manifest = self.get_manifest(ref, accept=accept, insecure=insecure)
            return Descriptor(manifest.media_type, manifest.digest, len(manifest.data))
        if ref.digest and digest != ref.digest:
            raise DigestMismatchError(f"registry answered digest {digest} for {ref}")
        length = resp.header("Content-Length") or "0"
        return Descriptor(resp.header("Content-Type") or "", digest, int(length) if length.isdigit() else 0)

    def get_manifest(
        self, ref: Reference, *, accept: Sequence[str] = ALL_MANIFEST_TYPES, insecure: bool = False
    ) -> Manifest:
        path = f"/v2/{ref.repository}/manifests/{ref.reference}"
        resp = self.request(
            "GET", ref, path, headers={"Accept": ", ".join(accept)}, insecure=insecure, what=f"manifest {ref}"
        )
        if resp.status == 404:
            raise NotFoundError(
                f"manifest unknown: {ref}", None, None, "check that the tag exists in the registry"
            )
        self._check(resp, ref, f"GET manifest {ref}")
        expected = ref.digest or resp.header("Docker-Content-Digest")
        algorithm = expected.split(":", 1)[0] if expected and is_digest(expected) else "sha256"
        actual = digest_of(resp.body, algorithm)
        if expected and is_digest(expected) and actual != expected:
            raise DigestMismatchError(f"manifest {ref} hashes to {actual}, not {expected}")
        media_type = (resp.header("Content-Type") or "").split(";")[0].strip()
        if not media_type or media_type == "application/json":
            with contextlib.suppress(ValueError, AttributeError):
                media_type = str(json.loads(resp.body).get("mediaType") or media_type)
        return Manifest(actual, media_type, resp.body)

    def fetch_blob(
        self,
        ref: Reference,
        digest: str,
        dest: Path | None = None,
        *,
        max_bytes: int | None = None,
        insecure: bool = False,
    ) -> bytes | None:
        """A blob, verified against its digest: returned as bytes, or moved atomically to ``dest``."""
        if not is_digest(digest):
            raise RegistryError(f"invalid blob digest {digest!r}")
        limit = max_bytes if max_bytes is not None else self.max_blob_bytes
        hasher = hasher_for(digest)
        path = f"/v2/{ref.repository}/blobs/{digest}"
        if dest is None:
            chunks: list[bytes] = []

            def sink_mem(chunk: bytes) -> None:
                hasher.update(chunk)
                chunks.append(chunk)

            resp = self.request(
                "GET", ref, path, max_bytes=limit, sink=sink_mem, insecure=insecure, what=f"blob {digest}"
            )
            self._check(resp, ref, f"GET blob {ref.name}@{digest}")
            self._verify(hasher, digest, ref)
            return b"".join(chunks)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:

                def sink_file(chunk: bytes) -> None:
                    hasher.update(chunk)
                    out.write(chunk)

                resp = self.request(
                    "GET",
                    ref,
                    path,
                    max_bytes=limit,
                    sink=sink_file,
                    insecure=insecure,
                    what=f"blob {digest}",
                )
            self._check(resp, ref, f"GET blob {ref.name}@{digest}")
            self._verify(hasher, digest, ref)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return None

    @staticmethod
    def _verify(hasher: Any, digest: str, ref: Reference) -> None:
        actual = f"{digest.split(':', 1)[0]}:{hasher.hexdigest()}"
        if actual != digest:
            raise DigestMismatchError(f"blob of {ref.name} hashes to {actual}, not {digest}")

    def list_tags(self, ref: Reference, *, insecure: bool = False, page_size: int | None = None) -> list[str]:
        """Every tag of the repository, following ``Link: <…>; rel="next"`` pagination."""
        tags: list[str] = []
        path: str | None = f"/v2/{ref.repository}/tags/list" + (f"?n={page_size}" if page_size else "")
        pages = 0
        while path and pages < MAX_TAG_PAGES:
            pages += 1
            resp = self.request(
                "GET", ref, path, headers={"Accept": "application/json"}, insecure=insecure, what="tag list"
            )
            if resp.status == 404:
                raise NotFoundError(f"repository unknown: {ref.name}", None, None, "check the repository URL")
            self._check(resp, ref, f"GET tags of {ref.name}")
            try:
                page = json.loads(resp.body).get("tags") or []
            except (ValueError, AttributeError):
                raise RegistryError(f"the tag list of {ref.name} is not valid JSON") from None
            tags.extend(str(t) for t in page)
            path = _next_link(resp.header("Link"), resp.url)
        return tags


def _next_link(header: str | None, current: str) -> str | None:
    if not header:
        return None
    match = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', header)
    if not match:
        return None
    return urllib.parse.urljoin(current, match.group(1))

"""Registry references as distribution and Docker name them: ``registry/repository[:tag][@digest]``.

The grammar is distribution/reference's: lower-case path components separated by ``.``, ``_``, ``__``
or dashes; a tag of up to 128 word characters, dots and dashes; a sha256 or sha512 digest. The first
path part is a registry host only when it looks like one (a dot, a port, ``localhost`` or an upper-case
letter);
otherwise the reference is on Docker Hub (``docker.io``, reached at ``registry-1.docker.io``, with
``library/`` before one-part names). Loopback registries are spoken to over plain HTTP, every other one
over HTTPS unless it is listed as insecure."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from homeops.registry.oci.errors import ReferenceError_

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
_HOST_RE = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]+)?$")


@dataclass(frozen=True)
class Reference:
    """``registry/repository[:tag][@digest]``; ``registry`` is ``docker.io`` for Docker Hub."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """Where the distribution API is served (Docker Hub's API host differs from its name)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest when pinned, else the tag (default latest)."""
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str | None) -> Reference:
        return replace(self, tag=tag)

    def with_digest(self, digest: str | None) -> Reference:
        return replace(self, digest=digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def split_host(first: str) -> bool:
    """Whether the first path component names a registry host, as Docker decides it."""
    return "." in first or ":" in first or first == "localhost" or first.lower() != first


def parse_reference(text: str, *, file: str | None = None, line: int | None = None) -> Reference:
    """Parse ``oci://host/path:tag``, ``host/path:tag@sha256:…`` or a Docker Hub short name."""
    raw = text.strip()
    if raw.startswith("oci://"):
        raw = raw[len("oci://") :]
    if not raw or any(c.isspace() for c in raw):
        raise ReferenceError_(f"invalid reference {text!r}", file, line, "expected host/path:tag")
    digest: str | None = None
    if "@" in raw:
        raw, digest = raw.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise ReferenceError_(
                f"invalid digest in reference {text!r}", file, line, "expected @sha256:<64 hex digits>"
            )
    tag: str | None = None
    last_slash = raw.rfind("/")
    colon = raw.rfind(":")
    if colon > last_slash:
        raw, tag = raw[:colon], raw[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise ReferenceError_(f"invalid tag {tag!r} in reference {text!r}", file, line)
    first, _, rest = raw.partition("/")
    if rest and split_host(first):
        registry, repository = first, rest
        if not _HOST_RE.match(registry):
            raise ReferenceError_(f"invalid registry host {registry!r} in {text!r}", file, line)
        if registry.lower() in DOCKER_HUB_ALIASES:
            registry = DOCKER_HUB
    else:
        registry, repository = DOCKER_HUB, raw
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not _REPOSITORY_RE.match(repository):
        raise ReferenceError_(
            f"invalid repository {repository!r} in reference {text!r}",
            file,
            line,
            "repository names are lowercase letters, digits and . _ - separated by /",
        )
    return Reference(registry, repository, tag, digest)


def is_digest(text: str) -> bool:
    return bool(_DIGEST_RE.match(text))


def host_only(host: str) -> str:
    """``127.0.0.1:5000`` → ``127.0.0.1``; ``[::1]:5000`` → ``::1``."""
    if host.startswith("["):
        return host[1 : host.index("]")]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_loopback(host: str) -> bool:
    name = host_only(host).lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def scheme_for(host: str, insecure_registries: Iterable[str] = (), insecure: bool = False) -> str:
    """Plain HTTP for loopback and listed registries, HTTPS for every other one."""
    listed = set(insecure_registries)
    if insecure or is_loopback(host) or host in listed or host_only(host) in listed:
        return "http"
    return "https"

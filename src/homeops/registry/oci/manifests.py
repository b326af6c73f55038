"""OCI image manifests and indexes (and Docker's v2 schema 2 manifests and lists), as served: media
types, descriptors checked field by field (a registry is not trusted), digests of content."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeops.registry.oci.errors import RegistryError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ALL_MANIFEST_TYPES = (OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST)

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Mapping[str, Any] | None = None

    @classmethod
    def from_json(cls, data: Any, where: str = "descriptor") -> Descriptor:
        """A descriptor of a manifest, checked field by field (a registry is not trusted either)."""
        if not isinstance(data, Mapping):
            raise RegistryError(f"{where} is not a JSON object")
        size = data.get("size", 0)
        if size is None:
            size = 0
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise RegistryError(f"{where}: size must be a non-negative integer, got {_short(size)}")
        media_type, digest = data.get("mediaType", ""), data.get("digest", "")
        if not isinstance(media_type, str) or not isinstance(digest, str):
            raise RegistryError(f"{where}: mediaType and digest must be strings")
        annotations = data.get("annotations") or {}
        platform = data.get("platform")
        if not isinstance(annotations, Mapping) or not isinstance(platform, Mapping | None):
            raise RegistryError(f"{where}: annotations and platform must be JSON objects")
        return cls(media_type, digest, size, dict(annotations), platform)


@dataclass(frozen=True)
class Manifest:
    """A manifest or an index exactly as served: its bytes are what the digest covers."""

    digest: str
    media_type: str
    data: bytes

    @property
    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.data)
        except ValueError:
            raise RegistryError(f"manifest {self.digest} is not valid JSON") from None
        if not isinstance(value, dict):
            raise RegistryError(f"manifest {self.digest} is not a JSON object")
        return value

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES or "manifests" in self.json

    def _descriptors(self, key: str) -> list[Descriptor]:
        items = self.json.get(key)
        if items is None:
            return []
        if not isinstance(items, list):
            raise RegistryError(f"manifest {self.digest}: {key} must be a list, got {_short(items)}")
        return [Descriptor.from_json(d, f"manifest {self.digest}: {key}[{i}]") for i, d in enumerate(items)]

    @property
    def layers(self) -> list[Descriptor]:
        return self._descriptors("layers")

    @property
    def config(self) -> Descriptor | None:
        cfg = self.json.get("config")
        return None if cfg is None else Descriptor.from_json(cfg, f"manifest {self.digest}: config")

    @property
    def manifests(self) -> list[Descriptor]:
        return self._descriptors("manifests")


def _short(value: Any) -> str:
    """A value from a registry, for a message: its JSON, cut short."""
    text = json.dumps(value)[:40]
    return text if len(text) < 40 else text + "..."


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def hasher_for(digest: str) -> Any:
    """A hashlib object for the digest's algorithm (sha256 or sha512; any other is refused)."""
    algorithm = digest.split(":", 1)[0]
    if algorithm not in ("sha256", "sha512"):
        raise RegistryError(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)

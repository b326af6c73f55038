"""What a diff is made of: rendered objects placed in their cluster and Flux Kustomization, the
change of one object between two revisions, and the change of one image.

Kept apart from :mod:`homeops.diff.compare` so that the danger notes, which read changes, and the
comparison, which makes them, both depend on it rather than on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeops.flux.model import FluxKustomization
from homeops.kustomize.resource import Resource

Key = tuple[str, str, str, str]  # cluster, kind, namespace, name


@dataclass
class Placed:
    """A rendered object with where it belongs: its cluster and Flux Kustomization."""

    cluster: str
    res: Resource
    ks: FluxKustomization

    @property
    def key(self) -> Key:
        return (self.cluster, self.res.kind, self.res.namespace, self.res.name)


@dataclass
class Change:
    cluster: str
    kind: str
    namespace: str
    name: str
    change: str  # added | removed | modified
    ks: str
    helmrelease: str | None
    diff: str
    source: str | None = None
    base: Placed | None = None
    head: Placed | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "cluster": self.cluster,
            "ks": self.ks,
            "change": self.change,
            "diff": self.diff,
            "helmrelease": self.helmrelease,
            "source": self.source,
        }


@dataclass
class ImageChange:
    image: str
    from_: str | None
    to: str | None
    workloads: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"image": self.image, "from": self.from_, "to": self.to, "workloads": self.workloads}

"""What a diff is made of: rendered objects placed in their cluster and Flux Kustomization, the
change of one object between two revisions, and the change of one image.

Kept apart from :mod:`homeops.diff.compare` so that the danger notes, which read changes, and the
comparison, which makes them, both depend on it rather than on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeops.core.findings import Finding
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
    base_yaml: str | None = None  # the object's YAML as compared (attributes stripped), per side
    head_yaml: str | None = None

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
class ImageCheck:
    """What the registry said of a newly referenced image (``diff --verify-images``).

    ``verified``: the registry serves the manifest (``digest``); ``missing``: it answered that the
    manifest is unknown (HTTP 404); ``unverified``: no answer either way (unreachable, timeout, refused
    credentials, an unparsable reference) — never read as missing.
    """

    reference: str
    status: str  # verified | missing | unverified
    digest: str | None = None
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "status": self.status,
            "digest": self.digest,
            "message": self.message,
        }


@dataclass
class ImageChange:
    image: str
    from_: str | None
    to: str | None
    workloads: list[str]
    check: ImageCheck | None = None  # set by --verify-images for a newly referenced version

    @property
    def reference(self) -> str | None:
        """The newly referenced image (``repo:tag``, ``repo@digest``, ``repo:tag@digest``)."""
        if self.to is None:
            return None
        return self.image + (self.to if self.to.startswith("@") else ":" + self.to)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "image": self.image,
            "from": self.from_,
            "to": self.to,
            "workloads": self.workloads,
        }
        if self.check is not None:  # only with --verify-images
            out["verify"] = self.check.as_json()
        return out


def _finding_identity(f: Finding) -> tuple[str, ...]:
    """What makes a finding the same at two revisions (its line may move)."""
    return (f.rule, f.cluster or "", f.file or "", f.message, f.kind or "", f.namespace or "", f.name or "")


def finding_delta(base: list[Finding], head: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(introduced, fixed): findings only the head has, and findings only the base had."""
    at_base = {_finding_identity(f) for f in base}
    at_head = {_finding_identity(f) for f in head}
    return (
        [f for f in head if _finding_identity(f) not in at_base],
        [f for f in base if _finding_identity(f) not in at_head],
    )


@dataclass
class NotCompared:
    """A part of a cluster the diff could not compare: a cluster, a Flux Kustomization or a HelmRelease's
    chart that did not render at one side or both, and why."""

    cluster: str
    kind: str  # cluster | Kustomization | HelmRelease
    name: str  # namespace/name ("" for a cluster)
    sides: str  # base | head | base and head
    why: str

    def __str__(self) -> str:
        what = (
            f"cluster {self.cluster}"
            if self.kind == "cluster"
            else f"{self.cluster}: {self.kind} {self.name}"
        )
        return f"{what} at {self.sides} ({self.why})"

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "kind": self.kind,
            "name": self.name,
            "sides": self.sides,
            "why": self.why,
        }

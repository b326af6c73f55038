"""Typed results of :class:`homeops.api.Workspace`, each serialisable to the JSON of the CLI contract.

Every result is a dataclass; ``as_json()`` gives exactly what the matching ``-o json`` /
``--format json`` output holds, so a script, the review page, the MCP server and the CLI agree. The
rows of ``get hr``/``get sources``/``images`` are in :mod:`homeops.api.listings`, the results of the
commands that edit files in :mod:`homeops.api.edit_results` (each loaded only by its commands: start-up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from homeops.core.findings import SEVERITIES, Finding, severity_rank
from homeops.core.redact import redact
from homeops.core.shape import as_map
from homeops.flux.rendered import ClusterRender


def source_text(file: str | None, line: int | None) -> str:
    """``file:line`` (or ``file``, or empty): how every output names a place."""
    if file and line:
        return f"{file}:{line}"
    return file or ""


@dataclass(frozen=True)
class ClusterInfo:
    """A cluster of the repository: its name and the directory of its root Flux objects."""

    name: str
    directory: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.directory}


@dataclass(frozen=True)
class KustomizationInfo:
    """One Flux Kustomization of a rendered cluster and how its render went."""

    cluster: str
    name: str
    namespace: str
    path: str
    target_namespace: str | None
    depends_on: tuple[str, ...]
    suspend: bool
    objects: int
    status: str  # rendered | error | external
    source: str
    parent: str | None
    reason: str | None = None  # why it did not render (status error) or was not rendered (external)

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster, "name": self.name, "namespace": self.namespace, "path": self.path,
            "targetNamespace": self.target_namespace, "dependsOn": list(self.depends_on),
            "suspend": self.suspend, "objects": self.objects, "status": self.status, "source": self.source,
            "parent": self.parent,
        }  # fmt: skip


@dataclass(frozen=True)
class RenderedObject:
    """One object as Flux would apply it, with the Flux Kustomization that applies it and its file:line."""

    cluster: str
    ks: str
    file: str | None
    line: int | None
    object: Mapping[str, Any]

    @property
    def source(self) -> str:
        return source_text(self.file, self.line)

    @property
    def kind(self) -> str:
        return str(self.object.get("kind") or "")

    @property
    def name(self) -> str:
        return str(as_map(self.object.get("metadata")).get("name") or "")

    @property
    def namespace(self) -> str | None:
        value = as_map(self.object.get("metadata")).get("namespace")
        return str(value) if value is not None else None

    @property
    def helmrelease(self) -> str | None:
        """``namespace/name`` of the HelmRelease whose chart rendered this object (its helm-controller
        labels), None for an object a Flux Kustomization applies itself."""
        labels = (self.object.get("metadata") or {}).get("labels") or {}
        name = labels.get(HR_NAME_LABEL) if isinstance(labels, Mapping) else None
        if not name:
            return None
        return f"{labels.get(HR_NAMESPACE_LABEL) or self.namespace or 'default'}/{name}"

    def redacted(self) -> RenderedObject:
        """This object as a reviewer may see it: Secret values and PEM blocks redacted."""
        return replace(self, object=redact(self.object))

    def as_json(self) -> dict[str, Any]:
        return {"ks": self.ks, "source": self.source, "object": self.object}


HR_NAME_LABEL = "helm.toolkit.fluxcd.io/name"
HR_NAMESPACE_LABEL = "helm.toolkit.fluxcd.io/namespace"


def skipped_kinds(*, secrets: bool = False, crds: bool = False, kinds: Iterable[str] = ()) -> frozenset[str]:
    """The kinds flux-local's and flate's ``--skip-secrets``, ``--skip-crds`` and ``--skip-kinds`` leave
    out of rendered output and diffs."""
    out = {k.strip() for k in kinds if k.strip()}
    if secrets:
        out.add("Secret")
    if crds:
        out.add("CustomResourceDefinition")
    return frozenset(out)


@dataclass
class Rendering:
    """A cluster rendered as Flux would apply it: Kustomizations, objects, and render findings.

    ``engine`` is the underlying :class:`homeops.flux.rendered.ClusterRender`, for tools that need
    more than this view (it is not part of the stable API).
    """

    cluster: ClusterInfo
    kustomizations: list[KustomizationInfo]
    objects: list[RenderedObject]
    findings: list[Finding]
    engine: ClusterRender

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def select(self, name: str | None = None, namespace: str | None = None) -> list[RenderedObject]:
        """The objects applied by the Flux Kustomization ``name`` (all objects when ``name`` is None)."""
        if name is None:
            return list(self.objects)
        keys = {k.namespace + "/" + k.name for k in self.kustomizations if k.name == name}
        if namespace is not None:
            keys = {k for k in keys if k.startswith(namespace + "/")}
        return [o for o in self.objects if o.ks in keys]


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    """``{"error": n, "warning": n, "info": n}`` as ``check --format json`` prints it."""
    counts = {severity: 0 for severity in reversed(SEVERITIES)}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


@dataclass
class CheckResult:
    """Findings of the rules and of the render, suppressions applied, sorted by place."""

    findings: list[Finding]
    clusters: list[ClusterInfo]

    @property
    def summary(self) -> dict[str, int]:
        return summary(self.findings)

    def at_or_above(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if severity_rank(f.severity) >= severity_rank(severity)]

    def as_json(self) -> dict[str, Any]:
        return {"findings": [f.as_json() for f in self.findings], "summary": self.summary}


@dataclass
class ReleaseRendering:
    """One HelmRelease rendered as helm-controller would: its objects and what went wrong."""

    name: str
    namespace: str
    source: str
    objects: list[dict[str, object]]
    findings: list[Finding] = field(default_factory=list)

    def redacted(self) -> ReleaseRendering:
        """This rendering as a reviewer may see it: Secret values and PEM blocks redacted."""
        return replace(self, objects=[redact(obj) for obj in self.objects])

    def as_json(self) -> dict[str, object]:
        return {
            "release": {"name": self.name, "namespace": self.namespace, "source": self.source},
            "items": list(self.objects),
        }

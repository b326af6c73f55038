"""Typed results of :class:`homeops.api.Workspace`, each serialisable to the JSON of the CLI contract.

Every result is a dataclass; ``as_json()`` gives exactly what the matching ``-o json`` /
``--format json`` output holds, so a script, the review page, the MCP server and the CLI agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from homeops.core.edits import FileEdit, unified_diff
from homeops.core.errors import HomeopsError
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
class HelmReleaseInfo:
    """One HelmRelease: its chart and version as its source names them."""

    cluster: str
    name: str
    namespace: str
    chart: str
    version: str
    source_kind: str
    source_name: str
    ks: str
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster, "name": self.name, "namespace": self.namespace, "chart": self.chart,
            "version": self.version, "sourceKind": self.source_kind, "sourceName": self.source_name,
            "ks": self.ks, "source": self.source,
        }  # fmt: skip


@dataclass(frozen=True)
class SourceInfo:
    """One Flux source (GitRepository, OCIRepository, HelmRepository, Bucket...)."""

    cluster: str
    name: str
    namespace: str
    kind: str
    url: str
    ref: str
    ks: str
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster, "name": self.name, "namespace": self.namespace, "kind": self.kind,
            "url": self.url, "ref": self.ref, "ks": self.ks, "source": self.source,
        }  # fmt: skip


@dataclass(frozen=True)
class ImageInfo:
    """One use of a container image: in a rendered workload, in chart values, or in chart output."""

    image: str
    pinned: bool
    cluster: str
    kind: str
    namespace: str | None
    name: str
    container: str | None
    origin: str  # workload | values | chart
    file: str | None
    line: int | None

    @property
    def source(self) -> str:
        return source_text(self.file, self.line)

    @property
    def registry(self) -> str:
        """The registry host the image is pulled from (``docker.io`` for short names); ``?`` when
        the reference does not parse (an unsubstituted variable, say)."""
        from homeops.registry.reference import parse_image  # start-up: the OCI client loads when asked

        try:
            return parse_image(self.image).oci.registry
        except HomeopsError:
            return "?"

    def as_json(self) -> dict[str, Any]:
        return {
            "image": self.image, "pinned": self.pinned, "cluster": self.cluster, "kind": self.kind,
            "namespace": self.namespace, "name": self.name, "container": self.container,
            "origin": self.origin, "file": self.file, "line": self.line, "source": self.source,
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
class FixResult:
    """What the safe autofixes changed (or would change): edits per file, then what still remains."""

    fixed: int
    edits: list[FileEdit]
    remaining: list[Finding]
    warnings: list[str] = field(default_factory=list)
    written: bool = False
    clusters: list[ClusterInfo] = field(default_factory=list)

    @property
    def diff(self) -> str:
        return unified_diff(self.edits)

    def as_json(self) -> dict[str, Any]:
        return {
            "fixed": self.fixed,
            "files": [e.path for e in self.edits],
            "written": self.written,
            "diff": self.diff,
            "warnings": list(self.warnings),
            "remaining": [f.as_json() for f in self.remaining],
        }


@dataclass
class EditResult:
    """Edits an authoring command planned (new app, migration, init, pin): a diff, or written files."""

    edits: list[FileEdit]
    written: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # what is left for a person

    @property
    def diff(self) -> str:
        return unified_diff(self.edits)

    def as_json(self) -> dict[str, Any]:
        return {
            "files": [{"path": e.path, "action": e.action} for e in self.edits],
            "written": list(self.written),
            "diff": self.diff,
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "steps": list(self.steps),
        }


@dataclass
class MigratedApp:
    """One app of a batch migration: its edits, or why it was refused."""

    target: str  # NS/APP
    result: EditResult | None
    error: HomeopsError | None = None

    @property
    def status(self) -> str:
        if self.result is None:
            return "refused"
        return "migrated with manual steps" if self.result.steps else "migrated"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "status": self.status}
        if self.error is not None:
            out["error"] = self.error.one_line()
        if self.result is not None:
            out.update(self.result.as_json())
        return out


@dataclass
class MigrationBatch:
    """``migrate`` of several apps (or ``--all``) from one cluster to another, one report."""

    old: str
    new: str
    apps: list[MigratedApp] = field(default_factory=list)
    inferred: dict[str, str] = field(
        default_factory=dict
    )  # path variables the old cluster's tree made certain

    @property
    def exit_code(self) -> int:
        """2 when no app could be migrated, 1 when one was refused or left manual steps, else 0."""
        if self.apps and all(a.result is None for a in self.apps):
            return 2
        return 1 if any(a.result is None or a.result.steps for a in self.apps) else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            "inferred": dict(self.inferred),
            "apps": [a.as_json() for a in self.apps],
        }


@dataclass
class InitResult(EditResult):
    """``init``: the files to write, the existing ones kept, and where placeholders wait for the user."""

    kept: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    adding_cluster: bool = False

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "kept": list(self.kept), "placeholders": list(self.placeholders)}


@dataclass
class PinResult:
    """``images pin``: the edits that pin each unpinned tag to its digest, and the images that failed."""

    edits: list[FileEdit]
    pinned: list[tuple[str, int | None, str, str]]  # (file, line, image, digest)
    errors: list[HomeopsError]
    failed_images: list[str]
    written: bool = False

    @property
    def diff(self) -> str:
        return unified_diff(self.edits)

    def rows(self) -> list[dict[str, Any]]:
        """One row per pinned place and per failure, sorted by place (``images pin -o table|json``)."""
        rows: list[dict[str, Any]] = [
            {"file": file, "line": line, "source": f"{file}:{line}", "image": image, "status": "pinned",
             "digest": digest}
            for file, line, image, digest in self.pinned
        ]  # fmt: skip
        rows += [
            {"file": err.file, "line": err.line, "source": f"{err.file}:{err.line}", "image": image,
             "status": "error", "digest": "", "error": err.what + (f" ({err.hint})" if err.hint else "")}
            for image, err in zip(self.failed_images, self.errors, strict=True)
        ]  # fmt: skip
        return sorted(rows, key=lambda r: (r["file"] or "", r["line"] or 0))

    def as_json(self) -> dict[str, Any]:
        return {"items": self.rows(), "written": self.written and bool(self.edits)}


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

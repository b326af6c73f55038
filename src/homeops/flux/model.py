"""Flux objects as the render needs them: Kustomizations, sources, HelmReleases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from homeops.core.shape import as_list, as_map
from homeops.kustomize.resource import Resource

KS_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
OWNER_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
OWNER_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
SOURCE_KINDS = frozenset(
    {"GitRepository", "OCIRepository", "HelmRepository", "Bucket", "HelmChart", "ExternalArtifact"}
)


def _api_version(obj: Any) -> str:
    value = obj.get("apiVersion") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def _kind(obj: Any) -> str:
    value = obj.get("kind") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def is_flux_kustomization(obj: dict[str, Any]) -> bool:
    return _kind(obj) == "Kustomization" and _api_version(obj).startswith(KS_GROUP + "/")


def is_helmrelease(obj: dict[str, Any]) -> bool:
    return _kind(obj) == "HelmRelease" and _api_version(obj).startswith(HELM_GROUP + "/")


def is_source(obj: dict[str, Any]) -> bool:
    return _kind(obj) in SOURCE_KINDS and _api_version(obj).startswith(SOURCE_GROUP + "/")


@dataclass(frozen=True, slots=True)
class Ref:
    kind: str
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.kind else f"{self.namespace}/{self.name}"


@dataclass
class FluxKustomization:
    """A ``kustomize.toolkit.fluxcd.io`` Kustomization, with where it was defined."""

    resource: Resource
    parent: str | None = None  # key of the Kustomization that applied this one (None for roots)

    @property
    def obj(self) -> dict[str, Any]:
        return self.resource.obj

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.obj.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def namespace(self) -> str:
        return self.resource.namespace or "flux-system"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def path(self) -> str:
        return str(self.spec.get("path") or "")

    @property
    def source_ref(self) -> Ref:
        ref = as_map(self.spec.get("sourceRef"))
        return Ref(
            str(ref.get("kind") or ""),
            str(ref.get("name") or ""),
            str(ref.get("namespace") or self.namespace),
        )

    @property
    def depends_on(self) -> list[Ref]:
        out = []
        for dep in as_list(self.spec.get("dependsOn")):
            if isinstance(dep, dict):
                out.append(
                    Ref(
                        "Kustomization",
                        str(dep.get("name") or ""),
                        str(dep.get("namespace") or self.namespace),
                    )
                )
        return out

    @property
    def target_namespace(self) -> str | None:
        value = self.spec.get("targetNamespace")
        return str(value) if value else None

    @property
    def suspend(self) -> bool:
        return bool(self.spec.get("suspend"))

    @property
    def post_build(self) -> dict[str, Any] | None:
        pb = self.spec.get("postBuild")
        return pb if isinstance(pb, dict) else None

    @property
    def source(self) -> str:
        return self.resource.where()


NO_SOURCE = "none"  # why a variable has no value: nothing holds it


@dataclass(frozen=True)
class Unresolved:
    """One use of a variable with no value."""

    name: str
    file: str
    line: int
    ks: str  # namespace/name of the Flux Kustomization substituting (or, for a path, the one not rendered)
    obj: tuple[str, str, str]  # kind, namespace, name of the object using it
    why: str = NO_SOURCE  # NO_SOURCE or the state of the source holding it (see postbuild)
    source: str = ""  # the source that holds it (label), when why is not NO_SOURCE
    origin: str = ""  # where that source is written (file:line)
    path: str = ""  # the spec.path holding it, when it stops a Kustomization from rendering


@dataclass
class RenderedKustomization:
    """The result of one Flux Kustomization: its objects, or why it failed."""

    ks: FluxKustomization
    resources: list[Resource] = field(default_factory=list)
    error: Exception | None = None
    unresolved: list[Unresolved] = field(default_factory=list)  # uses of variables with no value
    notes: list[str] = field(default_factory=list)
    missing_sources: list[tuple[str, str, str]] = field(default_factory=list)  # substituteFrom not found

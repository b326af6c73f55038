"""The facts a context document states, as plain values gathered by :mod:`homeops.api`.

Every list is sorted by the gatherer, so the Markdown written from them is the same on every run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClusterFacts:
    """A cluster and its role: ``modern`` (new work goes here) or ``legacy`` (deprecated by the profile)."""

    name: str
    directory: str  # the directory of its root Flux objects
    role: str  # modern | legacy
    kustomizations: int
    apps: int
    render_errors: int


@dataclass(frozen=True)
class AppFacts:
    """One app: a HelmRelease, or the workloads of a Flux Kustomization without one."""

    cluster: str
    namespace: str
    name: str
    ks: str  # namespace/name of the Flux Kustomization that applies it
    directory: str  # the app's directory (the parent of ``app/``, else the Kustomization's path)
    chart: str  # chart URL or name; empty for plain manifests
    version: str
    source: str  # file:line of the HelmRelease or of the Flux Kustomization


@dataclass(frozen=True)
class RouteFacts:
    """A host name served to clients: through a Gateway (``internal``/``external``/another gateway's
    name) or an Ingress (``ingress``)."""

    cluster: str
    namespace: str
    app: str
    host: str
    exposure: str  # internal | external | unknown (another gateway) | ingress (<class>)
    via: str  # HTTPRoute | values route | Ingress | values ingress ...
    source: str


@dataclass(frozen=True)
class BackupFacts:
    """An app's backups (``volsync``, ``cnpg``...; ``none``) and its claims that no backup covers."""

    cluster: str
    namespace: str
    app: str
    ks: str
    method: str  # the kinds of its backups, comma-separated: volsync, cnpg, cnpg-scheduled; none
    capacity: str  # VOLSYNC_CAPACITY of its Flux Kustomization
    claims: tuple[str, ...]  # PersistentVolumeClaims no backup covers
    source: str


@dataclass(frozen=True)
class ComponentFacts:
    """A kustomize component of the components directory and what includes it."""

    path: str
    users: tuple[
        str, ...
    ]  # directories of kustomization.yaml files and Flux Kustomizations (cluster:ns/name)


@dataclass(frozen=True)
class RuleCount:
    """A rule and how many findings it has on the repository now."""

    id: str
    severity: str
    title: str
    count: int


@dataclass(frozen=True)
class LayoutEntry:
    """A directory of the repository, its depth in the tree and what it holds."""

    path: str
    note: str


@dataclass(frozen=True)
class LegacyApp:
    """An app still on a legacy cluster, and the ``homeops migrate`` target that moves it."""

    cluster: str
    target: str  # NAMESPACE/APP as ``homeops migrate`` takes it
    to: str  # the modern cluster it would move to ("" when there is none)


@dataclass
class ContextFacts:
    """Everything ``homeops docs`` writes, gathered from one repository."""

    clusters: list[ClusterFacts] = field(default_factory=list)
    layout: list[LayoutEntry] = field(default_factory=list)
    apps: list[AppFacts] = field(default_factory=list)
    routes: list[RouteFacts] = field(default_factory=list)
    backups: list[BackupFacts] = field(default_factory=list)
    components: list[ComponentFacts] = field(default_factory=list)
    conventions: list[tuple[str, str]] = field(default_factory=list)  # (convention, value)
    rules: list[RuleCount] = field(default_factory=list)
    namespaces: dict[str, list[str]] = field(default_factory=dict)  # modern cluster -> namespace dirs
    legacy_apps: list[LegacyApp] = field(default_factory=list)
    profile_origin: str = "file"  # where the conventions come from: file, inferred, given
    authoring: list[str] = field(default_factory=list)  # modern clusters ``homeops new app`` writes to
    app_tree: str = ""  # where most apps of the first modern cluster are, when new app cannot write there
    secret_store: str = ""  # the secret store's name (``--secret`` keys are read from it)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["conventions"] = [{"name": k, "value": v} for k, v in self.conventions]
        return data

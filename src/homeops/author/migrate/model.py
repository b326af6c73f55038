"""What a migration is asked to do, what it works on, and what it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from homeops.core.edits import FileEdit
from homeops.core.profile import Profile
from homeops.core.variables import ClusterVars
from homeops.flux.model import FluxKustomization
from homeops.flux.rendered import ClusterRender


@dataclass(frozen=True)
class MigrateOptions:
    """What ``homeops migrate NS/APP --from OLD --to NEW`` was asked to do."""

    namespace: str
    app: str
    old: str
    new: str
    remove_source: bool = False
    chart_url: str | None = None
    external: bool = False
    to_helm: bool = False
    force: bool = False
    cli_vars: Mapping[str, str] | ClusterVars = field(default_factory=dict)  # values only the cluster has
    pin: bool = False
    keep_helm_repository: bool = (
        False  # a chart with no known OCI location keeps a HelmRepository of the app's own
    )


@dataclass
class MigrationPlan:
    """The edits of one migration and what is left for a person."""

    old_dir: str
    new_dir: str
    kustomizations: list[str] = field(default_factory=list)
    edits: list[FileEdit] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class OldApp:
    """The app in the rendered old cluster: its directory and the Flux Kustomizations deploying it."""

    directory: str
    kustomizations: list[FluxKustomization]
    render: ClusterRender


@dataclass
class Migration:
    """One migration under way: what every step reads, and the plan the steps fill."""

    root: Path
    profile: Profile
    options: MigrateOptions
    old: OldApp
    plan: MigrationPlan

    @property
    def render(self) -> ClusterRender:
        return self.old.render

    @property
    def namespace_dir(self) -> str:
        """The app's namespace directory in the new cluster."""
        return f"{self.profile.apps_dir}/{self.options.new}/{self.options.namespace}"

    @property
    def new_dir(self) -> str:
        return self.plan.new_dir

    @property
    def steps(self) -> list[str]:
        return self.plan.steps

    @property
    def notes(self) -> list[str]:
        return self.plan.notes

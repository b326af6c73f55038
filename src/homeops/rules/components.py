"""Components over copy-paste (HO004): what a component provides must not be copied into an app, and a
``components:`` entry must point at a directory that exists.

Also the notion of an *app* the other rule families share: a Flux Kustomization applied by another one
that applies no Flux Kustomization itself (a leaf of the tree), and its objects read from files
outside the components directory.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from homeops.core import codes
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.yamlio import YMap
from homeops.flux.model import FluxKustomization, RenderedKustomization, is_flux_kustomization
from homeops.flux.rendered import ClusterRender
from homeops.kustomize.build import KUSTOMIZATION_FILES
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import (
    chart_output,
    is_legacy_path,
    key_path_line,
    place,
    spec_of,
    under,
    unique,
)

VOLSYNC_KINDS = ("ReplicationSource", "ReplicationDestination")


@dataclass
class App:
    """One app of a cluster: its Flux Kustomization and the objects read from its own files."""

    render: ClusterRender
    rk: RenderedKustomization
    own: list[Resource]  # objects from repository files outside the components directory (not chart output)
    components: list[str]  # repository-relative directories of ``spec.components``

    @property
    def ks(self) -> FluxKustomization:
        return self.rk.ks


def _norm(path: str) -> str:
    return posixpath.normpath(path.removeprefix("./")).removeprefix("./")


def ks_components(ks: FluxKustomization) -> list[tuple[str, str]]:
    """(entry, repository-relative directory) of a Flux Kustomization's ``spec.components``."""
    entries = ks.spec.get("components")
    if not isinstance(entries, list) or not ks.path or "${" in ks.path:
        return []
    base = _norm(ks.path)
    return [
        (str(e), _norm(posixpath.join(base, str(e))))
        for e in entries
        if isinstance(e, str) and e and "${" not in e and "://" not in e
    ]


def apps(ctx: RuleContext) -> list[App]:
    """Every app of every cluster (computed once per run)."""

    def compute() -> list[App]:
        out = []
        components_dir = ctx.profile.components_dir
        for render in ctx.renders:
            for rk in render.rendered.values():
                if rk.ks.parent is None or any(is_flux_kustomization(r.obj) for r in rk.resources):
                    continue
                own = [
                    r
                    for r in rk.resources
                    if r.file and not under(r.file, components_dir) and not chart_output(r)
                ]
                out.append(App(render, rk, own, [d for _e, d in ks_components(rk.ks)]))
        return out

    return ctx.cached("apps", compute)


def entry_line(text: str, start: int, entry: str) -> int:
    """Line of list item ``entry`` at or after line ``start`` (1-based), else ``start``."""
    lines = text.splitlines()
    for i in range(max(start - 1, 0), len(lines)):
        item = lines[i].strip()
        if not item.startswith("-"):
            continue
        item = item[1:].split(" #", 1)[0].strip().strip("'\"")
        if item == entry:
            return i + 1
    return start


def _exists(ctx: RuleContext, path: str) -> bool:
    return os.path.exists(os.path.join(ctx.root, path))


@rule(
    codes.COMPONENT_COPIED,
    rationale="""
Anti-Patterns #4: "Direct manifest references - Use components for reusable patterns"; Key
Principles #5: "Components over copy-paste". Components provide the namespace (`namespace`,
`privileged-namespace`) and Volsync backups (`volsync`: the claim, ReplicationSources and
ReplicationDestination). Reported: a Namespace defined in an app while a namespace component already
provides it; a ReplicationSource/ReplicationDestination or a Volsync-restored claim
(`dataSourceRef` to a ReplicationDestination) defined in an app's own files (when its Flux
Kustomization takes the Volsync component they are duplicates; in a modern cluster without it, a copy
of the component); and a `components:` entry (kustomization.yaml `components:`, or Flux Kustomization
`spec.components`, relative to `spec.path`) whose directory does not exist.
""",
    bad="""
# cluster-apps/chongus/default/app-name/app/kustomization.yaml
resources:
  - ./helmrelease.yaml
  - ./replicationsource.yaml   # a copy of components/volsync
""",
    good="""
# cluster-apps/chongus/default/app-name/ks.yaml
spec:
  path: ./cluster-apps/chongus/default/app-name/app
  components:
    - ../../../../components/volsync
  postBuild:
    substitute:
      APP: app-name
      VOLSYNC_CAPACITY: 5Gi
""",
)
def check_components(ctx: RuleContext) -> Iterator[Finding]:
    """Copies of component objects, and component entries that point nowhere."""
    yield from unique(_copies(ctx))
    yield from _dangling_kustomization_entries(ctx)
    yield from unique(_dangling_flux_entries(ctx))


def _copies(ctx: RuleContext) -> Iterator[Finding]:
    profile = ctx.profile
    namespace_components = [
        profile.component_path(profile.namespace_component),
        profile.component_path(profile.privileged_namespace_component),
    ]
    volsync = _norm(profile.component_path(profile.volsync_component))
    provided: dict[str, set[str]] = {}
    for render in ctx.renders:
        provided[render.cluster.name] = {
            res.name
            for _rk, res in render.objects()
            if res.kind == "Namespace" and res.file and any(under(res.file, c) for c in namespace_components)
        }
    for app in apps(ctx):
        cluster = app.render.cluster.name
        uses_volsync = volsync in app.components
        for res in app.own:
            if res.kind == "Namespace" and res.name in provided[cluster]:
                yield finding(
                    codes.COMPONENT_COPIED,
                    f"Namespace {res.name} is defined in app {app.ks.key} but the namespace "
                    "component already provides it",
                    res=res,
                    cluster=cluster,
                )
            elif not _is_volsync_object(res):
                continue
            elif uses_volsync:
                yield finding(
                    codes.COMPONENT_COPIED,
                    f"{res.kind} {res.name} duplicates what the {profile.volsync_component} "
                    f"component of {app.ks.key} provides",
                    res=res,
                    cluster=cluster,
                )
            elif ctx.is_modern(app.render) and not is_legacy_path(ctx, res.file):
                yield finding(
                    codes.COMPONENT_COPIED,
                    f"{res.kind} {res.name} is a copy of the {profile.volsync_component} "
                    f"component: add it to {app.ks.key} spec.components instead",
                    res=res,
                    cluster=cluster,
                )


def _is_volsync_object(res: Resource) -> bool:
    if res.kind in VOLSYNC_KINDS and res.api_version.startswith("volsync.backube/"):
        return True
    if res.kind == "PersistentVolumeClaim":
        source = spec_of(res).get("dataSourceRef")
        return isinstance(source, dict) and source.get("kind") == "ReplicationDestination"
    return False


def _dangling_kustomization_entries(ctx: RuleContext) -> Iterator[Finding]:
    for path in ctx.repo_files():
        if posixpath.basename(path) not in KUSTOMIZATION_FILES:
            continue
        try:
            text = ctx.files.read_text(ctx.root / path)
            if "components" not in text:
                continue
            doc: Any = ctx.files.load_one(ctx.root / path)
        except HomeopsError:
            continue
        entries = doc.get("components") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            continue
        start = doc.line_of("components") if isinstance(doc, YMap) else 1
        base = posixpath.dirname(path)
        for entry in entries:
            if not isinstance(entry, str) or not entry or "${" in entry or "://" in entry:
                continue
            if not _exists(ctx, _norm(posixpath.join(base, entry))):
                yield finding(
                    codes.COMPONENT_COPIED,
                    f"component {entry} does not exist (relative to {base or '.'}/)",
                    file=path,
                    line=entry_line(text, start, entry),
                )


def _dangling_flux_entries(ctx: RuleContext) -> Iterator[Finding]:
    for render in ctx.renders:
        for rk in render.rendered.values():
            ks = rk.ks
            for entry, directory in ks_components(ks):
                if _exists(ctx, directory) or not _exists(ctx, _norm(ks.path)):
                    continue
                file, line = key_path_line(ks.resource, "spec", "components")
                if file and line:
                    with contextlib.suppress(HomeopsError):
                        line = entry_line(ctx.files.read_text(ctx.root / file), line, entry)
                yield place(
                    codes.COMPONENT_COPIED,
                    f"component {entry} of Flux Kustomization {ks.key} does not exist "
                    f"(relative to spec.path {ks.path})",
                    ks.resource,
                    (file, line),
                    render.cluster.name,
                )

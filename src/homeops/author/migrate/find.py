"""Step "find the app": the old cluster rendered, the app's Flux Kustomizations and directory in it,
and whether the new cluster already has the app."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

from homeops.author.cluster import cluster_kustomizations
from homeops.author.migrate.model import MigrateOptions, Migration, OldApp
from homeops.author.migrate.needs import render_old_cluster
from homeops.core.errors import HomeopsError
from homeops.core.git import uncommitted
from homeops.core.profile import Profile
from homeops.flux.model import FluxKustomization
from homeops.flux.rendered import ClusterRender


def find_old_app(root: Path, profile: Profile, options: MigrateOptions, render: ClusterRender) -> OldApp:
    """The app's Flux Kustomizations, found in the rendered old cluster by their ``ks.yaml``'s directory."""
    by_dir: dict[str, list[FluxKustomization]] = {}
    for ks in render.kustomizations():
        file = ks.resource.file or ""
        directory = posixpath.dirname(file)
        if (
            posixpath.basename(directory) == options.app
            and posixpath.basename(posixpath.dirname(directory)) == options.namespace
        ):
            by_dir.setdefault(directory, []).append(ks)
    if not by_dir:
        candidates = [
            f"{legacy}/apps/{options.old}/{options.namespace}/{options.app}"
            for legacy in profile.legacy_paths
        ]
        candidates.append(f"{profile.apps_dir}/{options.old}/{options.namespace}/{options.app}")
        for candidate in candidates:
            if (root / candidate).is_dir():
                raise HomeopsError(
                    f"app {options.namespace}/{options.app} is not deployed by cluster {options.old}",
                    candidate,
                    None,
                    "register its ks.yaml in the namespace's kustomization.yaml, or check --from",
                )
        known = sorted(
            {
                f"{posixpath.basename(posixpath.dirname(d))}/{posixpath.basename(d)}"
                for d in (posixpath.dirname(ks.resource.file or "") for ks in render.kustomizations())
                if d.count("/") >= 2
            }
        )
        close = [k for k in known if k.split("/")[-1] == options.app or k.split("/")[0] == options.namespace]
        raise HomeopsError(
            f"app {options.namespace}/{options.app} not found in cluster {options.old}",
            hint="known apps: " + ", ".join(close or known[:20]) if known else "check --from",
        )
    prefer = [d for d in by_dir if f"/{options.old}/" in f"/{d}/"] or sorted(by_dir)
    directory = prefer[0]
    kustomizations = sorted(by_dir[directory], key=lambda k: (k.resource.file or "", k.resource.line or 0))
    return OldApp(directory, kustomizations, render)


WORKLOAD_KINDS = ("HelmRelease", "Deployment", "StatefulSet", "DaemonSet", "CronJob")


def app_names(old: OldApp) -> list[str]:
    """The names the app goes by: its Flux Kustomizations and the releases and workloads they apply."""
    names = [ks.name for ks in old.kustomizations]
    for ks in old.kustomizations:
        rk = old.render.rendered.get(ks.key)
        for res in rk.resources if rk is not None else []:
            if res.kind in WORKLOAD_KINDS and res.name not in names:
                names.append(res.name)
    return names


def existing_target(
    root: Path, profile: Profile, options: MigrateOptions, names: Iterable[str] | None = None
) -> str | None:
    """Why the app already exists in the new cluster (its directory, an app directory or Flux
    Kustomization under one of its names), or None."""
    new_dir = f"{profile.apps_dir}/{options.new}/{options.namespace}/{options.app}"
    if (root / new_dir).exists():
        return f"{new_dir} exists"
    known = cluster_kustomizations(root, profile, options.new)
    for name in [options.app, *(names or [])]:
        if name in known:
            namespace, file = known[name]
            return f"cluster {options.new} already has a Flux Kustomization {namespace}/{name} ({file})"
        same = f"{profile.apps_dir}/{options.new}/{options.namespace}/{name}"
        if (root / same).is_dir():
            return f"{same} exists (the app's {name})"
    return None


# ----------------------------------------------------------------------------------------------
# The options, checked before anything is looked at


def old_cluster_apps(profile: Profile, options: MigrateOptions, render: ClusterRender) -> list[str]:
    """``NS/APP`` of every app the old cluster deploys from its own tree (``<legacy>/apps/OLD/NS/APP``
    or ``<apps_dir>/OLD/NS/APP``), for ``migrate --all``."""
    bases = [f"{legacy}/apps/{options.old}/" for legacy in profile.legacy_paths]
    bases.append(f"{profile.apps_dir}/{options.old}/")
    found: set[str] = set()
    for ks in render.kustomizations():
        directory = posixpath.dirname(ks.resource.file or "")
        for base in bases:
            rest = directory[len(base) :] if directory.startswith(base) else ""
            if rest.count("/") == 1:
                found.add(rest)
    return sorted(found)


def validate(options: MigrateOptions, profile: Profile) -> None:
    name = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
    if not name.match(options.namespace) or not name.match(options.app):
        raise HomeopsError(
            f"{options.namespace}/{options.app} is not NAMESPACE/APP",
            hint="write the namespace and app directory names, e.g. media/jellyseerr",
        )
    if options.old == options.new:
        raise HomeopsError("--from and --to name the same cluster", hint="migrate between two clusters")
    if options.new in profile.deprecated_clusters:
        raise HomeopsError(
            f"cluster {options.new} is deprecated: apps move out of it, not into it",
            hint="pass a modern cluster to --to",
        )
    if options.chart_url is not None and not options.chart_url.startswith("oci://"):
        raise HomeopsError(
            f"--chart-url {options.chart_url!r} is not an OCI URL", hint="pass oci://REGISTRY/PATH/CHART"
        )


def render_old(root: Path, profile: Profile, options: MigrateOptions) -> ClusterRender:
    """The old cluster rendered with the values given and the path variables its directories make certain."""
    return render_old_cluster(root, profile, options)[0]


def require_new_cluster(root: Path, profile: Profile, options: MigrateOptions) -> None:
    if not (root / profile.apps_dir / options.new).is_dir():
        raise HomeopsError(
            f"cluster {options.new} has no {profile.apps_dir}/{options.new} directory",
            hint="run 'homeops init . --cluster NAME' first, or check --to",
        )


def check_target(m: Migration) -> str | None:
    """Why the app already exists in the new cluster (None: it does not), refusing a migration that
    would overwrite it or paths with uncommitted changes."""
    options = m.options
    exists = existing_target(m.root, m.profile, options, app_names(m.old))
    if exists is not None and not options.remove_source:
        raise HomeopsError(
            f"app {options.namespace}/{options.app} already exists in cluster {options.new}: {exists}",
            hint="nothing to migrate; pass --remove-source to delete the old copy only",
        )
    old_ns_kust = f"{posixpath.dirname(m.old.directory)}/kustomization.yaml"
    touched = [m.old.directory, old_ns_kust] if options.remove_source else []
    if exists is None:
        touched += [m.new_dir, f"{m.namespace_dir}/kustomization.yaml"]
    dirty = uncommitted(m.root, touched)
    if dirty and not options.force:
        raise HomeopsError(
            f"uncommitted changes in paths the migration touches: {', '.join(sorted(dirty)[:5])}"
            + (" ..." if len(dirty) > 5 else ""),
            hint="commit or stash them, or pass --force",
        )
    return exists

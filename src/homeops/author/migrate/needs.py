"""Step "what the old cluster needs": the app must render in the old cluster before it is moved.

A legacy cluster often substitutes ``${CLUSTER_NAME}`` into its Flux Kustomization paths from a
SOPS-encrypted Secret homeops cannot read. When the repository's directories admit one value only
(``cluster-cd/apps/${CLUSTER_NAME}/media/app`` exists for ``bitty`` alone), that value is certain and
the old cluster is rendered with it. An app whose Flux Kustomizations still do not render is not
migrated (exit 2), and the refusal names every variable it lacks, unless ``--force`` moves it as it is.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from homeops.author.migrate.model import MigrateOptions, Migration
from homeops.core import codes
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.profile import Profile
from homeops.core.variables import ClusterVars
from homeops.flux.cluster import resolve_cluster
from homeops.flux.model import NO_SOURCE
from homeops.flux.render import render_cluster
from homeops.flux.rendered import ClusterRender

_WHY = {
    NO_SOURCE: "nothing holds it",
    "sops": "in a SOPS-encrypted Secret",
    "external-secret": "made by an ExternalSecret in the cluster",
    "not-rendered": "its source is not in the render",
    "outside": "in an object applied outside Flux (bootstrap)",
}


def render_old_cluster(
    root: Path, profile: Profile, options: MigrateOptions
) -> tuple[ClusterRender, dict[str, str]]:
    """The old cluster rendered with the values given, plus the path variables its directories make
    certain (returned, so that the migration can say so)."""
    cluster = resolve_cluster(root, profile, options.old)
    given = ClusterVars.of(options.cli_vars)
    render = render_cluster(root, cluster, profile=profile, cli_vars=given, files=FileCache(root))
    certain = {
        str(f.extra["variable"]): str(f.extra["certain"])
        for f in render.findings
        if f.rule == codes.VARIABLE_UNSET.id and f.extra.get("certain") is not None
    }
    if not certain:
        return render, {}
    inferred = ClusterVars.of({options.old: certain})
    render = render_cluster(
        root, cluster, profile=profile, cli_vars=given.over(inferred), files=FileCache(root)
    )
    return render, certain


def inferred_note(old: str, certain: dict[str, str]) -> str:
    values = ", ".join(f"{k}={v}" for k, v in sorted(certain.items()))
    return (
        f"{values} inferred for cluster {old}: its Flux Kustomization paths exist only with "
        f"{'this value' if len(certain) == 1 else 'these values'} (set it in .homeops.yaml vars to say so)"
    )


def variables_needed(m: Migration) -> dict[str, str]:
    """Every variable the app's Flux Kustomizations use without a value in the old cluster -> why."""
    keys = {ks.key for ks in m.old.kustomizations}
    parents = {ks.parent for ks in m.old.kustomizations if ks.parent}
    needed: dict[str, str] = {}
    in_path: set[str] = set()
    for key, rk in m.render.rendered.items():
        for use in rk.unresolved:
            mine = key in keys or (key in parents and posixpath.dirname(use.file) == m.old.directory)
            if not mine:
                continue
            if use.path:
                in_path.add(use.name)
            if use.name not in needed:
                needed[use.name] = _WHY.get(use.why, use.why) + (f" ({use.source})" if use.source else "")
    return {name: why + (", in spec.path" if name in in_path else "") for name, why in needed.items()}


def require_rendered(m: Migration) -> None:
    """Refuse (exit 2) an app the old cluster does not render, naming what it needs; with ``--force``,
    a note instead."""
    options = m.options
    failed = []
    for ks in m.old.kustomizations:
        rk = m.render.rendered.get(ks.key)
        if rk is not None and rk.error is not None:
            failed.append(f"{ks.key} ({rk.error})")
    if not failed:
        return  # variables without a value in a rendered app: the variables step writes or moves them
    needed = variables_needed(m)
    what = f"cluster {options.old} does not render {options.namespace}/{options.app}: {', '.join(failed)}"
    if needed:
        what += "; it needs " + "; ".join(f"{k} ({v})" for k, v in needed.items())
    if options.force:
        m.notes.append(what + "; migrated as it is (--force)")
        return
    values = " ".join(f"--var {options.old}:{k}=..." for k in needed) or "--var ..."
    raise HomeopsError(
        what,
        m.old.directory,
        None,
        f"give the values ({values}, or vars: in .homeops.yaml), or pass --force to migrate it as it is",
    )

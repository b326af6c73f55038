"""Backups: the components the repository's apps take their PersistentVolumeClaims from together with
backup objects (Volsync ReplicationSources, Kopia snapshot policies, ...), and the variables the
Volsync component needs without a default (HO024)."""

from __future__ import annotations

import posixpath
from pathlib import Path

from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.flux import envsubst
from homeops.flux.rendered import ClusterRender
from homeops.rules.conventions.model import Convention, group_of
from homeops.rules.helpers import CORE_API_GROUPS, Components, claims_named, yaml_strings


def backups(renders: list[ClusterRender], root: Path, files: FileCache, paths: list[str]) -> list[Convention]:
    """Components that back apps up: an app takes its claim from one of them and backup objects
    (custom resources: Volsync ReplicationSources, Kopia snapshot policies, ...) from one of them."""
    components = Components.of(root, files)
    apps: dict[str, set[str]] = {}  # component -> apps it backs up
    kinds: dict[str, set[str]] = {}  # component -> kinds of its backup objects
    substitutes: dict[str, list[set[str]]] = {}  # component -> each app's postBuild.substitute keys
    for render in renders:
        for rk in render.rendered.values():
            claims: set[str] = set()
            names = {res.name for res in rk.resources if res.kind == "PersistentVolumeClaim"}
            machinery: dict[str, set[str]] = {}
            for res in rk.resources:
                component = components.outermost(res.file) if res.file else None
                if component is None:
                    continue
                if res.kind == "PersistentVolumeClaim":
                    claims.add(component)
                elif group_of(res) not in CORE_API_GROUPS and claims_named(res.obj.get("spec")) & names:
                    machinery.setdefault(component, set()).add(res.kind)  # it points at the app's claim
            if not claims or not machinery:
                continue
            keys = {str(k) for k in ((rk.ks.post_build or {}).get("substitute") or {})}
            for component in claims | set(machinery):
                apps.setdefault(component, set()).add(rk.ks.key)
                kinds.setdefault(component, set()).update(machinery.get(component, set()))
                substitutes.setdefault(component, []).append(keys)
    found = sorted(apps)
    if not found:
        return []
    out = [
        Convention(
            "backup_components",
            found,
            "components the apps take their claims and backup objects from: "
            + "; ".join(
                f"{c} ({', '.join(sorted(kinds[c])) or 'the claim'}; {len(apps[c])} apps)" for c in found
            ),
        )
    ]
    volsync = [c for c in found if "ReplicationSource" in kinds[c]]
    if volsync:
        component = volsync[0]
        parent, name = posixpath.dirname(component), posixpath.basename(component)
        out.append(
            Convention(
                "components_dir",
                parent,
                f"where the Volsync component {component} lives",
            )
        )
        out.append(
            Convention(
                "volsync_component",
                name,
                f"{component} renders Volsync ReplicationSources",
            )
        )
        needed = _needed_variables(files, [p for p in paths if p.startswith(component + "/")])
        if needed is not None:
            every = set.intersection(*substitutes[component])
            required = [n for n in needed if n in every]
            out.append(
                Convention(
                    "volsync_variables",
                    required,
                    f"variables {component} uses without a default that every app using it sets"
                    + (
                        f" (not required: {', '.join(n for n in needed if n not in every)})"
                        if len(required) < len(needed)
                        else ""
                    ),
                )
            )
    return out


def _needed_variables(files: FileCache, paths: list[str]) -> list[str] | None:
    """Variables the files' YAML values use without a default (None: one of them cannot be read or
    parsed). Values, not the text: Flux substitutes the built objects, so a ``${...}`` in a comment is
    no use (and, malformed, no reason to give up)."""
    names: list[str] = []
    for path in paths:
        if not path.endswith((".yaml", ".yml")):
            continue
        try:
            for text in yaml_strings(files.load_all(files.root / path)):
                if "$" in text:
                    names.extend(n for n in envsubst.find_unresolved(text, {}) if n not in names)
        except (HomeopsError, envsubst.SubstitutionError):  # the render reports what Flux cannot read
            return None
    return names

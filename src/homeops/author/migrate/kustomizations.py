"""The new ``ks.yaml``: one Flux Kustomization per old one, in the template's shape, with what the
template does not model carried over (substituteFrom, prune: false, other fields)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.author import templates as t
from homeops.author.migrate.model import MigrateOptions, Migration
from homeops.author.migrate.substitution import replace_variable
from homeops.author.migrate.text import all_files, emit, join_path, norm, plain, rel_path, under
from homeops.author.migrate.tree import Tree
from homeops.core import fs, yamlemit, yamlio
from homeops.core.errors import HomeopsError
from homeops.core.profile import Profile
from homeops.flux.model import FluxKustomization, is_flux_kustomization, is_helmrelease
from homeops.flux.rendered import ClusterRender

VARS_SUFFIX = "vars"
"""The Flux Kustomization ``APP-vars`` makes the Secret the app substitutes SOPS-held variables from."""


@dataclass
class KsSpec:
    name: str
    path: str
    components: list[str] = field(default_factory=list)  # component names (under the components directory)
    component_paths: list[str] = field(default_factory=list)  # other components, relative to path
    depends_on: list[tuple[str, str]] = field(default_factory=list)
    substitute: dict[str, str] = field(default_factory=dict)
    substitute_from: list[dict[str, Any]] = field(default_factory=list)
    prune: bool = True
    wait: bool = False
    timeout: str = t.KS_TIMEOUT
    extra: dict[str, Any] = field(default_factory=dict)


def flux_ks(profile: Profile, cluster: str, namespace: str, spec: KsSpec) -> str:
    """One Flux Kustomization: the template's, plus what it does not model (substituteFrom, prune: false,
    fields of the old Kustomization carried over)."""
    text = t.flux_ks(
        profile,
        t.FluxKs(
            cluster,
            namespace,
            spec.name,
            path=spec.path,
            components=spec.components,
            depends_on=[t.Dependency(n, ns) for n, ns in spec.depends_on],
            wait=spec.wait,
            timeout=spec.timeout,
        ),
    )
    entries: dict[str, list[str]] = {}
    if spec.component_paths:
        names = [t.relpath(profile.component_path(c), spec.path) for c in spec.components]
        entries["components"] = ["components:", *[f"  - {c}" for c in [*names, *spec.component_paths]]]
    if spec.substitute or spec.substitute_from:
        post = ["postBuild:"]
        if spec.substitute:
            post.append("  substitute:")
            for key, value in sorted(spec.substitute.items(), key=lambda kv: (kv[0] != "APP", kv[0])):
                post.append(
                    f"    {key}: {'*app' if key == 'APP' and value == spec.name else yamlemit.scalar(str(value), quote_unusual=True)}"
                )
        if spec.substitute_from:
            post.append("  substituteFrom:")
            post += emit(spec.substitute_from, 4)
        entries["postBuild"] = post
    if not spec.prune:
        entries["prune"] = ["prune: false"]
    for key, value in spec.extra.items():
        entries[key] = emit({key: plain(value)})
    return set_spec_entries(text, entries)


def set_spec_entries(text: str, entries: Mapping[str, list[str]]) -> str:
    """Set top-level ``spec`` keys of a generated Flux Kustomization, keeping the keys in alphabetical order."""
    lines = text.rstrip("\n").split("\n")
    start = lines.index("spec:") + 1
    segments: dict[str, list[str]] = {}
    key = None
    for line in lines[start:]:
        m = re.match(r"^  ([A-Za-z][\w-]*):", line)
        if m:
            key = m.group(1)
            segments[key] = [line]
        elif key is not None:
            segments[key].append(line)
    for key, value in entries.items():
        segments[key] = [f"  {line}" for line in value]
    body = [line for key in sorted(segments) for line in segments[key]]
    return "\n".join(lines[:start] + body) + "\n"


KS_DROPPED = {
    "path",
    "sourceRef",
    "targetNamespace",
    "commonMetadata",
    "decryption",
    "postBuild",
    "dependsOn",
    "interval",
    "retryInterval",
    "prune",
    "wait",
    "timeout",
    "components",
}


def old_ks_path(ks: FluxKustomization, options: MigrateOptions, profile: Profile) -> str:
    return norm(replace_variable(ks.path or ".", profile.cluster_name_variable, options.old))


def store_provider(
    root: Path, profile: Profile, known: Mapping[str, tuple[str, str]]
) -> tuple[str, str] | None:
    """The new cluster's Flux Kustomization that deploys the ClusterSecretStore of the profile."""
    pattern = re.compile(r"(?m)^kind:\s*" + re.escape(profile.secret_store_kind) + r"\s*$")
    for name, (namespace, ks_file) in sorted(known.items()):
        try:
            docs = yamlio.load_all(fs.read_text(root, ks_file))
        except (HomeopsError, OSError):
            continue
        for doc in docs:
            if (
                not (isinstance(doc, dict) and is_flux_kustomization(doc))
                or (doc.get("metadata") or {}).get("name") != name
            ):
                continue
            path = norm(str((doc.get("spec") or {}).get("path") or ""))
            for file in all_files(root, path) if path else []:
                text = fs.read_text(root, file, errors="replace")
                if pattern.search(text) and re.search(
                    r"(?m)^\s+name:\s*['\"]?" + re.escape(profile.secret_store) + r"['\"]?\s*$", text
                ):
                    return name, namespace
    return None


def deploys(render: ClusterRender, name: str, kind: str) -> bool:
    """Whether the old cluster's Flux Kustomization ``name`` applies an object of ``kind``."""
    return any(
        res.kind == kind for rk in render.rendered.values() if rk.ks.name == name for res in rk.resources
    )


def is_ingress_controller(render: ClusterRender, name: str) -> bool:
    for rk in render.rendered.values():
        if rk.ks.name != name:
            continue
        for res in rk.resources:
            if res.kind == "IngressClass":
                return True
            if is_helmrelease(res.obj) and "ingress" in str(
                (((res.obj.get("spec") or {}).get("chart") or {}).get("spec") or {}).get("chart") or ""
            ):
                return True
        return "ingress" in name or "nginx" in name
    return "ingress" in name or "nginx" in name


# ----------------------------------------------------------------------------------------------
# One spec per old Flux Kustomization

Known = Mapping[str, tuple[str, str]]
"""The new cluster's Flux Kustomizations: name -> (namespace, ks.yaml)."""


def new_ks_spec(m: Migration, tree: Tree, ks: FluxKustomization, old_path: str) -> KsSpec:
    """The old Flux Kustomization at its new path: its own substitutions, prune, wait and timeout, its
    components and the fields the template does not model."""
    new_path = tree.new_path(old_path)
    if new_path is None:
        raise HomeopsError(
            f"the path {old_path} of {ks.key} could not be placed in the new app",
            ks.resource.file,
            ks.resource.line,
        )
    spec = ks.spec
    post = ks.post_build or {}
    ks_spec = KsSpec(
        name=ks.name,
        path=new_path,
        substitute={str(k): "" if v is None else str(v) for k, v in (post.get("substitute") or {}).items()},
        prune=spec.get("prune") is not False,
        wait=spec.get("wait") is True,
        timeout=str(spec.get("timeout") or t.KS_TIMEOUT),
    )
    components_dir = m.profile.components_dir
    for comp in spec.get("components") or []:
        target = tree.new_path(join_path(old_path, str(comp)))
        if target and under(target, components_dir):
            ks_spec.components.append(target[len(components_dir) + 1 :])
        else:
            ks_spec.component_paths.append(rel_path(target, new_path, False) if target else str(comp))
    ks_spec.extra = {k: v for k, v in spec.items() if k not in KS_DROPPED and v not in (None, "", [], {})}
    return ks_spec


def map_dependencies(
    m: Migration, ks: FluxKustomization, ks_spec: KsSpec, known: Known, store: tuple[str, str] | None
) -> None:
    """Each ``dependsOn`` of the old Flux Kustomization, as the new cluster has it (or a step saying
    it has not)."""
    options, render = m.options, m.render
    siblings = {k.name for k in m.old.kustomizations}
    for dep in ks.depends_on:
        if dep.name in siblings:
            ks_spec.depends_on.append((dep.name, options.namespace))
        elif dep.name in known:
            ks_spec.depends_on.append((dep.name, known[dep.name][0]))
        elif store is not None and deploys(render, dep.name, m.profile.secret_store_kind):
            if store not in ks_spec.depends_on:
                ks_spec.depends_on.append(store)
            m.notes.append(
                f"{ks.name}: dependency on {dep.name} ({m.profile.secret_store_kind} in "
                f"{options.old}) became {store[1]}/{store[0]}"
            )
        elif is_ingress_controller(render, dep.name):
            m.notes.append(
                f"{ks.name}: dependency on {dep.name} dropped (an ingress controller; routes go "
                "through the gateway now)"
            )
        else:
            m.steps.append(
                f"{ks.name} depended on {dep.name} in {options.old}, which {options.new} does not "
                f"have: add the matching dependency to {m.new_dir}/ks.yaml if there is one"
            )


def depend_on_store(specs: list[KsSpec], tree: Tree, store: tuple[str, str]) -> None:
    """Flux Kustomizations applying ExternalSecrets wait for the one deploying the secret store."""
    for ks_spec in specs:
        if ks_spec.name.endswith(f"-{VARS_SUFFIX}"):
            continue
        files = [p for p in tree.files if p.startswith(ks_spec.path + "/")]
        if any("kind: ExternalSecret" in tree.files[p] for p in files) and store not in ks_spec.depends_on:
            ks_spec.depends_on.append(store)

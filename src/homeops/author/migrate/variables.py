"""Step "vars": what the old cluster substituted into the app, and where each value comes from now.

A variable known without reading a secret (the cluster's name, a profile value, a plain ConfigMap or
Secret value of the old cluster) is written into the files; one the old cluster read from a SOPS
Secret comes from an ``APP-vars`` ExternalSecret the app's Flux Kustomizations substitute from."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeops.author import templates as t
from homeops.author.migrate.kustomizations import VARS_SUFFIX, KsSpec
from homeops.author.migrate.model import MigrateOptions, Migration, OldApp
from homeops.author.migrate.secrets import externalsecret
from homeops.author.migrate.substitution import replace_variables, substitution_disabled, variables_in
from homeops.author.migrate.text import document
from homeops.author.migrate.tree import Tree
from homeops.core.profile import Profile
from homeops.flux.model import FluxKustomization
from homeops.flux.rendered import ClusterRender


@dataclass
class VariablePlan:
    """Where the value of each variable the app uses comes from in the new cluster."""

    inline: dict[str, str] = field(default_factory=dict)  # written into the files
    from_secret: dict[str, list[str]] = field(default_factory=dict)  # name -> Flux Kustomizations using it
    unknown: dict[str, list[str]] = field(default_factory=dict)


def _source_values(
    render: ClusterRender, ks: FluxKustomization
) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """Plain values of the old Kustomization's substituteFrom sources (name -> (value, source)), and the
    names held by encrypted ones (SOPS key names are plain text)."""
    plain_values: dict[str, tuple[str, str]] = {}
    encrypted: set[str] = set()
    for ref in (ks.post_build or {}).get("substituteFrom") or []:
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        found = render.find(kind, name, ks.namespace)
        if not found:
            continue
        obj = found[0][1].obj
        label = f"{kind} {name}"
        if kind == "Secret" and "sops" in obj:
            encrypted |= {str(k) for part in ("data", "stringData") for k in (obj.get(part) or {})}
            continue
        data: dict[str, Any] = dict(obj.get("data") or {})
        if kind == "Secret":
            decoded = {}
            for k, v in data.items():
                try:
                    decoded[k] = base64.b64decode(str(v)).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    continue
            data = {**decoded, **(obj.get("stringData") or {})}
        for k, v in data.items():
            plain_values[str(k)] = ("" if v is None else str(v), label)
    return plain_values, encrypted


def plan_variables(
    tree: Tree,
    profile: Profile,
    options: MigrateOptions,
    old: OldApp,
    substitutes: Mapping[str, dict[str, str]],
    notes: list[str],
) -> VariablePlan:
    """Each variable the app's files use, classified by where its value comes from in the new cluster."""
    plan = VariablePlan()
    for ks in old.kustomizations:
        plain_values, encrypted = _source_values(old.render, ks)
        used: dict[str, bool] = {}
        for new_path, text in tree.files.items():
            if tree.origin.get(new_path) in tree.ks_files.get(ks.name, set()) and not substitution_disabled(
                text
            ):
                for name, default in variables_in(text).items():
                    used[name] = used.get(name, True) and default
        own = substitutes.get(ks.name, {})
        for name, has_default in sorted(used.items()):
            if name in own:
                continue
            if name == profile.cluster_name_variable:
                plan.inline[name] = options.new
                continue
            attr = profile.profile_variables.get(name)
            if attr and getattr(profile, attr, None):
                plan.inline[name] = str(getattr(profile, attr))
                continue
            if name in plain_values:
                value, source = plain_values[name]
                plan.inline[name] = value
                notes.append(
                    f"${{{name}}} written as '{value}' (the value of {source} in cluster {options.old}); "
                    f"check it holds for {options.new}"
                )
                continue
            if name in encrypted:
                plan.from_secret.setdefault(name, []).append(ks.name)
                continue
            if not has_default:
                plan.unknown.setdefault(name, []).append(ks.name)
    return plan


def apply_inline(tree: Tree, values: Mapping[str, str]) -> None:
    """Every use of each variable replaced by its value, except where substitution is disabled."""
    for path, text in list(tree.files.items()):
        if not substitution_disabled(text):
            tree.files[path] = replace_variables(text, values)


def convert_variables(
    m: Migration, tree: Tree, specs: list[KsSpec], store: tuple[str, str] | None
) -> tuple[str, str] | None:
    """Write the values known without a secret, read the others from an ``APP-vars`` ExternalSecret,
    and name the ones without a value; returns the secret store's Flux Kustomization when the app now
    reads secrets (None: it reads none, or the cluster has no such Kustomization)."""
    profile = m.profile
    substitutes = {s.name: s.substitute for s in specs}
    variables = plan_variables(tree, profile, m.options, m.old, substitutes, m.notes)
    apply_inline(tree, variables.inline)
    for name in sorted(variables.inline):
        if name == profile.cluster_name_variable or name in profile.profile_variables:
            m.notes.append(f"${{{name}}} written as '{variables.inline[name]}'")
    has_secrets = any("kind: ExternalSecret" in text for text in tree.files.values())
    needed = store if (has_secrets or variables.from_secret) else None
    if variables.from_secret:
        specs.insert(0, _vars_kustomization(m, tree, variables, specs, needed))
    for name, using in sorted(variables.unknown.items()):
        m.steps.append(
            f"${{{name}}} (used by {', '.join(sorted(set(using)))}) has no value in {m.options.old} "
            "either (Flux substitutes an empty string): give it one or remove it"
        )
    return needed


def _vars_kustomization(
    m: Migration, tree: Tree, variables: VariablePlan, specs: list[KsSpec], store: tuple[str, str] | None
) -> KsSpec:
    """The ``APP-vars`` ExternalSecret (and the Flux Kustomization applying it) holding the variables
    the old cluster read from its SOPS secret; the Kustomizations using them substitute from it."""
    profile, options = m.profile, m.options
    vars_name = f"{options.app}-{VARS_SUFFIX}"
    vars_dir = f"{m.new_dir}/{VARS_SUFFIX}"
    keys = sorted(variables.from_secret)
    es = externalsecret(profile, vars_name, [(k, k) for k in keys], {})
    ks_names = ", ".join(ks.name for ks in m.old.kustomizations)
    tree.files[f"{vars_dir}/externalsecret.yaml"] = document(
        es,
        t.SCHEMA_EXTERNALSECRET,
        [
            f"Variables {ks_names} substituted from the SOPS cluster secret "
            f"in {options.old}, now from {profile.secret_store}."
        ],
    )
    tree.files[f"{vars_dir}/kustomization.yaml"] = t.app_kustomization(["externalsecret.yaml"])
    users = {u for us in variables.from_secret.values() for u in us}
    for ks_spec in specs:
        if ks_spec.name in users:
            ks_spec.depends_on.append((vars_name, options.namespace))
            ks_spec.substitute_from.append({"kind": "Secret", "name": vars_name})
    m.steps.append(
        f"create in {profile.secret_store} the key(s) {', '.join(keys)} with the values of the SOPS "
        f"cluster secret of {options.old} (the ExternalSecret {vars_name} feeds them to postBuild "
        f"substitution); a value that is not secret may instead be written in place of its "
        f"${{VARIABLE}} and dropped from {vars_dir}/externalsecret.yaml"
    )
    # wait: the app's Kustomization starts once the Secret exists, not merely the ExternalSecret
    return KsSpec(name=vars_name, path=vars_dir, depends_on=[store] if store else [], wait=True)

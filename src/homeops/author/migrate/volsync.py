"""Step "volsync": backup templates the profile's volsync component replaces, and the variables
that component needs."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from homeops.author.cluster import STORAGE_PROVIDERS
from homeops.author.migrate.kustomizations import Known, KsSpec
from homeops.author.migrate.model import Migration
from homeops.author.migrate.substitution import variables_in
from homeops.author.migrate.text import all_files, is_yaml, load_docs
from homeops.author.migrate.tree import Tree
from homeops.core import fs
from homeops.core.profile import Profile

CLAIMS = re.compile(
    r"(?m)^\s*(?:-\s+)?(?:kind:\s*PersistentVolumeClaim\s*$|volumeClaimTemplates:|"
    r"persistentVolumeClaim:\s*$|existingClaim:|type:\s*persistentVolumeClaim\s*$)"
)


def replaced_templates(root: Path, profile: Profile) -> Callable[[str], str | None]:
    """Why a directory the app borrows is not copied: a backup template the volsync component
    replaces (None: copy it)."""
    component = root / profile.component_path(profile.volsync_component)

    def why(path: str) -> str | None:
        if (root / path).is_dir() and component.is_dir() and is_volsync_template(root, path):
            return f"replaced by the {profile.volsync_component} component"
        return None

    return why


def is_volsync_template(root: Path, directory: str) -> bool:
    """A directory of claim + Volsync backup objects that the volsync component replaces."""
    kinds: set[str] = set()
    for file in all_files(root, directory):
        if is_yaml(file):
            for doc in load_docs(fs.read_text(root, file, errors="replace"), file):
                if isinstance(doc, dict):
                    kinds.add(str(doc.get("kind") or ""))
    return "PersistentVolumeClaim" in kinds and bool(kinds & {"ReplicationSource", "ReplicationDestination"})


def component_required(root: Path, profile: Profile, component: str) -> set[str]:
    """The variables a component uses without a default."""
    names: dict[str, bool] = {}
    for file in all_files(root, profile.component_path(component)):
        for name, default in variables_in(fs.read_text(root, file, errors="replace")).items():
            names[name] = names.get(name, True) and default
    return {n for n, d in names.items() if not d}


def use_component(m: Migration, tree: Tree, ks_name: str, ks_spec: KsSpec, required: set[str]) -> bool:
    """Give a Flux Kustomization the volsync component when it replaces a backup template the app used,
    or when the old one set the component's variables and the app has no backup objects of its own;
    the component's variables are set (or left as a step)."""
    profile = m.profile
    own_files = tree.ks_files.get(ks_name, set())
    uses_volsync_vars = all(v in ks_spec.substitute for v in profile.volsync_variables)
    own_claims = any(
        "ReplicationSource" in tree.files.get(p, "") for p in tree.files if tree.origin.get(p) in own_files
    )
    component_dir = m.root / profile.component_path(profile.volsync_component)
    if not (
        (tree.ks_dropped.get(ks_name) or (uses_volsync_vars and not own_claims)) and component_dir.is_dir()
    ):
        return False
    ks_spec.components.append(profile.volsync_component)
    substitute = ks_spec.substitute
    for name in sorted(required - set(substitute)):
        if name == "APP":
            substitute["APP"] = ks_name
        elif name == profile.cluster_name_variable:
            substitute[name] = m.options.new
        else:
            m.steps.append(
                f"set postBuild.substitute.{name} of {ks_name} in {m.new_dir}/ks.yaml "
                f"(the {profile.volsync_component} component needs it)"
            )
    for dropped in sorted(tree.ks_dropped.get(ks_name, ())):
        m.notes.append(f"{dropped} ({ks_name}) {tree.dropped[dropped]}")
    return True


def move_data(m: Migration, tree: Tree, specs: list[KsSpec], known: Known, stateful: bool) -> None:
    """With the component: wait for the storage the cluster has, and restore from a backup; without
    it, claims that are not copied are a manual step."""
    profile, options = m.profile, m.options
    if stateful:
        for provider in STORAGE_PROVIDERS:
            if provider in known:
                for ks_spec in specs:
                    if profile.volsync_component in ks_spec.components and provider not in {
                        d[0] for d in ks_spec.depends_on
                    }:
                        ks_spec.depends_on.append((provider, known[provider][0]))
        m.steps.append(
            f"move the data: the {profile.volsync_component} component fills the new claim of "
            f"{options.app} from its Volsync backup; stop the app in {options.old} and make sure a "
            f"fresh backup exists where {options.new}'s component restores from before the app starts "
            "there (or copy the data by hand)"
        )
    elif any(CLAIMS.search(text) for text in tree.files.values()):
        m.steps.append(
            f"move the data: {options.app} keeps data in volume claims that are not copied from "
            f"{options.old}, and no Volsync backup covers them in {options.new}; copy the data, and "
            f"consider the {profile.volsync_component} component (postBuild APP and VOLSYNC_CAPACITY, "
            "the app's claim as existingClaim ${APP})"
        )

"""Registration: the new namespace's kustomization (or the entry in an existing one) and, with
``--remove-source``, the old app directory and its entry deleted."""

from __future__ import annotations

import posixpath
from pathlib import Path

from homeops.author import templates as t
from homeops.author.migrate.kustrefs import kustomization_refs
from homeops.author.migrate.model import MigrateOptions, Migration, MigrationPlan, OldApp
from homeops.author.migrate.text import all_files, join_path, load_docs, norm
from homeops.core import fs, yamlio
from homeops.core.edits import FileEdit
from homeops.core.errors import HomeopsError
from homeops.core.profile import Profile
from homeops.core.yamledit import append_list_item, list_items, remove_list_item
from homeops.kustomize.build import find_kustomization_file


def namespace_kustomization(
    profile: Profile, root: Path, namespace: str, app: str, privileged: bool
) -> tuple[str, list[str]]:
    """A new namespace directory's kustomization.yaml (the template's), and the components it lacks."""
    wanted = (
        profile.privileged_namespace_component if privileged else profile.namespace_component,
        profile.alerts_component,
    )
    missing = [profile.component_path(c) for c in wanted if not (root / profile.component_path(c)).is_dir()]
    if not missing:
        return t.namespace_kustomization(profile, namespace, [app], privileged=privileged), []
    lines = [
        *t.header(t.SCHEMA_KUSTOMIZATION),
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        f"namespace: {namespace}",
        "resources:",
        f"  - ./{app}/ks.yaml",
    ]
    return t.join(lines), missing


def old_namespace_privileged(root: Path, old_dir: str) -> bool:
    ns_dir = root / posixpath.dirname(old_dir)
    for path in sorted(ns_dir.glob("*.yaml")):
        try:
            docs = yamlio.load_all(fs.read_text(root, path))
        except (HomeopsError, OSError):
            continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Namespace":
                labels = (doc.get("metadata") or {}).get("labels") or {}
                if str(labels.get("pod-security.kubernetes.io/enforce")) == "privileged":
                    return True
    return False


def namespace_leftovers(root: Path, old_dir: str) -> list[str]:
    """Resources of the old namespace's kustomization that are neither apps nor the Namespace."""
    ns_dir = posixpath.dirname(old_dir)
    kfile = find_kustomization_file(root / ns_dir)
    if kfile is None:
        return []
    try:
        kust = yamlio.load_one(fs.read_text(root, kfile))
    except (HomeopsError, OSError):
        return []
    out = []
    for ref in kustomization_refs(kust):
        target = join_path(ns_dir, ref.path)
        if target.endswith("/ks.yaml") or not (root / target).is_file():
            continue
        kinds = {
            str(d.get("kind")) for d in load_docs(fs.read_text(root, target), target) if isinstance(d, dict)
        }
        if kinds - {"Namespace"}:
            out.append(target)
    return out


def unregister(text: str, app: str) -> str | None:
    """The namespace kustomization without the app's ks.yaml entry (None: not listed)."""
    for item in list_items(text, "resources"):
        if norm(item) == f"{app}/ks.yaml":
            return remove_list_item(text, "resources", item)
    return None


def remove_source(root: Path, plan: MigrationPlan, old: OldApp, options: MigrateOptions) -> None:
    """Delete the old app directory and its registration."""
    for file in all_files(root, old.directory):
        plan.edits.append(FileEdit(file, None, fs.read_text(root, file, errors="replace")))
    ns_dir = root / posixpath.dirname(old.directory)
    kfile = find_kustomization_file(ns_dir)
    if kfile is None:
        return
    rel = kfile.relative_to(root).as_posix()
    text = fs.read_text(root, kfile)
    new = unregister(text, options.app)
    if new is None:
        plan.notes.append(f"{rel} does not list {options.app}/ks.yaml")
    else:
        plan.edits.append(FileEdit(rel, new, text))


def register_app(m: Migration) -> None:
    """List the app's ks.yaml in its namespace directory of the new cluster: in the namespace's
    kustomization file, in an explicit one replacing the kustomization Flux generated, or in a new
    namespace directory listed in the cluster's kustomization."""
    root, ns_rel = m.root, m.namespace_dir
    entry = f"./{m.options.app}/ks.yaml"
    ns_file = find_kustomization_file(root / ns_rel) if (root / ns_rel).is_dir() else None
    if ns_file is not None:
        rel = ns_file.relative_to(root).as_posix()
        text = fs.read_text(root, ns_file)
        if not any(norm(i) == norm(entry) for i in list_items(text, "resources")):
            m.plan.edits.append(FileEdit(rel, append_list_item(text, "resources", entry), text))
    elif (root / ns_rel).is_dir():
        _replace_generated(m, entry)
    else:
        _new_namespace(m)


def _replace_generated(m: Migration, entry: str) -> None:
    """Flux generates a kustomization for a directory without one (every ks.yaml below, and every app
    directory with a kustomization file, applied directly too); an explicit one lists the apps' ks.yaml
    only."""
    ns_rel = m.namespace_dir
    ns_kust = f"{ns_rel}/kustomization.yaml"
    listed = sorted(f"./{p.parent.name}/ks.yaml" for p in (m.root / ns_rel).glob("*/ks.yaml"))
    lines = [
        *t.header(t.SCHEMA_KUSTOMIZATION),
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        *[f"  - {e}" for e in sorted({*listed, entry})],
    ]
    m.plan.edits.append(FileEdit(ns_kust, t.join(lines)))
    m.steps.append(
        f"review {ns_kust}: {ns_rel} had no kustomization file, so Flux generated one that also "
        "applied its apps' directories directly; the new file lists the apps' ks.yaml only "
        f"({', '.join(listed) or 'none before'})"
    )


def _new_namespace(m: Migration) -> None:
    """A namespace new to the cluster: its kustomization (the template's), listed in the cluster's."""
    root, profile, options = m.root, m.profile, m.options
    ns_rel, namespace, old_dir = m.namespace_dir, options.namespace, m.old.directory
    ns_kust = f"{ns_rel}/kustomization.yaml"
    text, missing = namespace_kustomization(
        profile, root, namespace, options.app, old_namespace_privileged(root, old_dir)
    )
    m.plan.edits.append(FileEdit(ns_kust, text))
    for path in missing:
        m.notes.append(f"{ns_kust}: component {path} does not exist, so it is not used")
    leftovers = namespace_leftovers(root, old_dir)
    if leftovers:
        m.steps.append(
            f"namespace-level files of {posixpath.dirname(old_dir)} are not migrated: "
            f"{', '.join(leftovers)}; add what {namespace} still needs to {ns_rel}"
        )
    cluster_kust = find_kustomization_file(root / profile.apps_dir / options.new)
    if cluster_kust is not None:
        rel = cluster_kust.relative_to(root).as_posix()
        ctext = fs.read_text(root, cluster_kust)
        m.plan.edits.append(FileEdit(rel, append_list_item(ctext, "resources", f"./{namespace}"), ctext))

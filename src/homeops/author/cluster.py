"""What authoring reads of a modern cluster's tree: where its apps live, the Flux Kustomizations their
``ks.yaml`` files declare, and the providers (storage, secret store) apps wait for when the cluster
has them."""

from __future__ import annotations

import posixpath
from pathlib import Path

from homeops.core import fs, yamlio
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.profile import Profile
from homeops.flux.cluster import defined_kustomizations, discover_clusters
from homeops.flux.model import is_flux_kustomization
from homeops.kustomize.build import find_kustomization_file

# Flux Kustomizations an app waits for, by name, when the cluster has them (the storage for a
# stateful app, the secret store for an app with secrets). Their namespace is looked up.
STORAGE_PROVIDERS = ("rook-ceph-cluster", "openebs", "volsync")
SECRET_PROVIDERS = ("external-secrets",)


def apps_root(root: Path, profile: Profile, cluster: str, directory: str | None = None) -> str | None:
    """The directory holding a cluster's apps as ``<namespace>/<app>/ks.yaml`` (relative to the root):
    the profile's ``<apps_dir>/<cluster>`` (the document's layout), else the directory one of the
    cluster's root Flux Kustomizations applies that holds the most of them (``kubernetes/apps`` of
    the layout most home-ops repositories share). None when the cluster has neither.

    ``directory`` is where the cluster's root Flux objects are, as discovery found them (looked up
    when not given; a caller holding the discovered clusters passes it)."""
    own = f"{profile.apps_dir}/{cluster}"
    if (root / own).is_dir():
        return own
    if directory is None:
        found = next((c for c in discover_clusters(root, profile) if c.name == cluster), None)
        if found is None:
            return None
        directory = found.directory
    counts: dict[str, int] = {}
    for ks in defined_kustomizations(FileCache(root), root, directory):
        path = posixpath.normpath(ks.path.strip().removeprefix("./")) if ks.path else ""
        if (
            ks.source_ref.kind != "GitRepository"
            or path in ("", ".")
            or "${" in path
            or path.startswith("..")
        ):
            continue
        if (root / path).is_dir():
            counts[path] = len(list((root / path).glob("*/*/ks.yaml")))
    best = max(counts.items(), key=lambda item: (item[1], item[0]), default=("", 0))
    return best[0] if best[1] else None


def cluster_kustomizations(
    root: Path, profile: Profile, cluster: str, apps: str | None = None
) -> dict[str, tuple[str, str]]:
    """Name -> (namespace, ks.yaml) of every app's Flux Kustomization in a modern cluster (the first of a
    name wins); the namespace defaults to the namespace directory's kustomization ``namespace``, else
    the directory's name. ``apps``: the cluster's :func:`apps_root` when the caller has it."""
    out: dict[str, tuple[str, str]] = {}
    where = apps if apps is not None else apps_root(root, profile, cluster)
    if where is None:
        return out
    base = root / where
    for ks_file in sorted(base.glob("*/*/ks.yaml")):
        ns_dir = ks_file.parent.parent
        default_ns = ns_dir.name
        ns_kust = find_kustomization_file(ns_dir)
        try:
            if ns_kust is not None:
                data = yamlio.load_one(fs.read_text(root, ns_kust))
                if isinstance(data, dict) and isinstance(data.get("namespace"), str):
                    default_ns = data["namespace"]
            docs = yamlio.load_all(fs.read_text(root, ks_file))
        except (HomeopsError, OSError):
            continue
        for doc in docs:
            if isinstance(doc, dict) and is_flux_kustomization(doc):
                meta = doc.get("metadata") or {}
                if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                    rel = ks_file.relative_to(root).as_posix()
                    out.setdefault(meta["name"], (str(meta.get("namespace") or default_ns), rel))
    return out

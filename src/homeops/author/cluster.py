"""What authoring reads of a modern cluster's tree: the Flux Kustomizations its apps' ``ks.yaml`` files
declare, and the providers (storage, secret store) apps wait for when the cluster has them."""

from __future__ import annotations

from pathlib import Path

from homeops.core import fs, yamlio
from homeops.core.errors import HomeopsError
from homeops.core.profile import Profile
from homeops.flux.model import is_flux_kustomization
from homeops.kustomize.build import find_kustomization_file

# Flux Kustomizations an app waits for, by name, when the cluster has them (the storage for a
# stateful app, the secret store for an app with secrets). Their namespace is looked up.
STORAGE_PROVIDERS = ("rook-ceph-cluster", "openebs", "volsync")
SECRET_PROVIDERS = ("external-secrets",)


def cluster_kustomizations(root: Path, profile: Profile, cluster: str) -> dict[str, tuple[str, str]]:
    """Name -> (namespace, ks.yaml) of every app's Flux Kustomization in a modern cluster (the first of a
    name wins); the namespace defaults to the namespace directory's kustomization ``namespace``, else
    the directory's name."""
    out: dict[str, tuple[str, str]] = {}
    base = root / profile.apps_dir / cluster
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

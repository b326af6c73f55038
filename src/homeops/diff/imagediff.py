"""Images in a diff: which images changed in the changed objects (with the workloads using them), and
every image each side uses (for ``diff images``: what a change makes the cluster pull)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from homeops.core.text import escape
from homeops.diff.model import Change, ImageChange, Key, Placed
from homeops.flux.workloads import resource_images


def object_label(key: Key) -> str:
    """``cluster/kind/namespace/name``, one line whatever the names hold (they are repository data)."""
    cluster, kind, namespace, name = key
    return escape(f"{cluster}/{kind}/{namespace}/{name}" if namespace else f"{cluster}/{kind}/{name}")


def split_image(ref: str) -> tuple[str, str]:
    """``registry/repo:tag@digest`` -> (``registry/repo``, ``tag@digest``)."""
    name, at, digest = ref.partition("@")
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    version = tag + (f"@{digest}" if at else "")
    return name, version or "latest"


def images_of(index: Mapping[Key, list[Placed]]) -> frozenset[str]:
    return frozenset(use.image for placed in index.values() for p in placed for use in resource_images(p.res))


def uses(placed: Placed | None) -> dict[tuple[str, str], str]:
    """(container or values path, origin) -> image reference of one object."""
    if placed is None:
        return {}
    return {(use.container, use.origin): use.image for use in resource_images(placed.res)}


def image_changes(changes: Iterable[Change]) -> list[ImageChange]:
    """Images that differ between the two sides of changed objects, with the workloads using them."""
    grouped: dict[tuple[str, str | None, str | None], set[str]] = defaultdict(set)
    for change in changes:
        if change.kind not in IMAGE_KINDS and change.kind != "HelmRelease":
            continue
        before, after = uses(change.base), uses(change.head)
        workload = object_label((change.cluster, change.kind, change.namespace, change.name))
        for slot in sorted(set(before) | set(after)):
            old, new = before.get(slot), after.get(slot)
            if old == new:
                continue
            old_repo, old_version = split_image(old) if old else (None, None)
            new_repo, new_version = split_image(new) if new else (None, None)
            if old_repo == new_repo and old_repo is not None:
                grouped[(old_repo, old_version, new_version)].add(workload)
                continue
            if old_repo is not None:
                grouped[(old_repo, old_version, None)].add(workload)
            if new_repo is not None:
                grouped[(new_repo, None, new_version)].add(workload)
    return [
        ImageChange(image, old, new, sorted(workloads))
        for (image, old, new), workloads in sorted(
            grouped.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), str(kv[0][2]))
        )
    ]


IMAGE_KINDS = frozenset(
    {
        "Pod",
        "PodTemplate",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
    }
)

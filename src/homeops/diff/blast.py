"""Blast radius: how many rendered objects each changed source file touches.

A reviewer sees a one-line change in a component, a settings ConfigMap or a ``ks.yaml``; the render
shows what it does to every cluster. Each file that differs between the revisions (``git diff
--numstat``) is tied to the changed objects it can explain:

* objects whose own provenance (file:line) is in that file;
* every changed object of a Flux Kustomization that *read* the file as an input rather than as the
  source of objects: its kustomization files, patches, components' kustomizations, generator files,
  its own definition (``ks.yaml``) and the ConfigMaps/Secrets its postBuild substitutes from. What a
  Kustomization read is recorded during the render (:class:`homeops.diff.sides.Side.reads`).

An object may be explained by several files (each counts it); objects no changed file explains (a
chart pulled by a new version, a variable from ``--var``) are listed as unattributed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from homeops.core.git import FileChange
from homeops.diff.model import Change, Placed
from homeops.diff.sides import Side


def change_label(change: Change) -> str:
    """``cluster/kind/namespace/name``: how every signal names a changed object."""
    return "/".join(p for p in (change.cluster, change.kind, change.namespace, change.name) if p)


@dataclass
class BlastRadius:
    """One changed source file and the rendered changes it touches."""

    file: str
    added: int | None
    removed: int | None
    objects: list[str] = field(default_factory=list)
    kustomizations: list[str] = field(default_factory=list)  # cluster:namespace/name

    @property
    def count(self) -> int:
        return len(self.objects)

    @property
    def clusters(self) -> list[str]:
        return sorted({k.split(":", 1)[0] for k in self.kustomizations})

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "added": self.added,
            "removed": self.removed,
            "count": self.count,
            "objects": list(self.objects),
            "kustomizations": list(self.kustomizations),
            "clusters": self.clusters,
        }


def _resource_files(side: Side) -> dict[tuple[str, str], set[str]]:
    """(cluster, Kustomization key) -> the files its objects came from."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for cluster, render in side.renders.items():
        for key, rk in render.rendered.items():
            out[(cluster, key)].update(res.file for res in rk.resources if res.file)
    return out


def blast_radius(
    changes: Iterable[Change], base: Side, head: Side, files: Iterable[FileChange]
) -> tuple[list[BlastRadius], list[str]]:
    """Per changed file the changes it explains (most first), and the changes no file explains."""
    changed = {f.path: f for f in files}
    sides = ((base, _resource_files(base)), (head, _resource_files(head)))
    touched: dict[str, dict[str, None]] = defaultdict(dict)  # file -> labels (ordered set)
    kustomizations: dict[str, set[str]] = defaultdict(set)
    unattributed: list[str] = []
    for change in changes:
        label = change_label(change)
        causes: set[str] = set()
        placed: list[tuple[Side, dict[tuple[str, str], set[str]], Placed]] = [
            (side, own, p)
            for (side, own), p in zip(sides, (change.base, change.head), strict=True)
            if p is not None
        ]
        for side, own, p in placed:
            if p.res.file in changed:
                causes.add(p.res.file)
            key = (change.cluster, p.ks.key)
            resource_files = own.get(key, set())
            causes.update(f for f in side.reads.get(key, ()) if f in changed and f not in resource_files)
        if not causes:
            unattributed.append(label)
        for file in causes:
            touched[file][label] = None
            kustomizations[file].add(f"{change.cluster}:{change.ks}")
    out = [
        BlastRadius(
            path, f.added, f.removed, list(touched.get(path, {})), sorted(kustomizations.get(path, ()))
        )
        for path, f in changed.items()
    ]
    out.sort(key=lambda b: (-b.count, b.file))
    return out, unattributed

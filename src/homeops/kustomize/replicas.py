"""The ``replicas:`` transformer (kustomize's ReplicaCountTransformer, one per entry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeops.core.errors import KustomizeError
from homeops.kustomize.accumulator import Accumulator
from homeops.kustomize.fieldspec import FieldSpec, apply_specs
from homeops.kustomize.resource import Resource


@dataclass
class ReplicaCountTransformer:
    """kustomize's ReplicaCountTransformer: each entry's count on the objects of that name."""

    entries: list[dict[str, Any]]
    specs: list[FieldSpec]
    where: str | None

    def apply(self, acc: Accumulator) -> None:
        set_replicas(acc.resources, self.entries, self.specs, self.where)


def set_replicas(
    resources: list[Resource], entries: list[dict[str, Any]], specs: list[FieldSpec], where: str | None = None
) -> None:
    """Set each entry's count on the objects of that name (any current or earlier id) the specs select.

    As kustomize does, an entry that selects nothing is an error: a typo'd name must not pass silently.
    """
    for entry in entries:
        name = str(entry.get("name") or "")
        count = entry.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise KustomizeError(f"replicas entry {name!r} needs an integer count", where)

        def setter(container: Any, key: Any, count: int = count) -> None:
            container[key] = count

        found = False
        for spec in specs:
            matched = [
                r for r in resources if any(i.name == name and spec.selects(i.gvk) for i in r.all_ids())
            ]
            if matched:
                found = True
            for res in matched:
                apply_specs(res, [spec], setter, create=lambda: 0)
        if not found:
            gvks = " ".join(
                ".".join((s.kind or "[noKind]", s.version or "[noVer]", s.group or "[noGrp]")) for s in specs
            )
            raise KustomizeError(
                f"resource with name {name} does not match a config with the following GVK [{gvks}]",
                where,
                getattr(entry, "line", None) or None,
                "fix the name, or add a configurations: entry for this kind's replicas field",
            )

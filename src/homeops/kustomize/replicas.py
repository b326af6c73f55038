"""The ``replicas:`` transformer."""

from __future__ import annotations

from typing import Any

from homeops.errors import KustomizeError
from homeops.kustomize.fieldspec import FieldSpec, apply_specs
from homeops.kustomize.resource import Resource


def set_replicas(resources: list[Resource], entries: list[dict[str, Any]], specs: list[FieldSpec]) -> None:
    for entry in entries:
        name = entry.get("name")
        count = entry.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise KustomizeError(f"replicas entry {name!r} needs an integer count")

        def setter(container: Any, key: Any, count: int = count) -> None:
            container[key] = count

        for res in resources:
            if any(i.name == name for i in res.all_ids()):
                apply_specs(res, specs, setter, create=lambda: 0)

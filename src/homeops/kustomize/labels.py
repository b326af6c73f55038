"""The ``labels:``, ``commonLabels:`` and ``commonAnnotations:`` transformers."""

from __future__ import annotations

from typing import Any

from homeops.kustomize.fieldspec import FieldSpec, apply_specs, merge_specs
from homeops.kustomize.resource import Resource
from homeops.repo.yamlio import YMap


def add_map_entries(resources: list[Resource], entries: dict[str, Any], specs: list[FieldSpec]) -> None:
    """Add ``entries`` to every map the specs name (creating it where the spec says so)."""
    if not entries:
        return
    values = {str(k): _as_string(v) for k, v in entries.items()}

    def setter(container: Any, key: Any) -> None:
        target = container.get(key)
        if target is None:
            target = YMap()
            container[key] = target
        if not isinstance(target, dict):
            return
        target.update(values)

    for res in resources:
        apply_specs(res, specs, setter, create=YMap)


def _as_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def label_specs(entry: dict[str, Any], common: list[FieldSpec], metadata: list[FieldSpec],
                templates: list[FieldSpec]) -> list[FieldSpec]:
    """Field specs of one ``labels:`` entry (its own, then selectors/templates as asked)."""
    own = [FieldSpec.parse(s) for s in entry.get("fields") or []]
    specs = merge_specs(own, metadata)
    if entry.get("includeSelectors"):
        return merge_specs(specs, common)
    if entry.get("includeTemplates"):
        specs = merge_specs(specs, templates)
    return merge_specs(specs, [FieldSpec("metadata/labels", create=True)])

"""The ``labels:``, ``commonLabels:`` and ``commonAnnotations:`` transformers (LabelTransformer,
AnnotationsTransformer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeops.core.gocompat import kyaml
from homeops.core.yamlio import YMap
from homeops.kustomize.accumulator import Accumulator
from homeops.kustomize.fieldspec import FieldSpec, apply_specs, merge_specs
from homeops.kustomize.resource import Resource, has_build_annotations


@dataclass
class MapEntriesTransformer:
    """kustomize's LabelTransformer (``annotations=False``) or AnnotationsTransformer: ``entries``
    added to the maps the field specs name."""

    entries: dict[str, Any]
    specs: list[FieldSpec]
    annotations: bool = False

    def apply(self, acc: Accumulator) -> None:
        add_map_entries(acc.resources, self.entries, self.specs, annotations=self.annotations)


def add_map_entries(
    resources: list[Resource], entries: dict[str, Any], specs: list[FieldSpec], *, annotations: bool = False
) -> None:
    """Add ``entries`` to every map the specs name (creating it where the spec says so).

    With ``annotations``, ``metadata/annotations`` counts as present on objects kustomize carries
    build annotations on (generated, or renamed/namespaced), even for a spec that does not create.
    """
    if not entries:
        return
    values = {str(k): kyaml.get_value(v) for k, v in entries.items()}
    if annotations:
        own = [s for s in specs if s.path == "metadata/annotations" and not s.create]
        for res in resources:
            meta = res.obj.get("metadata")
            if (
                own
                and isinstance(meta, dict)
                and meta.get("annotations") is None
                and has_build_annotations(res)
                and any(s.matches(res.obj) for s in own)
            ):
                meta["annotations"] = YMap()

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


def label_specs(
    entry: dict[str, Any], common: list[FieldSpec], metadata: list[FieldSpec], templates: list[FieldSpec]
) -> list[FieldSpec]:
    """Field specs of one ``labels:`` entry (its own, then selectors/templates as asked)."""
    own = [FieldSpec.parse(s) for s in entry.get("fields") or []]
    specs = merge_specs(own, metadata)
    if entry.get("includeSelectors"):
        return merge_specs(specs, common)
    if entry.get("includeTemplates"):
        specs = merge_specs(specs, templates)
    return merge_specs(specs, [FieldSpec("metadata/labels", create=True)])

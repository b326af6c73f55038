"""The ``namePrefix:`` and ``nameSuffix:`` transformers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeops.kustomize.accumulator import Accumulator
from homeops.kustomize.fieldspec import FieldSpec, apply_specs
from homeops.kustomize.resource import Resource

_SKIPPED = (("", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"), ("", "Namespace"))


def _skipped(res: Resource) -> bool:
    gvk = res.org_id.gvk
    return any(gvk.selected_by(group, None, kind) for group, kind in _SKIPPED)


@dataclass
class PrefixSuffixTransformer:
    """kustomize's PrefixTransformer, SuffixTransformer and PrefixSuffixTransformer."""

    prefix: str
    suffix: str
    prefix_specs: list[FieldSpec]
    suffix_specs: list[FieldSpec]

    def apply(self, acc: Accumulator) -> None:
        add_prefix_suffix(acc.resources, self.prefix, self.suffix, self.prefix_specs, self.suffix_specs)


def add_prefix_suffix(
    resources: list[Resource],
    prefix: str,
    suffix: str,
    prefix_specs: list[FieldSpec],
    suffix_specs: list[FieldSpec],
) -> None:
    """Rename objects, remembering previous names so references can follow (done once at the end)."""
    if prefix:
        _apply(resources, prefix, prefix_specs, is_prefix=True)
    if suffix:
        _apply(resources, suffix, suffix_specs, is_prefix=False)


def _apply(resources: list[Resource], affix: str, specs: list[FieldSpec], *, is_prefix: bool) -> None:
    def setter(container: Any, key: Any) -> None:
        value = container.get(key)
        if not isinstance(value, str):
            return
        container[key] = f"{affix}{value}" if is_prefix else f"{value}{affix}"

    for res in resources:
        if _skipped(res):
            continue
        org = res.org_id.gvk
        for spec in specs:
            if not spec.selects(org):
                continue
            if spec.path == "metadata/name":
                (res.prefixes if is_prefix else res.suffixes).append(affix)
                res.store_previous_id()
            apply_specs(res, [spec], setter)

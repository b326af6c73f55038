"""The ``namespace:`` transformer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeops.kustomize.accumulator import Accumulator, check_unique
from homeops.kustomize.fieldspec import FieldSpec, apply_specs
from homeops.kustomize.resource import Resource

ROLE_BINDINGS = ("RoleBinding", "ClusterRoleBinding")


@dataclass
class NamespaceTransformer:
    """kustomize's NamespaceTransformer: the namespace set, then no two objects may share an id."""

    namespace: str
    specs: list[FieldSpec]
    where: str
    unset_only: bool = False
    subjects: str = "defaultOnly"

    def apply(self, acc: Accumulator) -> None:
        set_namespace(
            acc.resources, self.namespace, self.specs, unset_only=self.unset_only, subjects=self.subjects
        )
        check_unique(acc.resources, self.where, "namespace")


def set_namespace(
    resources: list[Resource],
    namespace: str,
    specs: list[FieldSpec],
    *,
    unset_only: bool = False,
    subjects: str = "defaultOnly",
) -> None:
    """Set ``namespace`` on every namespaced object and on the fields the specs name."""
    if not namespace:
        return

    def setter(container: Any, key: Any) -> None:
        if unset_only and container.get(key):
            return
        container[key] = namespace

    for res in resources:
        if not res.obj:
            continue
        res.store_previous_id()
        if not res.cur_id.cluster_scoped:
            meta = res.metadata
            setter(meta, "namespace")
        kind = res.kind
        effective = [
            s
            for s in specs
            if s.path != "metadata/namespace" and not (s.path == "metadata/name" and res.api_version != "v1")
        ]
        if kind in ROLE_BINDINGS:
            # subjects are the role binding hack's alone (kustomize drops only these exact specs)
            effective = [
                s for s in effective if not (s.kind in ROLE_BINDINGS and s.path == "subjects/namespace")
            ]
            _role_binding_subjects(res.obj, setter, subjects)
        apply_specs(res, effective, setter, create=lambda: "")


def _role_binding_subjects(obj: dict[str, Any], setter: Any, mode: str) -> None:
    if mode == "none":
        return
    subjects = obj.get("subjects")
    if not isinstance(subjects, list):
        return
    for subject in subjects:
        if not isinstance(subject, dict):
            continue
        if mode == "allServiceAccounts":
            if subject.get("kind") == "ServiceAccount":
                setter(subject, "namespace")
        elif subject.get("name") == "default":
            setter(subject, "namespace")

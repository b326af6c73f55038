"""Name references: after renames (prefix, suffix, namespace, hash), fields that named an object follow it."""

from __future__ import annotations

from typing import Any

from homeops.core.errors import KustomizeError
from homeops.kustomize.fieldspec import FieldSpec, NameReference, visit
from homeops.kustomize.resource import Gvk, Resource


def fix_name_references(resources: list[Resource], refs: list[NameReference]) -> None:
    if not any(r.prev_ids for r in resources):
        return  # nothing was renamed: every reference already names its target
    by_gvk: dict[Gvk, list[Resource]] = {}
    for res in resources:
        by_gvk.setdefault(res.org_id.gvk, []).append(res)
    kinds = {gvk.kind for gvk in by_gvk}
    work: list[tuple[Resource, FieldSpec, Gvk]] = []
    for ref in refs:
        for spec in ref.referrers:
            if spec.kind and spec.kind not in kinds:
                continue  # selects no resource of this build (most referrer specs name a kind)
            for gvk, members in by_gvk.items():
                if spec.selects(gvk):
                    work.extend((res, spec, ref.target) for res in members)
    if not work:
        return
    candidate_cache: dict[int, list[Resource]] = {}
    for referrer, spec, target in work:
        key = id(referrer)
        if key not in candidate_cache:
            candidate_cache[key] = _could_be_referenced_by(resources, referrer)
        _update(referrer, spec, target, candidate_cache[key])


def _could_be_referenced_by(resources: list[Resource], referrer: Resource) -> list[Resource]:
    rid = referrer.cur_id
    if rid.cluster_scoped:
        return resources
    binding_namespaces: set[str] = set()
    if referrer.kind in ("RoleBinding", "ClusterRoleBinding"):
        for subject in referrer.obj.get("subjects") or []:
            if (
                isinstance(subject, dict)
                and subject.get("kind") == "ServiceAccount"
                and subject.get("namespace")
            ):
                binding_namespaces.add(str(subject["namespace"]))
    out = []
    for res in resources:
        cid = res.cur_id
        if (
            cid.cluster_scoped
            or cid.effective_namespace == rid.effective_namespace
            or res.namespace in binding_namespaces
        ):
            out.append(res)
    return out


def _update(referrer: Resource, spec: FieldSpec, target: Gvk, candidates: list[Resource]) -> None:
    def setter(container: Any, key: Any) -> None:
        value = container[key]
        if value is None:
            return
        if isinstance(value, str):
            new = _select(referrer, spec, target, value, candidates, same_ns=False)
            if new is not None and new.name != value:
                container[key] = new.name
        elif isinstance(value, dict):
            _set_mapping(referrer, spec, target, value, candidates)
        elif isinstance(value, list):
            for i, element in enumerate(value):
                if isinstance(element, str):
                    new = _select(referrer, spec, target, element, candidates, same_ns=False)
                    if new is not None and new.name != element:
                        value[i] = new.name
                elif isinstance(element, dict):
                    _set_mapping(referrer, spec, target, element, candidates)

    parts = spec.parts
    visit(referrer.obj, parts, setter, where=referrer.cur_id.describe())


def _set_mapping(
    referrer: Resource, spec: FieldSpec, target: Gvk, node: dict[str, Any], candidates: list[Resource]
) -> None:
    if "name" not in node:
        raise KustomizeError(f"path config error; no 'name' field in node of {referrer.cur_id.describe()}")
    if "namespace" in node:
        namespace = str(node.get("namespace") or "")
        by_org = [c for c in candidates if c.org_id.namespace == namespace]
        candidates = by_org or [c for c in candidates if c.namespace == namespace]
    old = str(node.get("name") or "")
    new = _select(referrer, spec, target, old, candidates, same_ns=True)
    if new is None:
        return
    if new.name == old and not new.namespace:
        return
    node["name"] = new.name
    if new.namespace:
        node["namespace"] = new.namespace


def _same_ending(a: list[str], b: list[str]) -> bool:
    shortest, longest = (a, b) if len(a) <= len(b) else (b, a)
    diff = len(longest) - len(shortest)
    if not shortest:
        return diff == 0
    return all(longest[i + diff] == shortest[i] for i in range(len(shortest)))


def _affixes_equal(r: Resource, o: Resource, allow_empty: bool) -> bool:
    if allow_empty:
        prefix_ok = not r.prefixes or not o.prefixes or _same_ending(r.prefixes, o.prefixes)
        suffix_ok = not r.suffixes or not o.suffixes or _same_ending(r.suffixes, o.suffixes)
        return prefix_ok and suffix_ok
    return _same_ending(r.prefixes, o.prefixes) and _same_ending(r.suffixes, o.suffixes)


def _select(
    referrer: Resource, spec: FieldSpec, target: Gvk, old: str, candidates: list[Resource], *, same_ns: bool
) -> Resource | None:
    chosen = []
    role_ref: Gvk | None = None
    if spec.path.endswith("roleRef/name"):
        role = referrer.obj.get("roleRef")
        if isinstance(role, dict) and role.get("apiGroup") is not None and role.get("kind") is not None:
            role_ref = Gvk(str(role["apiGroup"]), "", str(role["kind"]))
    rid = referrer.cur_id
    for c in candidates:
        prev = c.prev_ids_as_gvk()
        if not any(p.name == old for p in prev):
            continue
        if not any(p.gvk.selected_by(target.group, target.version, target.kind) for p in prev):
            continue
        if role_ref is not None and not any(
            p.gvk.selected_by(role_ref.group, role_ref.version, role_ref.kind) for p in prev
        ):
            continue
        if not rid.cluster_scoped:
            cid = c.cur_id
            if not (
                cid.cluster_scoped
                or c.kind == "ServiceAccount"
                or cid.effective_namespace == rid.effective_namespace
            ):
                continue
        chosen.append(c)
    if len(chosen) == 1:
        return chosen[0]
    chosen = [c for c in chosen if _affixes_equal(c, referrer, True)]
    if len(chosen) > 1:
        chosen = [c for c in chosen if _affixes_equal(c, referrer, False)]
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        return None
    first = chosen[0]
    if all(c.name == first.name and (not same_ns or c.namespace == first.namespace) for c in chosen):
        return first
    ids = ", ".join(str(c.cur_id) for c in chosen)
    raise KustomizeError(f"found multiple possible referrals: {ids}", referrer.file, referrer.line)

"""Output order: kustomize's legacy kind order (the default) or ``sortOptions``."""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from homeops.core.errors import KustomizeError
from homeops.kustomize.resource import Gvk, Resource

ORDER_FIRST = ("Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
               "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret",
               "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
               "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget")  # fmt: skip
ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def _gvk_sort_string(gvk: Gvk) -> str:
    return "_".join((gvk.group or "~G", gvk.version or "~V", gvk.kind or "~K"))


def legacy_sort(
    resources: list[Resource], first: tuple[str, ...] = ORDER_FIRST, last: tuple[str, ...] = ORDER_LAST
) -> list[Resource]:
    orders = {kind: -len(first) + i for i, kind in enumerate(first)}
    orders.update({kind: 1 + i for i, kind in enumerate(last)})

    def key_of(res: Resource) -> tuple[Gvk, str]:
        cid = res.cur_id
        sort_string = "|".join((str(cid.gvk), cid.namespace or "~X", cid.name or "~N"))
        return cid.gvk, sort_string

    keyed = [(key_of(r), r) for r in resources]

    def compare(a: tuple[tuple[Gvk, str], Resource], b: tuple[tuple[Gvk, str], Resource]) -> int:
        (ga, sa), (gb, sb) = a[0], b[0]
        if ga != gb:
            ia, ib = orders.get(ga.kind, 0), orders.get(gb.kind, 0)
            if ia != ib:
                return -1 if ia < ib else 1
            ka, kb = _gvk_sort_string(ga), _gvk_sort_string(gb)
            if ga.kind == "Namespace" and gb.kind == "Namespace" and (not ga.group or not gb.group):
                return (ka < kb) - (ka > kb)
            return (ka > kb) - (ka < kb)
        return (sa > sb) - (sa < sb)

    keyed.sort(key=cmp_to_key(compare))
    return [r for _, r in keyed]


def apply_sort_options(resources: list[Resource], options: dict[str, Any] | None) -> list[Resource]:
    if options is None:
        return legacy_sort(resources)
    order = options.get("order")
    if order == "fifo":
        if options.get("legacySortOptions"):
            raise KustomizeError("legacySortOptions cannot be set when sortOptions.order is fifo")
        return resources
    if order == "legacy":
        legacy = options.get("legacySortOptions") or {}
        first = tuple(legacy.get("orderFirst") or ORDER_FIRST)
        last = tuple(legacy.get("orderLast") or ORDER_LAST)
        return legacy_sort(resources, first, last)
    raise KustomizeError(f"sortOptions.order must be 'legacy' or 'fifo', got {order!r}")

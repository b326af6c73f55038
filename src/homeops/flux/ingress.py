"""Ingress as a Flux repository deploys it: the API groups of an Ingress object, and what an
``ingress:`` mapping of HelmRelease values switches on (the common charts' ``enabled: true`` shape, and
app-template's ``ingress.<name>`` entries). The rules judge it; migrate converts it."""

from __future__ import annotations

from typing import Any

INGRESS_GROUPS = ("networking.k8s.io", "extensions")
# keys of one app-template ``ingress.<name>`` entry that a generic chart's ``ingress`` mapping lacks
_INGRESS_ENTRY_KEYS = ("hosts", "className", "defaultBackend")


def is_on(value: Any) -> bool:
    """A chart value switched on: ``true``, or the string ``"true"`` (any case)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_off(value: Any) -> bool:
    """A chart value switched off: ``false``, or the string ``"false"`` (any case)."""
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def enabled_ingresses(node: dict[str, Any]) -> list[str] | None:
    """What an ``ingress:`` mapping of chart values enables: ``["ingress"]`` for the ``enabled: true``
    shape, the entry names for the app-template shape (``ingress.<name>``, enabled unless
    ``enabled: false``), None when it enables nothing."""
    if "enabled" in node:
        return ["ingress"] if is_on(node["enabled"]) else None
    names = [
        str(k)
        for k, v in node.items()
        if isinstance(v, dict) and any(k2 in v for k2 in _INGRESS_ENTRY_KEYS) and not is_off(v.get("enabled"))
    ]
    return names or None

"""Ingress as a Flux repository deploys it: the API groups of an Ingress object, and what an
``ingress:`` mapping of HelmRelease values switches on (the common charts' ``enabled: true`` shape, and
app-template's ``ingress.<name>`` entries), and the Gateway API routes chart values declare. The rules
judge them; migrate converts Ingress; the context document lists the hosts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

INGRESS_GROUPS = ("networking.k8s.io", "extensions")
GATEWAY_GROUP = "gateway.networking.k8s.io"
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


def value_entries(values: Any, key: str, marker: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, entry) of chart values' ``<key>.<name>`` entries holding ``marker`` (app-template's
    ``route.<name>.parentRefs``) and of a bare ``<key>: {marker, ...}`` (named ``key``), at any depth
    (sub-charts), skipping whatever says ``enabled: false``."""
    stack: list[Any] = [values]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict) or is_off(node.get("enabled")):
            continue
        for k, value in node.items():
            if k == key and isinstance(value, dict):
                if marker in value:
                    if not is_off(value.get("enabled")):
                        yield key, value
                    continue
                for name, entry in value.items():
                    if isinstance(entry, dict) and marker in entry and not is_off(entry.get("enabled")):
                        yield str(name), entry
                continue
            stack.append(value)

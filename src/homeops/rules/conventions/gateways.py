"""Gateways and the domain: the repository's Gateways, their listeners and what each listener's
``allowedRoutes`` admits (HO028 states the real risk from them); no Gateway API at all turns HO006,
HO013 and HO028 off, as does a repository that never marks routes internet-facing for HO013; the
domain its routes use (``new app``)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from homeops.core import cache, codes
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.flux.model import is_helmrelease
from homeops.kustomize.resource import Resource
from homeops.rules.base import rules_store
from homeops.rules.conventions.model import TEMPLATED, Convention, group_of
from homeops.rules.helpers import dig
from homeops.rules.routes import value_routes
from homeops.rules.routing import GATEWAY_GROUP

GATEWAY_API_RULES = (codes.INGRESS.id, codes.EXTERNAL_GATEWAY.id, codes.ROUTE.id)


@dataclass
class _Gateway:
    res: Resource
    listeners: dict[str, dict[str, str]]  # name -> {protocol, from: allowedRoutes.namespaces.from}
    https: str | None
    address: str

    @classmethod
    def of(cls, res: Resource) -> _Gateway:
        listeners: dict[str, dict[str, str]] = {}
        https = None
        for item in dig(res.obj, "spec", "listeners") or []:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            name = str(item["name"])
            allowed = str(
                dig(item, "allowedRoutes", "namespaces", "from") or "Same"
            )  # the Gateway API default
            listeners[name] = {"protocol": str(item.get("protocol") or ""), "from": allowed}
            if https is None and str(item.get("protocol") or "").upper() == "HTTPS":
                https = name
        addresses = [a.get("value") for a in dig(res.obj, "spec", "addresses") or [] if isinstance(a, dict)]
        annotations = dig(res.obj, "spec", "infrastructure", "annotations") or {}
        ips = [v for k, v in annotations.items() if "lb-ipam-ips" in str(k) or "lbipam" in str(k)]
        address = str(next((a for a in [*addresses, *ips] if a), "") or "")
        return cls(res, listeners, https, address)

    def convention(self, key: str, role: str, uses: int) -> Convention:
        value: dict[str, Any] = {"name": self.res.name, "namespace": self.res.namespace or "default"}
        if self.address:
            value["address"] = self.address
        value["section"] = self.https or "https"
        value["listeners"] = dict(self.listeners)
        admits = ", ".join(
            f"{n} {spec['protocol']} from {spec['from']}" for n, spec in self.listeners.items()
        )
        return Convention(
            key,
            value,
            f"the {role} Gateway {self.res.name} ({self.res.where()}, {uses} routes; listeners {admits})",
        )


def _parent_refs(objects: list[Resource]) -> Counter[str]:
    refs: Counter[str] = Counter()
    for res in objects:
        routes: list[tuple[dict[str, Any], str]] = []
        if res.kind in ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute") and group_of(res) == GATEWAY_GROUP:
            spec = res.obj.get("spec")
            if isinstance(spec, dict):
                routes.append((spec, res.namespace or "default"))
        elif is_helmrelease(res.obj):
            namespace = str(dig(res.obj, "spec", "targetNamespace") or res.namespace or "default")
            routes.extend((route, namespace) for _path, route in value_routes(dig(res.obj, "spec", "values")))
        for route, namespace in routes:
            for ref in route.get("parentRefs") or []:
                if isinstance(ref, dict) and ref.get("name"):
                    refs[f"{ref.get('namespace') or namespace}/{ref['name']}"] += 1
    return refs


def gateways(
    objects: list[Resource], annotation: str, files: FileCache, paths: list[str]
) -> list[Convention]:
    gateways = [_Gateway.of(r) for r in objects if r.kind == "Gateway" and group_of(r) == GATEWAY_GROUP]
    refs = _parent_refs(objects)
    if not gateways and not refs:
        return [
            Convention(
                "rules",
                {rid: False for rid in GATEWAY_API_RULES},
                "no Gateway, HTTPRoute or chart route in the render: the Gateway API rules "
                f"({', '.join(GATEWAY_API_RULES)}) do not apply",
            )
        ]
    out: list[Convention] = []
    by_role: dict[str, _Gateway] = {}
    for gw in gateways:
        for role in ("internal", "external"):
            if role in gw.res.name and role not in by_role:
                by_role[role] = gw
    if not by_role and gateways:
        busiest = max(gateways, key=lambda g: refs[f"{g.res.namespace or 'default'}/{g.res.name}"])
        by_role["internal"] = busiest
    for role, gw in by_role.items():
        uses = refs[f"{gw.res.namespace or 'default'}/{gw.res.name}"]
        out.append(gw.convention(f"gateway_{role}", role, uses))
    if not _mentions(files, paths, annotation):
        out.append(
            Convention(
                "rules",
                {codes.EXTERNAL_GATEWAY.id: False},
                f"no route is marked with {annotation}: the repository does not opt routes into the "
                "external gateway that way",
            )
        )
    return out


def _mentions(files: FileCache, paths: list[str], text: str) -> bool:
    """Does any YAML file of the repository contain ``text``? Each file's answer is kept across runs
    under its content id (``FileCache.known``: what Git or the index's stat vouches for), so a file
    whose content is vouched for is not read again to be asked."""
    store = rules_store(files.scope)
    needle = text.encode("utf-8", "surrogateescape")
    for path in paths:
        if not path.endswith((".yaml", ".yml")):
            continue
        blob = files.known.get(path)
        if blob is not None and store is not None:
            kept = store.get(cache.digest(b"mentions", needle, blob.encode()))
            if kept is not None:
                if kept == b"1":
                    return True
                continue
        try:
            found = text in files.read_text(os.path.join(files.root, path))
        except HomeopsError:  # an unreadable file says nothing about the annotation
            continue
        blob = files.known.get(path)  # the read gave its id
        if blob is not None and store is not None:
            store.put(cache.digest(b"mentions", needle, blob.encode()), b"1" if found else b"0")
        if found:
            return True
    return False


def _hostnames(objects: list[Resource]) -> Iterator[str]:
    for res in objects:
        if res.kind == "HTTPRoute" and group_of(res) == GATEWAY_GROUP:
            yield from (str(h) for h in dig(res.obj, "spec", "hostnames") or [])
        elif res.kind == "Ingress":
            yield from (
                str(r.get("host"))
                for r in dig(res.obj, "spec", "rules") or []
                if isinstance(r, dict) and r.get("host")
            )
        elif is_helmrelease(res.obj):
            for _path, route in value_routes(dig(res.obj, "spec", "values")):
                yield from (str(h) for h in route.get("hostnames") or [])


def parent_domain(host: str) -> str | None:
    """The domain a route's host name sits in: the name without its first label
    (``grafana.home.example.net`` -> ``home.example.net``), never a bare top-level domain."""
    labels = [p for p in host.strip().lower().rstrip(".").split(".") if p]
    if labels and labels[0] == "*":
        labels = labels[1:]
        return ".".join(labels) if len(labels) >= 2 else None
    return ".".join(labels[1:]) if len(labels) >= 3 else None


def domain(objects: list[Resource]) -> list[Convention]:
    domains: Counter[str] = Counter()
    for host in _hostnames(objects):
        if TEMPLATED.search(host):
            continue
        found = parent_domain(host)
        if found:
            domains[found] += 1
    if not domains:
        return []
    domain, count = domains.most_common(1)[0]
    total = sum(domains.values())
    return [Convention("domain", domain, f"{count} of the {total} route host names are in {domain}")]

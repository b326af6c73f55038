"""Step "routes": Ingress objects become HTTPRoutes, app-template ``ingress`` values become
``route`` values, both on the internal gateway (or, asked, the external one)."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeops.author import templates as t
from homeops.author.migrate.text import (
    document,
    emit,
    is_yaml,
    load_docs,
    plain,
    split_docs,
)
from homeops.author.migrate.tree import Tree, free_name
from homeops.core.profile import Gateway, Profile
from homeops.core.yamledit import replace_entry
from homeops.flux.ingress import INGRESS_GROUPS, enabled_ingresses
from homeops.flux.model import is_helmrelease
from homeops.flux.rendered import ClusterRender

OBSOLETE_INGRESS_ANNOTATIONS = (
    "cert-manager.io/",
    "kubernetes.io/tls-acme",
    "kubernetes.io/ingress.class",
    "external-dns.alpha.kubernetes.io/target",
    "external-dns.alpha.kubernetes.io/hostname",
)
CONTROLLER_ANNOTATION_PREFIXES = (
    "nginx.ingress.kubernetes.io/",
    "nginx.org/",
    "traefik.ingress.kubernetes.io/",
)
# ----------------------------------------------------------------------------------------------
# Ingress -> HTTPRoute


@dataclass
class RouteRule:
    path: str | None
    match: str
    backend: dict[str, Any]

    def as_rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {}
        if self.path is not None:
            rule["matches"] = [{"path": {"type": self.match, "value": self.path}}]
        rule["backendRefs"] = [self.backend]
        return rule

    def key(self) -> str:
        return json.dumps([self.path, self.match, self.backend], sort_keys=True)


_PATH_TYPES = {
    "Prefix": "PathPrefix",
    "Exact": "Exact",
    "ImplementationSpecific": "PathPrefix",
    None: "PathPrefix",
}


def _group_by_host(rules: list[tuple[str | None, RouteRule]]) -> list[tuple[list[str], list[RouteRule]]]:
    """(hostnames, rules) groups: hosts with the same rules share one route."""
    by_host: dict[str | None, list[RouteRule]] = {}
    for host, rule in rules:
        bucket = by_host.setdefault(host, [])
        if rule.key() not in {r.key() for r in bucket}:
            bucket.append(rule)
    groups: dict[str, tuple[list[str], list[RouteRule]]] = {}
    for host, bucket in by_host.items():
        sig = json.dumps([r.key() for r in bucket]) + ("" if host else "#nohost")
        hosts, _ = groups.setdefault(sig, ([], bucket))
        if host:
            hosts.append(host)
    return list(groups.values())


def _parent_ref(gateway: Gateway) -> dict[str, Any]:
    return {"name": gateway.name, "namespace": gateway.namespace, "sectionName": gateway.section}


def _external_annotations(profile: Profile) -> dict[str, str]:
    out = {profile.internet_facing_annotation: "true"}
    if profile.domain:
        out["external-dns.alpha.kubernetes.io/target"] = f"external.{profile.domain}"
    return out


def _looks_external(class_name: Any, annotations: Mapping[str, Any]) -> bool:
    words = [str(class_name or "")] + [str(v) for k, v in annotations.items() if "external-dns" in str(k)]
    return any("external" in w or "public" in w for w in words)


def _filter_annotations(annotations: Mapping[str, Any], what: str, steps: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in annotations.items():
        key = str(key)
        if key.startswith(OBSOLETE_INGRESS_ANNOTATIONS):
            continue
        if key.startswith(CONTROLLER_ANNOTATION_PREFIXES):
            steps.append(
                f"{what}: the ingress-controller annotation {key}: {value} has no automatic HTTPRoute "
                "equivalent; reproduce it with route filters or gateway policies, or drop it"
            )
            continue
        out[key] = str(value)
    return out


def _route_annotations(
    profile: Profile,
    external: bool,
    annotations: Mapping[str, Any],
    class_name: Any,
    what: str,
    route: str,
    steps: list[str],
) -> dict[str, str]:
    """The ingress's annotations a route keeps (and the external gateway's, asked); a step when the
    ingress looks internet-facing but the route goes on the internal gateway."""
    out = _filter_annotations(annotations, what, steps)
    if external:
        out.update(_external_annotations(profile))
    elif _looks_external(class_name, annotations):
        steps.append(
            f"{what} was published through an external ingress class; the {route} is on "
            f"{profile.gateway_internal.name} (rerun with --external to publish it on "
            f"{profile.gateway_external.name})"
        )
    return out


def service_ports(render: ClusterRender) -> dict[tuple[str, str], dict[str, int]]:
    """(namespace, Service) -> port name -> port of every rendered Service."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for _rk, res in render.objects():
        if res.kind != "Service":
            continue
        ports: dict[str, int] = {}
        for port in (res.obj.get("spec") or {}).get("ports") or []:
            if isinstance(port, dict) and isinstance(port.get("port"), int):
                ports[str(port.get("name") or "")] = port["port"]
        out[(res.namespace or "", res.name)] = ports
    return out


def chart_service_ports(tree: Tree) -> dict[tuple[str, str], dict[str, int]]:
    """("", Service) -> port name -> port of the Services app-template HelmReleases of the app create
    (under the release name and under ``<release>-<identifier>``, app-template's two namings)."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for path in sorted(tree.files):
        if not is_yaml(path):
            continue
        for doc in load_docs(tree.files[path], path):
            if not (isinstance(doc, dict) and is_helmrelease(doc)):
                continue
            release = str((doc.get("metadata") or {}).get("name") or "")
            services = ((doc.get("spec") or {}).get("values") or {}).get("service")
            if not isinstance(services, dict):
                continue
            for identifier, svc in services.items():
                if not isinstance(svc, dict):
                    continue
                ports = {
                    str(k): v["port"]
                    for k, v in (svc.get("ports") or {}).items()
                    if isinstance(v, dict) and isinstance(v.get("port"), int)
                }
                names = [f"{release}-{identifier}"]
                if svc.get("forceRename"):
                    names = [str(svc["forceRename"])]
                elif len(services) == 1 or svc.get("primary"):
                    names.append(release)
                for name in names:
                    out.setdefault(("", name), ports)
    return out


def ingress_to_routes(
    obj: dict[str, Any],
    namespace: str,
    ports: Mapping[tuple[str, str], dict[str, int]],
    profile: Profile,
    external: bool,
    what: str,
    steps: list[str],
    notes: list[str],
) -> list[dict[str, Any]] | None:
    """The HTTPRoutes serving an Ingress's hosts and backends, or None (with a step) when a backend
    cannot be expressed."""
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    problems: list[str] = []
    rules = _ingress_rules(spec, namespace, ports, problems)
    if problems or not rules:
        steps.append(
            f"{what}: cannot convert to an HTTPRoute ({'; '.join(problems) or 'no rules'}): write the "
            f"HTTPRoute on {profile.gateway_internal.name} by hand and delete the Ingress"
        )
        return None
    annotations = _route_annotations(
        profile,
        external,
        meta.get("annotations") or {},
        spec.get("ingressClassName"),
        what,
        "HTTPRoute",
        steps,
    )
    gateway = profile.gateway_external if external else profile.gateway_internal
    if any(t.get("secretName") for t in spec.get("tls") or [] if isinstance(t, dict)):
        notes.append(
            f"{what}: TLS now ends at the gateway {gateway.name} with its certificate "
            "(the Ingress's own certificate Secret is no longer used)"
        )
    name = str(meta.get("name") or "route")
    return [
        _httproute(meta, name if i == 0 else f"{name}-{i + 1}", annotations, gateway, hosts, group)
        for i, (hosts, group) in enumerate(_group_by_host(rules))
    ]


def _ingress_rules(
    spec: Mapping[str, Any],
    namespace: str,
    ports: Mapping[tuple[str, str], dict[str, int]],
    problems: list[str],
) -> list[tuple[str | None, RouteRule]]:
    """(host, rule) of the Ingress's default backend and of each of its paths; what cannot be
    expressed is added to ``problems``."""
    rules: list[tuple[str | None, RouteRule]] = []
    default = spec.get("defaultBackend")
    if default:
        b = _ingress_backend(default, namespace, ports, problems)
        if b:
            rules.append((None, RouteRule(None, "PathPrefix", b)))
    for rule in spec.get("rules") or []:
        host = rule.get("host")
        for p in (rule.get("http") or {}).get("paths") or []:
            b = _ingress_backend(p.get("backend"), namespace, ports, problems)
            if b:
                path_type = _PATH_TYPES.get(p.get("pathType"), "PathPrefix")
                rules.append(
                    (str(host) if host else None, RouteRule(str(p.get("path") or "/"), path_type, b))
                )
    return rules


def _ingress_backend(
    ref: Any, namespace: str, ports: Mapping[tuple[str, str], dict[str, int]], problems: list[str]
) -> dict[str, Any] | None:
    """An Ingress backend as an HTTPRoute backendRef (a named port looked up in the render)."""
    service = (ref or {}).get("service") if isinstance(ref, dict) else None
    if not isinstance(service, dict) or not service.get("name"):
        problems.append("a backend that is not a Service")
        return None
    port = service.get("port") or {}
    number = port.get("number") if isinstance(port, dict) else None
    if number is None and isinstance(port, dict) and port.get("name"):
        found = [
            p.get(str(port["name"]))
            for (ns, svc), p in ports.items()
            if svc == service["name"] and ns in (namespace, "")
        ]
        number = next((n for n in found if n is not None), None)
        if number is None:
            problems.append(
                f"the port name '{port['name']}' of Service {service['name']} (not found in the render)"
            )
            return None
    if number is None:
        problems.append(f"Service {service['name']} without a port")
        return None
    return {"name": str(service["name"]), "port": number}


def _httproute(
    meta: Mapping[str, Any],
    name: str,
    annotations: Mapping[str, str],
    gateway: Gateway,
    hosts: list[str],
    rules: list[RouteRule],
) -> dict[str, Any]:
    route_meta: dict[str, Any] = {"name": name}
    if isinstance(meta.get("namespace"), str):
        route_meta["namespace"] = meta["namespace"]
    if meta.get("labels"):
        route_meta["labels"] = plain(meta["labels"])
    if annotations:
        route_meta["annotations"] = dict(annotations)
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": route_meta,
        "spec": _route_spec(hosts, gateway, rules),
    }


def _route_spec(hosts: list[str], gateway: Gateway, rules: list[RouteRule]) -> dict[str, Any]:
    """hostnames, parentRefs and rules: an HTTPRoute's spec, or an app-template route entry's body."""
    spec: dict[str, Any] = {}
    if hosts:
        spec["hostnames"] = hosts
    spec["parentRefs"] = [_parent_ref(gateway)]
    spec["rules"] = [r.as_rule() for r in rules]
    return spec


def convert_ingresses(
    tree: Tree,
    profile: Profile,
    namespace: str,
    render: ClusterRender,
    external: bool,
    steps: list[str],
    notes: list[str],
) -> None:
    """Every Ingress object of the app becomes HTTPRoutes on the internal (or, asked, external) gateway."""
    ports = {**chart_service_ports(tree), **service_ports(render)}
    for path in sorted(tree.files):
        if not is_yaml(path):
            continue
        chunks = split_docs(tree.files[path])
        changed, kinds = False, []
        for i, chunk in enumerate(chunks):
            docs = load_docs(chunk, path)
            if len(docs) != 1 or not isinstance(docs[0], dict):
                kinds += ["?"] * len(docs)
                continue
            doc = docs[0]
            kinds.append(str(doc.get("kind") or ""))
            group = str(doc.get("apiVersion") or "").split("/")[0]
            if doc.get("kind") != "Ingress" or group not in INGRESS_GROUPS:
                continue
            what = f"Ingress {(doc.get('metadata') or {}).get('name')} ({path})"
            routes = ingress_to_routes(doc, namespace, ports, profile, external, what, steps, notes)
            if routes is None:
                continue
            chunks[i] = "".join(document(r, t.SCHEMA_HTTPROUTE) for r in routes)
            kinds[-1] = "HTTPRoute"
            changed = True
        if not changed:
            continue
        tree.files[path] = "".join(chunks)
        base = posixpath.basename(path)
        if all(k == "HTTPRoute" for k in kinds) and "ingress" in base:
            target = free_name(tree, posixpath.dirname(path), base.replace("ingress", "httproute"))
            tree.move(path, target)


def is_app_template(doc: dict[str, Any]) -> bool:
    chart = (((doc.get("spec") or {}).get("chart") or {}).get("spec") or {}).get("chart")
    return str(chart or "").split("/")[-1] == "app-template"


def _resolve_values_port(values: Mapping[str, Any], service: Mapping[str, Any]) -> int | None:
    port = service.get("port")
    if isinstance(port, int):
        return port
    services = values.get("service") or {}
    if not isinstance(services, dict):
        return None
    candidates = []
    if service.get("identifier") in services:
        candidates.append(services[service["identifier"]])
    elif service.get("name"):
        candidates += [s for k, s in services.items() if k == service["name"]]
    if len(services) == 1 and not candidates:
        candidates = list(services.values())
    for svc in candidates:
        ports = (svc or {}).get("ports") or {} if isinstance(svc, dict) else {}
        if (
            isinstance(port, str)
            and isinstance(ports.get(port), dict)
            and isinstance(ports[port].get("port"), int)
        ):
            return int(ports[port]["port"])
        if port is None and len(ports) == 1:
            only = next(iter(ports.values()))
            if isinstance(only, dict) and isinstance(only.get("port"), int):
                return int(only["port"])
    return None


def values_ingress_to_route(
    values: Mapping[str, Any], profile: Profile, external: bool, what: str, steps: list[str]
) -> dict[str, Any] | None:
    """app-template ``ingress.<name>`` entries -> ``route.<name>`` entries (None: not convertible)."""
    ingress = values.get("ingress")
    if not isinstance(ingress, dict):
        return None
    routes: dict[str, Any] = {}
    gateway = profile.gateway_external if external else profile.gateway_internal
    for entry_name, entry in ingress.items():
        if not isinstance(entry, dict):
            return None
        if entry.get("enabled") is False or str(entry.get("enabled")).lower() == "false":
            continue
        label = f"{what} ingress.{entry_name}"
        rules = _values_rules(values, entry, label, f"route.{entry_name}", steps)
        if rules is None:
            return None
        annotations = _route_annotations(
            profile, external, entry.get("annotations") or {}, entry.get("className"), label, "route", steps
        )
        for i, (hosts, group) in enumerate(_group_by_host(rules)):
            route: dict[str, Any] = {"annotations": dict(annotations)} if annotations else {}
            route.update(_route_spec(hosts, gateway, group))
            routes[str(entry_name) if i == 0 else f"{entry_name}-{i + 1}"] = route
    return routes


def _values_rules(
    values: Mapping[str, Any], entry: Mapping[str, Any], label: str, target: str, steps: list[str]
) -> list[tuple[str | None, RouteRule]] | None:
    """(host, rule) of each path of one app-template ingress entry (None, with a step: not convertible)."""
    rules: list[tuple[str | None, RouteRule]] = []
    for host in entry.get("hosts") or []:
        for p in (host or {}).get("paths") or []:
            service = p.get("service") or {}
            port = _resolve_values_port(values, service)
            if port is None:
                steps.append(f"{label}: cannot tell the port of {service}; convert it to {target} by hand")
                return None
            ref: dict[str, Any] = {}
            if service.get("identifier"):
                ref["identifier"] = str(service["identifier"])
            elif service.get("name"):
                ref["name"] = str(service["name"])
            else:
                steps.append(f"{label}: a path without service identifier or name; convert it by hand")
                return None
            ref["port"] = port
            path_type = _PATH_TYPES.get(p.get("pathType"), "PathPrefix")
            hostname = str(host.get("host")) if host.get("host") else None
            rules.append((hostname, RouteRule(str(p.get("path") or "/"), path_type, ref)))
    if not rules:
        steps.append(f"{label}: no hosts/paths to convert; convert it to {target} by hand")
        return None
    return rules


def convert_chart_ingress(
    tree: Tree, profile: Profile, external: bool, steps: list[str], notes: list[str]
) -> None:
    """app-template ``values.ingress`` -> ``values.route``; other charts' ingress values -> a manual step."""
    for path in sorted(tree.files):
        if not is_yaml(path):
            continue
        chunks = split_docs(tree.files[path])
        changed = False
        for i, chunk in enumerate(chunks):
            docs = load_docs(chunk, path)
            if len(docs) != 1 or not isinstance(docs[0], dict) or not is_helmrelease(docs[0]):
                continue
            doc = docs[0]
            values = (doc.get("spec") or {}).get("values")
            if not isinstance(values, dict) or not isinstance(values.get("ingress"), dict):
                continue
            if not enabled_ingresses(values["ingress"]):
                continue
            name = (doc.get("metadata") or {}).get("name")
            what = f"HelmRelease {name} ({path})"
            if not is_app_template(doc):
                steps.append(
                    f"{what}: its chart's ingress values create an Ingress; disable them and add an "
                    f"HTTPRoute on {profile.gateway_internal.name} (or the chart's Gateway API values)"
                )
                continue
            if "route" in values:
                steps.append(
                    f"{what}: has both ingress and route values; move the ingress hosts into route by hand"
                )
                continue
            routes = values_ingress_to_route(values, profile, external, what, steps)
            if routes is None:
                continue
            new_chunk = replace_entry(chunk, ("spec", "values", "ingress"), emit({"route": routes}))
            if new_chunk is None:
                continue
            if len(load_docs(new_chunk, path)) != 1:
                steps.append(
                    f"{what}: its ingress values share YAML anchors with other values; convert them by hand"
                )
                continue
            chunks[i] = new_chunk
            changed = True
            notes.append(
                f"{what}: ingress.{', ingress.'.join(map(str, values['ingress']))} became route values "
                f"on {(profile.gateway_external if external else profile.gateway_internal).name}"
            )
        if changed:
            tree.files[path] = "".join(chunks)

"""Rule HO028: routes attach to the gateways' ``https`` listener and stay inside the profile's domain."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from homeops.core import codes
from homeops.core.edits import FileEdit
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.profile import Gateway
from homeops.core.shape import as_list
from homeops.core.yamledit import MappingRef
from homeops.core.yamlio import YMap, key_line
from homeops.flux.model import is_helmrelease
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import (
    Violation,
    dig,
    doc_index,
    findings_of,
    fix_from,
    mapping_edit,
)
from homeops.rules.routing import GATEWAY_GROUP

Path_ = tuple[str | int, ...]


def value_routes(values: Any, path: Path_ = ()) -> Iterator[tuple[Path_, YMap]]:
    """Every mapping in chart values that has a ``parentRefs`` list (app-template ``route.*`` and
    the ``httpRoute``/``route`` shapes of other charts), with its key path; disabled ones skipped."""
    if isinstance(values, dict):
        if isinstance(values.get("parentRefs"), list) and isinstance(values, YMap):
            if values.get("enabled") is not False:
                yield path, values
            return
        for key, value in values.items():
            yield from value_routes(value, (*path, str(key)))
    elif isinstance(values, list):
        for i, value in enumerate(values):
            yield from value_routes(value, (*path, i))


def _gateway(ctx: RuleContext, ref: dict[str, Any], default_ns: str) -> Gateway | None:
    kind = str(ref.get("kind") or "Gateway")
    group = str(ref.get("group") or GATEWAY_GROUP)
    if kind != "Gateway" or group != GATEWAY_GROUP:
        return None
    namespace = str(ref.get("namespace") or default_ns)
    for gw in (ctx.profile.gateway_internal, ctx.profile.gateway_external):
        if ref.get("name") == gw.name and namespace == gw.namespace:
            return gw
    return None


@dataclass(frozen=True)
class Listener:
    name: str
    protocol: str  # HTTP, HTTPS, TLS, TCP, ... ("" unknown)
    allowed_from: str  # allowedRoutes.namespaces.from: All, Same (the Gateway API default), Selector

    def admits(self, gateway_namespace: str, route_namespace: str) -> bool | None:
        """Whether a route of ``route_namespace`` may attach (None: a label selector decides)."""
        if self.allowed_from == "All":
            return True
        if self.allowed_from == "Same":
            return gateway_namespace == route_namespace
        return None

    @property
    def plain(self) -> bool:
        return self.protocol.upper() == "HTTP"


def gateway_listeners(ctx: RuleContext, gw: Gateway) -> list[Listener] | None:
    """The listeners of a profile gateway: the Gateway object of the render, else the profile's."""

    def index() -> dict[tuple[str, str], list[Listener]]:
        out: dict[tuple[str, str], list[Listener]] = {}
        for _render, _rk, res in ctx.objects():
            if res.kind != "Gateway" or not res.api_version.startswith(GATEWAY_GROUP + "/"):
                continue
            items = dig(res.obj, "spec", "listeners")
            out[(res.namespace or "default", res.name)] = [
                Listener(
                    str(item.get("name")),
                    str(item.get("protocol") or ""),
                    str(dig(item, "allowedRoutes", "namespaces", "from") or "Same"),
                )
                for item in items or []
                if isinstance(item, dict) and item.get("name")
            ]
        return out

    found = ctx.cached("gateway_listeners", index).get((gw.namespace, gw.name))
    if found is not None:
        return found
    if gw.listeners:
        return [
            Listener(name, str(spec.get("protocol") or ""), str(spec.get("from") or "Same"))
            for name, spec in gw.listeners.items()
        ]
    return None


_OTHER_ROUTE_KINDS = ("TCPRoute", "UDPRoute", "TLSRoute", "GRPCRoute")


def _not_http(route: YMap, path: Path_) -> bool:
    """A chart-values route of another kind (``tcpRoute``, ``kind: TCPRoute``): listeners of its own."""
    if str(route.get("kind") or "") in _OTHER_ROUTE_KINDS:
        return True
    return any(isinstance(p, str) and p.lower().startswith(("tcp", "udp", "tls", "grpc")) for p in path)


def _no_section_message(ctx: RuleContext, what: str, gw: Gateway, route_namespace: str) -> tuple[str, str]:
    """The real risk of a parentRef without sectionName, from what each listener admits."""
    listeners = gateway_listeners(ctx, gw)
    if not listeners:
        return "warning", (
            f"{what}: parentRef {gw.name} has no sectionName: '{gw.section}' (it attaches to every listener "
            "that admits it, plain HTTP included if one does)"
        )
    others = [
        lst
        for lst in listeners
        if lst.name != gw.section and not lst.protocol.upper().startswith(("TCP", "UDP", "TLS"))
    ]
    admitting = [lst for lst in others if lst.admits(gw.namespace, route_namespace) is not False]
    if admitting:
        shown = ", ".join(
            f"'{lst.name}' ({lst.protocol or '?'}, allowedRoutes from {lst.allowed_from})"
            for lst in admitting
        )
        return "warning", (
            f"{what}: parentRef {gw.name} has no sectionName: it also attaches to {shown}, served without "
            f"the TLS of '{gw.section}' (set sectionName: '{gw.section}')"
        )
    kept = ", ".join(
        f"'{lst.name}' admits routes of namespace {gw.namespace} only"
        for lst in others
        if lst.allowed_from == "Same"
    )
    return "info", (
        f"{what}: parentRef {gw.name} has no sectionName: today it attaches to '{gw.section}' only"
        + (f" ({kept})" if kept else "")
        + f"; sectionName: '{gw.section}' keeps it so if a listener opens up"
    )


def _in_domain(host: str, domain: str) -> bool:
    host = host.strip().lower().rstrip(".")
    domain = domain.strip().lower().strip(".")
    if host.startswith("*."):
        host = host[2:]
    return host == domain or host.endswith("." + domain)


def _item_line(ctx: RuleContext, file: str | None, start: int | None, value: str) -> int | None:
    """The line of the list item ``value`` at or after ``start`` (lists carry no lines of their own)."""
    if not file or not start:
        return start
    try:
        lines = ctx.files.read_text(ctx.root / file).splitlines()
    except HomeopsError:
        return start
    for i in range(start - 1, min(len(lines), start + 50)):
        if value in lines[i] and lines[i].lstrip().startswith("-"):
            return i + 1
    return start


def _redirects_to_https(route: dict[str, Any]) -> bool:
    """The gateway's HTTP-to-HTTPS redirect route: it belongs on the plain listener by design."""
    rules = route.get("rules")
    if not isinstance(rules, list) or not rules:
        return False
    for item in rules:
        filters = item.get("filters") if isinstance(item, dict) else None
        if not isinstance(filters, list) or not any(
            isinstance(f, dict)
            and f.get("type") == "RequestRedirect"
            and str(dig(f, "requestRedirect", "scheme") or "") == "https"
            for f in filters
        ):
            return False
    return True


def _section_fix(
    ctx: RuleContext, res: Resource, path: Path_, node: Any, section: str
) -> Callable[[], list[FileEdit]] | None:
    index = doc_index(ctx, res.file, res.line)
    if index is None or not res.file or not isinstance(node, YMap) or (node.file and node.file != res.file):
        return None
    from homeops.core import yamlemit  # start-up: the emitter loads only for a fix

    ref = MappingRef(res.file, index, path)
    entry = [f"sectionName: {yamlemit.scalar(section, quote_unusual=True)}"]
    return lambda: mapping_edit(ctx, ref, entry, present="sectionName")


def _check_route(
    ctx: RuleContext, cluster: str, res: Resource, what: str, route: YMap, path: Path_, default_ns: str
) -> Iterator[Violation]:
    file = route.file or res.file
    for i, ref in enumerate(as_list(route.get("parentRefs"))):
        if not isinstance(ref, dict) or _not_http(route, path):
            continue
        gw = _gateway(ctx, ref, default_ns)
        if gw is None or ref.get("sectionName") == gw.section or _redirects_to_https(route):
            continue
        listeners = gateway_listeners(ctx, gw) or []
        named = next((lst for lst in listeners if lst.name == ref.get("sectionName")), None)
        if named is not None and named.protocol.upper() == "HTTPS":
            continue  # another TLS listener of the gateway, on purpose
        line = (
            ref.line_of("sectionName")
            if isinstance(ref, YMap) and "sectionName" in ref
            else (ref.line if isinstance(ref, YMap) and ref.line else key_line(route, "parentRefs"))
        )
        if "sectionName" in ref:
            f = finding(
                codes.ROUTE,
                f"{what}: parentRef {gw.name} uses sectionName '{ref.get('sectionName')}', not "
                f"'{gw.section}'",
                res=res,
                file=file,
                line=line,
                cluster=cluster,
            )
            yield Violation(f)
        else:
            severity, message = _no_section_message(ctx, what, gw, default_ns)
            f = finding(
                codes.ROUTE, message, res=res, file=file, line=line, cluster=cluster, severity=severity
            )
            yield Violation(f, _section_fix(ctx, res, (*path, "parentRefs", i), ref, gw.section))
    domain = ctx.profile.domain
    if not domain:
        return
    for host in as_list(route.get("hostnames")):
        host = str(host)
        if "${" in host or "{{" in host or _in_domain(host, domain):
            continue
        yield Violation(
            finding(
                codes.ROUTE,
                f"{what}: hostname {host} is outside the domain {domain}",
                res=res,
                file=file,
                line=_item_line(ctx, file, key_line(route, "hostnames"), host),
                cluster=cluster,
            )
        )


def _violations(ctx: RuleContext) -> list[Violation]:
    def compute() -> list[Violation]:
        out: list[Violation] = []
        for render, _rk, res in ctx.objects():
            cluster = render.cluster.name
            if res.kind == "HTTPRoute" and res.api_version.startswith(GATEWAY_GROUP + "/"):
                spec = res.obj.get("spec")
                if isinstance(spec, YMap):
                    out.extend(
                        _check_route(
                            ctx,
                            cluster,
                            res,
                            f"HTTPRoute {res.name}",
                            spec,
                            ("spec",),
                            res.namespace or "default",
                        )
                    )
            elif is_helmrelease(res.obj):
                values = dig(res.obj, "spec", "values")
                namespace = str(dig(res.obj, "spec", "targetNamespace") or res.namespace or "default")
                for path, route in value_routes(values):
                    label = ".".join(str(p) for p in path) or "values"
                    out.extend(
                        _check_route(
                            ctx,
                            cluster,
                            res,
                            f"HelmRelease {res.name} {label}",
                            route,
                            ("spec", "values", *path),
                            namespace,
                        )
                    )
        return out

    return ctx.cached("route_violations", compute)


@rule(
    codes.ROUTE,
    rationale="""
The context document's "Gateway API Pattern" attaches every route to a gateway with
`sectionName: https`: without it the route binds to every listener of `envoy-internal` /
`envoy-external` that admits it, and a plain HTTP listener admitting it serves the app without the
TLS set up by cert-manager. The message says which listeners admit the route, read from the
Gateway's `listeners[].allowedRoutes.namespaces.from` (`All`, `Same` — the default — or `Selector`;
the profile's gateway `listeners` when the Gateway is not in the render): a warning when a plain
listener admits it, info when none does today (e.g. `http` with `from: Same` and the route in an app
namespace). Routes of other kinds (`tcpRoute`, `kind: TCPRoute`) and parentRefs naming another HTTPS
listener of the gateway are left alone. Checked on
HTTPRoute objects and on chart values holding `parentRefs` (app-template `route.*`), for parentRefs
naming the profile's gateways (the listener name is the profile gateway's `section`). When the profile
sets `domain`, hostnames must be that domain or below it (templated hostnames are skipped). Autofix:
add `sectionName: https` to the parentRef.
""",
    bad="""
route:
  app:
    parentRefs:
      - name: envoy-internal
        namespace: network
""",
    good="""
route:
  app:
    parentRefs:
      - name: envoy-internal
        namespace: network
        sectionName: https
""",
    fix=fix_from(_violations),
)
def check_routes(ctx: RuleContext) -> Iterable[Finding]:
    return list(findings_of(_violations(ctx)))

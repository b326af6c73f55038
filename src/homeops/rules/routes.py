"""Rule HO028: routes attach to the gateways' ``https`` listener and stay inside the profile's domain."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from homeops.core import codes, yamlemit
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
    ref = MappingRef(res.file, index, path)
    entry = [f"sectionName: {yamlemit.scalar(section, quote_unusual=True)}"]
    return lambda: mapping_edit(ctx, ref, entry, present="sectionName")


def _check_route(
    ctx: RuleContext, cluster: str, res: Resource, what: str, route: YMap, path: Path_, default_ns: str
) -> Iterator[Violation]:
    file = route.file or res.file
    for i, ref in enumerate(as_list(route.get("parentRefs"))):
        if not isinstance(ref, dict):
            continue
        gw = _gateway(ctx, ref, default_ns)
        if gw is None or ref.get("sectionName") == gw.section or _redirects_to_https(route):
            continue
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
            f = finding(
                codes.ROUTE,
                f"{what}: parentRef {gw.name} has no sectionName: '{gw.section}' (it would attach to "
                "every listener, plain HTTP included)",
                res=res,
                file=file,
                line=line,
                cluster=cluster,
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
`envoy-external`, plain HTTP included, and bypasses the TLS set up by cert-manager. Checked on
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

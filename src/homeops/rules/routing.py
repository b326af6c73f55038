"""HTTP routing: Gateway API instead of Ingress (HO006), the external gateway only on purpose (HO013)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from homeops.core import codes
from homeops.core.findings import Finding
from homeops.core.shape import as_list
from homeops.flux.ingress import (
    GATEWAY_GROUP,
    INGRESS_GROUPS,
    enabled_ingresses,
    is_off,
    is_on,
    value_entries,
)
from homeops.flux.model import is_helmrelease
from homeops.kustomize.resource import Resource, split_api_version
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import at, chart_output, chart_values, place, release_key, spec_of, unique


def values_of(res: Resource) -> dict[str, Any]:
    """``spec.values`` of a HelmRelease (or of a view from ``chart_values``), {} when absent."""
    values = spec_of(res).get("values")
    return values if isinstance(values, dict) else {}


# ------------------------------------------------------------------ HO006


def _walk_ingress(node: Any, path: list[str]) -> Iterator[tuple[dict[str, Any], list[str], list[str]]]:
    """(parent mapping, key path, enabled names) of every ``ingress`` key of chart values enabling one
    (sub-charts or components marked ``enabled: false`` deploy nothing)."""
    if isinstance(node, dict) and not is_off(node.get("enabled")):
        for key, value in node.items():
            if key == "ingress" and isinstance(value, dict):
                names = enabled_ingresses(value)
                if names:
                    yield node, [*path, key], names
                continue
            yield from _walk_ingress(value, [*path, str(key)])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_ingress(value, [*path, str(i)])


@rule(
    codes.INGRESS,
    rationale="""
Anti-Patterns #6: "Ingress resources - Use Gateway API HTTPRoute"; Technology Stack / HTTP Routing:
"Gateway API with Envoy Gateway, HTTPRoute resources for ingress"; Ingress-Nginx is the old (Bitty)
pattern. Reported: every `Ingress` object, and every `ingress:` mapping of HelmRelease values that
enables one (`ingress.enabled: true`, or app-template `ingress.<name>` entries not marked
`enabled: false`), at the line of the `ingress` key.
""",
    bad="""
values:
  ingress:
    app:
      className: nginx
      hosts:
        - host: app.example.net
          paths: [{path: /, service: {identifier: app, port: http}}]
""",
    good="""
values:
  route:
    app:
      hostnames: [app.example.net]
      parentRefs:
        - name: envoy-internal
          namespace: network
          sectionName: https
""",
)
def check_ingress(ctx: RuleContext) -> Iterator[Finding]:
    """Ingress objects and chart values that create them."""
    out = []
    for render in ctx.renders:
        cluster = render.cluster.name
        reported: set[tuple[str, str]] = set()  # releases whose values already explain their chart's Ingress
        for _rk, res in render.objects():
            if not is_helmrelease(res.obj):
                continue
            for view in chart_values(ctx, render, res):
                for parent, path, names in _walk_ingress(values_of(view), []):
                    reported.add(release_key(res))
                    which = ".".join(path) + (f" ({', '.join(names)})" if names != ["ingress"] else "")
                    out.append(
                        place(
                            codes.INGRESS,
                            f"HelmRelease {res.name} enables an Ingress in its values: "
                            f"{which} (use route.* with parentRefs instead)",
                            view,
                            at(view, parent, "ingress"),
                            cluster,
                        )
                    )
        for _rk, res in render.objects():
            if res.kind == "Ingress" and split_api_version(res.api_version)[0] in INGRESS_GROUPS:
                if chart_output(res) in reported:
                    continue
                out.append(
                    finding(
                        codes.INGRESS,
                        f"Ingress {res.name}: use an HTTPRoute on "
                        f"{ctx.profile.gateway_internal.name} instead",
                        res=res,
                        cluster=cluster,
                    )
                )
    yield from unique(out)


# ------------------------------------------------------------------ HO013


def _is_external(ctx: RuleContext, ref: Any, route_namespace: str) -> bool:
    gateway = ctx.profile.gateway_external
    if not isinstance(ref, dict) or str(ref.get("name") or "") != gateway.name:
        return False
    if (
        str(ref.get("kind") or "Gateway") != "Gateway"
        or str(ref.get("group") or GATEWAY_GROUP) != GATEWAY_GROUP
    ):
        return False
    namespace = str(ref.get("namespace") or route_namespace or gateway.namespace)
    return namespace == gateway.namespace


def _opted_in(ctx: RuleContext, annotations: Any, names: list[str]) -> bool:
    if isinstance(annotations, dict) and is_on(annotations.get(ctx.profile.internet_facing_annotation)):
        return True
    allow = set(ctx.profile.external_allowlist)
    return any(n and n in allow for n in names)


def _exposes_nothing(route: dict[str, Any], *, explicit: bool) -> bool:
    """A route none of whose rules sends traffic to a backend (e.g. the gateway's HTTP-to-HTTPS
    redirect). Chart routes default their rules to the app's service, so there every rule must be an
    explicit ``RequestRedirect`` without backends (``explicit``)."""
    rules = route.get("rules")
    if not isinstance(rules, list) or not rules:
        return False
    for item in rules:
        if not isinstance(item, dict) or item.get("backendRefs"):
            return False
        if explicit and not any(
            isinstance(f, dict) and f.get("type") == "RequestRedirect" for f in as_list(item.get("filters"))
        ):
            return False
    return True


@rule(
    codes.EXTERNAL_GATEWAY,
    rationale="""
Anti-Patterns #13: "envoy-external for internal apps - Prefer envoy-internal unless internet access
is explicitly needed"; Technology Stack / HTTP Routing: "Default Preference: Use envoy-internal
unless internet access is explicitly needed by the user" (envoy-external is published through the
Cloudflare tunnel). A Gateway API route object, or a chart `route.*` entry, whose `parentRefs` name
the profile's external gateway is reported unless it opts in: the annotation
`homeops.io/internet-facing: "true"` (the profile's `internet_facing_annotation`) on the route or its
HelmRelease, or the app, HelmRelease or route name (or `namespace/name`) in the profile's
`external_allowlist`.
""",
    bad="""
values:
  route:
    app:
      parentRefs:
        - name: envoy-external
          namespace: network
          sectionName: https
""",
    good="""
metadata:
  name: app-name
  annotations:
    homeops.io/internet-facing: "true"   # reachable from the internet on purpose
spec:
  values:
    route:
      app:
        parentRefs:
          - name: envoy-external
            namespace: network
            sectionName: https
""",
)
def check_external_routes(ctx: RuleContext) -> Iterator[Finding]:
    """Routes attached to the external gateway that nobody declared internet-facing."""
    out = []
    gateway = ctx.profile.gateway_external.name
    for render in ctx.renders:
        cluster = render.cluster.name
        covered: set[tuple[str, str]] = set()  # releases opted in, or whose route values were checked
        for rk, res in render.objects():
            if not is_helmrelease(res.obj):
                continue
            app = rk.ks.name
            if _opted_in(
                ctx,
                res.annotations,
                [res.name, f"{res.namespace}/{res.name}", app, f"{rk.ks.namespace}/{app}"],
            ):
                covered.add(release_key(res))
                continue
            for view in chart_values(ctx, render, res):
                for route_name, route in value_entries(values_of(view), "route", "parentRefs"):
                    covered.add(release_key(res))
                    if _opted_in(ctx, route.get("annotations"), []) or _exposes_nothing(route, explicit=True):
                        continue
                    for ref in as_list(route.get("parentRefs")):
                        if _is_external(ctx, ref, res.namespace):
                            out.append(
                                place(
                                    codes.EXTERNAL_GATEWAY,
                                    f"HelmRelease {res.name} route {route_name} is attached "
                                    f"to {gateway} without an opt-in (annotate the HelmRelease "
                                    "internet-facing or use the internal gateway)",
                                    view,
                                    at(view, ref),
                                    cluster,
                                )
                            )
        for rk, res in render.objects():
            if split_api_version(res.api_version)[0] != GATEWAY_GROUP or not res.kind.endswith("Route"):
                continue
            app = rk.ks.name
            names = [res.name, f"{res.namespace}/{res.name}", app, f"{rk.ks.namespace}/{app}"]
            if (
                chart_output(res) in covered
                or _opted_in(ctx, res.annotations, names)
                or _exposes_nothing(spec_of(res), explicit=False)
            ):
                continue
            for ref in as_list(spec_of(res).get("parentRefs")):
                if _is_external(ctx, ref, res.namespace):
                    out.append(
                        place(
                            codes.EXTERNAL_GATEWAY,
                            f"{res.kind} {res.name} is attached to {gateway} without an "
                            "opt-in (annotate it internet-facing or use the internal gateway)",
                            res,
                            at(res, ref),
                            cluster,
                        )
                    )
    yield from unique(out)

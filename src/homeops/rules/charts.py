"""How charts are sourced: one OCIRepository per app, referenced through ``chartRef`` (HO001)."""

from __future__ import annotations

from collections.abc import Iterator

from homeops.core import codes
from homeops.core.findings import Finding
from homeops.core.shape import as_map
from homeops.flux.model import SOURCE_GROUP, is_helmrelease
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import (
    chart_output,
    chart_ref,
    is_legacy_path,
    key_path_line,
    place,
    spec_of,
    unique,
)


@rule(
    codes.CHART_SOURCE,
    rationale="""
Anti-Patterns #1: "Centralized HelmRepository - Each app should have its own OCIRepository";
Technology Stack / Helm Charts: "OCIRepository per application (even if multiple apps use the same
chart)", "Chart references: chartRef.kind: OCIRepository", "No centralized HelmRepository objects";
Key Principles #4. In modern clusters (not in the profile's `deprecated_clusters`, and not objects of
the legacy tree, which HO008 reports as a whole) this reports a HelmRelease without
`chartRef.kind: OCIRepository`, every HelmRepository and HelmChart object, and an OCIRepository that
several HelmReleases reference.
""",
    bad="""
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app-name
spec:
  chart:
    spec:
      chart: app-template
      version: 4.2.0
      sourceRef:
        kind: HelmRepository
        name: bjw-s
        namespace: flux-system
""",
    good="""
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app-name
spec:
  chartRef:
    kind: OCIRepository
    name: app-name      # app/ocirepository.yaml, used by this HelmRelease only
""",
)
def check_chart_sources(ctx: RuleContext) -> Iterator[Finding]:
    """Centralised chart sources in modern clusters."""
    out: list[Finding] = []
    for render in ctx.renders:
        if not ctx.is_modern(render):
            continue
        cluster = render.cluster.name
        # HelmReleases by (namespace, name): one applied by two Flux Kustomizations counts once
        users: dict[tuple[str, str], dict[tuple[str, str], Resource]] = {}
        repos: dict[tuple[str, str], Resource] = {}
        for _rk, res in render.objects():
            if is_legacy_path(ctx, res.file) or chart_output(res):
                continue
            if res.kind in ("HelmRepository", "HelmChart") and res.api_version.startswith(SOURCE_GROUP + "/"):
                out.append(
                    finding(
                        codes.CHART_SOURCE,
                        f"{res.kind} {res.name}: modern clusters take charts from one OCIRepository per app",
                        res=res,
                        cluster=cluster,
                    )
                )
            elif res.kind == "OCIRepository":
                repos[(res.namespace, res.name)] = res
            elif is_helmrelease(res.obj):
                ref = chart_ref(res)
                if ref is not None and ref.get("kind") == "OCIRepository":
                    key = (str(ref.get("namespace") or res.namespace), str(ref.get("name") or ""))
                    users.setdefault(key, {}).setdefault((res.namespace, res.name), res)
                elif ref is not None:
                    out.append(
                        place(
                            codes.CHART_SOURCE,
                            f"HelmRelease {res.name} uses chartRef.kind "
                            f"{ref.get('kind') or '(none)'} instead of OCIRepository",
                            res,
                            key_path_line(res, "spec", "chartRef", "kind"),
                            cluster,
                        )
                    )
                else:
                    source = as_map(as_map(as_map(spec_of(res).get("chart")).get("spec")).get("sourceRef"))
                    what = (
                        f" from {source.get('kind')} {source.get('name')}"
                        if isinstance(source, dict) and source.get("kind")
                        else ""
                    )
                    out.append(
                        place(
                            codes.CHART_SOURCE,
                            f"HelmRelease {res.name} takes its chart{what} through "
                            "spec.chart instead of chartRef to its own OCIRepository",
                            res,
                            key_path_line(res, "spec", "chart"),
                            cluster,
                        )
                    )
        for (namespace, name), by_id in sorted(users.items()):
            releases = list(by_id.values())
            if len(releases) < 2:
                continue
            names = ", ".join(
                sorted(f"{r.namespace}/{r.name}" if r.namespace != namespace else r.name for r in releases)
            )
            message = (
                f"OCIRepository {namespace}/{name} is shared by {len(releases)} HelmReleases ({names}): "
                "give each app its own OCIRepository"
            )
            repo = repos.get((namespace, name))
            if repo is not None:
                out.append(finding(codes.CHART_SOURCE, message, res=repo, cluster=cluster))
            else:
                first = min(releases, key=lambda r: (r.file or "", r.line))
                out.append(
                    place(
                        codes.CHART_SOURCE, message, first, key_path_line(first, "spec", "chartRef"), cluster
                    )
                )
    yield from unique(out)

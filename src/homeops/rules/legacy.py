"""Legacy layout and legacy tools: the ``cluster-cd/`` tree (HO008) and Velero (HO012)."""

from __future__ import annotations

from collections.abc import Iterator

from homeops.core import codes
from homeops.core.findings import Finding
from homeops.flux.model import is_helmrelease
from homeops.kustomize.resource import split_api_version
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import (
    chart_name,
    chart_output,
    chart_ref,
    is_legacy_path,
    key_path_line,
    place,
    release_key,
    spec_of,
    under,
    unique,
)

# ------------------------------------------------------------------ HO008


@rule(
    codes.LEGACY_TREE,
    rationale="""
Anti-Patterns #8: "cluster-cd/ directory - Use cluster-apps/ instead"; Repository Structure marks
`cluster-cd/` as "Legacy structure (DO NOT USE)". The profile's `legacy_paths` lists such trees.
To keep the report readable, a legacy tree is reported once (with the number of files it still holds)
instead of once per file, plus once for each Flux Kustomization defined outside the tree whose
`spec.path` points into it (those are what wire the tree into a cluster; Kustomizations inside the
tree go away with it).
""",
    bad="""
# clusters/chongus/flux/apps.yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  path: ./cluster-cd/apps/chongus
""",
    good="""
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  path: ./cluster-apps/chongus
""",
)
def check_legacy_tree(ctx: RuleContext) -> Iterator[Finding]:
    """The legacy trees still present, and the Flux paths that still deploy them."""
    counts: dict[str, int] = {}
    for path in ctx.repo_files():
        for legacy in ctx.profile.legacy_paths:
            if under(path, legacy):
                counts[legacy] = counts.get(legacy, 0) + 1
    for legacy in ctx.profile.legacy_paths:
        if counts.get(legacy):
            n = counts[legacy]
            yield finding(
                codes.LEGACY_TREE,
                f"legacy tree {legacy.strip('/')}/ still holds {n} file{'s' * (n != 1)} "
                f"(move its apps to {ctx.profile.apps_dir}/ and delete it)",
                file=legacy.strip("/"),
                line=None,
            )
    out = []
    for render in ctx.renders:
        for rk in render.rendered.values():
            ks = rk.ks
            if not ks.path or is_legacy_path(ctx, ks.resource.file):
                continue
            if is_legacy_path(ctx, ks.path.removeprefix("./")):
                out.append(
                    place(
                        codes.LEGACY_TREE,
                        f"Flux Kustomization {ks.key} deploys the legacy path {ks.path}",
                        ks.resource,
                        key_path_line(ks.resource, "spec", "path"),
                        render.cluster.name,
                    )
                )
    yield from unique(out)


# ------------------------------------------------------------------ HO012

VELERO = "velero"


@rule(
    codes.VELERO,
    rationale="""
Anti-Patterns #12: "Velero for backups - Use Volsync instead (Velero is legacy/deprecated)";
Backup and Disaster Recovery: Volsync (B2 daily + MinIO hourly) is the primary mechanism for all
stateful workloads. Any object of the `velero.io` API group, or a HelmRelease whose chart (chart name
or OCIRepository URL) is Velero, is reported.
""",
    bad="""
apiVersion: velero.io/v1
kind: Schedule
metadata:
  name: daily
spec:
  schedule: "0 3 * * *"
""",
    good="""
# ks.yaml: the app's Flux Kustomization takes the Volsync component
spec:
  components:
    - ../../../../components/volsync
  postBuild:
    substitute:
      APP: app-name
      VOLSYNC_CAPACITY: 10Gi
""",
)
def check_velero(ctx: RuleContext) -> Iterator[Finding]:
    """Velero API objects and HelmReleases of the Velero chart."""
    out = []
    for render in ctx.renders:
        oci_urls = {
            (res.namespace, res.name): str(spec_of(res).get("url") or "")
            for _rk, res in render.objects()
            if res.kind == "OCIRepository"
        }
        velero_releases: set[tuple[str, str]] = set()
        for _rk, res in render.objects():
            if not is_helmrelease(res.obj):
                continue
            ref = chart_ref(res)
            if VELERO in chart_name(res).lower():
                velero_releases.add(release_key(res))
                out.append(
                    place(
                        codes.VELERO,
                        f"HelmRelease {res.name} deploys the Velero chart (use Volsync)",
                        res,
                        key_path_line(res, "spec", "chart"),
                        render.cluster.name,
                    )
                )
            elif ref is not None:
                key = (str(ref.get("namespace") or res.namespace), str(ref.get("name") or ""))
                url = oci_urls.get(key, "")
                if VELERO in url.lower() or (not url and VELERO in key[1].lower()):
                    velero_releases.add(release_key(res))
                    out.append(
                        place(
                            codes.VELERO,
                            f"HelmRelease {res.name} deploys the Velero chart {url or key[1]} (use Volsync)",
                            res,
                            key_path_line(res, "spec", "chartRef"),
                            render.cluster.name,
                        )
                    )
        for _rk, res in render.objects():
            group, _version = split_api_version(res.api_version)
            if (group == "velero.io" or group.endswith(".velero.io")) and chart_output(
                res
            ) not in velero_releases:
                out.append(
                    finding(
                        codes.VELERO,
                        f"{res.kind} {res.name} is a Velero object (use Volsync)",
                        res=res,
                        cluster=render.cluster.name,
                    )
                )
    yield from unique(out)

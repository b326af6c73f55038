"""Rule HO027: OCIRepositories of Helm charts need the Helm layerSelector; every OCIRepository a pinned ref."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeops.core import codes
from homeops.core.edits import FileEdit
from homeops.core.findings import Finding
from homeops.core.yamledit import MappingRef
from homeops.core.yamlio import YMap, key_line
from homeops.flux.model import is_helmrelease, is_source
from homeops.flux.rendered import ClusterRender
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

PIN_KEYS = ("digest", "semver", "tag")


def chart_sources(ctx: RuleContext, render: ClusterRender) -> set[tuple[str, str]]:
    """(namespace, name) of the OCIRepositories HelmReleases of the cluster take their chart from."""

    def compute() -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for _rk, res in render.objects():
            if not is_helmrelease(res.obj):
                continue
            ref = dig(res.obj, "spec", "chartRef")
            if isinstance(ref, dict) and ref.get("kind") == "OCIRepository":
                out.add((str(ref.get("namespace") or res.namespace), str(ref.get("name") or "")))
        return out

    return ctx.cached(f"chart_sources:{render.cluster.name}", compute)


def _layer_fix(ctx: RuleContext, res: Resource) -> Callable[[], list[FileEdit]] | None:
    spec = res.obj.get("spec")
    index = doc_index(ctx, res.file, res.line)
    if not isinstance(spec, YMap) or index is None or not res.file or (spec.file and spec.file != res.file):
        return None
    from homeops.core import yamlemit  # start-up: the emitter loads only for a fix

    ref = MappingRef(res.file, index, ("spec",))
    entry = [
        "layerSelector:",
        f"  mediaType: {yamlemit.scalar(ctx.profile.helm_layer_media_type, quote_unusual=True)}",
        "  operation: copy",
    ]
    return lambda: mapping_edit(ctx, ref, entry, present="layerSelector")


def _violations(ctx: RuleContext) -> list[Violation]:
    def compute() -> list[Violation]:
        media_type = ctx.profile.helm_layer_media_type
        out: list[Violation] = []
        for render, _rk, res in ctx.objects():
            if res.kind != "OCIRepository" or not is_source(res.obj):
                continue
            cluster = render.cluster.name
            raw_spec = res.obj.get("spec")
            spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
            if ctx.profile.helm_layer_selector and (
                (res.namespace or "default", res.name) in chart_sources(ctx, render)
                or (res.namespace, res.name) in chart_sources(ctx, render)
            ):
                selector = spec.get("layerSelector")
                if not isinstance(selector, dict):
                    f = finding(
                        codes.OCIREPOSITORY,
                        f"OCIRepository {res.name} holds a Helm chart but has no layerSelector "
                        f"(mediaType {media_type}, operation copy)",
                        res=res,
                        line=key_line(res.obj, "spec") or res.line,
                        cluster=cluster,
                    )
                    out.append(Violation(f, _layer_fix(ctx, res)))
                elif selector.get("mediaType") != media_type or selector.get("operation") != "copy":
                    f = finding(
                        codes.OCIREPOSITORY,
                        f"OCIRepository {res.name}: layerSelector should be mediaType {media_type} "
                        f"with operation copy (has {selector.get('mediaType')}, {selector.get('operation')})",
                        res=res,
                        line=key_line(res.obj, "spec", "layerSelector"),
                        cluster=cluster,
                    )
                    out.append(Violation(f))
            ref = spec.get("ref")
            pins = {k: ref.get(k) for k in PIN_KEYS if isinstance(ref, dict) and ref.get(k)}
            if not pins:
                f = finding(
                    codes.OCIREPOSITORY,
                    f"OCIRepository {res.name} has no pinned ref (tag, semver or digest): it follows "
                    "'latest'",
                    res=res,
                    line=key_line(res.obj, "spec", "ref") or key_line(res.obj, "spec") or res.line,
                    cluster=cluster,
                )
                out.append(Violation(f))
            elif set(pins) == {"tag"} and str(pins["tag"]).strip() == "latest":
                f = finding(
                    codes.OCIREPOSITORY,
                    f"OCIRepository {res.name} follows the mutable tag 'latest': pin a version",
                    res=res,
                    line=key_line(res.obj, "spec", "ref", "tag"),
                    cluster=cluster,
                )
                out.append(Violation(f))
        return out

    return ctx.cached("ocirepository_violations", compute)


@rule(
    codes.OCIREPOSITORY,
    rationale="""
The context document's "OCIRepository Pattern" gives every chart source `layerSelector` (mediaType
`application/vnd.cncf.helm.chart.content.v1.tar+gzip`, operation `copy`, from the profile's
`helm_layer_media_type`) and a `ref.tag` with the chart version. With the selector source-controller
keeps the chart layer as published (copy) instead of extracting whichever layer comes first (the chart
itself for a chart pushed with `helm push`, something else for an artifact holding more); without a ref
the source follows `latest` and an upgrade happens whenever the publisher pushes. The layerSelector
sub-check applies to OCIRepositories a HelmRelease `chartRef` points at (other OCIRepositories carry
manifests, not charts), and not where the repository's chart sources mostly go without one (the
inferred `helm_layer_selector: false`); the ref sub-check to all. Autofix: add the layerSelector under
`spec`.
""",
    bad="""
spec:
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
""",
    good="""
spec:
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  ref:
    tag: 4.2.0
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
""",
    fix=fix_from(_violations),
)
def check_ocirepository(ctx: RuleContext) -> Iterable[Finding]:
    return list(findings_of(_violations(ctx)))

"""What a rendered cluster holds, as typed rows: Kustomizations, HelmReleases, sources, images."""

from __future__ import annotations

from collections.abc import Iterable

from homeops.api.results import (
    ClusterInfo,
    HelmReleaseInfo,
    ImageInfo,
    KustomizationInfo,
    RenderedObject,
    Rendering,
    SourceInfo,
)
from homeops.core.errors import HomeopsError
from homeops.core.shape import as_map
from homeops.flux.model import is_helmrelease, is_source
from homeops.flux.rendered import ClusterRender
from homeops.flux.workloads import ImageUse, from_chart, resource_images


def kustomizations(result: ClusterRender) -> list[KustomizationInfo]:
    rows = []
    for rk in result.rendered.values():
        ks = rk.ks
        status = "error" if rk.error is not None else ("external" if rk.notes else "rendered")
        rows.append(
            KustomizationInfo(
                cluster=result.cluster.name,
                name=ks.name,
                namespace=ks.namespace,
                path=ks.path,
                target_namespace=ks.target_namespace,
                depends_on=tuple(f"{d.namespace}/{d.name}" for d in ks.depends_on),
                suspend=ks.suspend,
                objects=len(rk.resources),
                status=status,
                source=ks.source,
                parent=ks.parent,
                reason=_reason(rk.error) if rk.error is not None else ("; ".join(rk.notes) or None),
            )
        )
    return rows


def _reason(error: Exception) -> str:
    return error.one_line() if isinstance(error, HomeopsError) else f"{type(error).__name__}: {error}"


def objects(result: ClusterRender) -> list[RenderedObject]:
    return [
        RenderedObject(result.cluster.name, rk.ks.key, res.file, res.line, res.obj)
        for rk, res in result.objects()
    ]


def _text(value: object) -> str:
    return str(value) if value is not None else ""


def helmreleases(result: ClusterRender) -> list[HelmReleaseInfo]:
    rows = []
    oci = {(r.namespace, r.name): r for _, r in result.objects() if r.kind == "OCIRepository"}
    for rk, res in result.objects():
        if not is_helmrelease(res.obj):
            continue
        spec = as_map(res.obj.get("spec"))
        chart, version, source_kind, source_name = "", "", "", ""
        if isinstance(spec.get("chartRef"), dict):
            ref = spec["chartRef"]
            source_kind, source_name = _text(ref.get("kind")), _text(ref.get("name"))
            repo = oci.get((str(ref.get("namespace") or res.namespace), source_name))
            if repo is not None:
                repo_spec = as_map(repo.obj.get("spec"))
                repo_ref = as_map(repo_spec.get("ref"))
                chart = _text(repo_spec.get("url"))
                version = _text(repo_ref.get("tag") or repo_ref.get("semver"))
        else:
            chart_spec = as_map(as_map(spec.get("chart")).get("spec"))
            chart, version = _text(chart_spec.get("chart")), _text(chart_spec.get("version"))
            source_ref = as_map(chart_spec.get("sourceRef"))
            source_kind, source_name = _text(source_ref.get("kind")), _text(source_ref.get("name"))
        rows.append(
            HelmReleaseInfo(
                cluster=result.cluster.name,
                name=res.name,
                namespace=res.namespace or "",
                chart=chart,
                version=version,
                source_kind=source_kind,
                source_name=source_name,
                ks=rk.ks.key,
                source=res.where(),
            )
        )
    return rows


def sources(result: ClusterRender) -> list[SourceInfo]:
    rows = []
    for rk, res in result.objects():
        if not is_source(res.obj):
            continue
        spec = as_map(res.obj.get("spec"))
        ref = as_map(spec.get("ref"))
        ref_text = ",".join(f"{k}={v}" for k, v in ref.items()) if isinstance(ref, dict) else ""
        rows.append(
            SourceInfo(
                cluster=result.cluster.name,
                name=res.name,
                namespace=res.namespace or "",
                kind=res.kind,
                url=_text(spec.get("url")),
                ref=ref_text,
                ks=rk.ks.key,
                source=res.where(),
            )
        )
    return rows


def _image_info(cluster: str, use: ImageUse, origin: str) -> ImageInfo:
    return ImageInfo(
        image=use.image,
        pinned=use.pinned,
        cluster=cluster,
        kind=use.kind,
        namespace=use.namespace,
        name=use.name,
        container=use.container,
        origin=origin,
        file=use.file,
        line=use.line,
    )


def image_uses(result: ClusterRender) -> list[ImageInfo]:
    """Every image use of one cluster, in render order (``get images``)."""
    return [
        _image_info(result.cluster.name, use, use.origin)
        for _rk, res in result.objects()
        for use in resource_images(res)
    ]


def images(renders: Iterable[ClusterRender]) -> list[ImageInfo]:
    """One row per image use (deduplicated across clusters sharing a file), sorted by place; uses in
    chart output say so (``images list``)."""
    rows: dict[tuple[object, ...], ImageInfo] = {}
    for result in renders:
        for _rk, res in result.objects():
            origin = "chart" if from_chart(res) else None
            for use in resource_images(res):
                key = (use.file, use.line, use.image, use.kind, use.name, use.namespace, use.container)
                if key not in rows:
                    rows[key] = _image_info(result.cluster.name, use, origin or use.origin)
    return sorted(rows.values(), key=lambda r: (r.file or "", r.line or 0, r.image))


def rendering(result: ClusterRender) -> Rendering:
    """A cluster's render as the API returns it: its Kustomizations, objects and findings (and the
    engine's result, for tools that need more)."""
    return Rendering(
        ClusterInfo(result.cluster.name, result.cluster.directory),
        kustomizations(result),
        objects(result),
        list(result.findings),
        result,
    )

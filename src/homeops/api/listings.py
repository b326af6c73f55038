"""The rows ``get hr``, ``get sources``, ``get images`` and ``images list`` print: a rendered cluster's
HelmReleases, Flux sources and image uses, each serialisable to the JSON of the CLI contract. Apart
from :mod:`homeops.api.inventory` so that the commands which do not list them load neither these nor
the workload scanner (start-up).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from homeops.api.results import source_text
from homeops.core.errors import HomeopsError
from homeops.core.shape import as_map
from homeops.flux.model import is_helmrelease, is_source
from homeops.flux.rendered import ClusterRender
from homeops.flux.workloads import ImageUse, from_chart, resource_images


@dataclass(frozen=True)
class HelmReleaseInfo:
    """One HelmRelease: its chart and version as its source names them."""

    cluster: str
    name: str
    namespace: str
    chart: str
    version: str
    source_kind: str
    source_name: str
    ks: str
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster, "name": self.name, "namespace": self.namespace, "chart": self.chart,
            "version": self.version, "sourceKind": self.source_kind, "sourceName": self.source_name,
            "ks": self.ks, "source": self.source,
        }  # fmt: skip


@dataclass(frozen=True)
class SourceInfo:
    """One Flux source (GitRepository, OCIRepository, HelmRepository, Bucket...)."""

    cluster: str
    name: str
    namespace: str
    kind: str
    url: str
    ref: str
    ks: str
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster, "name": self.name, "namespace": self.namespace, "kind": self.kind,
            "url": self.url, "ref": self.ref, "ks": self.ks, "source": self.source,
        }  # fmt: skip


@dataclass(frozen=True)
class ImageInfo:
    """One use of a container image: in a rendered workload, in chart values, or in chart output."""

    image: str
    pinned: bool
    cluster: str
    kind: str
    namespace: str | None
    name: str
    container: str | None
    origin: str  # workload | values | chart
    file: str | None
    line: int | None

    @property
    def source(self) -> str:
        return source_text(self.file, self.line)

    @property
    def registry(self) -> str:
        """The registry host the image is pulled from (``docker.io`` for short names); ``?`` when
        the reference does not parse (an unsubstituted variable, say)."""
        from homeops.registry.reference import parse_image  # start-up: the OCI client loads when asked

        try:
            return parse_image(self.image).oci.registry
        except HomeopsError:
            return "?"

    def as_json(self) -> dict[str, Any]:
        return {
            "image": self.image, "pinned": self.pinned, "cluster": self.cluster, "kind": self.kind,
            "namespace": self.namespace, "name": self.name, "container": self.container,
            "origin": self.origin, "file": self.file, "line": self.line, "source": self.source,
        }  # fmt: skip


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

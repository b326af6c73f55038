"""What a rendered cluster holds, as typed rows: its Kustomizations and objects (its HelmReleases,
sources and images: :mod:`homeops.api.listings`)."""

from __future__ import annotations

from homeops.api.results import ClusterInfo, KustomizationInfo, RenderedObject, Rendering
from homeops.core.errors import HomeopsError
from homeops.flux.rendered import ClusterRender


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

"""Rows for ``homeops get``: what a rendered cluster holds, one dict per object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeops.flux.model import is_helmrelease, is_source
from homeops.flux.render import ClusterRender
from homeops.flux.workloads import resource_images

Rows = list[dict[str, Any]]


def _columns(columns: list[str], wide: list[str]) -> Callable[[Callable[[ClusterRender], Rows]], Any]:
    def decorate(fn: Callable[[ClusterRender], Rows]) -> Any:
        fn.columns = columns  # type: ignore[attr-defined]
        fn.wide_columns = wide  # type: ignore[attr-defined]
        return fn

    return decorate


@_columns(
    ["cluster", "namespace", "name", "path", "status"],
    [
        "cluster",
        "namespace",
        "name",
        "path",
        "targetNamespace",
        "dependsOn",
        "suspend",
        "objects",
        "status",
        "source",
    ],
)
def kustomizations(result: ClusterRender) -> Rows:
    rows = []
    for rk in result.rendered.values():
        ks = rk.ks
        status = "error" if rk.error is not None else ("external" if rk.notes else "rendered")
        rows.append({
            "cluster": result.cluster.name,
            "name": ks.name,
            "namespace": ks.namespace,
            "path": ks.path,
            "targetNamespace": ks.target_namespace,
            "dependsOn": [f"{d.namespace}/{d.name}" for d in ks.depends_on],
            "suspend": ks.suspend,
            "objects": len(rk.resources),
            "status": status,
            "source": ks.source,
            "parent": ks.parent,
        })  # fmt: skip
    return rows


@_columns(
    ["cluster", "namespace", "name", "chart", "version", "ks"],
    ["cluster", "namespace", "name", "chart", "version", "sourceKind", "sourceName", "ks", "source"],
)
def helmreleases(result: ClusterRender) -> Rows:
    rows = []
    oci = {(r.namespace, r.name): r for _, r in result.objects() if r.kind == "OCIRepository"}
    for rk, res in result.objects():
        if not is_helmrelease(res.obj):
            continue
        spec = res.obj.get("spec") or {}
        chart, version, source_kind, source_name = "", "", "", ""
        if isinstance(spec.get("chartRef"), dict):
            ref = spec["chartRef"]
            source_kind, source_name = str(ref.get("kind") or ""), str(ref.get("name") or "")
            repo = oci.get((str(ref.get("namespace") or res.namespace), source_name))
            if repo is not None:
                rspec = repo.obj.get("spec") or {}
                chart = str(rspec.get("url") or "")
                version = str(
                    (rspec.get("ref") or {}).get("tag") or (rspec.get("ref") or {}).get("semver") or ""
                )
        else:
            cspec = (spec.get("chart") or {}).get("spec") or {}
            chart = str(cspec.get("chart") or "")
            version = str(cspec.get("version") or "")
            sref = cspec.get("sourceRef") or {}
            source_kind, source_name = str(sref.get("kind") or ""), str(sref.get("name") or "")
        rows.append({
            "cluster": result.cluster.name, "name": res.name, "namespace": res.namespace, "chart": chart,
            "version": version, "sourceKind": source_kind, "sourceName": source_name, "ks": rk.ks.key,
            "source": res.where(),
        })  # fmt: skip
    return rows


@_columns(
    ["cluster", "namespace", "name", "kind", "url"],
    ["cluster", "namespace", "name", "kind", "url", "ref", "ks", "source"],
)
def sources(result: ClusterRender) -> Rows:
    rows = []
    for rk, res in result.objects():
        if not is_source(res.obj):
            continue
        spec = res.obj.get("spec") or {}
        ref = spec.get("ref") or {}
        ref_text = ",".join(f"{k}={v}" for k, v in ref.items()) if isinstance(ref, dict) else ""
        rows.append(
            {
                "cluster": result.cluster.name,
                "name": res.name,
                "namespace": res.namespace,
                "kind": res.kind,
                "url": str(spec.get("url") or ""),
                "ref": ref_text,
                "ks": rk.ks.key,
                "source": res.where(),
            }
        )
    return rows


@_columns(
    ["cluster", "image", "pinned", "kind", "name"],
    ["cluster", "image", "pinned", "kind", "namespace", "name", "container", "origin", "source"],
)
def images(result: ClusterRender) -> Rows:
    rows = []
    for _rk, res in result.objects():
        for use in resource_images(res):
            rows.append(
                {
                    "cluster": result.cluster.name,
                    "image": use.image,
                    "pinned": use.pinned,
                    "kind": use.kind,
                    "namespace": use.namespace,
                    "name": use.name,
                    "container": use.container,
                    "origin": use.origin,
                    "source": f"{use.file}:{use.line}" if use.file else "",
                }
            )
    return rows

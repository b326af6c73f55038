"""What rendering a cluster gives: every Flux Kustomization rendered, in render order, with its
objects, and the findings of the render (kustomize-controller's conditions and events, as findings)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from homeops.core.codes import Code
from homeops.core.findings import Finding
from homeops.flux.cluster import Cluster
from homeops.flux.model import FluxKustomization, Ref, RenderedKustomization
from homeops.kustomize.resource import Resource

Progress = Callable[[str], None]
"""Told the key of each Flux Kustomization as its render starts."""


@dataclass
class ClusterRender:
    """A cluster's render: every Flux Kustomization rendered, in render order, with its objects; the
    findings of the render; the sources it left external."""

    cluster: Cluster
    rendered: dict[str, RenderedKustomization] = field(default_factory=dict)  # render order
    findings: list[Finding] = field(default_factory=list)
    external_sources: list[Ref] = field(default_factory=list)
    _by_name: tuple[int, dict[tuple[str, str], list[tuple[RenderedKustomization, Resource]]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def objects(self) -> list[tuple[RenderedKustomization, Resource]]:
        return [(rk, res) for rk in self.rendered.values() for res in rk.resources]

    def kustomizations(self) -> list[FluxKustomization]:
        return [rk.ks for rk in self.rendered.values()]

    def find(
        self, kind: str, name: str, namespace: str | None = None
    ) -> list[tuple[RenderedKustomization, Resource]]:
        """The objects of ``kind`` named ``name`` (in ``namespace`` unless None), in render order.

        Through an index by kind and name, made on first use (rules ask once per HelmRelease: a scan
        each time made a cluster's check quadratic in its apps) and again when Kustomizations were
        rendered since; whoever changes the objects of rendered ones says so (:meth:`objects_changed`)."""
        if self._by_name is None or self._by_name[0] != len(self.rendered):
            index: dict[tuple[str, str], list[tuple[RenderedKustomization, Resource]]] = {}
            for rk, r in self.objects():
                index.setdefault((r.kind, r.name), []).append((rk, r))
            self._by_name = (len(self.rendered), index)
        found = self._by_name[1].get((kind, name), [])
        if namespace is None:
            return list(found)
        return [(rk, r) for rk, r in found if (r.namespace or "") == namespace]

    def objects_changed(self) -> None:
        """The objects of rendered Kustomizations were added, removed or renamed (HelmReleases
        expanded into their charts' objects): :meth:`find` indexes them again."""
        self._by_name = None

    def add_finding(
        self,
        code: Code,
        message: str,
        ks: FluxKustomization | None,
        file: str | None = None,
        line: int | None = None,
        severity: str | None = None,
    ) -> None:
        """A finding of the render about a Flux Kustomization (at its definition unless told where)."""
        self.findings.append(Finding(
            rule=code.id, severity=severity or code.severity, message=message,
            file=file if file is not None else (ks.resource.file if ks else None),
            line=line if line is not None else (ks.resource.line if ks else None),
            kind="Kustomization" if ks else None, name=ks.name if ks else None,
            namespace=ks.namespace if ks else None, cluster=self.cluster.name,
            extra={"ks": ks.key} if ks else {},
        ))  # fmt: skip

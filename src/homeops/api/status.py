"""``test``: whether each Flux Kustomization (and, with Helm, each HelmRelease) of a render renders.

flux-local's ``test`` and flate's ``test`` report one result per resource and fail when any fails;
this is the same question asked of homeops' render: a Kustomization failed when its build did (its
error says why), was skipped when its source is not this checkout (external), else rendered; a
HelmRelease failed when its chart could not be fetched or rendered (HO120/HO121).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from homeops.api.results import source_text
from homeops.core.codes import CHART_RENDER_FAILED, CHART_SOURCE_UNAVAILABLE
from homeops.core.errors import HomeopsError
from homeops.flux.model import is_helmrelease
from homeops.flux.rendered import ClusterRender

RENDERED, FAILED, SKIPPED = "rendered", "failed", "skipped"
_CHART_FAILURES = frozenset({CHART_SOURCE_UNAVAILABLE.id, CHART_RENDER_FAILED.id})


@dataclass
class TestItem:
    """One Kustomization or HelmRelease and whether it rendered."""

    __test__ = False  # not a pytest test class

    cluster: str
    kind: str  # Kustomization | HelmRelease
    namespace: str
    name: str
    status: str  # rendered | failed | skipped
    reason: str = ""
    source: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "source": self.source,
        }


@dataclass
class TestResult:
    """Every item tested; ``failed`` is what makes ``test`` exit 1."""

    __test__ = False

    items: list[TestItem] = field(default_factory=list)

    @property
    def failed(self) -> list[TestItem]:
        return [i for i in self.items if i.status == FAILED]

    def summary(self) -> dict[str, int]:
        return {s: sum(1 for i in self.items if i.status == s) for s in (RENDERED, FAILED, SKIPPED)}

    def as_json(self) -> dict[str, Any]:
        return {"items": [i.as_json() for i in self.items], "summary": self.summary()}


def _why(error: BaseException) -> str:
    return error.one_line() if isinstance(error, HomeopsError) else str(error)


def kustomization_items(result: ClusterRender, name: str | None = None) -> list[TestItem]:
    items = []
    for rk in result.rendered.values():
        ks = rk.ks
        if name is not None and ks.name != name:
            continue
        if rk.error is not None:
            own = [
                f.message
                for f in result.findings
                if f.severity == "error" and f.extra.get("ks") == ks.key and f.kind == "Kustomization"
            ]
            status, reason = FAILED, own[0] if own else _why(rk.error)
        elif rk.notes and not rk.resources:
            status, reason = SKIPPED, "; ".join(rk.notes)
        else:
            status, reason = RENDERED, ""
        items.append(
            TestItem(result.cluster.name, "Kustomization", ks.namespace, ks.name, status, reason, ks.source)
        )
    return items


def release_items(result: ClusterRender, name: str | None = None) -> list[TestItem]:
    """HelmReleases of a render whose releases were expanded (``--enable-helm``)."""
    failures: dict[tuple[str, str], str] = {}
    for f in result.findings:
        if f.rule in _CHART_FAILURES and f.kind == "HelmRelease" and f.name:
            failures.setdefault((f.namespace or "default", f.name), f.message)
    items = []
    for _rk, res in result.objects():
        if not is_helmrelease(res.obj) or (name is not None and res.name != name):
            continue
        namespace = res.namespace or "default"
        reason = failures.get((namespace, res.name))
        items.append(
            TestItem(
                result.cluster.name, "HelmRelease", namespace, res.name,
                FAILED if reason else RENDERED, reason or "", source_text(res.file, res.line),
            )
        )  # fmt: skip
    return items


def render_status(
    renders: Iterable[ClusterRender], *, kustomizations: bool, releases: bool, name: str | None = None
) -> TestResult:
    out = TestResult()
    for result in renders:
        if kustomizations:
            out.items.extend(kustomization_items(result, name))
        if releases:
            out.items.extend(release_items(result, name))
    return out

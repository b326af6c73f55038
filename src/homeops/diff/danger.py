"""Danger notes: changes that wedge or hurt an apply even though the render is fine.

* immutable fields: workload selectors, StatefulSet ``volumeClaimTemplates`` (and ``serviceName``,
  ``podManagementPolicy``), PVC storage class / access modes / shrink, Service ``clusterIP``,
  RoleBinding ``roleRef``, Job ``template``;
* removals: under ``prune: true`` the object is deleted from the cluster, under ``prune: false`` (or
  the ``kustomize.toolkit.fluxcd.io/prune: disabled`` annotation) it is orphaned; a removed CRD takes
  every object of its kind with it;
* ``suspend`` flips of Flux Kustomizations and HelmReleases;
* a HelmRelease chart whose major version changes (``chart.spec.version``, or the tag of the
  OCIRepository/HelmChart its ``chartRef`` names; a minor change of a 0.x chart counts too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from homeops.core.regex import lazy_pattern
from homeops.diff.model import Change
from homeops.diff.sides import Side
from homeops.flux.model import is_flux_kustomization, is_helmrelease
from homeops.kustomize.resource import Resource

PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
FORCE_ANNOTATION = "kustomize.toolkit.fluxcd.io/force"
HR_NAME_LABEL = "helm.toolkit.fluxcd.io/name"
DATA_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume", "Namespace"})
SELECTOR_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class Danger:
    type: str  # immutable | prune-delete | prune-orphan | crd-removal | suspend | chart-major, and the
    # review signals of homeops.diff.lint: rbac-wildcard | privileged | host-path | host-network |
    # scale-to-zero | pdb-removal | suspended
    severity: str  # error | warning | info
    message: str
    cluster: str
    kind: str
    namespace: str
    name: str
    ks: str
    field: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "severity": self.severity,
            "message": self.message,
            "cluster": self.cluster,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "ks": self.ks,
            "field": self.field,
        }

    @property
    def object(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_QUANTITY = lazy_pattern(r"^\s*([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?\s*$")
_FACTORS = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def parse_quantity(value: Any) -> float | None:
    """A Kubernetes quantity (``10Gi``, ``500M``, ``1.5e9``) in base units, None when unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY().match(str(value))
    if not match:
        return None
    try:
        return float(match.group(1)) * _FACTORS[match.group(2)]
    except ValueError:
        return None


def _immutable_fields(
    kind: str, before: dict[str, Any], after: dict[str, Any]
) -> list[tuple[str, Any, Any, str]]:
    """(field, old, new, why) of immutable fields that differ."""
    out: list[tuple[str, Any, Any, str]] = []

    def check(path: tuple[str, ...], why: str = "immutable") -> None:
        old, new = _get(before, *path), _get(after, *path)
        if _canon(old) != _canon(new):
            out.append((".".join(path), old, new, why))

    if kind in SELECTOR_KINDS:
        check(("spec", "selector"))
    if kind == "StatefulSet":
        check(("spec", "volumeClaimTemplates"))
        check(("spec", "serviceName"))
        check(("spec", "podManagementPolicy"))
    if kind == "Job":
        check(("spec", "template"))
    if kind == "PersistentVolumeClaim":
        check(("spec", "storageClassName"))
        check(("spec", "accessModes"))
        check(("spec", "volumeMode"))
        old = parse_quantity(_get(before, "spec", "resources", "requests", "storage"))
        new = parse_quantity(_get(after, "spec", "resources", "requests", "storage"))
        if old is not None and new is not None and new < old:
            out.append(
                (
                    "spec.resources.requests.storage",
                    _get(before, "spec", "resources", "requests", "storage"),
                    _get(after, "spec", "resources", "requests", "storage"),
                    "shrink",
                )
            )
    if kind == "Service":
        ip_old, ip_new = (
            str(_get(before, "spec", "clusterIP") or ""),
            str(_get(after, "spec", "clusterIP") or ""),
        )
        if ip_old != ip_new:
            out.append(("spec.clusterIP", ip_old or None, ip_new or None, "immutable"))
    if kind in ("RoleBinding", "ClusterRoleBinding"):
        check(("roleRef",))
    return out


def _forced(change: Change) -> bool:
    head = change.head
    if head is None:
        return False
    if str(head.res.annotations.get(FORCE_ANNOTATION) or "") == "enabled":
        return True
    return bool(head.ks.spec.get("force"))


def _immutable(change: Change) -> list[Danger]:
    assert change.base is not None and change.head is not None
    found = _immutable_fields(change.kind, change.base.res.obj, change.head.res.obj)
    dangers = []
    for path, old, new, why in found:
        what = (
            f"storage request shrinks from {old} to {new}: a PersistentVolumeClaim cannot shrink"
            if why == "shrink"
            else f"`{path}` changes ({_short(old)} → {_short(new)}) and is immutable"
        )
        if change.head.res.labels.get(HR_NAME_LABEL) and change.kind != "HelmRelease":
            consequence, severity = "the Helm upgrade will fail", "error"
        elif _forced(change):
            consequence = "Flux will delete and recreate the object (force)"
            severity = "error" if change.kind in DATA_KINDS else "warning"
        else:
            consequence, severity = (
                (
                    "the apply will fail and wedge the Kustomization until the object is deleted "
                    "or the Kustomization sets force: true"
                ),
                "error",
            )
        dangers.append(
            Danger(
                "immutable",
                severity,
                f"{what}: {consequence}",
                change.cluster,
                change.kind,
                change.namespace,
                change.name,
                change.ks,
                path,
            )
        )
    return dangers


def _removal(change: Change, head: Side) -> list[Danger]:
    placed = change.base
    assert placed is not None
    res, ks = placed.res, placed.ks
    render = head.renders.get(change.cluster)
    head_rk = render.rendered.get(ks.key) if render is not None else None
    args = (change.cluster, change.kind, change.namespace, change.name, ks.key)
    if str(res.annotations.get(PRUNE_ANNOTATION) or "") == "disabled":
        return [
            Danger(
                "prune-orphan",
                "info",
                f"removed from Git but stays in the cluster unmanaged ({PRUNE_ANNOTATION}: disabled)",
                *args,
            )
        ]
    if res.labels.get(HR_NAME_LABEL) and change.kind != "HelmRelease":
        severity = "error" if change.kind in DATA_KINDS else "warning"
        return [
            Danger(
                "prune-delete",
                severity,
                f"no longer rendered by HelmRelease "
                f"{res.labels.get('helm.toolkit.fluxcd.io/namespace', change.namespace)}/"
                f"{res.labels[HR_NAME_LABEL]}: the Helm upgrade deletes it",
                *args,
            )
        ]
    prune = bool((head_rk.ks if head_rk is not None else ks).spec.get("prune"))
    if head_rk is not None:
        reason = f"Flux Kustomization {ks.key} has prune: {'true' if prune else 'false'}"
    else:
        reason = f"Flux Kustomization {ks.key} (prune: {'true' if prune else 'false'}) is removed as well" + (
            " and garbage-collects its objects when deleted" if prune else ""
        )
    if not prune:
        return [
            Danger(
                "prune-orphan",
                "info",
                f"removed from Git but stays in the cluster unmanaged: {reason}",
                *args,
            )
        ]
    if change.kind == "CustomResourceDefinition":
        names = _get(res.obj, "spec", "names", "kind") or res.name
        return [
            Danger(
                "crd-removal",
                "error",
                f"the CustomResourceDefinition is deleted ({reason}): every "
                f"{names} object in the cluster is deleted with it",
                *args,
            )
        ]
    consequence = {
        "PersistentVolumeClaim": "; its volume's data is lost unless the reclaim policy is Retain",
        "PersistentVolume": "; its data is lost unless the reclaim policy is Retain",
        "Namespace": "; everything in the namespace is deleted with it",
    }.get(change.kind, "")
    severity = "error" if change.kind in DATA_KINDS else "warning"
    return [Danger("prune-delete", severity, f"deleted from the cluster ({reason}){consequence}", *args)]


def _suspend(change: Change) -> list[Danger]:
    assert change.base is not None and change.head is not None
    obj_b, obj_h = change.base.res.obj, change.head.res.obj
    if not (is_flux_kustomization(obj_h) or is_helmrelease(obj_h)):
        return []
    old, new = bool(_get(obj_b, "spec", "suspend")), bool(_get(obj_h, "spec", "suspend"))
    if old == new:
        return []
    message = (
        "suspended: Flux stops reconciling it (later changes are not applied, drift is not corrected)"
        if new
        else "resumed: Flux reconciles it again and applies everything changed while suspended"
    )
    return [
        Danger(
            "suspend",
            "warning",
            message,
            change.cluster,
            change.kind,
            change.namespace,
            change.name,
            change.ks,
            "spec.suspend",
        )
    ]


# ----------------------------------------------------------------------------------------------
# Chart versions

_VERSION = lazy_pattern(r"(\d+)(?:\.(\d+))?")


def _major_minor(version: str) -> tuple[int, int] | None:
    match = _VERSION().search(version)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def chart_version(hr: Resource, sources: dict[tuple[str, str, str], Resource]) -> tuple[str, str] | None:
    """(chart, version) a HelmRelease installs: ``chart.spec`` or the source its ``chartRef`` names."""
    spec = hr.obj.get("spec")
    if not isinstance(spec, dict):
        return None
    chart = _get(spec, "chart", "spec")
    if isinstance(chart, dict):
        version = chart.get("version")
        return (str(chart.get("chart") or ""), str(version)) if version not in (None, "") else None
    ref = spec.get("chartRef")
    if not isinstance(ref, dict):
        return None
    kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
    source = sources.get((kind, str(ref.get("namespace") or hr.namespace), name))
    if source is None:
        return None
    if kind == "OCIRepository":
        version = _get(source.obj, "spec", "ref", "tag") or _get(source.obj, "spec", "ref", "semver")
        label = str(_get(source.obj, "spec", "url") or name)
    else:
        version = _get(source.obj, "spec", "version")
        label = str(_get(source.obj, "spec", "chart") or name)
    return (label, str(version)) if version not in (None, "") else None


def _chart_index(
    side: Side, cluster: str
) -> tuple[dict[tuple[str, str, str], Resource], dict[tuple[str, str], tuple[Resource, str]]]:
    sources: dict[tuple[str, str, str], Resource] = {}
    releases: dict[tuple[str, str], tuple[Resource, str]] = {}
    render = side.renders.get(cluster)
    if render is None:
        return sources, releases
    for key, rk in render.rendered.items():
        for res in rk.resources:
            if res.kind in ("OCIRepository", "HelmChart"):
                sources[(res.kind, res.namespace, res.name)] = res
            elif is_helmrelease(res.obj):
                releases[(res.namespace, res.name)] = (res, key)
    return sources, releases


def _chart_bumps(base: Side, head: Side) -> list[Danger]:
    dangers = []
    for cluster in sorted(set(base.renders) & set(head.renders)):
        b_sources, b_releases = _chart_index(base, cluster)
        h_sources, h_releases = _chart_index(head, cluster)
        for (namespace, name), (hr, ks_key) in sorted(h_releases.items()):
            before = b_releases.get((namespace, name))
            if before is None:
                continue
            old, new = chart_version(before[0], b_sources), chart_version(hr, h_sources)
            if old is None or new is None or old[1] == new[1]:
                continue
            a, b = _major_minor(old[1]), _major_minor(new[1])
            if a is None or b is None:
                continue
            if a[0] != b[0]:
                what = "major version bump" if b[0] > a[0] else "major version downgrade"
            elif a[0] == 0 and a[1] != b[1]:
                what = "0.x minor version change (breaking under semver)"
            else:
                continue
            chart = new[0] or old[0]
            dangers.append(
                Danger(
                    "chart-major",
                    "warning",
                    f"chart {chart} {old[1]} → {new[1]}: {what}; read the "
                    "chart's upgrade notes (values and CRDs may have changed)",
                    cluster,
                    "HelmRelease",
                    namespace,
                    name,
                    ks_key,
                    "chart",
                )
            )
    return dangers


def find_dangers(changes: list[Change], base: Side, head: Side) -> list[Danger]:
    """Every danger note of a diff, most severe first."""
    dangers: list[Danger] = []
    for change in changes:
        if change.change == "modified":
            dangers.extend(_immutable(change))
            dangers.extend(_suspend(change))
        elif change.change == "removed":
            dangers.extend(_removal(change, head))
    dangers.extend(_chart_bumps(base, head))
    return ordered(dangers)


def ordered(dangers: list[Danger]) -> list[Danger]:
    """Most severe first, then by cluster, type and object."""
    return sorted(
        dangers,
        key=lambda d: (SEVERITY_ORDER.get(d.severity, 3), d.cluster, d.type, d.kind, d.namespace, d.name),
    )

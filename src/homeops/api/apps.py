"""Apps as a reader of the repository sees them: one per Flux Kustomization that deploys something.

An app is a Flux Kustomization whose render holds a HelmRelease or a workload (Deployment,
StatefulSet, DaemonSet, Job, CronJob, Pod). For each: its namespace; the charts and versions its
HelmReleases install; the images it runs (workloads and chart values); its routes (Gateway API
routes and chart ``route.*`` values by the gateway they attach to, Ingresses and chart ``ingress``
values by class) classed internal or external by the profile's gateways; where its secrets come
from (ExternalSecrets and their store, SOPS-encrypted Secrets, plain Secrets, postBuild
``substituteFrom``); and its backups: Volsync ReplicationSources and the claims they cover, CNPG
clusters with a backup configured, ScheduledBackups, the profile's further backup components
(``backup_components``, e.g. Kopia snapshot policies: the claims they render or name), and the claims
nothing backs up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from homeops.api.listings import helmreleases
from homeops.core.profile import Profile
from homeops.flux.helm_release import with_release
from homeops.flux.ingress import value_entries
from homeops.flux.model import RenderedKustomization, is_helmrelease
from homeops.flux.rendered import ClusterRender
from homeops.flux.workloads import resource_images
from homeops.kustomize.resource import Resource
from homeops.rules.helpers import under

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"})
ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"})


@dataclass(frozen=True)
class RouteInfo:
    """One way into an app: a route or ingress, its hosts, what it attaches to and its exposure."""

    kind: str  # HTTPRoute | Ingress | values route | values ingress | ...
    name: str
    hosts: tuple[str, ...]
    target: str  # the gateway (namespace/name) or ingress class
    exposure: str  # internal | external | unknown
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "hosts": list(self.hosts), "target": self.target,
            "exposure": self.exposure, "source": self.source,
        }  # fmt: skip


@dataclass(frozen=True)
class SecretSource:
    """Where one secret of an app comes from."""

    kind: str  # external-secret | sops | plain | substitute-from
    name: str
    detail: str  # the store, the referenced Secret...
    source: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "detail": self.detail, "source": self.source}


@dataclass(frozen=True)
class Backup:
    """One backup of an app's data: a Volsync ReplicationSource, a CNPG backup or a ScheduledBackup."""

    kind: str  # volsync | cnpg | cnpg-scheduled | component (a backup component of the profile)
    name: str
    covers: str  # the claim or database cluster it backs up
    detail: str  # destination / schedule
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "covers": self.covers,
            "detail": self.detail,
            "source": self.source,
        }


@dataclass(frozen=True)
class AppInfo:
    """One app of a cluster (a Flux Kustomization that deploys something)."""

    cluster: str
    name: str
    namespace: str
    ks: str
    path: str
    source: str
    suspend: bool
    charts: tuple[tuple[str, str, str], ...]  # (HelmRelease, chart, version)
    images: tuple[tuple[str, bool], ...]  # (image, pinned)
    routes: tuple[RouteInfo, ...]
    secrets: tuple[SecretSource, ...]
    backups: tuple[Backup, ...]
    claims: tuple[str, ...] = field(default=())  # PersistentVolumeClaims it renders
    unprotected: tuple[str, ...] = field(default=())  # of those, the ones no backup covers

    @property
    def exposure(self) -> str:
        """``external`` if any route is, else ``internal`` if it has routes, else ``none``."""
        kinds = {r.exposure for r in self.routes}
        return "external" if "external" in kinds else ("internal" if kinds else "none")

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster, "name": self.name, "namespace": self.namespace, "ks": self.ks,
            "path": self.path, "source": self.source, "suspend": self.suspend,
            "charts": [{"release": r, "chart": c, "version": v} for r, c, v in self.charts],
            "images": [{"image": i, "pinned": p} for i, p in self.images],
            "routes": [r.as_json() for r in self.routes], "exposure": self.exposure,
            "secrets": [s.as_json() for s in self.secrets], "backups": [b.as_json() for b in self.backups],
            "claims": list(self.claims), "unprotected": list(self.unprotected),
        }  # fmt: skip


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ((str(value),) if value else ())


def _gateway_exposure(profile: Profile, ref: Any, namespace: str) -> tuple[str, str]:
    if not isinstance(ref, dict):
        return "", "unknown"
    name = str(ref.get("name") or "")
    ns = str(ref.get("namespace") or namespace or "")
    for gateway, exposure in ((profile.gateway_external, "external"), (profile.gateway_internal, "internal")):
        if name == gateway.name and ns in (gateway.namespace, ""):
            return f"{gateway.namespace}/{name}", exposure
    return f"{ns}/{name}" if ns else name, "unknown"


def _class_exposure(ingress_class: str) -> str:
    lowered = ingress_class.lower()
    return "external" if "external" in lowered else ("internal" if "internal" in lowered else "unknown")


def _routes(profile: Profile, res: Resource) -> Iterator[RouteInfo]:
    where = res.where()
    if res.kind in ROUTE_KINDS:
        hosts = _texts(_get(res.obj, "spec", "hostnames"))
        for ref in _get(res.obj, "spec", "parentRefs") or [None]:
            target, exposure = _gateway_exposure(profile, ref, res.namespace or "")
            yield RouteInfo(res.kind, res.name, hosts, target, exposure, where)
    elif res.kind == "Ingress":
        cls = str(_get(res.obj, "spec", "ingressClassName") or "")
        hosts = tuple(
            str(r.get("host"))
            for r in _get(res.obj, "spec", "rules") or []
            if isinstance(r, dict) and r.get("host")
        )
        yield RouteInfo("Ingress", res.name, hosts, cls, _class_exposure(cls), where)
    elif is_helmrelease(res.obj):
        values = _get(res.obj, "spec", "values")
        for name, entry in value_entries(values, "route", "parentRefs"):
            named = _texts(entry.get("hostnames")) or _texts(
                _get(entry, "host", "name")
            )  # rook-ceph: host.name
            hosts = tuple(with_release(h, res.obj) for h in named)
            for ref in entry.get("parentRefs") or [None]:
                target, exposure = _gateway_exposure(profile, ref, res.namespace or "")
                yield RouteInfo("values route", name, hosts, target, exposure, where)
        for name, entry in value_entries(values, "ingress", "hosts"):
            cls = str(entry.get("className") or entry.get("ingressClassName") or "")
            hosts = tuple(
                with_release(str(h.get("host") if isinstance(h, dict) else h), res.obj)
                for h in entry.get("hosts") or []
                if h
            )
            yield RouteInfo("values ingress", name, hosts, cls, _class_exposure(cls), where)


def _secrets(res: Resource) -> Iterator[SecretSource]:
    if res.kind == "ExternalSecret":
        store = _get(res.obj, "spec", "secretStoreRef") or {}
        target = str(_get(res.obj, "spec", "target", "name") or res.name)
        yield SecretSource(
            "external-secret",
            target,
            f"{store.get('kind') or 'SecretStore'}/{store.get('name') or '?'}",
            res.where(),
        )
    elif res.kind == "Secret":
        if "sops" in res.obj:
            yield SecretSource("sops", res.name, "SOPS-encrypted in Git", res.where())
        else:
            yield SecretSource("plain", res.name, "in Git unencrypted", res.where())


def _backups(res: Resource) -> Iterator[Backup]:
    if res.kind == "ReplicationSource":
        destination = str(
            _get(res.obj, "spec", "restic", "repository")
            or _get(res.obj, "spec", "rclone", "rcloneDestPath")
            or ""
        )
        schedule = str(_get(res.obj, "spec", "trigger", "schedule") or "")
        detail = ", ".join(p for p in (destination, schedule) if p)
        yield Backup("volsync", res.name, str(_get(res.obj, "spec", "sourcePVC") or ""), detail, res.where())
    elif res.kind == "Cluster" and str(res.obj.get("apiVersion") or "").startswith("postgresql.cnpg.io/"):
        backup = _get(res.obj, "spec", "backup")
        plugins = [p for p in _get(res.obj, "spec", "plugins") or [] if isinstance(p, dict)]
        if isinstance(backup, dict) and backup:
            detail = str(_get(backup, "barmanObjectStore", "destinationPath") or "configured")
            yield Backup("cnpg", res.name, res.name, detail, res.where())
        elif any("barman" in str(p.get("name") or "") for p in plugins):
            yield Backup("cnpg", res.name, res.name, "barman-cloud plugin", res.where())
    elif res.kind == "ScheduledBackup":
        yield Backup(
            "cnpg-scheduled", res.name, str(_get(res.obj, "spec", "cluster", "name") or ""),
            str(_get(res.obj, "spec", "schedule") or ""), res.where(),
        )  # fmt: skip


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _component_backups(
    profile: Profile, resources: list[Resource], claims: tuple[str, ...]
) -> Iterator[Backup]:
    """One backup per claim a backup component of the profile covers: a claim the component renders,
    or one its objects name (a snapshot policy's source), as HO024 reads them."""
    for component in profile.backup_components:
        objects = [r for r in resources if under(r.file, component)]
        if not objects:
            continue
        named = {s for r in objects if r.kind != "PersistentVolumeClaim" for s in _strings(r.obj.get("spec"))}
        rendered = {r.name for r in objects if r.kind == "PersistentVolumeClaim"}
        anchor = next((r for r in objects if r.kind != "PersistentVolumeClaim"), objects[0])
        for claim in claims:
            if claim in rendered or claim in named:
                yield Backup("component", component, claim, f"{component} component", anchor.where())


def _app(
    profile: Profile, render: ClusterRender, rk: RenderedKustomization, charts: list[tuple[str, str, str]]
) -> AppInfo:
    resources = rk.resources
    namespaces = [
        r.namespace for r in resources if (r.kind in WORKLOAD_KINDS or is_helmrelease(r.obj)) and r.namespace
    ]
    namespace = rk.ks.target_namespace or (namespaces[0] if namespaces else rk.ks.namespace)
    images: dict[str, bool] = {}
    for res in resources:
        for use in resource_images(res):
            images.setdefault(use.image, use.pinned)
    routes = [route for res in resources for route in _routes(profile, res)]
    secrets = [s for res in resources for s in _secrets(res)]
    for ref in (rk.ks.post_build or {}).get("substituteFrom") or []:
        if isinstance(ref, dict):
            secrets.append(
                SecretSource(
                    "substitute-from",
                    str(ref.get("name") or ""),
                    f"postBuild {ref.get('kind') or 'ConfigMap'}",
                    rk.ks.source,
                )
            )
    backups = [b for res in resources for b in _backups(res)]
    claims = tuple(sorted(r.name for r in resources if r.kind == "PersistentVolumeClaim"))
    backups += _component_backups(profile, resources, claims)
    covered = {b.covers for b in backups if b.kind in ("volsync", "component")}
    return AppInfo(
        cluster=render.cluster.name, name=rk.ks.name, namespace=namespace, ks=rk.ks.key, path=rk.ks.path,
        source=rk.ks.source, suspend=rk.ks.suspend, charts=tuple(charts), images=tuple(sorted(images.items())),
        routes=tuple(routes), secrets=tuple(secrets), backups=tuple(backups), claims=claims,
        unprotected=tuple(c for c in claims if c not in covered),
    )  # fmt: skip


def apps(render: ClusterRender, profile: Profile) -> list[AppInfo]:
    """Every app of one rendered cluster, in render order."""
    charts: dict[str, list[tuple[str, str, str]]] = {}
    for hr in helmreleases(render):
        charts.setdefault(hr.ks, []).append((f"{hr.namespace}/{hr.name}", hr.chart, hr.version))
    out = []
    for key, rk in render.rendered.items():
        if any(r.kind in WORKLOAD_KINDS or is_helmrelease(r.obj) for r in rk.resources):
            out.append(_app(profile, render, rk, charts.get(key, [])))
    return out

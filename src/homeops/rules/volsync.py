"""Rule HO024: stateful apps are backed up with the Volsync component, on the profile's schedules.

Which ReplicationSource is which backend: a ReplicationSource whose name or ``spec.restic.repository``
(the repository Secret) contains ``b2`` is the B2 one, ``minio`` the MinIO one (the component names
them ``${APP}-b2`` / ``${APP}-minio``); others (local copies, rclone) are not checked. Schedules are
compared by cadence (a cron firing once a day vs once an hour), not literally, so a daily backup moved
to ``15 3 * * *`` to spread load is still daily.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from homeops.core import codes
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.regex import lazy_pattern
from homeops.core.shape import as_list, as_map
from homeops.core.yamlio import key_line
from homeops.flux import envsubst
from homeops.flux.helm_release import with_release
from homeops.flux.model import RenderedKustomization, is_helmrelease
from homeops.flux.rendered import ClusterRender
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import (
    CORE_API_GROUPS,
    Components,
    claims_named,
    dig,
    modern_renders,
    under,
    yaml_files,
    yaml_strings,
)
from homeops.rules.reloader import hr_values, persistence_items

_FIELD = re.compile(r"^\d+$")


def cadence(schedule: str) -> str | None:
    """``hourly``, ``daily``, ``weekly`` or None (anything else) for a cron expression."""
    s = schedule.strip()
    macros = {"@hourly": "hourly", "@daily": "daily", "@midnight": "daily", "@weekly": "weekly"}
    if s in macros:
        return macros[s]
    parts = s.split()
    if len(parts) != 5:
        return None
    minute, hour, dom, month, dow = parts
    if not _FIELD.match(minute) or dom != "*" or month != "*":
        return None
    if hour == "*" and dow == "*":
        return "hourly"
    if _FIELD.match(hour) and dow == "*":
        return "daily"
    if _FIELD.match(hour) and _FIELD.match(dow):
        return "weekly"
    return None


def _component_included(ctx: RuleContext, ks_path: str, entries: Iterable[Any]) -> Path | None:
    """The directory of the profile's volsync component one of ``entries`` names, if one does."""
    component = Path(ctx.files.real(ctx.root / ctx.profile.component_path(ctx.profile.volsync_component)))
    suffix = "/" + ctx.profile.volsync_component.strip("/")
    base = ctx.root / ks_path if ks_path else ctx.root
    for entry in entries:
        text = str(entry).rstrip("/")
        if Path(ctx.files.real(base / text)) == component or text.endswith(suffix):
            return base / text
    return None


def _has_component(ctx: RuleContext, rk: RenderedKustomization) -> Path | None:
    ks = rk.ks
    found = _component_included(ctx, ks.path, as_list(ks.spec.get("components")))
    if found is not None:
        return found
    directory = ctx.root / ks.path if ks.path else None
    kfile = directory / "kustomization.yaml" if directory is not None else None
    if kfile is not None and os.path.isfile(kfile):
        try:
            kust = ctx.files.load_one(kfile)
        except Exception:
            return None
        if isinstance(kust, dict):
            return _component_included(ctx, ks.path, as_list(kust.get("components")))
    return None


def _defaulted(ctx: RuleContext, directory: Path) -> frozenset[str]:
    """The variables the component in ``directory`` gives a default at each of their uses
    (``${VOLSYNC_CAPACITY:=1Gi}``): a Kustomization need not substitute them. Only the YAML values
    count (Flux substitutes the built objects: comments are gone); none when a file cannot be read
    or holds a malformed expression."""
    real = ctx.files.real(directory)
    key = f"rules:volsync:defaulted:{real}"
    found = ctx.files.derived.get(key)
    if isinstance(found, frozenset):
        return found
    uses: dict[str, bool] = {}
    rel = ctx.files.listing.inside(real)  # only a directory of the repository, from the run's listing
    try:
        if rel and ctx.files.kind(real) == "d":
            for path in sorted(yaml_files(ctx.files.listing, rel)):
                for text in yaml_strings(ctx.files.load_all(ctx.root / path)):
                    if "$" in text:
                        for name, default in envsubst.variables(envsubst.parse(text)).items():
                            uses[name] = uses.get(name, True) and default
    except (HomeopsError, envsubst.SubstitutionError, OSError):
        uses = {}
    found = ctx.files.derived[key] = frozenset(name for name, default in uses.items() if default)
    return found


def _other_backup(ctx: RuleContext, rk: RenderedKustomization) -> bool:
    """Does the app render objects of one of the profile's further backup components?"""
    others = ctx.profile.backup_components
    return bool(others) and any(under(res.file, c) for res in rk.resources for c in others)


def _backup_names(ctx: RuleContext) -> str:
    names = [f"the {ctx.profile.volsync_component} component", *ctx.profile.backup_components]
    return names[0] if len(names) == 1 else "a backup component (" + ", ".join(names) + ")"


def _variables(render: ClusterRender, rk: RenderedKustomization) -> set[str] | None:
    """Variable names the Flux Kustomization defines (None: some come from a source we cannot read)."""
    pb = rk.ks.post_build or {}
    names = {str(k) for k in as_map(pb.get("substitute"))}
    for ref in as_list(pb.get("substituteFrom")):
        if not isinstance(ref, dict):
            continue
        found = render.find(str(ref.get("kind") or ""), str(ref.get("name") or ""), rk.ks.namespace)
        if not found:
            if ref.get("optional"):
                continue
            return None
        obj = found[0][1].obj
        data = {**as_map(obj.get("data")), **as_map(obj.get("stringData"))}
        names.update(str(k) for k in data)
    return names


def _claims_elsewhere(render: ClusterRender, rk: RenderedKustomization) -> set[tuple[str, str]]:
    """PVCs of the cluster rendered by other Flux Kustomizations (namespace, name)."""
    return {
        (r.namespace, r.name)
        for other in render.rendered.values()
        if other is not rk
        for r in other.resources
        if r.kind == "PersistentVolumeClaim"
    }


_CACHE_NAME = lazy_pattern(r"(^|[-_.])cache([-_.]|$)")
_BACKUP_KIND = re.compile(r"Backup|Snapshot|ReplicationSource")


def _claim_name(res: Resource, claim: Any) -> str:
    """An ``existingClaim`` as the chart renders it: ``{{ .Release.Name }}`` is the release's name."""
    return with_release(str(claim), res.obj)


def _is_backup_object(res: Resource) -> bool:
    """A custom resource that makes backups (ReplicationSource, ScheduledBackup, SnapshotPolicy, ...)."""
    group = res.api_version.split("/")[0] if "/" in res.api_version else ""
    return bool(group) and group not in CORE_API_GROUPS and bool(_BACKUP_KIND.search(res.kind))


def _own_backups(rk: RenderedKustomization) -> list[str]:
    """Kinds of backup objects the app renders (a ReplicationSource for one claim, a database
    ScheduledBackup, a snapshot policy): the app backs some of its data up, as its owner chose."""
    return sorted({r.kind for r in rk.resources if _is_backup_object(r)})


def _volumes(ctx: RuleContext, render: ClusterRender) -> tuple[dict[tuple[str, str], Resource], set[str]]:
    """The cluster's PVCs by (namespace, name), and the storage classes of its pre-provisioned
    PersistentVolumes."""

    def compute() -> tuple[dict[tuple[str, str], Resource], set[str]]:
        claims: dict[tuple[str, str], Resource] = {}
        classes: set[str] = set()
        for _rk, res in render.objects():
            if res.kind == "PersistentVolumeClaim":
                claims[(res.namespace or "default", res.name)] = res
            elif res.kind == "PersistentVolume":
                classes.add(str(dig(res.obj, "spec", "storageClassName") or ""))
        return claims, classes

    return ctx.cached(f"volumes:{render.cluster.name}", compute)


def _not_app_data(ctx: RuleContext, render: ClusterRender, claim: Resource, replicated: set[str]) -> bool:
    """A claim Volsync need not back up: a cache (the cache storage class, or named so), one a
    ReplicationSource of the app already backs up, or one bound to a pre-provisioned volume (an NFS or
    ZFS share: ``volumeName``, ``storageClassName: ""`` or the class of a PersistentVolume the
    repository defines), which is the storage's business."""
    raw = claim.obj.get("spec")
    spec: dict[str, Any] = raw if isinstance(raw, dict) else {}
    storage_class = spec.get("storageClassName")
    if storage_class == ctx.profile.cache_storage_class or _CACHE_NAME().search(claim.name):
        return True
    if claim.name in replicated or spec.get("volumeName") or storage_class == "":
        return True
    return storage_class is not None and str(storage_class) in _volumes(ctx, render)[1]


def _many_apps(rk: RenderedKustomization) -> bool:
    """A Flux Kustomization applying several apps at once (HelmReleases of several namespaces): the
    per-app backup check does not apply to it."""
    return len({r.namespace for r in rk.resources if is_helmrelease(r.obj)}) > 1


def _backed_up(ctx: RuleContext, rk: RenderedKustomization, own: bool) -> set[str]:
    """Claims the app's backup objects name as their source: those of its own files (``own``: not
    from a kustomize Component), or all of them."""
    components = Components.of(ctx.root, ctx.files)
    return {
        name
        for r in rk.resources
        if _is_backup_object(r) and not (own and r.file and components.outermost(r.file))
        for name in claims_named(r.obj.get("spec"))
    }


_SIDE_DATA = lazy_pattern(r"(^|[-_.])(logs?|cores?|tmp|temp|scratch)([-_.]|$)")


def _state(
    ctx: RuleContext, render: ClusterRender, rk: RenderedKustomization
) -> tuple[str, str | None] | None:
    """Why the app is stateful and the claim's name when known (None: it is not): the first of its
    unbacked claims, one whose name does not say logs, core dumps or scratch space first."""
    found = list(_unbacked(ctx, render, rk))
    if not found:
        return None
    why, claim, _name = next((f for f in found if not _SIDE_DATA().search(f[2])), found[0])
    return why, claim


def _unbacked(
    ctx: RuleContext, render: ClusterRender, rk: RenderedKustomization
) -> Iterator[tuple[str, str | None, str]]:
    """(why, claim name when known, name to judge it by) of each claim of the app needing a backup."""
    components = ctx.profile.backup_component_paths()
    cache_class = ctx.profile.cache_storage_class
    elsewhere: set[tuple[str, str]] | None = None
    replicated = _backed_up(ctx, rk, own=True)
    for res in rk.resources:
        if res.kind == "PersistentVolumeClaim" and not any(under(res.file, c) for c in components):
            if _not_app_data(ctx, render, res, replicated):
                continue
            yield f"PersistentVolumeClaim {res.name} ({res.where()})", res.name, res.name
            continue
        if not is_helmrelease(res.obj):
            continue
        for name, item in persistence_items(hr_values(res)):
            kind = str(item.get("type") or "")
            if item.get("storageClass") == cache_class:
                continue
            claim = _claim_name(res, item["existingClaim"]) if item.get("existingClaim") else None
            if claim and kind in ("", "persistentVolumeClaim"):
                if elsewhere is None:
                    elsewhere = _claims_elsewhere(render, rk)
                if (res.namespace, str(claim)) in elsewhere:
                    continue  # another app's claim (a shared volume): that app backs it up
                pvc = _volumes(ctx, render)[0].get((res.namespace or "default", str(claim)))
                if str(claim) in replicated or (
                    pvc is not None and _not_app_data(ctx, render, pvc, replicated)
                ):
                    continue
                where = f"{item.file or res.file}:{item.line_of('existingClaim')}"
                yield f"HelmRelease {res.name} persistence.{name}.existingClaim ({where})", claim, claim
                continue
            if kind == "persistentVolumeClaim" or (not kind and item.get("size")):
                if _CACHE_NAME().search(str(name)):
                    continue
                where = f"{item.file or res.file}:{item.line}"
                yield f"HelmRelease {res.name} persistence.{name} claim ({where})", None, name


def _app_findings(ctx: RuleContext, render: ClusterRender) -> Iterator[Finding]:
    required = ctx.profile.volsync_variables
    cluster = render.cluster.name
    for rk in render.rendered.values():
        ks = rk.ks
        if ks.parent is None or rk.error is not None or _many_apps(rk):
            continue
        has = _has_component(ctx, rk)
        if has is not None:
            names = _variables(render, rk)
            defaulted = _defaulted(ctx, has)
            missing = [v for v in required if names is not None and v not in names and v not in defaulted]
            if missing:
                yield finding(
                    codes.VOLSYNC,
                    f"{ks.key} uses the {ctx.profile.volsync_component} component without "
                    f"postBuild.substitute {', '.join(missing)}",
                    res=ks.resource,
                    line=key_line(ks.obj, "spec", "postBuild", "substitute")
                    or key_line(ks.obj, "spec", "components")
                    or ks.resource.line,
                    cluster=cluster,
                )
            continue
        if _other_backup(ctx, rk):
            continue
        state = _state(ctx, render, rk)
        if not state:
            continue
        why, claim = state
        own = _own_backups(rk)
        if claim is not None and claim in _backed_up(ctx, rk, own=False):  # by a component off the profile
            message, severity = (
                f"{ks.key} backs up {why} with {', '.join(own)} from a component, not with {_backup_names(ctx)}",
                "warning",
            )
        elif own:  # the app backs up what its owner chose; a claim left out is worth a look, no more
            message, severity = (
                f"{ks.key} backs up some of its data itself ({', '.join(own)}) but not {why}, and does not "
                f"include {_backup_names(ctx)}: that claim is not backed up",
                "warning",
            )
        else:
            message, severity = (
                f"{ks.key} is stateful ({why}) but does not include {_backup_names(ctx)}: its data is not "
                "backed up",
                codes.VOLSYNC.severity,
            )
        yield finding(
            codes.VOLSYNC,
            message,
            res=ks.resource,
            line=key_line(ks.obj, "metadata", "name") or ks.resource.line,
            cluster=cluster,
            severity=severity,
        )


def _backend(res: Resource) -> str | None:
    names = [res.name.lower(), str(dig(res.obj, "spec", "restic", "repository") or "").lower()]
    for name in names:  # the component's suffix first: an app may itself be called b2 or minio
        last = re.split(r"[-_.]", name)[-1]
        if last in ("b2", "minio"):
            return last
    text = " ".join(names)
    if "b2" in text:
        return "b2"
    if "minio" in text:
        return "minio"
    return None


def _replication_findings(ctx: RuleContext, render: ClusterRender) -> Iterator[Finding]:
    policy = ctx.profile.backup
    expected = {
        "b2": (policy.b2_schedule, {"daily": policy.b2_keep_daily}),
        "minio": (
            policy.minio_schedule,
            {
                "hourly": policy.minio_keep_hourly,
                "daily": policy.minio_keep_daily,
                "weekly": policy.minio_keep_weekly,
            },
        ),
    }
    for _rk, res in render.objects():
        if res.kind != "ReplicationSource" or not res.api_version.startswith("volsync.backube/"):
            continue
        backend = _backend(res)
        if backend is None:
            continue
        schedule, keep = expected[backend]
        label = "B2" if backend == "b2" else "MinIO"
        actual = dig(res.obj, "spec", "trigger", "schedule")
        want = cadence(schedule) or schedule
        if not isinstance(actual, str) or not actual.strip():
            yield finding(
                codes.VOLSYNC,
                f"ReplicationSource {res.name} ({label}) has no trigger.schedule: the profile backs "
                f"{label} up {want}",
                res=res,
                line=key_line(res.obj, "spec", "trigger") or res.line,
                cluster=render.cluster.name,
            )
        elif "${" not in actual and (cadence(actual) or actual) != want:
            yield finding(
                codes.VOLSYNC,
                f"ReplicationSource {res.name} ({label}) runs on '{actual}', not {want} as the "
                f"profile sets ('{schedule}')",
                res=res,
                line=key_line(res.obj, "spec", "trigger", "schedule"),
                cluster=render.cluster.name,
            )
        restic = dig(res.obj, "spec", "restic")
        if not isinstance(restic, dict):
            continue
        raw_retain = restic.get("retain")
        retain: dict[str, Any] = raw_retain if isinstance(raw_retain, dict) else {}
        wrong = [f"{k} {retain.get(k)} (want {v})" for k, v in keep.items() if str(retain.get(k)) != str(v)]
        if wrong:
            yield finding(
                codes.VOLSYNC,
                f"ReplicationSource {res.name} ({label}) retention off the profile: {', '.join(wrong)}",
                res=res,
                line=key_line(res.obj, "spec", "restic", "retain") or key_line(res.obj, "spec", "restic"),
                cluster=render.cluster.name,
            )


@rule(
    codes.VOLSYNC,
    rationale="""
The context document ("Volsync Strategy", "Key Principles": "Volsync for stateful apps with
dual-backend"): every stateful workload includes the `volsync` component with `APP` and
`VOLSYNC_CAPACITY` substituted; backups go to B2 daily keeping 7 and to MinIO hourly keeping
24 hourly / 7 daily / 5 weekly (profile `backup`). An app is stateful when its Flux Kustomization
renders a PersistentVolumeClaim of its own (not the component's, not on the cache storage class) or a
HelmRelease whose values have `persistence.*.existingClaim` (unless another app renders that claim),
`persistence.*.type: persistentVolumeClaim`, or a `size` without `type`. B2 vs MinIO is read from
the ReplicationSource's name or restic repository Secret (`b2` / `minio`); schedules are compared by
cadence (daily/hourly), retention by the profile's keep counts. The component check applies to
modern clusters; the schedule check to every cluster. Further backup components (`backup_components`,
repository paths; without `.homeops.yaml`, the components the repository's apps take their claims
from along with backup objects, e.g. Kopia snapshot policies) count as backups too, and so does a
backup object of the app's own naming its claim as a source (a ReplicationSource's `sourcePVC`, a
snapshot policy's `pvc: {name}`); a claim bound to a pre-provisioned volume
(`volumeName`, `storageClassName: ""`, or the class of a PersistentVolume the repository defines: an
NFS or ZFS share) is the storage's business, and a cache (the cache storage class, or a claim named
`*-cache`) needs no backup. An `existingClaim: "{{ .Release.Name }}"` names the release's claim. An
app that renders backup objects of its own (a ReplicationSource for another claim, a database
`ScheduledBackup`, a snapshot policy) but leaves a claim out gets a warning, not an error: its owner
chose what to back up; so does a claim that backup objects from a component off the profile back up
(the data is safe, the convention is not the profile's). Of several unbacked claims the finding names
one whose name does not say logs, core dumps or scratch space, when there is one. A Flux Kustomization applying HelmReleases of several namespaces is not
one app, and is not checked.
""",
    bad="""
# ks.yaml of an app whose HelmRelease has persistence.config.existingClaim: ${APP}
spec:
  path: ./cluster-apps/chongus/default/atuin/app
""",
    good="""
spec:
  path: ./cluster-apps/chongus/default/atuin/app
  components:
    - ../../../../components/volsync
  postBuild:
    substitute:
      APP: atuin
      VOLSYNC_CAPACITY: 5Gi
""",
)
def check_volsync(ctx: RuleContext) -> Iterable[Finding]:
    for render in modern_renders(ctx):
        yield from _app_findings(ctx, render)
    for render in ctx.renders:
        yield from _replication_findings(ctx, render)

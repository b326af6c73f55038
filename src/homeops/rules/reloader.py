"""Rule HO025: workloads that read ConfigMaps/Secrets must carry the Reloader annotation, and the
bjw-s app-template helpers the security rule shares (controllers, containers, persistence)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from homeops.core import codes
from homeops.core.edits import FileEdit
from homeops.core.findings import Finding
from homeops.core.shape import as_list
from homeops.core.yamledit import MappingRef
from homeops.core.yamlio import YMap, key_line
from homeops.flux.model import is_helmrelease
from homeops.flux.workloads import containers, pod_spec
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import (
    Violation,
    dig,
    doc_index,
    findings_of,
    fix_from,
    mapping_edit,
    truthy,
)

RELOADED_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
APP_TEMPLATE_RELOADED_TYPES = ("deployment", "statefulset", "daemonset")

# ----------------------------------------------------------------------------------------------
# bjw-s app-template values


def hr_values(res: Resource) -> YMap | None:
    spec = res.obj.get("spec")
    values = spec.get("values") if isinstance(spec, dict) else None
    return values if isinstance(values, YMap) else None


def _enabled(node: dict[str, Any]) -> bool:
    return node.get("enabled") is not False and str(node.get("enabled")).lower() != "false"


def app_template_controllers(res: Resource) -> Iterator[tuple[str, YMap]]:
    """``controllers.<name>`` of a HelmRelease whose values have the app-template shape."""
    if not is_helmrelease(res.obj):
        return
    values = hr_values(res)
    ctrls = values.get("controllers") if values is not None else None
    if not isinstance(ctrls, dict):
        return
    for name, ctrl in ctrls.items():
        if (
            isinstance(ctrl, YMap)
            and _enabled(ctrl)
            and (isinstance(ctrl.get("containers"), dict) or isinstance(ctrl.get("initContainers"), dict))
        ):
            yield str(name), ctrl


def controller_type(ctrl: dict[str, Any]) -> str:
    return str(ctrl.get("type") or "deployment").lower()


def controller_containers(ctrl: dict[str, Any]) -> Iterator[tuple[str, str, YMap]]:
    """(``containers``/``initContainers``, name, container) of an app-template controller."""
    for group in ("initContainers", "containers"):
        items = ctrl.get(group)
        if not isinstance(items, dict):
            continue
        for name, container in items.items():
            if isinstance(container, YMap) and _enabled(container):
                yield group, str(name), container


def persistence_items(values: dict[str, Any] | None) -> Iterator[tuple[str, YMap]]:
    items = values.get("persistence") if isinstance(values, dict) else None
    if not isinstance(items, dict):
        return
    for name, item in items.items():
        if isinstance(item, YMap) and _enabled(item):
            yield str(name), item


def persistence_controllers(item: dict[str, Any]) -> set[str] | None:
    """The controllers an app-template persistence item is mounted into (None: all of them)."""
    advanced = item.get("advancedMounts")
    if isinstance(advanced, dict) and advanced and not item.get("globalMounts"):
        return {str(k) for k in advanced}
    return None


# ----------------------------------------------------------------------------------------------
# What a workload reads

_REF_KEYS = ("secretRef", "configMapRef", "secret", "configMap", "secretKeyRef", "configMapKeyRef")


def _env_reads(env: Any) -> bool:
    """env (list or app-template mapping) with a secretKeyRef/configMapKeyRef anywhere."""
    if isinstance(env, dict):
        return any(k in ("secretKeyRef", "configMapKeyRef") or _env_reads(v) for k, v in env.items())
    if isinstance(env, list):
        return any(_env_reads(v) for v in env)
    return False


def _env_from_reads(env_from: Any) -> bool:
    items = env_from if isinstance(env_from, list) else [env_from] if isinstance(env_from, dict) else []
    return any(isinstance(i, dict) and any(i.get(k) for k in _REF_KEYS) for i in items)


def container_reads(container: dict[str, Any]) -> bool:
    return _env_from_reads(container.get("envFrom")) or _env_reads(container.get("env"))


def workload_reads(obj: dict[str, Any]) -> bool:
    """Does a Deployment/StatefulSet/DaemonSet mount or import a ConfigMap or Secret?"""
    if any(container_reads(c) for _, c in containers(obj)):
        return True
    spec = pod_spec(obj) or {}
    for volume in as_list(spec.get("volumes")):
        if not isinstance(volume, dict):
            continue
        if isinstance(volume.get("configMap"), dict) or isinstance(volume.get("secret"), dict):
            return True
        projected = volume.get("projected")
        if isinstance(projected, dict):
            for source in as_list(projected.get("sources")):
                if isinstance(source, dict) and (source.get("configMap") or source.get("secret")):
                    return True
    return False


def controller_reads(ctrl: dict[str, Any], name: str, values: dict[str, Any] | None) -> bool:
    defaults = ctrl.get("defaultContainerOptions")
    if isinstance(defaults, dict) and container_reads(defaults):
        return True
    if any(container_reads(c) for _, _, c in controller_containers(ctrl)):
        return True
    for _pname, item in persistence_items(values):
        if str(item.get("type") or "").lower() in ("secret", "configmap"):
            targets = persistence_controllers(item)
            if targets is None or name in targets:
                return True
    return False


# ----------------------------------------------------------------------------------------------
# The annotation


def reloader_opted(annotations: Any, annotation: str) -> bool:
    """Any Reloader annotation that makes (or deliberately stops) reloads: ``auto``, ``search``,
    the per-type ``secret.``/``configmap.`` variants, named ``reload`` lists, or an explicit
    ``auto: "false"`` opt-out."""
    if not isinstance(annotations, dict):
        return False
    domain = annotation.split("/", 1)[0]
    for key, value in annotations.items():
        key = str(key)
        if key == annotation and str(value).strip().lower() in ("true", "false"):
            return True
        prefix, _, name = key.partition("/")
        if not prefix.endswith(domain):
            continue
        if name in ("auto", "search") and truthy(value):
            return True
        if name == "reload" and str(value or "").strip():
            return True
    return False


def _violations(ctx: RuleContext) -> list[Violation]:
    def compute() -> list[Violation]:
        annotation = ctx.profile.reloader_annotation
        entry_value = f'{annotation}: "true"'
        out: list[Violation] = []
        for render, _rk, res in ctx.objects():
            if res.kind in RELOADED_KINDS:
                template_ann = dig(res.obj, "spec", "template", "metadata", "annotations")
                if (
                    reloader_opted(res.annotations, annotation)
                    or reloader_opted(template_ann, annotation)
                    or not workload_reads(res.obj)
                ):
                    continue
                meta = res.obj.get("metadata")
                where = "annotations" if isinstance(meta, dict) and "annotations" in meta else "name"
                line = key_line(res.obj, "metadata", where) or res.line
                f = finding(
                    codes.RELOADER,
                    f"{res.kind} {res.name} reads a ConfigMap/Secret but has no "
                    f"'{annotation}: \"true\"' annotation",
                    res=res,
                    line=line,
                    cluster=render.cluster.name,
                )
                out.append(Violation(f, _fix(ctx, res, ("metadata",), meta, entry_value, annotation)))
                continue
            values = hr_values(res) if res.kind == "HelmRelease" else None
            for name, ctrl in app_template_controllers(res):
                if controller_type(ctrl) not in APP_TEMPLATE_RELOADED_TYPES:
                    continue
                pod_ann = dig(ctrl, "pod", "annotations") or dig(values, "defaultPodOptions", "annotations")
                if (
                    reloader_opted(ctrl.get("annotations"), annotation)
                    or reloader_opted(pod_ann, annotation)
                    or not controller_reads(ctrl, name, values)
                ):
                    continue
                line = key_line(res.obj, "spec", "values", "controllers", name) or res.line
                f = finding(
                    codes.RELOADER,
                    f"HelmRelease {res.name}: controller '{name}' reads a ConfigMap/Secret but has no "
                    f"'{annotation}: \"true\"' in controllers.{name}.annotations",
                    res=res,
                    file=ctrl.file or res.file,
                    line=line,
                    cluster=render.cluster.name,
                )
                out.append(
                    Violation(
                        f,
                        _fix(
                            ctx, res, ("spec", "values", "controllers", name), ctrl, entry_value, annotation
                        ),
                    )
                )
        return out

    return ctx.cached("reloader_violations", compute)


def _fix(
    ctx: RuleContext, res: Resource, path: tuple[str, ...], node: Any, entry: str, annotation: str
) -> Callable[[], list[FileEdit]] | None:
    """Add the annotation under ``<path>.annotations`` (creating ``annotations:`` when absent)."""
    if not isinstance(node, YMap) or (node.file and node.file != res.file):
        return None
    index = doc_index(ctx, res.file, res.line)
    if index is None or not res.file:
        return None
    file = res.file
    existing = node.get("annotations")
    if existing is not None and not (isinstance(existing, YMap) and existing.key_lines):
        return None  # ``annotations: {}`` or null: a human should pick the style

    def fix() -> list[FileEdit]:
        if existing is None:
            return mapping_edit(
                ctx, MappingRef(file, index, path), ["annotations:", f"  {entry}"], present="annotations"
            )
        return mapping_edit(ctx, MappingRef(file, index, (*path, "annotations")), [entry], present=annotation)

    return fix


@rule(
    codes.RELOADER,
    rationale="""
The context document's HelmRelease pattern sets `reloader.stakater.com/auto: "true"` on every
controller: "Auto-reload on ConfigMap/Secret change". Without it, a rotated Doppler secret or an edited
ConfigMap is only picked up at the next unrelated restart. Checked on rendered Deployments,
StatefulSets and DaemonSets (envFrom, env valueFrom, configMap/secret/projected volumes) and on
app-template controllers (envFrom, env `secretKeyRef`/`configMapKeyRef`, `persistence.*.type:
secret|configMap` mounted into the controller). Other Reloader annotations (`search`, named
`reload` lists, per-type `auto`) and an explicit `auto: "false"` opt-out are accepted. Autofix: add
the annotation (profile `reloader_annotation`) under `controllers.<c>.annotations` or
`metadata.annotations`.
""",
    bad="""
controllers:
  app:
    containers:
      app:
        envFrom:
          - secretRef:
              name: app-secret
""",
    good="""
controllers:
  app:
    annotations:
      reloader.stakater.com/auto: "true"
    containers:
      app:
        envFrom:
          - secretRef:
              name: app-secret
""",
    fix=fix_from(_violations),
)
def check_reloader(ctx: RuleContext) -> Iterable[Finding]:
    return list(findings_of(_violations(ctx)))

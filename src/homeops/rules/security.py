"""Rule HO026: container security contexts, in rendered workloads and in app-template values.

Sub-checks and their default severities (the document says "Non-root containers: Default security
context for all apps", "Read-only filesystems: Where possible", "Pod Security Standards:
privileged-namespace component for exceptions"):

- ``runAsNonRoot`` not true at pod or container level: error
- ``allowPrivilegeEscalation`` not false: error (not asked of a privileged container or one adding
  CAP_SYS_ADMIN: the API server refuses it beside them)
- ``readOnlyRootFilesystem`` not true: warning ("where possible")
- ``privileged: true`` in a namespace not built with the privileged-namespace component: error

A privileged container in a namespace built with that component is the sanctioned exception: the
other sub-checks are skipped for it. A pod in its own user namespace (``hostUsers: false``) is not
asked for ``runAsNonRoot``: its root is an unprivileged user of the node, and the Pod Security
Standards relax their runAsNonRoot/runAsUser checks for such pods (KEP-127,
``UserNamespacesPodSecurityStandards``). Values are read as app-template's only when the HelmRelease
installs app-template (or a chart homeops cannot see): another chart on the same library keeps
defaults of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeops.core import codes
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.shape import as_list
from homeops.core.yamlio import YMap, key_line
from homeops.flux.rendered import ClusterRender
from homeops.flux.workloads import CONTAINER_LISTS, POD_SPEC_PATHS, pod_spec
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import app_template_release, dig, truthy, under
from homeops.rules.reloader import app_template_controllers, controller_containers, hr_values

SEVERITY_NON_ROOT = "error"
SEVERITY_ESCALATION = "error"
SEVERITY_READ_ONLY = "warning"
SEVERITY_PRIVILEGED = "error"
PSS_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"


def privileged_namespaces(ctx: RuleContext, render: ClusterRender) -> set[str]:
    """Namespaces of the cluster built with the privileged-namespace component: their Namespace object
    comes from the component, or their namespace kustomization lists it in ``components:``. In a
    deprecated (component-less) cluster a Namespace labelled privileged by hand also counts."""

    def compute() -> set[str]:
        component = ctx.profile.component_path(ctx.profile.privileged_namespace_component)
        component_abs = Path(ctx.files.real(ctx.root / component))
        out: set[str] = set(ctx.profile.privileged_namespaces)
        for _rk, res in render.objects():
            if res.kind != "Namespace":
                continue
            labelled = str(res.labels.get(PSS_ENFORCE_LABEL) or "") == "privileged"
            if under(res.file, component) or (labelled and not ctx.is_modern(render)):
                out.add(res.name)
        base = ctx.root / ctx.profile.apps_dir / render.cluster.name
        if os.path.isdir(base):
            for ns_dir in (p for p in base.iterdir() if os.path.isdir(p)):
                kfile = ns_dir / "kustomization.yaml"
                if not os.path.isfile(kfile):
                    continue
                try:
                    kust = ctx.files.load_one(kfile)
                except HomeopsError:
                    continue
                if not isinstance(kust, dict):
                    continue
                entries = [str(c) for c in as_list(kust.get("components"))]
                if any(Path(ctx.files.real(ns_dir / c)) == component_abs for c in entries):
                    out.add(str(kust.get("namespace") or ns_dir.name))
        return out

    return ctx.cached(f"privileged_ns:{render.cluster.name}", compute)


@dataclass
class _Container:
    name: str
    sc: dict[str, Any]  # effective container securityContext
    node: Any  # where to point
    sc_node: Any


def _sc(node: Any) -> dict[str, Any]:
    sc = node.get("securityContext") if isinstance(node, dict) else None
    return sc if isinstance(sc, dict) else {}


def _line_of(node: Any, key: str, fallback: int | None) -> int | None:
    """The line of ``node[key]`` when the key is there (and has a source line), else ``fallback``."""
    return (key_line(node, key) if isinstance(node, dict) and key in node else None) or fallback


def _runs_as_user(uid: Any) -> bool:
    """A non-zero ``runAsUser``: the container does not run as root, whatever runAsNonRoot says."""
    return isinstance(uid, int) and not isinstance(uid, bool) and uid > 0


def _escalates_anyway(sc: dict[str, Any]) -> bool:
    """A privileged container or one given CAP_SYS_ADMIN always may escalate: the API server rejects
    ``allowPrivilegeEscalation: false`` beside them, so it is not asked for (the privilege is)."""
    caps = sc.get("capabilities")
    added = as_list(caps.get("add")) if isinstance(caps, dict) else []
    return truthy(sc.get("privileged")) or any(
        str(a).upper() in ("SYS_ADMIN", "CAP_SYS_ADMIN") for a in added
    )


def _check_pod(
    ctx: RuleContext,
    render: ClusterRender,
    res: Resource,
    namespace: str,
    what: str,
    pod_sc: dict[str, Any],
    pod_sc_line: int | None,
    pod_line: int | None,
    items: list[_Container],
    file: str | None,
    user_namespace: bool = False,
) -> Iterator[Finding]:
    """Findings of one pod (``pod_sc_line``: where its runAsNonRoot is, or should be, set;
    ``user_namespace``: the pod sets ``hostUsers: false``, so root inside is not root on the node)."""
    cluster = render.cluster.name
    allowed = namespace in privileged_namespaces(ctx, render) or "*" in ctx.profile.privileged_namespaces
    checked: list[_Container] = []
    for c in items:
        c_line = (c.node.line if isinstance(c.node, YMap) and c.node.line else None) or pod_line or res.line
        if truthy(c.sc.get("privileged")):
            if allowed:
                continue
            yield finding(
                codes.SECURITY_CONTEXT,
                f"{what}: container '{c.name}' is privileged in namespace '{namespace or 'default'}', "
                f"which is not built with the {ctx.profile.privileged_namespace_component} component",
                res=res,
                file=file,
                line=_line_of(c.sc_node, "privileged", c_line),
                cluster=cluster,
                severity=SEVERITY_PRIVILEGED,
            )
        checked.append(c)
        if c.sc.get("allowPrivilegeEscalation") is not False and not _escalates_anyway(c.sc):
            yield finding(
                codes.SECURITY_CONTEXT,
                f"{what}: container '{c.name}' does not set allowPrivilegeEscalation: false",
                res=res,
                file=file,
                line=_line_of(
                    c.sc_node, "allowPrivilegeEscalation", _line_of(c.node, "securityContext", c_line)
                ),
                cluster=cluster,
                severity=SEVERITY_ESCALATION,
            )
        if c.sc.get("readOnlyRootFilesystem") is not True:
            yield finding(
                codes.SECURITY_CONTEXT,
                f"{what}: container '{c.name}' does not set readOnlyRootFilesystem: true",
                res=res,
                file=file,
                line=_line_of(
                    c.sc_node, "readOnlyRootFilesystem", _line_of(c.node, "securityContext", c_line)
                ),
                cluster=cluster,
                severity=SEVERITY_READ_ONLY,
            )
    if user_namespace:
        return
    root = [
        c
        for c in checked
        if (c.sc["runAsNonRoot"] if "runAsNonRoot" in c.sc else pod_sc.get("runAsNonRoot")) is not True
        and not _runs_as_user(c.sc["runAsUser"] if "runAsUser" in c.sc else pod_sc.get("runAsUser"))
    ]
    if not root:
        return
    if len(root) == len(checked) and not any("runAsNonRoot" in c.sc for c in root):
        names = ", ".join(f"'{c.name}'" for c in root)
        yield finding(
            codes.SECURITY_CONTEXT,
            f"{what}: runAsNonRoot is not true for the pod (containers {names})",
            res=res,
            file=file,
            line=pod_sc_line or pod_line,
            cluster=cluster,
            severity=SEVERITY_NON_ROOT,
        )
        return
    for c in root:
        root_line = (c.node.line if isinstance(c.node, YMap) and c.node.line else None) or pod_line
        yield finding(
            codes.SECURITY_CONTEXT,
            f"{what}: container '{c.name}' does not run with runAsNonRoot: true",
            res=res,
            file=file,
            line=_line_of(c.sc_node, "runAsNonRoot", root_line),
            cluster=cluster,
            severity=SEVERITY_NON_ROOT,
        )


def _workload(ctx: RuleContext, render: ClusterRender, res: Resource) -> Iterator[Finding]:
    spec = pod_spec(res.obj)
    if spec is None:
        return
    items = []
    for list_name in CONTAINER_LISTS:
        if list_name == "ephemeralContainers":
            continue
        for container in as_list(spec.get(list_name)):
            if isinstance(container, dict):
                items.append(
                    _Container(
                        str(container.get("name") or "?"),
                        _sc(container),
                        container,
                        container.get("securityContext"),
                    )
                )
    path = POD_SPEC_PATHS[res.kind]
    pod_line = key_line(res.obj, *path) or res.line
    pod_sc_line = (
        key_line(res.obj, *path, "securityContext", "runAsNonRoot") if "securityContext" in spec else None
    )
    yield from _check_pod(
        ctx,
        render,
        res,
        res.namespace,
        f"{res.kind} {res.name}",
        _sc(spec),
        pod_sc_line,
        pod_line,
        items,
        None,
        spec.get("hostUsers") is False,
    )


def _merge(strategy: Any, default: dict[str, Any], own: Any) -> dict[str, Any]:
    """app-template's default*Options: ``overwrite`` (default) replaces, ``merge`` merges."""
    if not isinstance(own, dict):
        return dict(default)
    if str(strategy or "overwrite").lower() == "merge":
        return {**default, **own}
    return dict(own)


def _app_template(ctx: RuleContext, render: ClusterRender, res: Resource) -> Iterator[Finding]:
    values: dict[str, Any] = hr_values(res) or {}
    namespace = str(dig(res.obj, "spec", "targetNamespace") or res.namespace)
    default_pod_sc = _sc(values.get("defaultPodOptions"))
    pod_strategy = values.get("defaultPodOptionsStrategy")
    for name, ctrl in app_template_controllers(res):
        pod = ctrl.get("pod")
        pod_sc_own = pod.get("securityContext") if isinstance(pod, dict) else None
        default_pod = values.get("defaultPodOptions")
        host_users = (
            pod["hostUsers"]
            if isinstance(pod, dict) and "hostUsers" in pod
            else default_pod.get("hostUsers")
            if isinstance(default_pod, dict)
            else None
        )
        pod_sc = _merge(pod_strategy, default_pod_sc, pod_sc_own)
        ctrl_path = ("spec", "values", "controllers", name)
        if isinstance(pod_sc_own, dict) and ("runAsNonRoot" in pod_sc_own or not default_pod_sc):
            pod_sc_line = key_line(res.obj, *ctrl_path, "pod", "securityContext", "runAsNonRoot")
        elif default_pod_sc:
            pod_sc_line = key_line(
                res.obj, "spec", "values", "defaultPodOptions", "securityContext", "runAsNonRoot"
            )
        else:
            pod_sc_line = None
        defaults = ctrl.get("defaultContainerOptions")
        default_sc = _sc(defaults)
        c_strategy = ctrl.get("defaultContainerOptionsStrategy")
        items = []
        for _group, cname, container in controller_containers(ctrl):
            own = container.get("securityContext")
            items.append(
                _Container(
                    cname,
                    _merge(c_strategy, default_sc, own),
                    container,
                    own
                    if isinstance(own, dict)
                    else (defaults or {}).get("securityContext")
                    if isinstance(defaults, dict)
                    else None,
                )
            )
        pod_line = key_line(res.obj, "spec", "values", "controllers", name)
        yield from _check_pod(
            ctx,
            render,
            res,
            namespace,
            f"HelmRelease {res.name} controller '{name}'",
            pod_sc,
            pod_sc_line,
            pod_line,
            items,
            ctrl.file or res.file,
            host_users is False,
        )


@rule(
    codes.SECURITY_CONTEXT,
    rationale="""
The context document's "Security Considerations": "Non-root containers: Default security context for
all apps", "Read-only filesystems: Where possible", "Pod Security Standards: privileged-namespace
component for exceptions"; its app-template example sets `runAsNonRoot: true`,
`allowPrivilegeEscalation: false`, `readOnlyRootFilesystem: true`. Checked on every rendered pod
template and on app-template controllers (`defaultPodOptions`, `controllers.<c>.pod`,
`defaultContainerOptions` and each container, honouring the `*Strategy: merge|overwrite` keys).
A container given a non-zero `runAsUser` (its own or the pod's) does not run as root and is not
asked for `runAsNonRoot` too, nor is a pod in its own user namespace (`hostUsers: false`: its root is
an unprivileged user of the node; the Pod Security Standards relax the same check for it). Values
are read as app-template's only when the HelmRelease installs app-template (or its chart source is
not in the render): another chart built on the same library has security defaults of its own. Privileged containers are allowed in namespaces built with the
privileged-namespace component and in the profile's `privileged_namespaces` (without `.homeops.yaml`:
the namespaces the repository labels `pod-security.kubernetes.io/enforce: privileged`, and kube-system;
every namespace, `"*"`, when no Namespace carries a Pod Security label).
A privileged container, or one adding CAP_SYS_ADMIN, is not asked for `allowPrivilegeEscalation: false`
(Kubernetes refuses that combination: such a container can always escalate; its privilege is the
finding). Severities: non-root, privilege escalation and privileged-outside-exception are errors; a writable
root filesystem is a warning. Charts other than app-template keep their security settings in
templates homeops does not render here, so only their rendered objects are checked (`--enable-helm`).
""",
    bad="""
containers:
  app:
    securityContext:
      privileged: true
""",
    good="""
defaultPodOptions:
  securityContext:
    runAsNonRoot: true
controllers:
  app:
    containers:
      app:
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: ["ALL"]}
""",
)
def check_security(ctx: RuleContext) -> Iterable[Finding]:
    for render, _rk, res in ctx.objects():
        if res.kind in POD_SPEC_PATHS:
            yield from _workload(ctx, render, res)
        elif res.kind == "HelmRelease" and app_template_release(ctx, render, res):
            yield from _app_template(ctx, render, res)

"""Review signals a change brings in: RBAC wildcards, privilege, availability, suspended targets.

Unlike the danger notes (:mod:`homeops.diff.danger`: what wedges or hurts the apply), these flag
what a reviewer should look at twice even though the apply will succeed:

* ``rbac-wildcard``: a Role/ClusterRole rule that newly grants ``*`` in ``verbs``, ``resources`` or
  ``apiGroups`` (warning for a ClusterRole, info for a Role);
* ``privileged``: a container newly ``securityContext.privileged: true``, or a pod newly sharing the
  node's PID/IPC namespace (``hostPID``/``hostIPC``);
* ``host-path``: a new ``hostPath`` volume; ``host-network``: a pod newly on ``hostNetwork``;
* ``scale-to-zero``: ``replicas`` (or a chart's ``replicas``/``replicaCount`` value) going to 0;
* ``pdb-removal``: a PodDisruptionBudget removed (drains are no longer limited);
* ``suspended``: changes under a Flux Kustomization or HelmRelease that is suspended at head — they
  are not applied until it is resumed.

Pod fields are found by walking the object (workload specs and HelmRelease values alike, so an
app-template ``controllers.*.pod.hostNetwork`` counts as much as a Deployment's), each place keyed by
its path with list items named by their ``name``; a fact is new when its path was not one at base.
CustomResourceDefinitions are skipped (their schemas name these fields without setting them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from homeops.diff.danger import Danger
from homeops.diff.model import Change, Placed
from homeops.diff.sides import Side
from homeops.flux.model import is_helmrelease

REPLICA_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})
REPLICA_VALUE_KEYS = frozenset({"replicas", "replicaCount"})
RBAC_KINDS = frozenset({"Role", "ClusterRole"})


def _step(key: Any, value: Any, index: int) -> str:
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return f"{key}[{value['name']}]"
    return f"{key}[{index}]"


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any, Any]]:
    """(path, key, value, parent mapping) of every mapping entry below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            yield here, str(key), value, node
            yield from _walk(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, _step(path, item, i))


def pod_facts(obj: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """path -> (signal type, what) of privilege and host access set anywhere in an object."""
    facts: dict[str, tuple[str, str]] = {}
    if obj.get("kind") == "CustomResourceDefinition":
        return facts
    for path, key, value, parent in _walk(obj.get("spec"), "spec"):
        if key == "privileged" and value is True and path.rsplit(".", 2)[-2:-1] == ["securityContext"]:
            facts[path] = ("privileged", f"`{path}: true` (the container runs with the node's privileges)")
        elif key in ("hostPID", "hostIPC") and value is True:
            facts[path] = ("privileged", f"`{path}: true` (the pod shares the node's {key[4:]} namespace)")
        elif key == "hostNetwork" and value is True:
            facts[path] = ("host-network", f"`{path}: true` (the pod uses the node's network namespace)")
        elif key == "hostPath" and isinstance(value, dict) and "path" in value:
            facts[path] = ("host-path", f"hostPath volume {value.get('path')!s} (`{path}`)")
        elif key == "type" and value == "hostPath" and isinstance(parent.get("hostPath"), str):
            facts[path] = ("host-path", f"hostPath volume {parent['hostPath']} (`{path.rsplit('.', 1)[0]}`)")
    return facts


def _rbac_grants(obj: dict[str, Any]) -> dict[str, str]:
    """rule fingerprint -> description of every wildcard grant of a Role/ClusterRole."""
    grants: dict[str, str] = {}
    rules = obj.get("rules")
    if not isinstance(rules, list):
        return grants
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        wild = [f for f in ("verbs", "resources", "apiGroups") if "*" in (rule.get(f) or [])]
        if not wild:
            continue
        groups = ",".join(str(g) or '""' for g in rule.get("apiGroups") or []) or '""'
        resources = ",".join(str(r) for r in rule.get("resources") or rule.get("nonResourceURLs") or [])
        verbs = ",".join(str(v) for v in rule.get("verbs") or [])
        grants[f"{groups}|{resources}|{verbs}"] = (
            f"verbs [{verbs}] on {resources or '-'} in apiGroups [{groups}]"
        )
    return grants


def _replicas(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """path -> replica count of a workload (unset: 1) or of a chart's values."""
    if kind in REPLICA_KINDS:
        spec = obj.get("spec")
        return {"spec.replicas": spec.get("replicas", 1) if isinstance(spec, dict) else 1}
    if is_helmrelease(obj):
        return {
            path: value for path, key, value, _ in _walk(obj.get("spec"), "spec") if key in REPLICA_VALUE_KEYS
        }
    return {}


def _danger(change: Change, type_: str, severity: str, message: str, field: str | None = None) -> Danger:
    return Danger(
        type_, severity, message, change.cluster, change.kind, change.namespace, change.name, change.ks, field
    )


def _obj(placed: Placed | None) -> dict[str, Any]:
    return placed.res.obj if placed is not None else {}


def _change_signals(change: Change) -> list[Danger]:
    out: list[Danger] = []
    before, after = _obj(change.base), _obj(change.head)
    if change.head is not None:
        old = pod_facts(before)
        for path, (type_, what) in sorted(pod_facts(after).items()):
            if path not in old:
                out.append(_danger(change, type_, "warning", f"newly {what}", path))
        if change.kind in RBAC_KINDS:
            old_grants = _rbac_grants(before)
            severity = "warning" if change.kind == "ClusterRole" else "info"
            for key, what in sorted(_rbac_grants(after).items()):
                if key not in old_grants:
                    out.append(
                        _danger(change, "rbac-wildcard", severity, f"grants the wildcard: {what}", "rules")
                    )
    if change.change == "modified":
        old_counts = _replicas(before, change.kind)
        for path, value in sorted(_replicas(after, change.kind).items()):
            was = old_counts.get(path)
            if value == 0 and not isinstance(value, bool) and was is not None and was != 0:
                out.append(
                    _danger(
                        change,
                        "scale-to-zero",
                        "warning",
                        f"`{path}` goes from {was} to 0: nothing runs",
                        path,
                    )
                )
    if change.change == "removed" and change.kind == "PodDisruptionBudget":
        out.append(
            _danger(
                change,
                "pdb-removal",
                "warning",
                "the PodDisruptionBudget is removed: node drains and other voluntary disruptions no longer "
                "wait for the pods it protected",
            )
        )
    return out


def _suspended(changes: list[Change], head: Side) -> list[Danger]:
    """One note per suspended Kustomization or HelmRelease (at head) with changes under it."""
    by_ks: dict[tuple[str, str], list[Change]] = defaultdict(list)
    by_hr: dict[tuple[str, str], list[Change]] = defaultdict(list)
    releases: dict[tuple[str, str], Any] = {}
    for cluster, render in head.renders.items():
        for rk in render.rendered.values():
            for res in rk.resources:
                if is_helmrelease(res.obj) and (res.obj.get("spec") or {}).get("suspend") is True:
                    releases[(cluster, f"{res.namespace}/{res.name}" if res.namespace else res.name)] = (
                        rk,
                        res,
                    )
    for change in changes:
        head_render = head.renders.get(change.cluster)
        applier = head_render.rendered.get(change.ks) if head_render is not None else None
        if applier is not None and applier.ks.suspend:
            by_ks[(change.cluster, change.ks)].append(change)
        if change.helmrelease and (change.cluster, change.helmrelease) in releases:
            flips = (
                change.kind == "HelmRelease"
                and (_obj(change.base).get("spec") or {}).get("suspend") is not True
            )
            if not flips:  # being suspended by this very change: the suspend note says so
                by_hr[(change.cluster, change.helmrelease)].append(change)
    out: list[Danger] = []
    for (cluster, key), members in sorted(by_ks.items()):
        rk = head.renders[cluster].rendered[key]
        out.append(
            Danger(
                "suspended",
                "warning",
                f"{_count(members)} under this suspended Flux Kustomization: not applied until it is resumed",
                cluster,
                "Kustomization",
                rk.ks.namespace,
                rk.ks.name,
                rk.ks.parent or key,
                "spec.suspend",
            )
        )
    for (cluster, key), members in sorted(by_hr.items()):
        rk, res = releases[(cluster, key)]
        out.append(
            Danger(
                "suspended",
                "warning",
                f"{_count(members)} of this suspended HelmRelease: helm-controller does not upgrade the "
                "release until it is resumed",
                cluster,
                "HelmRelease",
                res.namespace or "",
                res.name,
                rk.ks.key,
                "spec.suspend",
            )
        )
    return out


def _count(members: list[Change]) -> str:
    shown = ", ".join(f"{c.kind} {c.name}" for c in members[:5]) + (
        f" and {len(members) - 5} more" if len(members) > 5 else ""
    )
    return f"{len(members)} changed object{'s' if len(members) != 1 else ''} ({shown})"


def review_signals(changes: list[Change], head: Side) -> list[Danger]:
    """Every review signal of a diff (unsorted; :func:`homeops.diff.danger.ordered` sorts)."""
    out = [d for change in changes for d in _change_signals(change)]
    out.extend(_suspended(changes, head))
    return out

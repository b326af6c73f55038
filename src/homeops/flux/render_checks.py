"""Checks of the whole render, once every Flux Kustomization is rendered: ``dependsOn`` names a
Kustomization of the cluster and makes no cycle (kustomize-controller waits forever on either), no
object is applied by two Kustomizations (they overwrite each other and prune fights), and what a
flux-operator ResourceSet's ``dependsOn`` names is rendered."""

from __future__ import annotations

from homeops.core import codes
from homeops.core.findings import Finding
from homeops.core.shape import as_map
from homeops.core.yamlio import key_line
from homeops.flux import resourceset
from homeops.flux.rendered import ClusterRender
from homeops.kustomize.resource import Resource

FLUX_CRD_GROUPS = (".toolkit.fluxcd.io", ".fluxcd.controlplane.io")
"""API groups of Flux and the flux-operator: their CustomResourceDefinitions come with Flux itself."""


def check_graph(result: ClusterRender) -> None:
    """Every ``dependsOn`` names a Kustomization of the cluster, and none makes a cycle."""
    keys = set(result.rendered)
    graph: dict[str, list[str]] = {}
    for key, rk in result.rendered.items():
        deps = []
        for dep in rk.ks.depends_on:
            dkey = f"{dep.namespace}/{dep.name}"
            if dkey not in keys:
                result.add_finding(
                    codes.DEPENDENCY_MISSING,
                    f"{key} depends on {dkey}, which is not in the cluster",
                    rk.ks,
                    line=key_line(rk.ks.obj, "spec", "dependsOn"),
                )
            else:
                deps.append(dkey)
        graph[key] = deps
    state: dict[str, int] = {}
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    rk = result.rendered[nxt]
                    result.add_finding(
                        codes.DEPENDENCY_CYCLE,
                        "dependency cycle: " + " -> ".join(cycle),
                        rk.ks,
                        line=key_line(rk.ks.obj, "spec", "dependsOn"),
                    )
            elif state.get(nxt) is None:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if state.get(node) is None:
            visit(node)


def _targets(result: ClusterRender) -> dict[str, str]:
    """Where each Flux Kustomization applies its objects: "" for the cluster itself; for one with
    ``spec.kubeConfig`` (a hub applying to a spoke), the Secret or ConfigMap naming the remote cluster;
    otherwise where its parent applied it."""
    targets: dict[str, str] = {}

    def target(key: str, seen: frozenset[str] = frozenset()) -> str:
        if key in targets:
            return targets[key]
        rk = result.rendered.get(key)
        if rk is None or key in seen:
            return ""
        config = as_map(rk.ks.spec.get("kubeConfig"))
        ref = next((as_map(config.get(f)) for f in ("secretRef", "configMapRef") if config.get(f)), None)
        if ref is not None:
            kind = "ConfigMap" if config.get("configMapRef") else "Secret"
            found = f"{kind}/{rk.ks.namespace}/{ref.get('name') or ''}"
        elif config:
            found = f"kubeConfig of {key}"  # e.g. a provider's workload identity: another cluster
        else:
            found = target(rk.ks.parent, seen | {key}) if rk.ks.parent else ""
        targets[key] = found
        return found

    for key in result.rendered:
        target(key)
    return targets


def check_duplicates(result: ClusterRender) -> None:
    """An object applied by two Flux Kustomizations to the same cluster: they overwrite each other and
    prune fights. Kustomizations with a ``kubeConfig`` apply to another cluster (see :func:`_targets`)."""
    owners: dict[tuple[str, str, str, str, str], tuple[str, Resource]] = {}
    targets = _targets(result)
    for key, rk in result.rendered.items():
        for res in rk.resources:
            ident = (
                targets.get(key, ""),
                res.api_version.split("/")[0] if "/" in res.api_version else "",
                res.kind,
                res.namespace,
                res.name,
            )
            first = owners.get(ident)
            if first is None:
                owners[ident] = (key, res)
                continue
            if first[0] == key:
                continue
            result.findings.append(Finding(
                rule=codes.APPLIED_TWICE.id, severity=codes.APPLIED_TWICE.severity,
                message=f"{res.kind} {res.name} is applied by both {first[0]} and {key}",
                file=res.file, line=res.line, kind=res.kind, name=res.name, namespace=res.namespace,
                cluster=result.cluster.name, extra={"ks": key},
            ))  # fmt: skip


def check_resourceset_dependencies(result: ClusterRender) -> None:
    """A ResourceSet's ``dependsOn`` names objects the operator waits for: each must be rendered.
    CustomResourceDefinitions are cluster-scoped and mostly not repository files: Flux's own
    (``*.toolkit.fluxcd.io``, ``*.fluxcd.controlplane.io``) exist wherever the operator runs, and
    another one missing from the render is a warning, since a chart's ``crds/`` may bring it."""
    present = {(res.kind, res.namespace or "", res.name) for _rk, res in result.objects()}
    for rk, res in result.objects():
        if not resourceset.is_resourceset(res.obj):
            continue
        for api, kind, namespace, name in resourceset.dependencies(res):
            crd = kind == "CustomResourceDefinition" and api.startswith("apiextensions.k8s.io/")
            if crd and name.endswith(FLUX_CRD_GROUPS):
                continue
            if (kind, namespace, name) in present or (kind, "", name) in present:
                continue
            result.add_finding(
                codes.DEPENDENCY_MISSING,
                f"ResourceSet {res.namespace}/{res.name} depends on CustomResourceDefinition {name}, "
                "which no file of the repository defines (a chart's crds/ may install it: see that it does)"
                if crd
                else f"ResourceSet {res.namespace}/{res.name} depends on {kind} {namespace}/{name}, "
                "which is not in the cluster",
                rk.ks,
                file=res.file,
                line=res.line or None,
                severity="warning" if crd else None,
            )

"""The repository's namespaces (HO022 does not flag names it chose) and the ones it lets run
privileged pods: those labelled ``privileged`` for Pod Security admission and ``kube-system``, or every
one when no Namespace carries a Pod Security label."""

from __future__ import annotations

from homeops.core.profile import Profile
from homeops.flux.rendered import ClusterRender
from homeops.kustomize.resource import Resource
from homeops.rules.conventions.model import TEMPLATED, Convention


def namespaces(renders: list[ClusterRender], base: Profile) -> list[Convention]:
    names: set[str] = set()
    for render in renders:
        for rk in render.rendered.values():
            if rk.ks.target_namespace:
                names.add(rk.ks.target_namespace)
            names.update(res.name for res in rk.resources if res.kind == "Namespace")
    extra = sorted(n for n in names if not base.is_namespace_name(n) and not TEMPLATED.search(n))
    if not extra:
        return []
    return [
        Convention(
            "reserved_namespaces",
            [*base.reserved_namespaces, *(n for n in extra if n not in base.reserved_namespaces)],
            f"namespaces the repository chose ({len(extra)} not one lowercase word)",
        )
    ]


PSS_ENFORCE = "pod-security.kubernetes.io/enforce"


def privileged_namespaces(objects: list[Resource], base: Profile) -> list[Convention]:
    namespaces = [r for r in objects if r.kind == "Namespace"]
    if namespaces and not any(
        str(k).startswith("pod-security.kubernetes.io/") for r in namespaces for k in r.labels
    ):
        return [
            Convention(
                "privileged_namespaces",
                ["*"],
                "no Namespace carries a pod-security.kubernetes.io label: the repository does not use Pod "
                "Security admission to fence privileged pods",
            )
        ]
    labelled = sorted({r.name for r in namespaces if str(r.labels.get(PSS_ENFORCE) or "") == "privileged"})
    names = [*labelled, *(["kube-system"] if "kube-system" not in labelled else [])]
    why = (
        f"namespaces labelled {PSS_ENFORCE}: privileged ({', '.join(labelled)}) and kube-system"
        if labelled
        else "kube-system (exempt from Pod Security admission on Talos, the system namespace elsewhere)"
    )
    return [Convention("privileged_namespaces", names, why)]

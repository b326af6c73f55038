"""How the repository hardens its containers: when fewer than half set ``allowPrivilegeEscalation:
false`` (the document's default), HO026 reports warnings rather than errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from homeops.core import codes
from homeops.flux.workloads import pod_spec
from homeops.kustomize.resource import Resource
from homeops.rules.conventions.model import Convention
from homeops.rules.reloader import app_template_controllers, controller_containers


def _containers(objects: list[Resource]) -> Iterator[dict[str, Any]]:
    """The effective securityContext of every container: rendered workloads and app-template
    controllers (``defaultContainerOptions`` under each container's own, as the chart merges them)."""
    for res in objects:
        spec = pod_spec(res.obj)
        if spec is not None:
            for group in ("initContainers", "containers"):
                for container in spec.get(group) or []:
                    if isinstance(container, dict):
                        own = container.get("securityContext")
                        yield own if isinstance(own, dict) else {}
            continue
        for _name, ctrl in app_template_controllers(res):
            defaults = ctrl.get("defaultContainerOptions")
            base = defaults.get("securityContext") if isinstance(defaults, dict) else None
            for _group, _cname, container in controller_containers(ctrl):
                own = container.get("securityContext")
                yield {**(base if isinstance(base, dict) else {}), **(own if isinstance(own, dict) else {})}


def hardening(objects: list[Resource]) -> list[Convention]:
    """Whether the repository hardens its containers as the document does (allowPrivilegeEscalation:
    false on most of them); when it does not, HO026 reports as warnings, not errors."""
    contexts = list(_containers(objects))
    if not contexts:
        return []
    hardened = sum(1 for sc in contexts if sc.get("allowPrivilegeEscalation") is False)
    if hardened * 2 >= len(contexts):
        return []
    return [
        Convention(
            "rules",
            {codes.SECURITY_CONTEXT.id: "warning"},
            f"{hardened} of {len(contexts)} containers set allowPrivilegeEscalation: false: the repository "
            "does not follow the document's security defaults, so HO026 reports warnings",
        )
    ]

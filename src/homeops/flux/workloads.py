"""Workloads of rendered objects: pod specs, containers, and every image they, chart values and
custom resources use.

Rules, the image listing, Flux inventories and ``diff`` all read workloads, so this sits in the
Flux layer below them. Chart values have no schema, so we recognise the shapes charts use:
``image: repo:tag`` strings and ``image: {registry?, repository, tag?, digest?}`` mappings (bjw-s
app-template and most charts). Operators' custom resources name the images they run the same ways
(CloudNativePG's ``imageName``, Dragonfly's and EMQX's ``image``, Rook's ``cephVersion.image``, pod
templates embedded in a spec): there an image counts when it names a tag or a digest (a bare
repository is what an operator scans or completes with a version of its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from homeops.core.yamlio import key_line
from homeops.flux.model import HELM_GROUP
from homeops.kustomize.resource import Resource

CHART_ORIGIN_LABEL = f"{HELM_GROUP}/name"
"""helm-controller's origin label: the objects a chart rendered carry their HelmRelease's name."""

POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def from_chart(res: Resource) -> bool:
    """Whether a chart rendered ``res`` (Helm expansion adds such objects, located at the HelmRelease)."""
    return res.kind != "HelmRelease" and CHART_ORIGIN_LABEL in res.labels


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    path = POD_SPEC_PATHS.get(str(obj.get("kind") or ""))
    if path is None:
        return None
    node: Any = obj
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node if isinstance(node, dict) else None


def containers(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(list name, container) of a workload's pod template."""
    spec = pod_spec(obj)
    if spec is None:
        return
    for list_name in CONTAINER_LISTS:
        for container in spec.get(list_name) or []:
            if isinstance(container, dict):
                yield list_name, container


def is_pinned(image: str) -> bool:
    return "@sha256:" in image


@dataclass
class ImageUse:
    image: str
    file: str | None
    line: int | None
    kind: str
    name: str
    namespace: str
    container: str
    origin: str  # "workload" or "values"

    @property
    def pinned(self) -> bool:
        return is_pinned(self.image)


def workload_images(res: Resource) -> Iterator[ImageUse]:
    for _list_name, container in containers(res.obj):
        image = container.get("image")
        if isinstance(image, str) and image:
            yield ImageUse(
                image,
                res.file,
                key_line(container, "image") or res.line,
                res.kind,
                res.name,
                res.namespace,
                str(container.get("name") or ""),
                "workload",
            )


def image_from_values(node: dict[str, Any]) -> str | None:
    """``{registry, repository, tag, digest}`` as one reference (None when not an image mapping)."""
    repository = node.get("repository")
    if not isinstance(repository, str) or not repository:
        return None
    registry = node.get("registry")
    ref = f"{registry}/{repository}" if isinstance(registry, str) and registry else repository
    tag = node.get("tag")
    if tag is not None and tag != "":
        ref += f":{tag}"
    digest = node.get("digest")
    if isinstance(digest, str) and digest and "@" not in ref:
        ref += f"@{digest}"
    return ref


def values_images(res: Resource) -> Iterator[ImageUse]:
    """Images in a HelmRelease's ``spec.values``, with the line of their ``tag`` (or ``image``) key."""
    spec = res.obj.get("spec")
    values = spec.get("values") if isinstance(spec, dict) else None
    if not isinstance(values, dict):
        return
    yield from _walk_values(res, values, [])


def _walk_values(res: Resource, node: Any, path: list[str]) -> Iterator[ImageUse]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image":
                if isinstance(value, str) and value and ("/" in value or ":" in value):
                    yield ImageUse(
                        value,
                        res.file,
                        key_line(node, key) or res.line,
                        res.kind,
                        res.name,
                        res.namespace,
                        ".".join(path),
                        "values",
                    )
                    continue
                if isinstance(value, dict):
                    ref = image_from_values(value)
                    if ref:
                        line = key_line(value, "tag") or key_line(node, key) or res.line
                        yield ImageUse(
                            ref, res.file, line, res.kind, res.name, res.namespace, ".".join(path), "values"
                        )
                        continue
            yield from _walk_values(res, value, [*path, str(key)])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_values(res, value, [*path, str(i)])


IMAGE_KEYS = frozenset({"image", "imageName"})
"""Keys whose value is an image reference (a string, or a ``{repository, tag}`` mapping); so is a key
ending in ``Image`` (``sidecarImage``): :func:`is_image_key`."""

_NOT_CUSTOM = ("k8s.io", "toolkit.fluxcd.io", "fluxcd.controlplane.io")
"""API groups whose objects are no operator's custom resources (Kubernetes' own, Flux's: their images
are workloads, chart values or sources handled elsewhere)."""


def is_image_key(key: object) -> bool:
    """A key a custom resource (or a file ``images pin`` edits) names an image under."""
    return isinstance(key, str) and (key in IMAGE_KEYS or (key.endswith("Image") and len(key) > 5))


def custom_images(res: Resource) -> Iterator[ImageUse]:
    """Images a custom resource's ``spec`` names (the keys of :data:`IMAGE_KEYS` and ``*Image``), each
    with a tag or a digest, at its line; ``container`` is the field's path."""
    api = res.obj.get("apiVersion")
    group = api.rpartition("/")[0] if isinstance(api, str) else ""
    if "." not in group or group.endswith(_NOT_CUSTOM) or res.kind == "CustomResourceDefinition":
        return
    spec = res.obj.get("spec")
    if isinstance(spec, dict):
        yield from _walk_custom(res, spec, ["spec"])


def _walk_custom(res: Resource, node: Any, path: list[str]) -> Iterator[ImageUse]:
    if isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_custom(res, value, [*path, str(i)])
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if is_image_key(key):
            ref = (
                value
                if isinstance(value, str)
                else image_from_values(value)
                if isinstance(value, dict)
                else None
            )
            if ref and _names_a_version(ref):
                line = key_line(value, "tag") if isinstance(value, dict) else None
                yield ImageUse(
                    ref,
                    res.file,
                    line or key_line(node, key) or res.line,
                    res.kind,
                    res.name,
                    res.namespace,
                    ".".join([*path, str(key)]),
                    "resource",
                )
                continue
        yield from _walk_custom(res, value, [*path, str(key)])


def _names_a_version(ref: str) -> bool:
    """``repo:tag`` or ``repo@sha256:...``, one word, no template left in it."""
    if not ref or any(c.isspace() for c in ref) or "{{" in ref or "${" in ref:
        return False
    return "@sha256:" in ref or ":" in ref.rpartition("/")[2]


def resource_images(res: Resource) -> Iterator[ImageUse]:
    if res.kind == "HelmRelease":
        yield from values_images(res)
    elif pod_spec(res.obj) is not None:
        yield from workload_images(res)
    else:
        yield from custom_images(res)

"""Workloads: pinned images (HO009), memory limits (HO010), Helm over raw manifests (HO011)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from homeops.core import codes
from homeops.core.findings import Finding
from homeops.flux.model import is_helmrelease
from homeops.flux.workloads import containers, resource_images
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.components import apps
from homeops.rules.helpers import at, chart_output, chart_values, place, release_key, unique
from homeops.rules.routing import values_of

RAW_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
LIMITED_CONTAINER_LISTS = ("initContainers", "containers")  # ephemeral containers take no resources

# ------------------------------------------------------------------ HO009


def _repository(image: str) -> str:
    """``docker.io/library/redis:7@sha256:...`` -> ``redis``: what two spellings of an image share."""
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    for prefix in ("docker.io/", "index.docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return name


def disabled_in_values(values: dict[str, Any], path: str) -> bool:
    """Whether a values path (``a.b.0.c``) runs through a mapping marked ``enabled: false`` (a disabled
    sub-chart, controller or container deploys nothing)."""
    node: Any = values
    for key in path.split(".") if path else []:
        if isinstance(node, dict) and node.get("enabled") is False:
            return True
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False
    return isinstance(node, dict) and node.get("enabled") is False


@rule(
    codes.IMAGE_NOT_PINNED,
    rationale="""
Anti-Patterns #9: "Mutable image tags - Always pin to SHA256 digest"; Key Principles #3 and Security
Considerations ("Image verification: SHA256 pinning required"). Every container image of a rendered
workload and every image of HelmRelease values (app-template `image.repository`/`image.tag`, and the
common `image: repo:tag` / `{registry, repository, tag, digest}` shapes) and every image an
operator's custom resource names with a tag (CloudNativePG's `imageName`, Dragonfly's `image`, pod
templates inside a spec) without `@sha256:` is reported at the line of its `image` (or `tag`) key.
""",
    bad="""
image:
  repository: ghcr.io/org/image
  tag: v1.2.3
""",
    good="""
image:
  repository: ghcr.io/org/image
  tag: v1.2.3@sha256:8a8a8ef4eb5865656072bace5cc49390b56caa81360f9f0869054777155b6ef1
""",
)
def check_image_digests(ctx: RuleContext) -> Iterator[Finding]:
    """Images by tag only, in workloads, chart values and custom resources."""
    out = []
    for render in ctx.renders:
        cluster = render.cluster.name
        in_values: dict[tuple[str, str], set[str]] = {}  # release -> repositories its values name
        for _rk, res in render.objects():
            if not is_helmrelease(res.obj):
                continue
            repos = in_values.setdefault(release_key(res), set())
            for view in chart_values(ctx, render, res):
                for use in resource_images(view):
                    repos.add(_repository(use.image))
                    if not use.pinned and not disabled_in_values(values_of(view), use.container):
                        where = f" (values {use.container})" if use.container else ""
                        out.append(
                            place(
                                codes.IMAGE_NOT_PINNED,
                                f"image {use.image} of HelmRelease {res.name}{where} is not "
                                "pinned to a sha256 digest",
                                view,
                                (use.file, use.line),
                                cluster,
                            )
                        )
        for _rk, res in render.objects():
            if is_helmrelease(res.obj):
                continue
            release = chart_output(res)
            for use in resource_images(res):  # a workload's containers, or a custom resource's fields
                if use.pinned:
                    continue
                if release is not None:  # chart output: what the values name is reported there
                    if _repository(use.image) in in_values.get(release, set()):
                        continue
                    origin = f", a chart default of HelmRelease {release[1]}"
                else:
                    origin = ""
                out.append(
                    place(
                        codes.IMAGE_NOT_PINNED,
                        f"image {use.image} of {res.kind} {res.name} "
                        f"({'field' if use.origin == 'resource' else 'container'} {use.container}{origin}) "
                        "is not pinned to a sha256 digest",
                        res,
                        (use.file, use.line),
                        cluster,
                    )
                )
    yield from unique(out)


# ------------------------------------------------------------------ HO010


def has_memory_limit(resources: Any) -> bool:
    if not isinstance(resources, dict):
        return False
    limits = resources.get("limits")
    return isinstance(limits, dict) and limits.get("memory") not in (None, "")


def app_template_containers(values: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str, Any]]:
    """(controller.list.name, parent mapping, key, container) of app-template chart values:
    ``controllers.<c>.containers.<n>`` and ``controllers.<c>.initContainers.<n>``."""
    controllers = values.get("controllers")
    if not isinstance(controllers, dict):
        return
    for cname, controller in controllers.items():
        if not isinstance(controller, dict) or controller.get("enabled") is False:
            continue
        for list_name in LIMITED_CONTAINER_LISTS:
            mapping = controller.get(list_name)
            if not isinstance(mapping, dict):
                continue
            for name, container in mapping.items():
                if isinstance(container, dict) and container.get("enabled") is not False:
                    yield f"{cname}.{list_name}.{name}", mapping, str(name), container


def _values_container_limited(values: dict[str, Any], container: dict[str, Any]) -> bool:
    """app-template: a container's own resources, else (or merged with, per
    ``defaultContainerOptionsStrategy``) ``defaultContainerOptions.resources``."""
    if has_memory_limit(container.get("resources")):
        return True
    defaults = values.get("defaultContainerOptions")
    default_resources = defaults.get("resources") if isinstance(defaults, dict) else None
    if "resources" in container and values.get("defaultContainerOptionsStrategy", "overwrite") != "merge":
        return False
    return has_memory_limit(default_resources)


@rule(
    codes.NO_MEMORY_LIMIT,
    rationale="""
Anti-Patterns #10: "Missing resource limits - All containers must have memory limits"; Security
Considerations and Resource Quotas ("All containers must define memory limits"). Every container and
init container of a rendered workload, and every app-template container
(`controllers.*.containers.*`, `controllers.*.initContainers.*`, taking
`defaultContainerOptions.resources` into account) without `resources.limits.memory` is reported at its
`resources` key, or at the container when it has none.
""",
    bad="""
containers:
  app:
    image: {repository: ghcr.io/org/image, tag: v1.2.3@sha256:...}
    resources:
      requests:
        cpu: 100m
""",
    good="""
containers:
  app:
    image: {repository: ghcr.io/org/image, tag: v1.2.3@sha256:...}
    resources:
      requests:
        cpu: 100m
      limits:
        memory: 512Mi
""",
)
def check_memory_limits(ctx: RuleContext) -> Iterator[Finding]:
    """Containers that may use unbounded memory."""
    out: list[Finding] = []
    for render in ctx.renders:
        cluster = render.cluster.name
        app_template: set[tuple[str, str]] = set()  # releases whose containers the values describe
        for _rk, res in render.objects():
            if is_helmrelease(res.obj):
                for view in chart_values(ctx, render, res):
                    if any(True for _ in app_template_containers(values_of(view))):
                        app_template.add(release_key(res))
                    out.extend(_values_limits(view, cluster))
        for _rk, res in render.objects():
            release = chart_output(res)
            if release is not None and release in app_template:
                continue
            for list_name, container in containers(res.obj):
                if list_name not in LIMITED_CONTAINER_LISTS or has_memory_limit(container.get("resources")):
                    continue
                name = str(container.get("name") or "")
                origin = f", rendered by HelmRelease {release[1]}" if release else ""
                where = at(res, container, "resources") if "resources" in container else at(res, container)
                out.append(
                    place(
                        codes.NO_MEMORY_LIMIT,
                        f"container {name} of {res.kind} {res.name}{origin} has no resources.limits.memory",
                        res,
                        where,
                        cluster,
                    )
                )
    yield from unique(out)


def _values_limits(res: Resource, cluster: str) -> Iterator[Finding]:
    values = values_of(res)
    for path, parent, key, container in app_template_containers(values):
        if _values_container_limited(values, container):
            continue
        where = at(res, container, "resources") if "resources" in container else at(res, parent, key)
        yield place(
            codes.NO_MEMORY_LIMIT,
            f"HelmRelease {res.name} container {path} has no resources.limits.memory",
            res,
            where,
            cluster,
        )


# ------------------------------------------------------------------ HO011


@rule(
    codes.RAW_WORKLOAD,
    rationale="""
Anti-Patterns #11: "Raw manifests over Helm charts - Prefer Helm charts for easier Flux management
(not a hard rule, but best practice)"; Key Principles #11. A Deployment, StatefulSet or DaemonSet read
from an app's own files (not from a component) in a Flux Kustomization that deploys no HelmRelease is
reported, as information: the app-template chart covers most single-container apps.
""",
    bad="""
# cluster-apps/chongus/default/app-name/app/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-name
""",
    good="""
# cluster-apps/chongus/default/app-name/app/helmrelease.yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app-name
spec:
  chartRef:
    kind: OCIRepository
    name: app-name
""",
)
def check_raw_workloads(ctx: RuleContext) -> Iterator[Finding]:
    """Apps made of raw workload manifests only."""
    out = []
    for app in apps(ctx):
        if any(is_helmrelease(r.obj) for r in app.rk.resources):
            continue
        for res in app.own:
            if res.kind in RAW_WORKLOAD_KINDS and res.api_version.startswith("apps/"):
                out.append(
                    finding(
                        codes.RAW_WORKLOAD,
                        f"{res.kind} {res.name} of app {app.ks.key} is a raw manifest: "
                        "consider a HelmRelease (app-template)",
                        res=res,
                        cluster=app.render.cluster.name,
                    )
                )
    yield from unique(out)

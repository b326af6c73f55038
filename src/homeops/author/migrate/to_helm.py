"""Step "--to-helm": a simple Deployment (+ Service) becomes an app-template HelmRelease."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from homeops.author import templates as t
from homeops.author.migrate.sources import ocirepository
from homeops.author.migrate.text import emit, is_yaml, load_docs, plain, rel_path, split_docs
from homeops.author.migrate.tree import Tree, find_kustomization_file_in, free_name
from homeops.core.profile import Profile
from homeops.core.yamledit import append_list_item, list_items
from homeops.flux.model import is_helmrelease
from homeops.flux.rendered import ClusterRender

# pod fields app-template's defaultPodOptions carries as they are
_POD_OPTIONS = {
    "affinity",
    "automountServiceAccountToken",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostUsers",
    "imagePullSecrets",
    "nodeSelector",
    "priorityClassName",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "securityContext",
    "terminationGracePeriodSeconds",
    "tolerations",
    "topologySpreadConstraints",
}
_POD_KEYS = {"containers", "volumes", "serviceAccountName", *_POD_OPTIONS}
_CONTAINER_KEYS = {
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "env",
    "envFrom",
    "ports",
    "resources",
    "securityContext",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "volumeMounts",
    "workingDir",
}
_VOLUME_TYPES = {"persistentVolumeClaim", "configMap", "emptyDir", "secret"}


@dataclass
class Workload:
    """One document of the app: its file, its index in the file's stream, its mapping."""

    path: str
    chunk: int
    doc: dict[str, Any]


_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet", "Pod")


def _workloads(tree: Tree, files: Iterable[str]) -> Iterator[Workload]:
    for path in files:
        if path in tree.files and is_yaml(path):
            for i, chunk in enumerate(split_docs(tree.files[path])):
                docs = load_docs(chunk, path)
                if len(docs) == 1 and isinstance(docs[0], dict):
                    yield Workload(path, i, docs[0])


def to_helm_values(
    app: str, deployment: dict[str, Any], service: dict[str, Any] | None, image: str | None, profile: Profile
) -> tuple[dict[str, Any], list[str]]:
    """app-template values for one Deployment (and its Service); reasons it cannot be done, if any."""
    dspec = deployment.get("spec") or {}
    pod = (dspec.get("template") or {}).get("spec") or {}
    reasons = _unsupported_pod(pod)
    if reasons:
        return {}, reasons
    c = pod["containers"][0]
    extra = sorted(set(c) - _CONTAINER_KEYS)
    if extra:
        return {}, [f"container fields app-template values do not carry here: {', '.join(extra)}"]
    controller = _controller(dspec, pod, profile)
    controller["containers"] = {"app": _container(c, image)}
    values: dict[str, Any] = {"controllers": {app: controller}}
    pod_options = {k: plain(v) for k, v in pod.items() if k in _POD_OPTIONS and v is not None}
    if pod_options:
        values["defaultPodOptions"] = pod_options
    if service is not None:
        container_ports = {
            str(p.get("name")): p.get("containerPort") for p in c.get("ports") or [] if p.get("name")
        }
        values["service"] = {"app": _service(app, service, container_ports)}
    persistence = _persistence(pod, c)
    if persistence:
        values["persistence"] = persistence
    return values, []


def _unsupported_pod(pod: Mapping[str, Any]) -> list[str]:
    """What of a pod app-template's values cannot express here."""
    reasons: list[str] = []
    extra = sorted(set(pod) - _POD_KEYS)
    if extra:
        reasons.append(f"pod fields app-template values do not carry here: {', '.join(extra)}")
    containers = pod.get("containers") or []
    if len(containers) != 1:
        reasons.append(f"{len(containers)} containers (one is supported)")
    if pod.get("initContainers"):
        reasons.append("init containers")
    for vol in pod.get("volumes") or []:
        kinds = set(vol) - {"name"}
        if not kinds <= _VOLUME_TYPES:
            reasons.append(
                f"volume {vol.get('name')} of type {', '.join(sorted(kinds))} "
                "(only PVC, configMap, secret, emptyDir)"
            )
    return reasons


def _container(c: Mapping[str, Any], image: str | None) -> dict[str, Any]:
    """One container as an app-template ``containers`` entry (the rendered image when known)."""
    ref = str(image or c.get("image") or "")
    rest, _, digest = ref.partition("@")
    colon = rest.rfind(":")
    repository, tag = (rest[:colon], rest[colon + 1 :]) if colon > rest.rfind("/") else (rest, "latest")
    container: dict[str, Any] = {
        "image": {"repository": repository, "tag": tag + (f"@{digest}" if digest else "")}
    }
    for key in ("command", "args", "workingDir"):
        if c.get(key):
            container[key] = plain(c[key])
    if c.get("env"):
        env: dict[str, Any] = {}
        for item in c["env"]:
            if "valueFrom" in item:
                env[str(item["name"])] = {"valueFrom": plain(item["valueFrom"])}
            else:
                env[str(item["name"])] = plain(item.get("value", ""))
        container["env"] = env
    if c.get("envFrom"):
        container["envFrom"] = plain(c["envFrom"])
    probes: dict[str, Any] = {}
    for kind in ("liveness", "readiness", "startup"):
        probe = c.get(f"{kind}Probe")
        if probe:
            probes[kind] = {"enabled": True, "custom": True, "spec": plain(probe)}
    if probes:
        container["probes"] = probes
    for key in ("resources", "securityContext"):
        if c.get(key):
            container[key] = plain(c[key])
    return container


def _controller(dspec: Mapping[str, Any], pod: Mapping[str, Any], profile: Profile) -> dict[str, Any]:
    """The Deployment's own fields as an app-template controller (reloaded on config changes)."""
    controller: dict[str, Any] = {"annotations": {profile.reloader_annotation: "true"}}
    strategy = (dspec.get("strategy") or {}).get("type")
    if strategy:
        controller["strategy"] = str(strategy)
    if isinstance(dspec.get("replicas"), int) and dspec["replicas"] != 1:
        controller["replicas"] = dspec["replicas"]
    pod_annotations = ((dspec.get("template") or {}).get("metadata") or {}).get("annotations")
    if pod_annotations:
        controller["pod"] = {"annotations": plain(pod_annotations)}
    if pod.get("serviceAccountName"):
        controller["serviceAccount"] = {"name": str(pod["serviceAccountName"])}
    return controller


def _service(app: str, service: Mapping[str, Any], container_ports: Mapping[str, Any]) -> dict[str, Any]:
    """The Service as an app-template ``service`` entry keeping its name (named target ports resolved)."""
    sspec = service.get("spec") or {}
    ports: dict[str, Any] = {}
    for p in sspec.get("ports") or []:
        entry: dict[str, Any] = {"port": p.get("port")}
        target = p.get("targetPort")
        if isinstance(target, str):
            target = container_ports.get(target)
        if target is not None and target != p.get("port"):
            entry["targetPort"] = target
        if p.get("protocol") and p["protocol"] != "TCP":
            entry["protocol"] = p["protocol"]
        ports[str(p.get("name") or f"port-{p.get('port')}")] = entry
    svc: dict[str, Any] = {
        "controller": app,
        "forceRename": str((service.get("metadata") or {}).get("name")),
    }
    if sspec.get("type") and sspec["type"] != "ClusterIP":
        svc["type"] = sspec["type"]
    annotations = (service.get("metadata") or {}).get("annotations")
    if annotations:
        svc["annotations"] = plain(annotations)
    svc["ports"] = ports
    return svc


def _persistence(pod: Mapping[str, Any], c: Mapping[str, Any]) -> dict[str, Any]:
    """The pod's volumes as app-template ``persistence`` entries, mounted where the container mounts them."""
    mounts: dict[str, list[dict[str, Any]]] = {}
    for m in c.get("volumeMounts") or []:
        mount: dict[str, Any] = {"path": m.get("mountPath")}
        if m.get("subPath"):
            mount["subPath"] = m["subPath"]
        if m.get("readOnly"):
            mount["readOnly"] = True
        mounts.setdefault(str(m.get("name")), []).append(mount)
    persistence: dict[str, Any] = {}
    for vol in pod.get("volumes") or []:
        name = str(vol.get("name"))
        entry: dict[str, Any] = {}
        if "persistentVolumeClaim" in vol:
            entry["existingClaim"] = vol["persistentVolumeClaim"].get("claimName")
        elif "configMap" in vol:
            entry = {"type": "configMap", "name": vol["configMap"].get("name")}
        elif "secret" in vol:
            entry = {"type": "secret", "name": vol["secret"].get("secretName")}
        else:
            entry = {"type": "emptyDir"}
            if (vol.get("emptyDir") or {}).get("medium"):
                entry["medium"] = vol["emptyDir"]["medium"]
        if name in mounts:
            entry["globalMounts"] = mounts[name]
        else:
            entry["enabled"] = True
        persistence[name] = entry
    return persistence


def convert_to_helm(
    tree: Tree,
    profile: Profile,
    app: str,
    ks_name: str,
    render: ClusterRender,
    steps: list[str],
    notes: list[str],
) -> None:
    """``--to-helm``: replace the app's one Deployment (+ Service) by an app-template HelmRelease, or say why not."""
    files = [p for p in tree.files if tree.origin.get(p) in tree.ks_files.get(ks_name, set())]
    items = list(_workloads(tree, sorted(files)))
    reasons = _refusals(items)
    if reasons:
        steps.append(f"--to-helm: {ks_name} keeps its raw manifests: " + "; ".join(reasons))
        return
    deployment = next(w for w in items if w.doc.get("kind") == "Deployment")
    service = next((w for w in items if w.doc.get("kind") == "Service"), None)
    name = str((deployment.doc.get("metadata") or {}).get("name") or app)
    values, why = to_helm_values(
        app, deployment.doc, service.doc if service else None, _rendered_image(render, name), profile
    )
    if why:
        steps.append(f"--to-helm: {ks_name} keeps its raw manifests: " + "; ".join(why))
        return
    hr_path = _replace_by_release(tree, profile, app, values, [deployment, *([service] if service else [])])
    service_name = f" and Service {(service.doc.get('metadata') or {}).get('name')}" if service else ""
    notes.append(
        f"--to-helm: Deployment {name}{service_name} "
        f"became HelmRelease {app} ({hr_path}, app-template {profile.app_template_version}); "
        "review its values"
    )


def _refusals(items: list[Workload]) -> list[str]:
    """Why the documents of a Flux Kustomization are not one Deployment (+ one Service) app-template
    can replace."""
    workloads = [w for w in items if w.doc.get("kind") in _WORKLOAD_KINDS]
    deployments = [w for w in workloads if w.doc.get("kind") == "Deployment"]
    reasons = []
    if any(is_helmrelease(w.doc) for w in items):
        reasons.append("it already deploys a HelmRelease")
    if len(deployments) != 1 or len(workloads) != 1:
        reasons.append(
            f"{len(workloads)} workloads ({', '.join(str(w.doc.get('kind')) for w in workloads) or 'none'}); "
            "one Deployment is supported"
        )
    services = [w for w in items if w.doc.get("kind") == "Service"]
    if len(services) > 1:
        reasons.append(f"{len(services)} Services (one is supported)")
    selectors = [
        w
        for w in items
        if w.doc.get("kind") not in ("Service", "Deployment")
        and isinstance(w.doc.get("spec"), dict)
        and ("selector" in w.doc["spec"] or "podSelector" in w.doc["spec"])
    ]
    if selectors:
        reasons.append(
            "pods are selected by label from "
            + ", ".join(f"{w.doc.get('kind')} {(w.doc.get('metadata') or {}).get('name')}" for w in selectors)
            + " (app-template sets its own labels)"
        )
    return reasons


def _rendered_image(render: ClusterRender, deployment: str) -> str | None:
    """The image of the Deployment's one container as the old cluster rendered it (variables filled)."""
    rendered = render.find("Deployment", deployment)
    if not rendered:
        return None
    pod = ((rendered[0][1].obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = pod.get("containers") or []
    return containers[0].get("image") if len(containers) == 1 else None


def _replace_by_release(
    tree: Tree, profile: Profile, app: str, values: dict[str, Any], replaced: list[Workload]
) -> str:
    """The replaced documents removed, the HelmRelease and its OCIRepository written next to the
    Deployment and listed in its kustomization; returns the HelmRelease's path."""
    directory = posixpath.dirname(replaced[0].path)
    hr_lines = [*t.helmrelease_head(app, schema=t.SCHEMA_APP_TEMPLATE), "  values:", *emit(values, 4)]
    for w in sorted(replaced, key=lambda w: (w.path, -w.chunk)):
        chunks = split_docs(tree.files[w.path])
        del chunks[w.chunk]
        if any(load_docs(c, w.path) for c in chunks):
            tree.files[w.path] = "".join(chunks)
        else:
            tree.move(w.path, None)
    hr_path = free_name(tree, directory, "helmrelease.yaml", f"{app}-helmrelease.yaml")
    tree.files[hr_path] = t.join(hr_lines)
    tree.origin[hr_path] = ""
    oci_path = free_name(tree, directory, "ocirepository.yaml", f"{app}-ocirepository.yaml")
    tree.files[oci_path] = ocirepository(
        profile, app, profile.app_template_chart, profile.app_template_version
    )
    tree.origin[oci_path] = ""
    kfile = find_kustomization_file_in(tree, directory)
    if kfile is not None:
        text = tree.files[kfile]
        for added in (oci_path, hr_path):
            entry = rel_path(added, directory, True)
            if entry not in list_items(text, "resources"):
                text = append_list_item(text, "resources", entry)
        tree.files[kfile] = text
    return hr_path

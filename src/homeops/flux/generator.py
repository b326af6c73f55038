"""The kustomization kustomize-controller builds for a Flux Kustomization.

Where the path has a kustomization file, Flux reads it and overrides or extends it with the Flux
Kustomization's spec (``targetNamespace`` replaces ``namespace``; ``namePrefix``/``nameSuffix``
replace; ``patches``, ``components`` and ``images`` are appended). Where it has none, Flux generates
one listing every sub-directory holding a kustomization file and every YAML file elsewhere below the
path, as the source's artifact holds them (see ``sourceignore``: what source-controller leaves out
does not exist for kustomize-controller).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from homeops.core.errors import FluxError, HomeopsError
from homeops.core.files import FileCache
from homeops.core.fs import refusal_code
from homeops.core.shape import as_list, as_map, describe
from homeops.core.yamlio import YMap
from homeops.flux.sourceignore import ArtifactView, SourceArtifact
from homeops.kustomize import schema
from homeops.kustomize.build import KUSTOMIZATION_FILES, find_kustomization_file


def scan_manifests(files: FileCache, base: Path, artifact: ArtifactView | None = None) -> list[str]:
    """Entries of a generated kustomization, in the order Flux's directory walk finds them.

    Only what the source's artifact holds counts: files source-controller leaves out (``artifact``;
    by default its default exclusions) do not exist for kustomize-controller.
    """
    view: ArtifactView = artifact if artifact is not None else SourceArtifact(files.root, ())
    entries: list[str] = []

    def walk(directory: Path) -> None:
        files.touch(directory)  # its listing and what each entry is (the build cache checks them)
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            raise FluxError(f"cannot read directory: {exc.strerror}", files.rel(directory)) from None
        for name in names:
            path = directory / name
            if os.path.isdir(path):
                if path.is_symlink():
                    continue  # source-controller archives regular files and directories only
                files.touch(path)
                if any(
                    os.path.isfile(path / k) and not view.excludes_path(path / k) for k in KUSTOMIZATION_FILES
                ):
                    entries.append("./" + path.relative_to(base).as_posix())
                    continue
                walk(path)
                continue
            if not name.endswith((".yaml", ".yml")) or view.excludes_path(path):
                continue
            try:
                docs = files.load_all(path, f"'{path.relative_to(base).as_posix()}'")
            except HomeopsError as exc:
                if refusal_code(exc) is not None:
                    raise  # a refused read is told as it is
                raise FluxError(f"failed to decode Kubernetes YAML: {exc.what}", exc.file, exc.line) from None
            for doc in docs:
                if not isinstance(doc, dict) or not doc.get("kind"):
                    raise FluxError(
                        "failed to decode Kubernetes YAML: missing kind (Flux generates a kustomization.yaml here "
                        "and every YAML file below the path must be a Kubernetes object)",
                        files.rel(path),
                        getattr(doc, "line", None),
                        "add a kustomization.yaml that lists the manifests, or a .sourceignore entry for the file",
                    )
            entries.append("./" + path.relative_to(base).as_posix())

    walk(base)
    return entries


BUILD_FIELDS = (
    "targetNamespace", "namePrefix", "nameSuffix", "patches", "components", "ignoreMissingComponents",
    "patchesStrategicMerge", "patchesJson6902", "images",
)  # fmt: skip
"""The spec fields :func:`flux_kustomization` reads: with the path and the source's view of it, all the
build depends on (postBuild, dependencies, intervals... come after or not at all)."""


def flux_kustomization(
    files: FileCache, directory: Path, spec: dict[str, Any], artifact: ArtifactView | None = None
) -> tuple[dict[str, Any], bool]:
    """(the kustomization to build, whether it was generated) for a Flux Kustomization's path."""
    files.touch(directory)
    kfile = find_kustomization_file(directory)
    if kfile is not None and artifact is not None and artifact.excludes_path(kfile):
        kfile = None  # not in the artifact: Flux generates one
    generated = kfile is None
    if kfile is not None:
        loaded = files.load_one(kfile)
        rel = files.rel(kfile)
        if loaded is not None and not isinstance(loaded, dict):
            raise FluxError(
                f"failed to decode {kfile.name}: a kustomization must be a mapping, not {describe(loaded)}",
                rel,
                1,
                "write it as a mapping (apiVersion, kind, resources, ...)",
            )
        if isinstance(loaded, dict):  # kustomize-controller's decoding: wrong types fail, unknown fields drop
            loaded = schema.normalize(loaded, rel, files.read_text(kfile), strict=False)
        kust: dict[str, Any] = YMap(loaded) if isinstance(loaded, dict) else YMap()
        if isinstance(loaded, YMap):
            kust.line, kust.file, kust.key_lines = loaded.line, loaded.file, loaded.key_lines  # type: ignore[attr-defined]
    else:
        kust = YMap({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"})
        resources = scan_manifests(files, directory, artifact)
        if resources:
            kust["resources"] = resources
        else:
            kust["namespace"] = "_placeholder"
    if spec.get("targetNamespace"):
        kust["namespace"] = str(spec["targetNamespace"])
    if spec.get("namePrefix"):
        kust["namePrefix"] = str(spec["namePrefix"])
    if spec.get("nameSuffix"):
        kust["nameSuffix"] = str(spec["nameSuffix"])
    for patch in as_list(spec.get("patches")):
        entry: dict[str, Any] = {"patch": str(patch.get("patch") or "")}
        if patch.get("target"):
            entry["target"] = dict(patch["target"])
        kust["patches"] = [*as_list(kust.get("patches")), entry]
    components = list(as_list(kust.get("components")))
    ignore_missing = bool(spec.get("ignoreMissingComponents"))
    for component in as_list(spec.get("components")):
        component = str(component)
        if component.startswith("/") or "://" in component:
            raise FluxError(f"component path '{component}' must be local and relative")
        files.touch(directory / component)
        if ignore_missing and not os.path.exists(directory / component):
            continue
        components.append(component)
    if components:
        kust["components"] = components
    for patch in as_list(spec.get("patchesStrategicMerge")):
        kust["patchesStrategicMerge"] = [*as_list(kust.get("patchesStrategicMerge")), json.dumps(patch)]
    for patch in as_list(spec.get("patchesJson6902")):
        kust["patchesJson6902"] = [
            *as_list(kust.get("patchesJson6902")),
            {"patch": json.dumps(patch.get("patch")), "target": dict(as_map(patch.get("target")))},
        ]
    images = [dict(i) for i in as_list(kust.get("images"))]
    for image in as_list(spec.get("images")):
        existing = next((i for i in images if i.get("name") == image.get("name")), None)
        if existing is not None:
            if image.get("newName"):
                existing["newName"] = image["newName"]
            if image.get("newTag") or image.get("digest"):
                existing["newTag"] = image.get("newTag")
                existing["digest"] = image.get("digest")
        else:
            images.append({k: image[k] for k in ("name", "newName", "newTag", "digest") if image.get(k)})
    if images:
        kust["images"] = images
    return kust, generated

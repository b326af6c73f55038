"""The paths a kustomization file refers to, and rewriting them where the files they name moved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeops.kustomize.build import is_remote


@dataclass(frozen=True)
class KRef:
    """A path a kustomization file refers to: the scalar as written and the path inside it."""

    scalar: str
    path: str
    list_item: bool  # a plain ``- entry`` of a list (may be removed line by line)


_LIST_REF_FIELDS = (
    "resources",
    "bases",
    "components",
    "crds",
    "configurations",
    "transformers",
    "generators",
    "validators",
)


def kustomization_refs(kust: Any) -> list[KRef]:
    """Every local path a kustomization file refers to."""
    out: list[KRef] = []
    if not isinstance(kust, dict):
        return out

    def add(value: Any, path: str | None = None, list_item: bool = False) -> None:
        if not isinstance(value, str) or not value.strip() or "\n" in value or is_remote(value):
            return
        out.append(KRef(value, path if path is not None else value, list_item))

    for key in _LIST_REF_FIELDS:
        for item in kust.get(key) or []:
            add(item, list_item=True)
    for item in kust.get("patchesStrategicMerge") or []:
        if isinstance(item, str) and ":" not in item:
            add(item, list_item=True)
    for key in ("patches", "patchesJson6902", "replacements"):
        for item in kust.get(key) or []:
            if isinstance(item, dict):
                add(item.get("path"))
    for key in ("configMapGenerator", "secretGenerator"):
        for gen in kust.get(key) or []:
            if not isinstance(gen, dict):
                continue
            for item in gen.get("files") or []:
                if isinstance(item, str):
                    add(item, item.split("=", 1)[-1])
            for item in gen.get("envs") or []:
                add(item)
            add(gen.get("env"))
    openapi = kust.get("openapi")
    if isinstance(openapi, dict):
        add(openapi.get("path"))
    return out

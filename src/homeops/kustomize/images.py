"""The ``images:`` transformer: rename images, set tags and digests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from homeops.kustomize.accumulator import Accumulator
from homeops.kustomize.fieldspec import FieldSpec, apply_specs
from homeops.kustomize.resource import Resource


@lru_cache(maxsize=256)
def _pattern(name: str) -> re.Pattern[str] | None:
    """kustomize v5.5's ``IsImageMatched`` regex, searched (Go's ``MatchString``), not matched.

    Go accepts a repeated ``^`` (so ``name: "*"`` gives ``^*...``: every image); Python needs it
    grouped. A pattern Go cannot compile matches nothing.
    """
    text = "^" + name + r"(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$"
    if text[1:2] in ("*", "+", "?"):
        text = "(?:^)" + text[1:]
    try:
        return re.compile(text)
    except re.error:
        return None


def split_image(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference, splitting as kustomize does (a port in the host is kept)."""
    slash = image.find("/")
    search = image[slash:] if slash > 0 else image
    offset = slash if slash > 0 else 0
    at = search.find("@")
    colon = search.find(":")
    if colon < 0 and at < 0:
        return image, "", ""
    if at >= 0 and (at < colon or colon < 0):
        at += offset
        return image[:at], "", image[at + 1 :]
    if at >= 0 and colon >= 0:
        at += offset
        colon += offset
        return image[:colon], image[colon + 1 : at], image[at + 1 :]
    colon += offset
    return image[:colon], image[colon + 1 :], ""


def update_image(value: str, entry: dict[str, Any]) -> str | None:
    """The new reference for ``value`` under one ``images:`` entry, or None when it does not match."""
    pattern = _pattern(str(entry.get("name") or ""))
    if pattern is None or not pattern.search(value):
        return None
    name, tag, digest = split_image(value)
    new_name = entry.get("newName")
    new_tag = entry.get("newTag")
    new_digest = entry.get("digest")
    tag_suffix = entry.get("tagSuffix")
    if new_name:
        name = str(new_name)
    if new_tag and new_digest:
        tag, digest = str(new_tag), str(new_digest)
    elif new_tag:
        tag, digest = str(new_tag), ""
    elif new_digest:
        tag, digest = "", str(new_digest)
    elif tag_suffix:
        tag, digest = tag + str(tag_suffix), ""
    if tag:
        name += ":" + tag
    if digest:
        name += "@" + digest
    return name


def _setter(entry: dict[str, Any]) -> Any:
    def setter(container: Any, key: Any) -> None:
        value = container.get(key)
        if isinstance(value, str):
            new = update_image(value, entry)
            if new is not None:
                container[key] = new

    return setter


def _walk_containers(node: Any, setter: Any) -> None:
    """Every ``containers``/``initContainers`` list anywhere in the object (kustomize's legacy filter)."""
    if isinstance(node, dict):
        for key, value in node.items():
            _walk_containers(value, setter)
            if key in ("containers", "initContainers") and isinstance(value, list):
                for element in value:
                    if isinstance(element, dict) and "image" in element:
                        setter(element, "image")
    elif isinstance(node, list):
        for element in node:
            _walk_containers(element, setter)


@dataclass
class ImageTagTransformer:
    """kustomize's ImageTagTransformer: new names, tags and digests for the images of each entry."""

    entries: list[dict[str, Any]]
    specs: list[FieldSpec]

    def apply(self, acc: Accumulator) -> None:
        set_images(acc.resources, self.entries, self.specs)


def set_images(resources: list[Resource], entries: list[dict[str, Any]], specs: list[FieldSpec]) -> None:
    for entry in entries:
        setter = _setter(entry)
        for res in resources:
            if res.kind != "CustomResourceDefinition":
                _walk_containers(res.obj, setter)
            apply_specs(res, specs, setter)

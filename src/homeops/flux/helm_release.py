"""helm-controller's naming rules for a HelmRelease: the release name (``spec.releaseName``, else
``[<targetNamespace>-]<name>``, shortened over 53 characters as ``release.ShortenName`` does), the
namespace it installs into, and ``{{ .Release.Name }}``/``{{ .Release.Namespace }}`` in a value as a
chart's ``tpl`` renders them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

MAX_RELEASE_NAME = 53


def shorten_name(name: str) -> str:
    """helm-controller's ``release.ShortenName``: over 53 characters, 40 of them plus a 12-hex hash."""
    if len(name) <= MAX_RELEASE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{name[: MAX_RELEASE_NAME - 13]}-{digest}"


def spec_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """An object's ``spec`` (empty when it has none or it is not a mapping)."""
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def metadata_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """An object's ``metadata`` (empty when it has none or it is not a mapping)."""
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def release_name(release: Mapping[str, Any]) -> str:
    """``spec.releaseName``, else ``[<targetNamespace>-]<name>``, shortened as helm-controller does."""
    spec = spec_of(release)
    name = str(metadata_of(release).get("name") or "")
    if spec.get("releaseName"):
        name = str(spec["releaseName"])
    elif spec.get("targetNamespace"):
        name = f"{spec['targetNamespace']}-{name}"
    return shorten_name(name)


def release_namespace(release: Mapping[str, Any]) -> str:
    """``spec.targetNamespace``, else the HelmRelease's own namespace."""
    spec = spec_of(release)
    return str(spec.get("targetNamespace") or metadata_of(release).get("namespace") or "default")


_RELEASE_FIELD = re.compile(r"\{\{-?\s*\.Release\.(Name|Namespace)\s*-?\}\}")


def with_release(text: str, release: Mapping[str, Any]) -> str:
    """``text`` with ``{{ .Release.Name }}`` and ``{{ .Release.Namespace }}`` as a chart's ``tpl``
    renders them (app-template templates route hosts, ingress hosts and claim names so)."""
    return _RELEASE_FIELD.sub(
        lambda m: release_name(release) if m.group(1) == "Name" else release_namespace(release), text
    )

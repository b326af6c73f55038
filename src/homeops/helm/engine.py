"""What every Helm engine shares: its protocol, its errors, and how its output splits into documents."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from homeops.core.errors import HomeopsError


class RenderError(HomeopsError):
    """Helm refused the chart or its values (template error, schema violation, bad YAML)."""


class EngineMissingError(HomeopsError):
    """No Helm engine is installed: neither ``helm-python-sdk`` nor a ``helm`` binary."""


@dataclass(frozen=True)
class RenderedDoc:
    source: str
    text: str


class Engine(Protocol):
    name: str

    def render(
        self,
        chart: Path,
        *,
        release_name: str,
        namespace: str,
        values: Mapping[str, Any],
        kube_version: str,
        api_versions: Sequence[str],
        include_crds: bool,
        skip_tests: bool,
    ) -> list[RenderedDoc]: ...


def split_stream(text: str, default_source: str) -> list[RenderedDoc]:
    """Split a multi-document stream, keeping each document's ``# Source:`` line as provenance."""
    docs: list[RenderedDoc] = []
    for chunk in re.split(r"(?m)^---[ \t]*(?:#.*)?$\n?", text):
        if not chunk.strip():
            continue
        match = re.search(r"(?m)^# Source: (.+)$", chunk)
        docs.append(RenderedDoc(match.group(1).strip() if match else default_source, chunk))
    return docs

"""Bounds on the work one command does for a repository it does not trust.

homeops runs on whatever a pull request holds. Every input that could make it work without end —
a huge file, a YAML alias bomb, a document nested thousands deep, a chart archive of gigabytes, a
registry that answers one byte at a time, a Helm template that loops — has a limit here. (An
integer of thousands of digits needs none: out of 64-bit range it is a string, as Go reads it, and
never reaches Python's int conversion.) Each can be set under ``limits:`` in ``.homeops.yaml``, but never above its
ceiling: the ``.homeops.yaml`` of a pull request is written by its author, so it may tighten a limit
and loosen it only so far.

The limits in force are process-wide (``current()``), set from the profile of the repository a
command works on (``configure``); library users may set them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from homeops.core.errors import HomeopsError

MiB = 1024 * 1024


class LimitError(HomeopsError):
    """Input over one of the limits: refused before (or instead of) doing the work."""


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 16 * MiB
    """Size of one repository file read while rendering (YAML, values, generator files)."""
    yaml_documents: int = 100_000
    """Documents in one YAML file."""
    yaml_nodes: int = 1_000_000
    """Nodes one YAML document may expand to once its aliases are followed (alias bombs)."""
    yaml_depth: int = 200
    """How deeply collections may nest in one YAML document."""
    chart_bytes: int = 50 * MiB
    """Size of a chart archive (checked against the registry's descriptor before downloading)."""
    registry_response_bytes: int = 4 * MiB
    """Size of one registry or chart-repository JSON/YAML response (manifests, indexes, tokens)."""
    request_seconds: float = 60.0
    """Overall deadline of one registry request, however slowly the server answers."""
    template_seconds: float = 120.0
    """Time the Helm engine may take to render one chart."""
    template_memory_bytes: int = 2048 * MiB
    """Address space (``RLIMIT_AS``) of the Helm engine's process; Go needs 1 GiB of it to start."""


DEFAULT = Limits()

CEILING = Limits(
    file_bytes=256 * MiB,
    yaml_documents=2_000_000,
    yaml_nodes=20_000_000,
    yaml_depth=1_000,
    chart_bytes=1024 * MiB,
    registry_response_bytes=64 * MiB,
    request_seconds=600.0,
    template_seconds=1_800.0,
    template_memory_bytes=16 * 1024 * MiB,
)
"""The most ``.homeops.yaml`` may allow."""

FLOOR = {"template_memory_bytes": 1024 * MiB}
"""The least some limits may be: Go's runtime alone reserves about 900 MiB of address space."""
FLOOR_WHY = {"template_memory_bytes": "the Helm engine's Go runtime needs 1 GiB of address space to start"}

_current = DEFAULT


def current() -> Limits:
    """The limits in force."""
    return _current


def configure(limits: Limits) -> None:
    """Put ``limits`` in force for what follows (each capped at its ceiling)."""
    global _current
    _current = capped(limits)


def capped(limits: Limits) -> Limits:
    return replace(
        limits, **{f.name: min(getattr(limits, f.name), getattr(CEILING, f.name)) for f in fields(Limits)}
    )


def from_mapping(data: Any, file: str, line: int | None) -> Limits:
    """``limits:`` of ``.homeops.yaml``: known keys, positive numbers, at most the ceiling."""
    if not isinstance(data, Mapping):
        raise HomeopsError("limits must be a mapping", file, line, "write limits: {file_bytes: 16777216}")
    known = {f.name: f for f in fields(Limits)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        at = data.line_of(key) if hasattr(data, "line_of") else line
        if key not in known:
            raise HomeopsError(
                f"unknown key {key!r} under limits", file, at, f"known keys: {', '.join(sorted(known))}"
            )
        default = getattr(DEFAULT, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise HomeopsError(f"limits.{key} must be a positive number", file, at)
        ceiling = getattr(CEILING, key)
        floor = FLOOR.get(key, 0)
        if value < floor:
            raise HomeopsError(f"limits.{key} is below its floor {floor}", file, at, FLOOR_WHY[key])
        if value > ceiling:
            raise HomeopsError(
                f"limits.{key} is above its ceiling {ceiling}", file, at, "homeops will not allow more"
            )
        changes[key] = type(default)(value)
    return replace(DEFAULT, **changes)


def too_large(shown: str, size: int, limit: int, what: str = "file") -> LimitError:
    return LimitError(
        f"{what} is {_size(size)}, over the limit of {_size(limit)}",
        shown,
        None,
        "raise limits.file_bytes in .homeops.yaml if this is intended"
        if what == "file"
        else "homeops refuses it",
    )


def _size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"

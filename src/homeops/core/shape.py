"""The shape of YAML data a reader expects, checked where it is read: one problem, located.

Repository data is untrusted: any field may hold a list where a mapping belongs, a mapping where a
string belongs. A reader declares the shape of what it reads (:data:`SCALAR`, :class:`ListOf`,
:class:`MapOf`, :class:`Fields`) and :func:`problem` finds the first place that does not fit, with
the path to it, so the error names the field, what was expected and what was found, at its line.
Absent fields and ``null`` always fit (readers treat them as unset); unknown fields are not
problems (a CRD's structural schema prunes them; kustomize's own strict decoding lives in
:mod:`homeops.kustomize.schema`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeops.core.yamlio import key_line

Path = tuple[str | int, ...]


class Shape:
    """What a value must be."""

    expected = "anything"

    def problem(self, value: Any, path: Path) -> tuple[Path, str, Any] | None:
        return None


class _Scalar(Shape):
    expected = "a string"

    def problem(self, value: Any, path: Path) -> tuple[Path, str, Any] | None:
        if isinstance(value, Mapping | list):
            return path, self.expected, value
        return None


class _Bool(Shape):
    expected = "true or false"

    def problem(self, value: Any, path: Path) -> tuple[Path, str, Any] | None:
        if isinstance(value, Mapping | list):
            return path, self.expected, value
        return None


ANY = Shape()
SCALAR = _Scalar()
"""A string, number or boolean (readers turn it into text); not a list or a mapping."""
BOOL = _Bool()


@dataclass(frozen=True)
class ListOf(Shape):
    item: Shape = ANY

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "a list"

    def problem(self, value: Any, path: Path) -> tuple[Path, str, Any] | None:
        if not isinstance(value, list):
            return path, self.expected, value
        for i, item in enumerate(value):
            if item is None and self.item is not ANY:
                return (*path, i), self.item.expected, item
            found = self.item.problem(item, (*path, i)) if item is not None else None
            if found:
                return found
        return None


@dataclass(frozen=True)
class MapOf(Shape):
    item: Shape = ANY

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "a mapping"

    def problem(self, value: Any, path: Path) -> tuple[Path, str, Any] | None:
        if not isinstance(value, Mapping):
            return path, self.expected, value
        for key, item in value.items():
            if not isinstance(key, str):
                return (*path, str(key)), "a string key", key
            found = self.item.problem(item, (*path, key)) if item is not None else None
            if found:
                return found
        return None


class Fields(Shape):
    """A mapping with known fields (others are allowed and not checked)."""

    expected = "a mapping"

    def __init__(self, fields: Mapping[str, Shape]) -> None:
        self.fields = dict(fields)

    def problem(self, value: Any, path: Path) -> tuple[Path, str, Any] | None:
        if not isinstance(value, Mapping):
            return path, self.expected, value
        for name, shape in self.fields.items():
            item = value.get(name)
            if item is None:
                continue
            found = shape.problem(item, (*path, name))
            if found:
                return found
        return None


def as_map(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one: for readers of data whose shape is checked
    (and reported) elsewhere, so that a wrong type is skipped there instead of crashing."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one (see :func:`mapping`)."""
    return value if isinstance(value, list) else []


def describe(value: Any) -> str:
    """What a YAML value is, in words ("a list", "the number 1.5")."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}" if len(repr(value)) <= 20 else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return "null" if value is None else type(value).__name__


@dataclass(frozen=True)
class Problem:
    """The first place ``value`` does not fit: its path, what was expected, what was found, its line."""

    path: Path
    expected: str
    found: str
    line: int | None

    @property
    def field(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out or "the document"

    def message(self) -> str:
        return f"{self.field} must be {self.expected}, not {self.found}"


def problem(obj: Any, shape: Shape, path: Path = ()) -> Problem | None:
    """The first part of ``obj`` (the value at ``path`` below it) that does not fit ``shape``."""
    value = obj
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return None
    found = shape.problem(value, path)
    if found is None:
        return None
    where, expected, actual = found
    return Problem(where, expected, describe(actual), key_line(obj, *where))

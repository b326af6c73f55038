"""Values for postBuild variables that only the live cluster has, given per cluster.

A legacy cluster substitutes ``${CLUSTER_NAME}`` from a SOPS-encrypted Secret; homeops never
decrypts, so the user gives such values once: ``vars:`` in ``.homeops.yaml``, ``--vars-file FILE``
and ``--var [CLUSTER:]NAME=VALUE``. Each source is a *layer* mapping a cluster name (or ``"*"`` for
every cluster) to ``{NAME: value}``. A cluster's value is looked up layer by layer, later layers
winning (``.homeops.yaml`` < ``--vars-file`` < ``--var``), and inside one layer the cluster's own
entry wins over ``"*"``.

With ``placeholders`` a variable that still has no value becomes ``..PLACEHOLDER_NAME..`` (what
flux-local substituted), a visibly fake value that keeps renders complete and diffs stable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from homeops.core.errors import HomeopsError
from homeops.core.regex import lazy_pattern

ANY_CLUSTER: Final = "*"
VAR_NAME_PATTERN: Final = "^[_[:alpha:]][_[:alpha:][:digit:]]*$"
"""Flux's pattern for variable names as written in its Go source (RE2 POSIX classes are ASCII)."""
VAR_NAME_RE: Final = re.compile(r"\A[_A-Za-z][_A-Za-z0-9]*\Z")
"""VAR_NAME_PATTERN in Python syntax; ``\\Z`` because Python's ``$`` also matches before a final newline."""
_CLUSTER_RE: Final = lazy_pattern(r"\A[A-Za-z0-9][A-Za-z0-9._/-]*\Z")

Scoped = Mapping[str, Mapping[str, str]]


def placeholder(name: str) -> str:
    """The stand-in for a variable with no value: ``..PLACEHOLDER_NAME..``."""
    return f"..PLACEHOLDER_{name}.."


PLACEHOLDER_RE: Final = re.compile(r"\.\.PLACEHOLDER_[_A-Za-z][_A-Za-z0-9]*\.\.")


def is_var_name(name: str) -> bool:
    """Whether Flux accepts ``name`` as a substitution variable."""
    return VAR_NAME_RE.match(name) is not None


@dataclass(frozen=True)
class Layer:
    """One source of values: ``{cluster or "*": {NAME: value}}``, where it came from, and the line of
    each entry in that source when it is a file."""

    origin: str
    values: Scoped
    lines: Mapping[tuple[str, str], int] = field(default_factory=dict)
    line: int | None = None  # where the mapping starts in its file


@dataclass(frozen=True)
class ClusterVars:
    """Every layer of values, lowest first, and whether unresolved variables get placeholders."""

    layers: tuple[Layer, ...] = ()
    placeholders: bool = False

    @classmethod
    def of(cls, values: ClusterVars | Mapping[str, Any] | None, origin: str = "vars") -> ClusterVars:
        """``values`` as layers: a ``ClusterVars`` as is; a mapping whose values are strings applies to
        every cluster (the old flat ``vars``), one whose values are mappings is per cluster."""
        if isinstance(values, ClusterVars):
            return values
        if not values:
            return cls()
        scoped: dict[str, dict[str, str]] = {}
        for key, value in values.items():
            if isinstance(value, Mapping):
                scoped.setdefault(str(key), {}).update({str(k): str(v) for k, v in value.items()})
            else:
                scoped.setdefault(ANY_CLUSTER, {})[str(key)] = "" if value is None else str(value)
        return cls((Layer(origin, scoped),))

    def __bool__(self) -> bool:
        return self.placeholders or any(any(v for v in layer.values.values()) for layer in self.layers)

    def over(self, base: ClusterVars) -> ClusterVars:
        """These layers on top of ``base``'s (placeholders if either asks for them)."""
        return ClusterVars((*base.layers, *self.layers), self.placeholders or base.placeholders)

    def with_placeholders(self, on: bool = True) -> ClusterVars:
        return ClusterVars(self.layers, on)

    def for_cluster(self, cluster: str) -> dict[str, str]:
        """The values one cluster gets."""
        out: dict[str, str] = {}
        for layer in self.layers:
            out.update(layer.values.get(ANY_CLUSTER, {}))
            out.update(layer.values.get(cluster, {}))
        return out

    def scopes(self) -> list[tuple[str, Layer]]:
        """Every cluster name used as a scope (not ``"*"``), with the layer naming it."""
        return [(scope, layer) for layer in self.layers for scope in layer.values if scope != ANY_CLUSTER]

    def flat(self) -> dict[str, str]:
        """The values every cluster gets (``"*"`` entries), for callers that know no cluster."""
        return self.for_cluster(ANY_CLUSTER)


def parse_assignment(text: str, option: str = "--var") -> tuple[str, str, str]:
    """``[CLUSTER:]NAME=VALUE`` as (cluster or ``"*"``, name, value); anything else is a usage error."""
    key, sep, value = text.partition("=")
    if not sep:
        raise HomeopsError(
            f"{option} {text!r} is not NAME=VALUE",
            hint=f"write {option} NAME=value or {option} CLUSTER:NAME=value",
        )
    scope, colon, name = key.rpartition(":")
    if not colon:
        scope = ANY_CLUSTER
    if colon and not _CLUSTER_RE().match(scope):
        raise HomeopsError(
            f"{option} {text!r}: {scope!r} is not a cluster name", hint=f"write {option} CLUSTER:NAME=value"
        )
    if not is_var_name(name):
        shown = repr(name) if name else "an empty name"
        raise HomeopsError(
            f"{option} {text!r}: {shown} is not a variable name Flux accepts ({VAR_NAME_PATTERN})",
            hint=f"write {option} NAME=value, e.g. {option} CLUSTER_NAME=home",
        )
    return scope, name, value


def from_assignments(items: list[str] | tuple[str, ...], option: str = "--var") -> ClusterVars:
    """``--var`` options as one layer."""
    scoped: dict[str, dict[str, str]] = {}
    for item in items:
        scope, name, value = parse_assignment(item, option)
        scoped.setdefault(scope, {})[name] = value
    return ClusterVars((Layer(option, scoped),)) if scoped else ClusterVars()


def scalar_text(value: Any) -> str | None:
    """A YAML scalar as the text a variable gets (``true``, ``8080``); None for collections."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    return None


def layer_from_mapping(data: Any, origin: str, *, line_of: Any = None) -> Layer:
    """A ``{cluster or "*": {NAME: value}}`` mapping read from YAML (``.homeops.yaml`` ``vars:`` or a
    ``--vars-file``) as a layer, every name and value checked, errors with the file and line."""
    file = origin

    def where(node: Any, key: str) -> int | None:
        lines = getattr(node, "key_lines", None)
        return lines.get(key) if lines else getattr(node, "line", None) or None

    if not isinstance(data, Mapping):
        raise HomeopsError(
            'vars must map a cluster name (or "*") to {NAME: value}',
            file,
            line_of,
            'e.g. vars: {bitty: {CLUSTER_NAME: bitty}, "*": {TZ: Etc/UTC}}',
        )
    scoped: dict[str, dict[str, str]] = {}
    lines: dict[tuple[str, str], int] = {}
    for scope, entries in data.items():
        scope = str(scope)
        line = where(data, scope)
        if scope != ANY_CLUSTER and not _CLUSTER_RE().match(scope):
            raise HomeopsError(f"{scope!r} is not a cluster name", file, line, 'use a cluster name or "*"')
        if line:
            lines[(scope, "")] = line  # the scope's own line ("" is no variable name)
        if not isinstance(entries, Mapping):
            raise HomeopsError(
                f"vars of {scope!r} must be a mapping of NAME: value",
                file,
                line,
                f"e.g. {scope}: {{CLUSTER_NAME: {scope}}}",
            )
        for name, value in entries.items():
            name = str(name)
            at = where(entries, name) or line
            if not is_var_name(name):
                raise HomeopsError(
                    f"{name!r} is not a variable name Flux accepts ({VAR_NAME_PATTERN})",
                    file,
                    at,
                    "use NAME: value",
                )
            text = scalar_text(value)
            if text is None:
                raise HomeopsError(f"the value of {name} must be a scalar", file, at, "write NAME: value")
            scoped.setdefault(scope, {})[name] = text
            if at:
                lines[(scope, name)] = at
    return Layer(origin, scoped, lines, line_of)

"""envsubst as Flux runs it over built objects: a port of fluxcd/pkg ``envsubst`` (a drone/envsubst fork),
``parse/``, ``funcs.go``, ``eval.go``, ``path/match.go``.

envsubst only knows ``${...}``: a bare ``$VAR`` is literal text, ``$$`` is always one literal ``$``.
Operators that parse: ``${v}``, ``${#v}``, ``${v^}``, ``${v^^}``, ``${v,}``, ``${v,,}``, ``${v:pos}``,
``${v:pos:len}``, ``${v#glob}``, ``${v##glob}``, ``${v%glob}``, ``${v%%glob}``, ``${v/old/new}``,
``${v//old/new}``, ``${v/#old/new}``, ``${v/%old/new}``, ``${v=d}``, ``${v:=d}``, ``${v:-d}``,
``${v:+d}``, ``${v:?d}``. All five default forms mean "d when the value is empty or unset", nothing is
assigned, ``:+`` and ``:?`` are not bash's. ``${v-d}``, ``${v+d}``, ``${v?d}`` do not parse (the whole
build fails with "missing closing brace"). Replacement patterns are literal strings, removal patterns
are globs, lengths and offsets count bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Final

from homeops.flux.envsubst.funcs import function
from homeops.flux.envsubst.parse import Expression, Node, SubstitutionError, Text, go_bytes, go_string, parse

__all__ = [
    "Expression",
    "Node",
    "SubstitutionError",
    "Text",
    "evaluate",
    "find_unresolved",
    "has_default",
    "parse",
    "substitute",
    "unresolved",
    "variables",
]

_DEFAULT_OPERATORS: Final = frozenset({"-", "+", "=", "?", ":-", ":+", ":=", ":?"})
"""Operators exempt from strict mode: they supply a value for an unset variable themselves."""


_Lookup = Callable[[str], tuple[str, bool]]


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _evaluate(nodes: list[Text | Expression], lookup: _Lookup) -> str:
    return "".join(node.value if isinstance(node, Text) else _call(node, lookup) for node in nodes)


def _call(node: Expression, lookup: _Lookup) -> str:
    """Arguments first (so a default that names an unset variable fails in strict mode even when
    unused), then the variable."""
    args = [_evaluate([arg], lookup) for arg in node.args]
    value, exists = lookup(node.param)
    if not exists and node.name not in _DEFAULT_OPERATORS:
        raise SubstitutionError(f"variable not set (strict mode): {_go_quote(node.param)}", node.param)
    return function(node.name, len(args))(value, args)


def _lookup(variables: Mapping[str, str], strict: bool) -> _Lookup:
    if strict:
        return lambda name: (variables[name], True) if name in variables else ("", False)
    return lambda name: (variables.get(name, ""), True)


def evaluate(nodes: list[Node], variables: Mapping[str, str], *, strict: bool = False) -> str:
    """Parsed text with its variables substituted (see :func:`substitute`)."""
    return go_string(go_bytes(_evaluate(nodes, _lookup(variables, strict))))


def unresolved(nodes: list[Node], variables: Mapping[str, str]) -> list[str]:
    """Variables of parsed text that have no value and no default (see :func:`find_unresolved`)."""
    found: list[str] = []

    def walk(node: Node) -> None:
        if isinstance(node, Text):
            return
        for arg in node.args:
            walk(arg)
        if node.param not in variables and node.name not in _DEFAULT_OPERATORS and node.param not in found:
            found.append(node.param)

    for node in nodes:
        walk(node)
    return found


def has_default(node: Node) -> bool:
    """Whether an expression supplies a value for an unset or empty variable itself (``=``, ``:=``,
    ``:-``, ``:+``, ``:?``)."""
    return isinstance(node, Expression) and node.name in _DEFAULT_OPERATORS


def variables(nodes: list[Node]) -> dict[str, bool]:
    """Every variable parsed text names, nested ones included -> whether each of its uses has a
    default."""
    found: dict[str, bool] = {}

    def walk(node: Node) -> None:
        if isinstance(node, Text):
            return
        for arg in node.args:
            walk(arg)
        found[node.param] = found.get(node.param, True) and node.name in _DEFAULT_OPERATORS

    for node in nodes:
        walk(node)
    return found


def substitute(text: str, variables: Mapping[str, str], *, strict: bool = False) -> str:
    """Substitute like Flux's envsubst.Eval with kustomize-controller's mapping.

    Undefined variables without a default: strict raises SubstitutionError naming the variable;
    non-strict replaces them with the empty string. Malformed ``${`` expressions raise in both modes
    (Flux fails the whole build on them).
    """
    return evaluate(parse(text), variables, strict=strict)


def find_unresolved(text: str, variables: Mapping[str, str]) -> list[str]:
    """Names of variables referenced in text that have no value and no default (for reporting).

    These are exactly the variables strict mode would stop at, in evaluation order, each once; a
    variable named inside an unused default counts, because Flux evaluates defaults eagerly.
    Raises SubstitutionError when the text does not parse.
    """
    return unresolved(parse(text), variables)

"""Flux postBuild variables as they appear in the app's file text, read with Flux's own envsubst
parser (``homeops.flux.envsubst``): which are used (with or without a default), and known values
written in place of their expressions, every other byte of the text kept.

A file is parsed as a whole (comments included: a ``${VAR}`` written in a comment counts, and is
replaced, like one Flux substitutes). A text that does not parse as a whole (Flux would refuse an
object holding a malformed ``${``, but a comment may hold one) is read line by line, and a line that
does not parse is left as it is."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping

from homeops.flux import envsubst


def _parsed(text: str) -> list[tuple[int, list[envsubst.Node]]]:
    """(byte offset, nodes) of the whole text, or of each line that parses when the whole does not."""
    try:
        return [(0, envsubst.parse(text))]
    except envsubst.SubstitutionError:
        pass
    found: list[tuple[int, list[envsubst.Node]]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        with contextlib.suppress(envsubst.SubstitutionError):
            found.append((offset, envsubst.parse(line)))
        offset += len(line.encode("utf-8", "surrogateescape"))
    return found


def variables_in(text: str) -> dict[str, bool]:
    """Variable name -> whether every use of it has a default."""
    out: dict[str, bool] = {}
    for _offset, nodes in _parsed(text):
        for name, has_default in envsubst.variables(nodes).items():
            out[name] = out.get(name, True) and has_default
    return out


def replace_variables(text: str, values: Mapping[str, str]) -> str:
    """Each expression of a variable in ``values`` replaced by what Flux substitutes for it: the value
    for a default form (``${V:-d}``, ``${V:=d}``, ...) when it is not empty, else the default as written
    (its own variables kept, or replaced when known); any other expression evaluated when every
    variable it names is known. Expressions of other variables are kept as written."""
    if not values:
        return text
    data = text.encode("utf-8", "surrogateescape")
    edits: list[tuple[int, int, bytes]] = []
    for offset, nodes in _parsed(text):
        for node in nodes:
            _replace(node, values, offset, edits)
    for start, end, new in sorted(edits, reverse=True):
        data = data[:start] + new + data[end:]
    return data.decode("utf-8", "surrogateescape")


def replace_variable(text: str, name: str, value: str) -> str:
    """Every expression of one variable replaced (see :func:`replace_variables`)."""
    return replace_variables(text, {name: value})


def _replace(
    node: envsubst.Node, values: Mapping[str, str], offset: int, edits: list[tuple[int, int, bytes]]
) -> None:
    """The edits (byte ranges of the text, new bytes) replacing the known variables of one node."""
    if isinstance(node, envsubst.Text):
        return
    start, end = node.span[0] + offset, node.span[1] + offset
    if node.param in values and envsubst.has_default(node):
        value = values[node.param]
        if value:
            edits.append((start, end, value.encode("utf-8", "surrogateescape")))
            return
        if not node.args:
            edits.append((start, end, b""))
            return
        # the default as written: the expression's head and closing brace go, its arguments stay
        edits.append((start, node.args[0].span[0] + offset, b""))
        edits.append((node.args[-1].span[1] + offset, end, b""))
    elif node.param in values and set(envsubst.variables([node])) <= set(values):
        edits.append((start, end, envsubst.evaluate([node], values).encode("utf-8", "surrogateescape")))
        return
    for arg in node.args:
        _replace(arg, values, offset, edits)


def substitution_disabled(text: str) -> bool:
    return bool(re.search(r"kustomize\.toolkit\.fluxcd\.io/substitute:\s*['\"]?disabled", text))

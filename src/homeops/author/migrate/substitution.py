"""Flux postBuild variables as they appear in the app's file text: which are used (with or without a
default), and one replaced by its value."""

from __future__ import annotations

import re

_VAR = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-=+?])?")


def variables_in(text: str) -> dict[str, bool]:
    """Variable name -> whether every use of it has a default."""
    out: dict[str, bool] = {}
    for m in _VAR.finditer(text):
        has_default = m.group("op") is not None and m.group("op").lstrip(":") in ("-", "=")
        out[m.group("name")] = out.get(m.group("name"), True) and has_default
    return out


def replace_variable(text: str, name: str, value: str) -> str:
    """``${NAME}`` and ``${NAME:=default}``-style uses of one variable replaced by its value."""
    out: list[str] = []
    pos = 0
    needle = "${" + name
    while True:
        i = text.find(needle, pos)
        if i < 0:
            break
        after = i + len(needle)
        if (i > 0 and text[i - 1] == "$") or (
            after < len(text) and (text[after].isalnum() or text[after] == "_")
        ):
            out.append(text[pos:after])
            pos = after
            continue
        depth, j = 1, after
        while j < len(text) and depth:
            if text.startswith("${", j):
                depth += 1
                j += 2
                continue
            if text[j] == "}":
                depth -= 1
            j += 1
        if depth:
            break
        inner = text[after : j - 1]
        replacement = value
        if inner and inner[0] not in ":-=+?":
            out.append(text[pos:after])
            pos = after
            continue
        if inner.startswith(":") and not value and inner[1:2] in ("-", "="):
            replacement = inner[2:]
        out.append(text[pos:i] + replacement)
        pos = j
    out.append(text[pos:])
    return "".join(out)


def substitution_disabled(text: str) -> bool:
    return bool(re.search(r"kustomize\.toolkit\.fluxcd\.io/substitute:\s*['\"]?disabled", text))

"""Generated sections of a Markdown document, between ``<!-- homeops:begin NAME -->`` and
``<!-- homeops:end NAME -->`` lines.

Only the lines between a pair of markers belong to homeops; everything else (the marker lines
included) is the author's and is kept byte for byte. A section the document lacks is appended at its
end, so the author can then move it anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from homeops.core.errors import HomeopsError

_MARKER = re.compile(r"^<!-- homeops:(begin|end) ([A-Za-z0-9_-]+) -->\s*$")


def begin_marker(name: str) -> str:
    return f"<!-- homeops:begin {name} -->"


def end_marker(name: str) -> str:
    return f"<!-- homeops:end {name} -->"


@dataclass(frozen=True)
class Section:
    """One generated section found in a document: its name, its body and where its markers are."""

    name: str
    body: str
    begin_line: int  # 1-based line of the begin marker
    start: int  # offset of the body's first character
    end: int  # offset just past the body (the end marker's line starts here)


def find_sections(text: str, file: str) -> list[Section]:
    """The marked sections of ``text`` in document order; unbalanced, nested or repeated markers are
    an error at their line."""
    sections: list[Section] = []
    seen: set[str] = set()
    open_name: str | None = None
    open_line = 0
    body_start = 0
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        match = _MARKER.match(line.rstrip("\r\n"))
        line_start, offset = offset, offset + len(line)
        if match is None:
            continue
        kind, name = match.groups()
        if kind == "begin":
            if open_name is not None:
                raise HomeopsError(
                    f"section '{name}' begins inside section '{open_name}' (opened at line {open_line})",
                    file, number, f"close '{open_name}' first with {end_marker(open_name)}",
                )  # fmt: skip
            if name in seen:
                raise HomeopsError(
                    f"section '{name}' appears twice", file, number, "keep one pair of its markers"
                )
            open_name, open_line, body_start = name, number, offset
        else:
            if open_name != name:
                what = f"inside section '{open_name}'" if open_name else "without its begin marker"
                raise HomeopsError(
                    f"end of section '{name}' {what}", file, number, f"pair it with {begin_marker(name)}"
                )
            sections.append(Section(name, text[body_start:line_start], open_line, body_start, line_start))
            seen.add(name)
            open_name = None
    if open_name is not None:
        raise HomeopsError(
            f"section '{open_name}' is never closed", file, open_line, f"add {end_marker(open_name)}"
        )
    return sections


def splice(text: str, bodies: Mapping[str, str], file: str, order: Sequence[str]) -> str:
    """``text`` with the body of every marked section replaced by ``bodies[name]``; sections of
    ``order`` the document lacks are appended in that order. A marked section homeops does not know
    is an error (its markers would otherwise be kept around stale text)."""
    sections = find_sections(text, file)
    for section in sections:
        if section.name not in bodies:
            raise HomeopsError(
                f"unknown generated section '{section.name}'", file, section.begin_line,
                f"known sections: {', '.join(order)}; remove the markers of the others",
            )  # fmt: skip
    out: list[str] = []
    cursor = 0
    for section in sections:
        out.append(text[cursor : section.start])
        out.append(bodies[section.name])
        cursor = section.end
    out.append(text[cursor:])
    result = "".join(out)
    present = {s.name for s in sections}
    missing = [name for name in order if name not in present]
    if missing:
        if result and not result.endswith("\n"):
            result += "\n"
        for name in missing:
            result += ("\n" if result else "") + wrap(name, bodies[name])
    return result


def wrap(name: str, body: str) -> str:
    """A section with its markers, as it is appended to a document."""
    return f"{begin_marker(name)}\n{body}{end_marker(name)}\n"

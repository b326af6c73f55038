"""Terminal output: findings grouped by file, each with its source line, then a summary line.

::

    cluster-apps/chongus/default/echo/app/helmrelease.yaml:12: warning HO009 image 'echo:1.0' ...
        12 |       tag: "1.0"

Colour (ANSI) only when asked for; the caller decides from the TTY and ``NO_COLOR``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

from homeops.core import fs
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.text import escape
from homeops.report.common import summary_sentence

_RESET = "\x1b[0m"
_STYLES = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "info": "\x1b[1;36m",
}
_MAX_SOURCE = 160


class _Sources:
    """Source lines of the repository's files, each file read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[str] | None] = {}

    def line(self, file: str, line: int) -> str | None:
        if file not in self._lines:
            try:
                self._lines[file] = fs.read_text(self.root, file).splitlines()
            except HomeopsError:
                self._lines[file] = None
        lines = self._lines[file]
        if lines is None or not 1 <= line <= len(lines):
            return None
        text = escape(lines[line - 1].expandtabs(4).rstrip())
        return text if len(text) <= _MAX_SOURCE else text[: _MAX_SOURCE - 1] + "…"


def render(findings: Sequence[Finding], root: Path, *, color: bool = False) -> str:
    """Findings grouped by file (in place order), each with the offending source line, and a summary."""

    def style(name: str, text: str) -> str:
        return f"{_STYLES[name]}{text}{_RESET}" if color else text

    sources = _Sources(root)
    show_cluster = len({f.cluster for f in findings if f.cluster}) > 1
    ordered = sorted(findings, key=lambda f: (*f.sort_key(), f.cluster or ""))
    out: list[str] = []
    for _file, group in groupby(ordered, key=lambda f: f.file or ""):
        for f in group:
            location = ""
            if f.file:
                location = style("bold", escape(f"{f.file}:{f.line}:" if f.line else f"{f.file}:")) + " "
            suffix = style("dim", escape(f" [{f.cluster}]")) if show_cluster and f.cluster else ""
            out.append(
                f"{location}{style(f.severity if f.severity in _STYLES else 'info', f.severity)} "
                f"{style('bold', f.rule)} {escape(' '.join(f.message.split()))}{suffix}"
            )
            source = sources.line(f.file, f.line) if f.file and f.line else None
            if source is not None:
                out.append(style("dim", f"{f.line:>6} | {source}"))
        out.append("")
    out.append(style("bold", summary_sentence(findings)))
    return "\n".join(out) + "\n"

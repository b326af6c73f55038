"""Reporting findings: text for terminals, JSON, SARIF, GitHub workflow commands and Markdown.

Every format is a pure function from findings to a string; ``render_report`` picks one by name. What
a report says about a rule comes from the caller as :class:`RuleInfo` data (``homeops.rules`` sits
beside this package, never below it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from homeops.core.findings import SEVERITIES, Finding, severity_rank

FORMATS = ("text", "json", "sarif", "github", "markdown")


class RuleInfo(Protocol):
    """What reports show of a rule: its id, title, default severity, rationale, examples, autofix."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def rationale(self) -> str: ...
    @property
    def bad(self) -> str: ...
    @property
    def good(self) -> str: ...
    @property
    def fixable(self) -> bool: ...


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts per severity, in the contract's key order (error, warning, info)."""
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        counts[f.severity if f.severity in counts else "info"] += 1
    return counts


def at_or_above(findings: Iterable[Finding], threshold: str) -> list[Finding]:
    """The findings whose severity is at least ``threshold``."""
    if threshold not in SEVERITIES:
        raise ValueError(f"unknown severity {threshold!r}")
    rank = severity_rank(threshold)
    return [f for f in findings if severity_rank(f.severity) >= rank]


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def summary_sentence(findings: Sequence[Finding]) -> str:
    """``3 problems (1 error, 2 warnings, 0 info) in 2 files, 1 fixable with --fix``."""
    if not findings:
        return "No problems found."
    counts = summary(findings)
    files = {f.file for f in findings if f.file}
    fixable = sum(1 for f in findings if f.fixable)
    text = (
        f"{plural(len(findings), 'problem')} ({plural(counts['error'], 'error')}, "
        f"{plural(counts['warning'], 'warning')}, {counts['info']} info) in {plural(len(files), 'file')}"
    )
    if fixable:
        text += f", {fixable} fixable with --fix"
    return text + "."


def render_report(
    fmt: str,
    findings: Sequence[Finding],
    *,
    root: Path,
    rules: Mapping[str, RuleInfo],
    color: bool = False,
    cluster_dirs: Mapping[str, str] | None = None,
) -> str:
    """``findings`` in format ``fmt`` (one of ``FORMATS``)."""
    if fmt == "text":
        from homeops.report import text

        return text.render(findings, root, color=color)
    if fmt == "json":
        from homeops.report import json_out

        return json_out.render(findings)
    if fmt == "sarif":
        from homeops.report import sarif

        return sarif.render(findings, rules, cluster_dirs=cluster_dirs)
    if fmt == "github":
        from homeops.report import github

        return github.render(findings)
    if fmt == "markdown":
        from homeops.report import markdown

        return markdown.render(findings, rules)
    raise ValueError(f"unknown format {fmt!r}")

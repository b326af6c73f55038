"""What every report format shares: counts per severity, the summary sentence, and the rule metadata
a report is given (:class:`RuleInfo`: ``homeops.rules`` sits beside this package, never below it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from homeops.core.findings import SEVERITIES, Finding, severity_rank


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


def tally(findings: Sequence[Finding]) -> tuple[dict[str, int], int, int]:
    """What every summary line says: counts per severity, files concerned, findings fixable."""
    files = {f.file for f in findings if f.file}
    return summary(findings), len(files), sum(1 for f in findings if f.fixable)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def summary_sentence(findings: Sequence[Finding]) -> str:
    """``3 problems (1 error, 2 warnings, 0 info) in 2 files, 1 fixable with --fix``."""
    if not findings:
        return "No problems found."
    counts, files, fixable = tally(findings)
    text = (
        f"{plural(len(findings), 'problem')} ({plural(counts['error'], 'error')}, "
        f"{plural(counts['warning'], 'warning')}, {counts['info']} info) in {plural(files, 'file')}"
    )
    if fixable:
        text += f", {fixable} fixable with --fix"
    return text + "."

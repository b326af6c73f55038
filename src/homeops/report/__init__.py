"""Reporting findings: text for terminals, JSON, SARIF, GitHub workflow commands and Markdown.

Every format is a pure function from findings to a string; ``render_report`` picks one by name. What
a report says about a rule comes from the caller as :class:`RuleInfo` data (``homeops.rules`` sits
beside this package, never below it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from homeops.core.findings import Finding
from homeops.report.common import RuleInfo, at_or_above, plural, summary, summary_sentence

__all__ = ["FORMATS", "RuleInfo", "at_or_above", "plural", "render_report", "summary", "summary_sentence"]

FORMATS = ("text", "json", "sarif", "github", "markdown")


def render_report(
    fmt: str,
    findings: Sequence[Finding],
    *,
    root: Path,
    rules: Mapping[str, RuleInfo],
    color: bool = False,
    cluster_dirs: Mapping[str, str] | None = None,
) -> str:
    """``findings`` in format ``fmt`` (one of ``FORMATS``): only that format's writer loads (start-up)."""
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

"""A diff with the findings it introduces and fixes: the rules run on each side's own checkout and
render, with that revision's own profile, while :func:`diff_repository` holds it; an identical pair of
revisions introduces and fixes nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from homeops.core.findings import Finding
from homeops.core.profile import load_profile
from homeops.diff.compare import DiffResult
from homeops.diff.model import finding_delta
from homeops.diff.revisions import DiffOptions, Progress, diff_repository
from homeops.diff.sides import Side


def diff_with_findings(
    root: Path, options: DiffOptions, *, findings: bool, progress: Progress | None = None
) -> DiffResult:
    """:func:`diff_repository`; with ``findings``, ``findings_introduced``/``findings_fixed`` set too."""
    seen: dict[str, list[Finding]] = {}

    def inspect(side: str, directory: Path, rendered: Side) -> None:
        from homeops.rules.engine import run_checks  # start-up: the rules load only with findings

        found, _ctx = run_checks(
            directory,
            load_profile(directory),
            cli_vars=options.cli_vars,
            renders=list(rendered.renders.values()),
        )
        seen[side] = found

    if findings:
        options = replace(options, inspect=inspect)
    result = diff_repository(root, options, progress=progress)
    if findings and not result.stats.get("identical"):
        result.findings_introduced, result.findings_fixed = finding_delta(
            seen.get("base", []), seen.get("head", [])
        )
    elif findings:
        result.findings_introduced, result.findings_fixed = [], []
    return result

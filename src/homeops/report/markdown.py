"""Markdown: ``check --format markdown`` for a pull-request comment, and the rule reference.

``rules_reference()`` writes the rules part of ``docs/rules.md`` from the rule metadata it is given
(``tests/rules_doc.py`` generates the whole document, and a test keeps the committed file equal to it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from homeops.core.findings import Finding
from homeops.core.text import escape
from homeops.report.common import RuleInfo, plural, tally

MAX_ROWS = 100
"""Rows per severity in a PR comment (GitHub caps a comment at 65,536 characters)."""

_HEADINGS = {"error": "Errors", "warning": "Warnings", "info": "Info"}


def cell(text: str) -> str:
    """``text`` as one cell of a Markdown table (pipes, markup and line breaks escaped)."""
    return (
        escape(text.replace("\r", " ").replace("\n", " "))
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def render(findings: Sequence[Finding], rules: Mapping[str, RuleInfo]) -> str:
    """A PR comment: a summary, then one table per severity (errors first)."""
    out = ["### homeops check", ""]
    if not findings:
        out.append("No problems found.")
        return "\n".join(out) + "\n"
    counts, files, fixable = tally(findings)
    line = (
        f"**{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
        f"{counts['info']} info** in {plural(files, 'file')}"
    )
    if fixable:
        line += f"; {fixable} fixable with `homeops check --fix`"
    out += [line, ""]
    for severity in ("error", "warning", "info"):
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        out += [
            f"#### {_HEADINGS[severity]} ({len(group)})",
            "",
            "| rule | location | message |",
            "| --- | --- | --- |",
        ]
        for f in group[:MAX_ROWS]:
            rule = rules.get(f.rule)
            rule_cell = f"**{f.rule}** {cell(rule.title)}" if rule else f"**{f.rule}**"
            where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or f.cluster or "")
            location = f"`{cell(where)}`" if where else ""
            message = cell(f.message) + (f" ({cell(f.cluster)})" if f.cluster else "")
            out.append(f"| {rule_cell} | {location} | {message} |")
        if len(group) > MAX_ROWS:
            out.append(f"\n…and {len(group) - MAX_ROWS} more; run `homeops check` for the full list.")
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------------ rule reference
_PREAMBLE = """\
`homeops check` renders every cluster as Flux would and runs these rules on the result. Each rule has a
stable id, a default severity and, where the change is safe, an autofix (`homeops check --fix`, or
`--fix --diff` to see it first). `homeops rules` lists them and `homeops rules ID` explains one.

Rules HO0xx enforce the patterns of the home-ops context document; HO1xx are what the render itself
finds (a Kustomization that cannot be built or reconciled).

## Configuration

`.homeops.yaml` at the repository root turns rules off, changes their severity and ignores paths:

```yaml
rules:
  HO011: false                 # off
  HO026: error                 # another severity
  HO009: {enabled: true, severity: warning}
ignore_paths:
  HO005: ["hack/**"]           # rule id (or prefix) -> globs of repository-relative paths
```

Path globs (`ignore_paths`, and the profile's `sops_allowed_paths`, `secret_allowed_paths`,
`script_allowed_paths`) match the whole repository-relative path: `*` is any run of characters
within one path segment and `?` one character other than `/`; `**` crosses segments (`hack/**` is
everything below `hack/`, `**/values.yaml` is that file at any depth); other characters stand for
themselves (no `[...]` classes). So `cluster-apps/*` matches the files directly in `cluster-apps/`,
not those below it: write `cluster-apps/**` for the whole tree.

A finding is also suppressed by a comment on its line, on the line above it, or above the start of
its object: `# homeops: ignore[HO009] reason` (several ids separated by commas).
"""


def rules_reference(rules: Mapping[str, RuleInfo], *, note: str = "") -> str:
    """The rule reference: configuration, a table of ``rules``, then each rule with rationale and
    examples. ``note`` (an HTML comment, say how the document is generated) follows the title."""
    out = [
        "# homeops rules",
        "",
        *([note, ""] if note else []),
        _PREAMBLE,
        "## Rules",
        "",
        "| id | severity | autofix | title |",
        "| --- | --- | --- | --- |",
    ]
    ordered = [rules[k] for k in sorted(rules)]
    for r in ordered:
        out.append(
            f"| [{r.id}](#{r.id.lower()}) | {r.severity} | {'yes' if r.fixable else 'no'} | {cell(r.title)} |"
        )
    out.append("")
    for r in ordered:
        out += [
            f"### {r.id}",
            "",
            f"**{r.title}**",
            "",
            f"Severity: `{r.severity}` · Autofix: {'yes' if r.fixable else 'no'}",
            "",
            r.rationale,
            "",
            "Bad:",
            "",
            "```yaml",
            r.bad,
            "```",
            "",
            "Good:",
            "",
            "```yaml",
            r.good,
            "```",
            "",
        ]
    return "\n".join(out)

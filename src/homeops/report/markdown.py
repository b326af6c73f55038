"""Markdown: ``check --format markdown`` for a pull-request comment, and ``docs/rules.md``.

``rules_reference()`` generates ``docs/rules.md`` from the rule registry (a test keeps the committed
file equal to it); ``CORPUS_FINDINGS`` holds the reviewed per-rule counts on the shared corpus, shown
in that document and pinned by ``tests/rules/test_corpus_counts.py``. Regenerate the document with
``python -m homeops.report.markdown > docs/rules.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from homeops.findings import Finding
from homeops.report import plural, summary
from homeops.rules.base import Rule

MAX_ROWS = 100
"""Rows per severity in a PR comment (GitHub caps a comment at 65,536 characters)."""

_HEADINGS = {"error": "Errors", "warning": "Warnings", "info": "Info"}


def _cell(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", " ").replace("\n", " "))


def render(findings: Sequence[Finding], rules: Mapping[str, Rule]) -> str:
    """A PR comment: a summary, then one table per severity (errors first)."""
    out = ["### homeops check", ""]
    if not findings:
        out.append("No problems found.")
        return "\n".join(out) + "\n"
    counts = summary(findings)
    files = {f.file for f in findings if f.file}
    fixable = sum(1 for f in findings if f.fixable)
    line = (f"**{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
            f"{counts['info']} info** in {plural(len(files), 'file')}")
    if fixable:
        line += f"; {fixable} fixable with `homeops check --fix`"
    out += [line, ""]
    for severity in ("error", "warning", "info"):
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        out += [f"#### {_HEADINGS[severity]} ({len(group)})", "", "| rule | location | message |",
                "| --- | --- | --- |"]
        for f in group[:MAX_ROWS]:
            rule = rules.get(f.rule)
            rule_cell = f"**{f.rule}** {_cell(rule.title)}" if rule else f"**{f.rule}**"
            where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or f.cluster or "")
            location = f"`{_cell(where)}`" if where else ""
            message = _cell(f.message) + (f" ({_cell(f.cluster)})" if f.cluster else "")
            out.append(f"| {rule_cell} | {location} | {message} |")
        if len(group) > MAX_ROWS:
            out.append(f"\n…and {len(group) - MAX_ROWS} more; run `homeops check` for the full list.")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- docs
CORPUS_PATH = "../shared/corpus/rtrox-home-ops"
CORPUS_COMMAND = f"homeops check {CORPUS_PATH} --format json"
"""How the corpus counts were taken: every cluster, default profile, no ``--var``."""

CORPUS_FINDINGS: dict[str, tuple[int, str]] = {}
"""Rule id → (findings on the corpus, review note). Pinned by ``tests/rules/test_corpus_counts.py``."""

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

A finding is also suppressed by a comment on its line, on the line above it, or above the start of
its object: `# homeops: ignore[HO009] reason` (several ids separated by commas).
"""


def rules_reference(rules: Mapping[str, Rule] | None = None,
                    corpus: Mapping[str, tuple[int, str]] | None = None) -> str:
    """The text of ``docs/rules.md``: every registered rule, then the reviewed corpus findings."""
    if rules is None:
        from homeops.rules.engine import load_rules

        rules = load_rules()
    corpus = CORPUS_FINDINGS if corpus is None else corpus
    out = ["# homeops rules", "",
           "<!-- Generated from the rule registry by `python -m homeops.report.markdown > docs/rules.md`;"
           " do not edit by hand (tests/report/test_rules_docs.py compares). -->", "", _PREAMBLE,
           "## Rules", "", "| id | severity | autofix | title |", "| --- | --- | --- | --- |"]
    ordered = [rules[k] for k in sorted(rules)]
    for r in ordered:
        out.append(f"| [{r.id}](#{r.id.lower()}) | {r.severity} | {'yes' if r.fixable else 'no'} | {_cell(r.title)} |")
    out.append("")
    for r in ordered:
        out += [f"### {r.id}", "", f"**{r.title}**", "",
                f"Severity: `{r.severity}` · Autofix: {'yes' if r.fixable else 'no'}", "",
                r.rationale, "", "Bad:", "", "```yaml", r.bad, "```", "", "Good:", "", "```yaml", r.good, "```", ""]
    out += ["## Corpus findings", "",
            f"Per-rule counts of `{CORPUS_COMMAND}` (run from the project directory), "
            "each reviewed for false positives and pinned by `tests/rules/test_corpus_counts.py`.", ""]
    if corpus:
        out += ["| rule | findings | review |", "| --- | ---: | --- |"]
        for rid in sorted(corpus):
            count, note = corpus[rid]
            out.append(f"| {rid} | {count} | {_cell(note)} |")
        out += ["", f"Total: {sum(c for c, _ in corpus.values())}. Rules not listed find nothing on the corpus.", ""]
    else:
        out += ["Not yet counted.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(rules_reference())

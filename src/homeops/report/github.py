"""``check --format github``: GitHub Actions workflow commands that annotate the pull request.

``::error file=F,line=L,title=HO009::message`` (``warning`` and ``notice`` for lower severities),
escaped as the runner expects, then one plain summary line for the log.
"""

from __future__ import annotations

from collections.abc import Sequence

from homeops.core.findings import Finding
from homeops.core.text import escape
from homeops.report.common import summary_sentence

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """The runner's escapes for line breaks; other control characters (a terminal escape) shown as text."""
    return escape(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(f: Finding) -> str:
    """One workflow command for ``f``."""
    props = []
    if f.file:
        props.append(f"file={escape_property(f.file)}")
        if f.line:
            props.append(f"line={f.line}")
    props.append(f"title={escape_property(f.rule)}")
    message = f.message + (f" [{f.cluster}]" if f.cluster else "")
    return f"::{COMMANDS.get(f.severity, 'notice')} {','.join(props)}::{escape_data(message)}"


def render(findings: Sequence[Finding]) -> str:
    lines = [command(f) for f in findings]
    lines.append(f"homeops: {summary_sentence(findings)}")
    return "\n".join(lines) + "\n"

"""The one registry of finding codes (``homeops.core.codes``) and the rules built on it."""

from __future__ import annotations

import re
from pathlib import Path

from homeops.core import codes
from homeops.rules.engine import load_rules


def test_every_code_is_a_documented_rule_and_every_rule_a_code() -> None:
    rules = load_rules()
    assert list(rules) == sorted(codes.CODES)
    for rid, rule in rules.items():
        code = codes.CODES[rid]
        assert (rule.title, rule.severity) == (code.title, code.severity)


def test_a_code_makes_findings_at_its_default_severity() -> None:
    found = codes.REVISION_UNRENDERABLE.finding("cannot check out", file="a.yaml", line=3, cluster="c")
    assert (found.rule, found.severity, found.message) == ("HO112", "error", "cannot check out")
    assert (found.file, found.line, found.cluster, found.fixable) == ("a.yaml", 3, "c", False)
    assert str(codes.VALUES_IN_CLUSTER) == "HO122" and codes.VALUES_IN_CLUSTER.severity == "info"


def test_no_code_is_written_as_text_outside_the_registry() -> None:
    """Modules name codes through ``homeops.core.codes`` constants, never as string literals."""
    package = Path(codes.__file__).resolve().parents[1]
    literal = re.compile(r"""(?<![\w"'])["']HO\d{3}["']""")
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        if path != Path(codes.__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []

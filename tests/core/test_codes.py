"""The one registry of finding codes (``homeops.core.codes``) and the rules built on it."""

from __future__ import annotations

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

"""docs/rules.md is generated from the rule registry and must stay equal to it."""

from __future__ import annotations

from pathlib import Path

from homeops.report.markdown import rules_reference
from homeops.rules.engine import load_rules
from rules_doc import CORPUS_FINDINGS, rules_doc

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    assert DOC.read_text(encoding="utf-8") == rules_doc(), (
        "docs/rules.md is out of date: run `python tests/rules_doc.py > docs/rules.md`"
    )


def test_every_rule_is_documented() -> None:
    rules = load_rules()
    text = rules_reference(rules)
    for rid, rule in rules.items():
        assert f"### {rid}\n\n**{rule.title}**" in text
        assert rule.rationale and rule.bad and rule.good, rid


def test_corpus_section_lists_pinned_counts() -> None:
    text = rules_doc(corpus={"HO009": (3, "all real | unpinned")})
    assert "## Corpus findings" in text
    assert "| HO009 | 3 | all real \\| unpinned |" in text
    assert set(CORPUS_FINDINGS) <= set(load_rules())

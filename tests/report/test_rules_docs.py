"""docs/rules.md is generated from the rule registry and must stay equal to it."""

from __future__ import annotations

from pathlib import Path

from homeops.report.markdown import CORPUS_FINDINGS, rules_reference
from homeops.rules.engine import load_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    assert DOC.read_text(encoding="utf-8") == rules_reference(), (
        "docs/rules.md is out of date: run `python -m homeops.report.markdown > docs/rules.md`"
    )


def test_every_rule_is_documented() -> None:
    text = rules_reference()
    for rid, rule in load_rules().items():
        assert f"### {rid}\n\n**{rule.title}**" in text
        assert rule.rationale and rule.bad and rule.good, rid


def test_corpus_section_lists_pinned_counts() -> None:
    text = rules_reference(corpus={"HO009": (3, "all real | unpinned")})
    assert "## Corpus findings" in text
    assert "| HO009 | 3 | all real \\| unpinned |" in text
    assert set(CORPUS_FINDINGS) <= set(load_rules())

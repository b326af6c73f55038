"""The reviewed per-rule finding counts on the shared corpus (``docs/rules.md``, "Corpus findings").

A change in a rule or in the render that moves a count must be reviewed again: update
``CORPUS_FINDINGS`` in ``tests/rules_doc.py`` with the new count and why, then regenerate
``docs/rules.md`` (``python tests/rules_doc.py > docs/rules.md``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from homeops.core.profile import load_profile
from homeops.rules.engine import load_rules, run_checks
from rules_doc import CORPUS_FINDINGS

pytestmark = pytest.mark.corpus


def test_corpus_counts_are_the_reviewed_ones(corpus: Path) -> None:
    findings, _ctx = run_checks(corpus, load_profile(corpus))
    counts = dict(sorted(Counter(f.rule for f in findings).items()))
    pinned = {rid: count for rid, (count, _note) in sorted(CORPUS_FINDINGS.items())}
    assert counts == pinned


def test_every_pinned_rule_exists_and_has_a_review_note() -> None:
    rules = load_rules()
    for rid, (count, note) in CORPUS_FINDINGS.items():
        assert rid in rules, rid
        assert count > 0 and len(note) > 20, rid

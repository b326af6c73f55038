"""``check --format json``: ``{"findings": [...], "summary": {"error", "warning", "info"}}`` per the contract."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from homeops.core.findings import Finding
from homeops.report.common import summary


def document(findings: Sequence[Finding]) -> dict[str, Any]:
    """The contract's JSON document for ``findings``."""
    return {"findings": [f.as_json() for f in findings], "summary": summary(findings)}


def render(findings: Sequence[Finding]) -> str:
    return json.dumps(document(findings), indent=2) + "\n"

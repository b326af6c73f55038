"""A finding: one problem at one place, from a rule or from the render itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from homeops.core.severity import SEVERITIES, severity_rank

__all__ = ["SEVERITIES", "Finding", "severity_rank"]


@dataclass
class Finding:
    rule: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    cluster: str | None = None
    fixable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "object": {"kind": self.kind, "name": self.name, "namespace": self.namespace},
            "cluster": self.cluster,
            "fixable": self.fixable,
        }

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file or "", self.line or 0, self.rule, self.message)

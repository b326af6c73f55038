"""``check --format sarif``: SARIF 2.1.0 for GitHub code scanning.

One run; ``tool.driver.rules`` describes every rule (title, rationale, examples, default level) and
each finding is one result with ``ruleId``/``ruleIndex``, ``level``, ``message.text`` and a physical
location relative to the repository root (``%SRCROOT%``). Code scanning rejects results without a
location, so a finding without a file points at its cluster's directory, else at the root.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from homeops import __version__
from homeops.core.findings import Finding
from homeops.report.common import RuleInfo

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def level(severity: str) -> str:
    """The SARIF level of a homeops severity."""
    return LEVELS.get(severity, "note")


def _name(title: str) -> str:
    """A PascalCase rule name from its title (``A route leaves ...`` → ``ARouteLeaves``)."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title)) or "Rule"


def rule_descriptor(rule: RuleInfo) -> dict[str, Any]:
    """A ``reportingDescriptor`` for ``rule``."""
    markdown = (
        f"{rule.rationale}\n\n**Bad**\n\n```yaml\n{rule.bad}\n```\n\n"
        f"**Good**\n\n```yaml\n{rule.good}\n```\n\nAutofix: {'yes' if rule.fixable else 'no'}."
    )
    return {
        "id": rule.id,
        "name": _name(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": rule.rationale, "markdown": markdown},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {"tags": ["homeops"], "fixable": rule.fixable},
    }


def _unknown_descriptor(rule_id: str, severity: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": rule_id},
        "defaultConfiguration": {"level": level(severity)},
    }


def _location(f: Finding, cluster_dirs: Mapping[str, str]) -> dict[str, Any]:
    uri = f.file or (cluster_dirs.get(f.cluster or "") if f.cluster else None) or "."
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if f.file and f.line:
        physical["region"] = {"startLine": f.line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if f.kind and f.name:
        qualified = "/".join(p for p in (f.cluster, f.namespace, f.kind, f.name) if p)
        location["logicalLocations"] = [{"name": f.name, "fullyQualifiedName": qualified, "kind": "object"}]
    return location


def document(
    findings: Sequence[Finding],
    rules: Mapping[str, RuleInfo],
    *,
    cluster_dirs: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The SARIF log for ``findings``; ``rules`` are every rule homeops knows."""
    descriptors: list[dict[str, Any]] = [rule_descriptor(r) for _, r in sorted(rules.items())]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    for f in findings:
        if f.rule not in index:
            index[f.rule] = len(descriptors)
            descriptors.append(_unknown_descriptor(f.rule, f.severity))
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": level(f.severity),
            "message": {"text": f.message},
            "locations": [_location(f, cluster_dirs or {})],
        }
        if f.cluster:
            result["properties"] = {"cluster": f.cluster, "fixable": f.fixable}
        results.append(result)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "homeops",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": descriptors,
                    }
                },
                "columnKind": "utf16CodeUnits",
                "results": results,
            }
        ],
    }


def render(
    findings: Sequence[Finding],
    rules: Mapping[str, RuleInfo],
    *,
    cluster_dirs: Mapping[str, str] | None = None,
) -> str:
    return json.dumps(document(findings, rules, cluster_dirs=cluster_dirs), indent=2) + "\n"

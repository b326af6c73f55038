"""SARIF 2.1.0 output: valid against the OASIS schema and shaped as GitHub code scanning needs.

The schema (``data/sarif-2.1.0-rtm.5.json``, the final 2.1.0 schema as published on SchemaStore) is
vendored from the npm package ``@microsoft/jest-sarif`` 1.0.0-beta.0 (MIT), ``lib/schemas/``; the
tests cannot download it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homeops.core.findings import Finding
from homeops.report import sarif
from homeops.rules.engine import load_rules
from support import EXAMPLE, run_cli

SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json"


def _findings() -> list[Finding]:
    return [
        Finding(
            "HO103",
            "error",
            "variable ${X} has no value",
            "apps/b.yaml",
            2,
            "ConfigMap",
            "cm",
            "default",
            "one",
        ),
        Finding("HO111", "warning", "applied twice", "apps/a.yaml", 3, cluster="one", fixable=True),
        Finding("HO101", "info", "no line", "apps/a.yaml", None, cluster="one"),
        Finding("HO105", "error", "dependency cycle", None, None, cluster="one"),
        Finding("HO999", "warning", "a rule homeops does not know", "x.yaml", 1),
    ]


def _validate(doc: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_schema_is_the_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


def test_valid_against_schema() -> None:
    _validate(sarif.document(_findings(), load_rules(), cluster_dirs={"one": "clusters/one/flux"}))
    _validate(sarif.document([], load_rules()))


def test_shape_code_scanning_needs() -> None:
    rules = load_rules()
    doc = sarif.document(_findings(), rules, cluster_dirs={"one": "clusters/one/flux"})
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "homeops"
    ids = [r["id"] for r in driver["rules"]]
    assert ids[: len(rules)] == sorted(rules)
    assert ids[-1] == "HO999"
    for descriptor in driver["rules"]:
        assert descriptor["shortDescription"]["text"]
        assert descriptor["defaultConfiguration"]["level"] in ("error", "warning", "note")
    ho103 = driver["rules"][ids.index("HO103")]
    assert ho103["name"] == "APostBuildVariableHasNoValue"
    assert ho103["fullDescription"]["text"] == rules["HO103"].rationale
    assert "```yaml" in ho103["help"]["markdown"]
    results = run["results"]
    assert len(results) == 5
    for result in results:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        assert len(result["locations"]) == 1
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert not artifact["uri"].startswith("/") and "\\" not in artifact["uri"]
    first = results[0]
    assert first["ruleId"] == "HO103" and first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "apps/b.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 2},
    }
    assert results[1]["level"] == "warning"
    assert results[2]["level"] == "note"
    assert "region" not in results[2]["locations"][0]["physicalLocation"]
    # a finding without a file points at its cluster's directory (code scanning needs a location)
    assert results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "clusters/one/flux"


def test_cli_sarif_on_the_example_is_valid() -> None:
    proc = run_cli("check", str(EXAMPLE), "--format", "sarif")
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    _validate(doc)
    for result in doc["runs"][0]["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert (EXAMPLE / uri).exists(), uri

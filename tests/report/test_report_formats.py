"""The text, JSON, GitHub and Markdown reports of findings."""

from __future__ import annotations

import json
from pathlib import Path

from homeops.core.findings import Finding
from homeops.report import (
    at_or_above,
    github,
    json_out,
    markdown,
    render_report,
    summary,
    summary_sentence,
    text,
)
from homeops.rules.engine import load_rules


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
        Finding(
            "HO111",
            "warning",
            "ConfigMap cm is applied twice",
            "apps/a.yaml",
            3,
            "ConfigMap",
            "cm",
            "default",
            "one",
            fixable=True,
        ),
        Finding(
            "HO101", "info", "a note, with: commas\nand a newline 100%", "apps/a.yaml", None, cluster="two"
        ),
        Finding("HO105", "error", "dependency cycle: a -> b -> a", None, None, cluster="one"),
    ]


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "a.yaml").write_text("a: 1\nb: 2\nc:\t3 # the third\n")
    (tmp_path / "apps" / "b.yaml").write_text("x: 1\ny: ${X}\n")
    return tmp_path


def test_summary_and_threshold() -> None:
    fs = _findings()
    assert summary(fs) == {"error": 2, "warning": 1, "info": 1}
    assert list(summary(fs)) == ["error", "warning", "info"]
    assert len(at_or_above(fs, "info")) == 4
    assert len(at_or_above(fs, "warning")) == 3
    assert [f.rule for f in at_or_above(fs, "error")] == ["HO103", "HO105"]
    assert summary_sentence([]) == "No problems found."
    assert (
        summary_sentence(fs) == "4 problems (2 errors, 1 warning, 1 info) in 2 files, 1 fixable with --fix."
    )


def test_text_groups_by_file_with_source_lines(tmp_path: Path) -> None:
    out = text.render(_findings(), _repo(tmp_path), color=False)
    lines = out.splitlines()
    assert "\x1b" not in out
    assert lines[0] == "error HO105 dependency cycle: a -> b -> a [one]"
    assert lines[1] == ""
    # a.yaml: the line-less finding first, then line 3 with its source (tabs expanded)
    assert lines[2].startswith("apps/a.yaml: info HO101 a note, with: commas")
    assert "apps/a.yaml:3: warning HO111 ConfigMap cm is applied twice [one]" in lines
    assert "     3 | c:  3 # the third" in lines
    assert "apps/b.yaml:2: error HO103 variable ${X} has no value [one]" in lines
    assert "     2 | y: ${X}" in lines
    assert lines[-1] == "4 problems (2 errors, 1 warning, 1 info) in 2 files, 1 fixable with --fix."
    # a blank line separates files
    b_line = lines.index("apps/b.yaml:2: error HO103 variable ${X} has no value [one]")
    assert lines[b_line - 2 : b_line] == ["     3 | c:  3 # the third", ""]
    assert "apps/a.yaml: info HO101 a note, with: commas and a newline 100% [two]" in lines


def test_text_without_cluster_suffix_when_one_cluster(tmp_path: Path) -> None:
    out = text.render(_findings()[:2], _repo(tmp_path))
    assert "[one]" not in out


def test_text_colour_only_when_asked(tmp_path: Path) -> None:
    out = text.render(_findings(), _repo(tmp_path), color=True)
    assert "\x1b[1;31merror\x1b[0m" in out
    assert "\x1b[2m     2 | y: ${X}\x1b[0m" in out


def test_text_survives_missing_files_and_lines(tmp_path: Path) -> None:
    fs = [
        Finding("HO101", "error", "gone", "missing.yaml", 4),
        Finding("HO101", "error", "past end", "a.yaml", 99),
    ]
    (tmp_path / "a.yaml").write_text("a: 1\n")
    out = text.render(fs, tmp_path)
    assert "a.yaml:99: error HO101 past end" in out
    assert "missing.yaml:4: error HO101 gone" in out
    assert "|" not in out


def test_text_clean() -> None:
    assert text.render([], Path(".")) == "\nNo problems found.\n".lstrip("\n")


def test_json_matches_the_contract() -> None:
    doc = json.loads(json_out.render(_findings()))
    assert set(doc) == {"findings", "summary"}
    assert doc["summary"] == {"error": 2, "warning": 1, "info": 1}
    first = doc["findings"][0]
    assert first == {
        "rule": "HO103",
        "severity": "error",
        "message": "variable ${X} has no value",
        "file": "apps/b.yaml",
        "line": 2,
        "object": {"kind": "ConfigMap", "name": "cm", "namespace": "default"},
        "cluster": "one",
        "fixable": False,
    }
    assert json.loads(json_out.render([])) == {
        "findings": [],
        "summary": {"error": 0, "warning": 0, "info": 0},
    }


def test_github_workflow_commands() -> None:
    lines = github.render(_findings()).splitlines()
    assert lines[0] == "::error file=apps/b.yaml,line=2,title=HO103::variable ${X} has no value [one]"
    assert lines[1] == "::warning file=apps/a.yaml,line=3,title=HO111::ConfigMap cm is applied twice [one]"
    assert (
        lines[2] == "::notice file=apps/a.yaml,title=HO101::a note, with: commas%0Aand a newline 100%25 [two]"
    )
    assert lines[3] == "::error title=HO105::dependency cycle: a -> b -> a [one]"
    assert lines[4].startswith("homeops: 4 problems")
    assert github.escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_markdown_pr_comment() -> None:
    rules = load_rules()
    fs = [*_findings(), Finding("HO103", "error", "a | pipe <b>", "x.yaml", 1)]
    out = markdown.render(fs, rules)
    assert out.startswith("### homeops check\n\n**3 errors, 1 warning, 1 info** in 3 files; 1 fixable")
    assert out.index("#### Errors (3)") < out.index("#### Warnings (1)") < out.index("#### Info (1)")
    assert (
        "| **HO103** A postBuild variable has no value | `apps/b.yaml:2` | variable ${X} has no value (one) |"
        in out
    )
    assert "a \\| pipe &lt;b&gt;" in out
    assert "a note, with: commas and a newline 100%" in out
    assert markdown.render([], rules) == "### homeops check\n\nNo problems found.\n"


def test_markdown_caps_rows() -> None:
    fs = [Finding("HO103", "error", f"m{i}", "x.yaml", i + 1) for i in range(markdown.MAX_ROWS + 5)]
    out = markdown.render(fs, load_rules())
    assert out.count("| **HO103**") == markdown.MAX_ROWS
    assert "…and 5 more" in out


def test_render_report_dispatch(tmp_path: Path) -> None:
    rules = load_rules()
    root = _repo(tmp_path)
    for fmt in ("text", "json", "sarif", "github", "markdown"):
        assert render_report(fmt, _findings(), root=root, rules=rules)

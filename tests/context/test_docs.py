"""``homeops docs``: the generated sections of the context document match the render, stale ones are
caught by ``--check``, and every hand-written byte survives regeneration."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from homeops.api import Workspace
from homeops.context import markers
from homeops.context.markdown import SECTIONS
from support import EXAMPLE, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden"
WHOAMI = (
    "ghcr.io/traefik/whoami:v1.10.4@sha256:1699d99cb4b9acc17f74ca670b3d8d0b7ba27c948b3445f0593b58ebece92f04"
)
UPDATE = "run 'homeops docs --path examples/home-ops' and review the diff"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "home-ops"
    shutil.copytree(EXAMPLE, root)
    return root


def _sections(text: str) -> dict[str, str]:
    return {s.name: s.body for s in markers.find_sections(text, "CLAUDE.md")}


def _table(body: str) -> list[list[str]]:
    """The data rows of every Markdown table in ``body`` (header and rule lines left out)."""
    lines = body.splitlines()
    rows = [
        line
        for i, line in enumerate(lines)
        if line.startswith("| ") and not line.startswith("| ---")
        and not (i + 1 < len(lines) and lines[i + 1].startswith("| ---"))
    ]  # fmt: skip
    return [[cell.strip().strip("`") for cell in row.strip("|").split(" | ")] for row in rows]


def test_example_document_is_current() -> None:
    proc = run_cli("docs", "--check", "--path", str(EXAMPLE))
    assert proc.returncode == 0, f"examples/home-ops/CLAUDE.md is stale ({UPDATE}):\n{proc.stdout}"
    assert proc.stdout == ""
    text = (EXAMPLE / "CLAUDE.md").read_text(encoding="utf-8")
    assert list(_sections(text)) == list(SECTIONS)


def test_example_sections_match_the_render() -> None:
    sections = _sections((EXAMPLE / "CLAUDE.md").read_text(encoding="utf-8"))
    clusters = json.loads(run_cli("get", "clusters", "--path", str(EXAMPLE), "-o", "json").stdout)["items"]
    rows = {row[0]: row for row in _table(sections["clusters"])}
    assert set(rows) == {c["name"] for c in clusters}
    for c in clusters:
        ks = json.loads(
            run_cli("get", "ks", "-A", "--cluster", c["name"], "--path", str(EXAMPLE), "-o", "json").stdout
        )["items"]
        assert int(rows[c["name"]][3]) == len(ks)
    assert rows["chongus"][1].startswith("modern") and rows["bitty"][1].startswith("legacy")

    releases = json.loads(run_cli("get", "hr", "-A", "--path", str(EXAMPLE), "-o", "json").stdout)["items"]
    apps = {(r[0], r[1]): (r[2], r[3]) for r in _table(sections["apps"])}
    assert apps == {(h["namespace"], h["name"]): (h["chart"], h["version"]) for h in releases}

    check = json.loads(run_cli("check", str(EXAMPLE), "--format", "json").stdout)
    counts: dict[str, int] = {}
    for f in check["findings"]:
        counts[f["rule"]] = counts.get(f["rule"], 0) + 1
    table = {r[0]: int(r[3]) for r in _table(sections["anti-patterns"])}
    assert {k: v for k, v in table.items() if v} == counts
    assert all(rule in table for rule in ("HO001", "HO009", "HO013", "HO030"))

    build = json.loads(
        run_cli("build", "ks", "--cluster", "chongus", "--path", str(EXAMPLE), "-o", "json").stdout
    )["items"]
    hosts = {
        h
        for item in build
        if item["object"]["kind"] == "HTTPRoute"
        for h in item["object"]["spec"]["hostnames"]
    }
    routes = {r[1]: r[2] for r in _table(sections["routes"]) if r[0] == "chongus"}
    assert hosts <= set(routes)  # HTTPRoute objects, plus the routes of chart values
    assert routes["ntfy.home.example.net"] == "external"  # the one app on envoy-external
    assert routes["jellyfin.home.example.net"] == "internal"
    backups = {r[1]: (r[2], r[3]) for r in _table(sections["backups"])}
    assert backups == {"default/linkding": ("volsync", "2Gi"), "media/jellyfin": ("volsync", "15Gi")}
    assert "`domain` | `home.example.net`" in sections["conventions"].replace("domain |", "`domain` |")


def test_new_app_makes_check_fail_with_the_expected_diff(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    proc = run_cli(
        "new",
        "app",
        "default/whoami",
        "--image",
        WHOAMI,
        "--port",
        "80",
        "--cluster",
        "chongus",
        "--path",
        str(root),
    )
    assert proc.returncode == 0, proc.stderr
    before = (root / "CLAUDE.md").read_bytes()
    proc = run_cli("docs", "--check", "--path", str(root))
    assert proc.returncode == 1
    assert "CLAUDE.md is stale: clusters, apps, routes (" in proc.stderr
    golden = GOLDEN / "new-app.diff"
    if os.environ.get("HOMEOPS_UPDATE_GOLDEN"):
        golden.write_text(proc.stdout, encoding="utf-8")
    assert proc.stdout == golden.read_text(encoding="utf-8"), (
        "HOMEOPS_UPDATE_GOLDEN=1 rewrites the golden diff"
    )
    assert (root / "CLAUDE.md").read_bytes() == before  # --check writes nothing

    proc = run_cli("docs", "--path", str(root))
    assert proc.returncode == 0 and "updated CLAUDE.md" in proc.stderr
    assert run_cli("docs", "--check", "--path", str(root)).returncode == 0


HAND_WRITTEN = [
    "# My cluster notes\r\n\r\nWindows line ends, trailing spaces   \n\n",
    "\nBetween sections: ünïcode, a | pipe, <!-- a comment --> and\ttabs.\n\n",
    "Text right before the end marker's neighbour, no blank line\n",
    "\n## Hand-written tail\n\nNo newline at the end of the file",
]


def test_hand_written_text_survives_byte_for_byte(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    # the author's own order (procedures first), stale bodies, and text around and between sections
    stale = {"procedures": "old procedures\n", "clusters": "", "apps": "| stale | table |\n"}
    doc = HAND_WRITTEN[0]
    doc += markers.wrap("procedures", stale["procedures"]) + HAND_WRITTEN[1]
    doc += markers.wrap("clusters", stale["clusters"]) + HAND_WRITTEN[2]
    doc += markers.wrap("apps", stale["apps"]) + HAND_WRITTEN[3]
    (root / "NOTES.md").write_bytes(doc.encode("utf-8"))
    proc = run_cli("docs", "--file", "NOTES.md", "--path", str(root))
    assert proc.returncode == 0, proc.stderr
    new = (root / "NOTES.md").read_bytes().decode("utf-8")
    expected = Workspace(root).context_sections()
    outside = re.split(r"<!-- homeops:begin [a-z-]+ -->\n.*?<!-- homeops:end [a-z-]+ -->\n", new, flags=re.S)
    assert outside[:3] == HAND_WRITTEN[:3]
    assert outside[3].startswith(HAND_WRITTEN[3] + "\n")  # the missing sections are appended after it
    found = _sections(new)
    assert list(found)[:3] == ["procedures", "clusters", "apps"]  # the author's order is kept
    assert found == expected
    assert run_cli("docs", "--check", "--file", "NOTES.md", "--path", str(root)).returncode == 0
    again = run_cli("docs", "--file", "NOTES.md", "--path", str(root))  # a second run changes nothing
    assert again.returncode == 0 and "up to date" in again.stderr
    assert (root / "NOTES.md").read_bytes().decode("utf-8") == new


def test_output_is_deterministic_wherever_the_repository_is(tmp_path: Path) -> None:
    first = Workspace(_copy(tmp_path / "a")).context_sections()
    second = Workspace(_copy(tmp_path / "b")).context_sections()
    assert first == second == _sections((EXAMPLE / "CLAUDE.md").read_text(encoding="utf-8"))
    for body in first.values():
        assert not re.search(r"\d{4}-\d{2}-\d{2}|tmp|/home/", body)


def test_a_missing_document_is_created_with_every_section(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "CLAUDE.md").unlink()
    proc = run_cli("docs", "--check", "--path", str(root))
    assert proc.returncode == 1 and proc.stdout.startswith("--- /dev/null\n+++ b/CLAUDE.md\n")
    assert not (root / "CLAUDE.md").exists()
    assert run_cli("docs", "--path", str(root)).returncode == 0
    assert list(_sections((root / "CLAUDE.md").read_text(encoding="utf-8"))) == list(SECTIONS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\n<!-- homeops:begin apps -->\nx\n", "CLAUDE.md:2: section 'apps' is never closed"),
        ("<!-- homeops:end apps -->\n", "CLAUDE.md:1: end of section 'apps' without its begin marker"),
        (
            "<!-- homeops:begin apps -->\n<!-- homeops:begin routes -->\n",
            "CLAUDE.md:2: section 'routes' begins inside section 'apps'",
        ),
        (
            "\n\n<!-- homeops:begin weather -->\n<!-- homeops:end weather -->\n",
            "CLAUDE.md:3: unknown generated section 'weather'",
        ),
        (
            "<!-- homeops:begin apps -->\n<!-- homeops:end apps -->\n" * 2,
            "CLAUDE.md:3: section 'apps' appears twice",
        ),
    ],
    ids=["unclosed", "stray-end", "nested", "unknown", "twice"],
)
def test_broken_markers_are_one_error_line_and_nothing_is_written(
    tmp_path: Path, text: str, message: str
) -> None:
    root = _copy(tmp_path)
    (root / "CLAUDE.md").write_text(text, encoding="utf-8")
    for args in ((), ("--check",)):
        proc = run_cli("docs", *args, "--path", str(root))
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith(f"homeops: error: {message}") and proc.stderr.count("\n") == 1
    assert (root / "CLAUDE.md").read_text(encoding="utf-8") == text


def test_a_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    proc = run_cli("docs", "--file", "../outside.md", "--path", str(root))
    assert proc.returncode == 2 and "outside the repository" in proc.stderr
    assert not (tmp_path / "outside.md").exists()


def test_procedure_commands_work_on_the_repository(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    procedures = _sections((root / "CLAUDE.md").read_text(encoding="utf-8"))["procedures"]
    migrations = re.findall(r"`homeops (migrate [^`]+)`", procedures)
    concrete = [m for m in migrations if "NAMESPACE" not in m]
    assert len(concrete) == 3
    for command in concrete:
        proc = run_cli(*command.split(), "--path", str(root))
        assert proc.returncode in (0, 1), f"{command}: {proc.stderr}"
        assert proc.stdout.startswith("--- ")  # the preview is a diff
    new_app = re.search(r"`homeops (new app [^`]+)`", procedures)
    assert new_app is not None
    words = new_app.group(1).replace("NAMESPACE/APP", "media/whoami").replace("REPOSITORY:TAG", WHOAMI)
    proc = run_cli(*words.replace("PORT", "80").split(), "--path", str(root))
    assert proc.returncode == 0, proc.stderr
    assert "+++ b/cluster-apps/chongus/media/whoami/ks.yaml" in proc.stdout


def test_init_writes_a_current_document_and_checks_it_in_ci(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    proc = run_cli("init", str(root), "--cluster", "alpha", "--domain", "home.example.net")
    assert proc.returncode == 0, proc.stderr
    assert run_cli("docs", "--check", "--path", str(root)).returncode == 0
    workflow = (root / ".github/workflows/check.yaml").read_text(encoding="utf-8")
    hooks = (root / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert "run: homeops docs --check" in workflow and "entry: homeops docs --check" in hooks
    example_hooks = (EXAMPLE / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert "entry: homeops docs --check" in example_hooks


def test_json_output() -> None:
    proc = run_cli("docs", "--check", "--path", str(EXAMPLE), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "file": "CLAUDE.md",
        "current": True,
        "stale": [],
        "written": [],
        "diff": "",
    }

"""``homeops docs`` on a repository of another layout than the document's (what public home-ops
repositories showed): the document states that repository's components, backups and conventions, never
homeops' defaults as if they were its own, and its procedures only commands that work there."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from homeops.api import Workspace
from homeops.context import markers
from layouts import other_layout
from support import run_cli

GIT = ("git", "-c", "user.email=test@example.net", "-c", "user.name=test")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = other_layout(tmp_path_factory.mktemp("layout") / "home-ops")
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "layout")):
        subprocess.run([*GIT, "-C", str(root), *args], check=True)
    proc = run_cli("docs", "--path", str(root))
    assert proc.returncode == 0, proc.stderr
    text = (root / "CLAUDE.md").read_text(encoding="utf-8")
    return root, {s.name: s.body for s in markers.find_sections(text, "CLAUDE.md")}


def _rows(body: str) -> dict[str, list[str]]:
    rows = [line.strip("|").split(" | ") for line in body.splitlines() if line.startswith("| ")]
    return {cells[0].strip().strip("`"): [c.strip() for c in cells[1:]] for cells in rows[2:]}


def test_components_wherever_the_repository_keeps_them(document: tuple[Path, dict[str, str]]) -> None:
    _root, sections = document
    rows = _rows(sections["components"])
    assert rows == {
        "kubernetes/components/namespace": ["1", "kubernetes/apps/media"],
        "kubernetes/components/snap": ["2", "media/books (kubernetes), media/films (kubernetes)"],
    }


def test_a_backup_component_of_its_own_covers_the_claims(document: tuple[Path, dict[str, str]]) -> None:
    root, sections = document
    assert "2 app(s) backed up; 0 with claims no backup covers." in sections["backups"]
    rows = [
        line.split(" | ")[1:3] for line in sections["backups"].splitlines() if line.startswith("| kubernetes")
    ]
    assert rows == [["media/books", "snap component"], ["media/films", "snap component"]]
    apps = {a.name: a for a in Workspace(root).apps()}
    films = apps["films"]
    assert films.unprotected == () and [(b.kind, b.covers) for b in films.backups] == [
        ("component", "films-data")
    ]
    assert films.backups[0].source.startswith("kubernetes/components/snap/policy.yaml:")


def test_conventions_are_the_repositorys_own(document: tuple[Path, dict[str, str]]) -> None:
    _root, sections = document
    conventions = sections["conventions"]
    assert "Read from the repository (no `.homeops.yaml`" in conventions
    rows = {k: v[0] for k, v in _rows(conventions).items()}
    assert rows["backups"] == "the `kubernetes/components/snap` component"
    assert rows["apps"] == "`kubernetes/apps/<namespace>/<app>/` (where most apps are)"
    assert rows["legacy paths"] == rows["deprecated clusters"] == "none"
    assert rows["internal gateway (the default)"] == "none in the render"
    assert rows["secrets"] == "no ExternalSecret or secret store in the render"
    assert "namespaces" not in rows  # the document's namespace components are not this repository's
    whole = "".join(sections.values())
    for default in ("cluster-apps/components", "`bitty`", "`cluster-cd`", "doppler", "172.22.12"):
        assert default not in whole, default
    # the anti-pattern table shows the severities and switches the inferred profile sets
    table = {k: v[0] for k, v in _rows(sections["anti-patterns"]).items()}
    assert table["HO026"] == "warning" and table["HO013"] == "off" and table["HO024"] == "error"


def test_procedures_name_only_commands_that_work_here(document: tuple[Path, dict[str, str]]) -> None:
    root, sections = document
    procedures = sections["procedures"]
    assert "homeops new app NAMESPACE/APP" in procedures and "--cluster kubernetes" in procedures
    assert "--from LEGACY" not in procedures
    assert "No cluster is legacy: there is nothing to migrate." in procedures
    for command in re.findall(r"`homeops ([a-z]+)`", procedures):
        proc = run_cli(command, "--path", str(root), *(("--check",) if command == "docs" else ()))
        assert proc.returncode in (0, 1), f"{command}: {proc.stderr}"
    # the new app the document offers is written where this repository keeps its apps
    image = "ghcr.io/example/echo:1@sha256:" + "1" * 64
    offered = run_cli("new", "app", "media/echo", "--image", image, "--port", "80", "--cluster", "kubernetes",
                      "--host", "echo.example.org", "--dry-run", "--path", str(root))  # fmt: skip
    assert offered.returncode == 0, offered.stderr
    assert "+++ b/kubernetes/apps/media/echo/ks.yaml" in offered.stdout


def test_the_document_is_current_and_its_check_json(document: tuple[Path, dict[str, str]]) -> None:
    root, _sections = document
    proc = run_cli("docs", "--check", "--path", str(root), "-o", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["current"] is True

"""One regression test per problem issue 13 lists (a drop-in for flux-local and flate users).

Byte-for-byte output is tested in tests/core/test_yamlemit.py and tests/kustomize/test_differential.py;
the verbs and flags in test_dropin.py; ``diff --enable-helm`` with no chart fetchable in
test_dropin.py::test_diff_hr_name_with_helm.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import EXAMPLE, run_cli

E = str(EXAMPLE)


def _on_a_terminal(*args: str, columns: int) -> str:
    """The CLI's stdout when it is a terminal of ``columns`` columns (COLUMNS set, as shells do)."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "homeops.cli.main", *args], stdout=child, stderr=subprocess.DEVNULL, env=env
    )
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_piped_wide_listings_are_never_cut() -> None:
    """``get ks -o wide`` and ``images list`` piped were cut at 250 columns with "…" (COLUMNS ignored)."""
    for args in (("get", "ks", "-o", "wide"), ("images", "list", "-o", "wide")):
        proc = subprocess.run(
            [sys.executable, "-m", "homeops.cli.main", *args, "--path", E],
            capture_output=True, text=True, env={**os.environ, "COLUMNS": "40"}, check=False,
        )  # fmt: skip
        assert proc.returncode in (0, 1), proc.stderr
        assert "…" not in proc.stdout
        assert max(len(line) for line in proc.stdout.splitlines()) > 40


def test_a_terminal_of_columns_width_gets_a_table_that_fits() -> None:
    text = _on_a_terminal("get", "ks", "-o", "wide", "--path", E, columns=120)
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines and lines[0].startswith("CLUSTER")
    assert all(len(line) <= 120 for line in lines)
    assert any("…" in line for line in lines)  # the widest column gave way
    wide = _on_a_terminal("get", "ks", "-o", "wide", "--path", E, columns=1000)
    assert "…" not in wide


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_before_or_after_the_subcommand(where: str) -> None:
    """``homeops check --debug`` said "No such option"."""
    args = (
        ["--debug", "check", "--path", "/nonexistent"]
        if where == "before"
        else ["check", "--path", "/nonexistent", "--debug"]
    )
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert "No such option" not in proc.stderr
    assert "Traceback" in proc.stderr and "is not a directory" in proc.stderr


@pytest.mark.parametrize(
    "command", [("get", "ks"), ("get", "hr"), ("get", "images"), ("build", "ks"), ("diff",), ("test",)]
)
def test_every_option_has_help_and_output_lists_its_values(command: tuple[str, ...]) -> None:
    """``-A``, ``-n`` had no help text; ``-o`` did not list its values."""
    proc = run_cli(*command, "--help")
    assert proc.returncode == 0
    text = proc.stdout
    options = [line for line in text.splitlines() if line.strip().startswith("-")]
    for line in options:  # an option line with nothing after its flags would be a missing help text
        index = text.splitlines().index(line)
        following = text.splitlines()[index + 1] if index + 1 < len(text.splitlines()) else ""
        flags_only = len(line.strip().split("  ")) == 1
        assert not flags_only or following.startswith(" " * 20), f"{line.strip()} has no help"
    if "-A, --all-namespaces" in text:
        assert "Every namespace" in text
    if "-o " in text:  # the values -o takes are listed (argparse may wrap the help text)
        flat = " ".join(text.split())
        assert re.search(r"Output format: \w+(, \w+)+", flat) or "unified (default" in flat


def test_init_over_existing_files_exits_2_naming_the_first(tmp_path: Path) -> None:
    """Re-running ``init`` over an edited tree said "added cluster atlas", exit 0, wrote nothing."""
    target = tmp_path / "home-ops"
    first = run_cli("init", str(target), "--cluster", "atlas", "--domain", "example.com")
    assert first.returncode == 0, first.stderr
    edited = sorted(target.rglob("*.yaml"))[0]
    edited.write_text(edited.read_text() + "# mine\n")
    again = run_cli("init", str(target), "--cluster", "atlas", "--domain", "example.com")
    assert again.returncode == 2
    assert "already exists" in again.stderr and "added cluster" not in again.stdout + again.stderr
    assert again.stderr.count("homeops: error:") == 1
    assert edited.read_text().endswith("# mine\n")


@pytest.mark.parametrize("value", ["=x", "1X=y", "A B=c", "noequals"])
def test_var_is_validated(value: str) -> None:
    """``--var =x`` was accepted."""
    proc = run_cli("get", "ks", "--path", E, "--var", value)
    assert proc.returncode == 2
    assert proc.stderr.startswith("homeops: error: --var") and proc.stdout == ""


def test_diff_problems_of_both_sides_are_reported(tmp_path: Path) -> None:
    """``homeops diff --enable-helm`` exited 0 with nothing on stderr when no chart could be fetched:
    problems both sides have vanished. Here, a Flux Kustomization broken at both revisions."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    (root / "cluster-apps/chongus/observability/gatus/app/kustomization.yaml").write_text(
        "resources: [gone.yaml]\n"
    )
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    proc = run_cli("diff", "--path", str(root))
    assert proc.returncode == 2
    assert "gone.yaml" in proc.stderr and "(at both sides)" in proc.stderr
    assert "not compared" in proc.stderr

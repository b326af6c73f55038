"""``homeops check`` and ``homeops rules``: formats, exit codes, selection, profile settings, fixes."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from homeops.core.edits import FileEdit, edit_file, unified_diff
from homeops.core.findings import Finding
from homeops.core.profile import DEFAULT
from homeops.rules import fix as check_cmd
from homeops.rules.base import REGISTRY, Rule, RuleContext
from homeops.rules.engine import load_rules
from homeops.rules.fix import CheckOptions, fix_repository, merge_edits, preview_fixes
from support import EXAMPLE, ROOT, run_cli

# bitty's child Kustomizations need CLUSTER_NAME; its apps use SOPS-only variables (HO103 findings)
BITTY_VARS = ("--var", "CLUSTER_NAME=bitty")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A writable copy of the example repository."""
    target = tmp_path / "home-ops"
    shutil.copytree(EXAMPLE, target)
    return target


def check_json(*args: str) -> tuple[int, dict, str]:
    proc = run_cli("check", *args, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


# ------------------------------------------------------------------------------ output and exit codes
def test_json_contract_and_exit_code() -> None:
    code, doc, _ = check_json(str(EXAMPLE), *BITTY_VARS)
    assert set(doc) == {"findings", "summary"}
    assert set(doc["summary"]) == {"error", "warning", "info"}
    assert sum(doc["summary"].values()) == len(doc["findings"])
    for f in doc["findings"]:
        assert set(f) == {"rule", "severity", "message", "file", "line", "object", "cluster", "fixable"}
        assert set(f["object"]) == {"kind", "name", "namespace"}
        assert f["severity"] in ("error", "warning", "info")
        assert re.fullmatch(r"HO\d{3}", f["rule"])
        assert f["file"] is None or not f["file"].startswith("/")
    ho103 = [f for f in doc["findings"] if f["rule"] == "HO103"]
    assert {(f["file"], f["line"]) for f in ho103} >= {
        ("cluster-cd/apps/bitty/media/tautulli/app/helmrelease.yaml", 37),
        ("cluster-cd/apps/bitty/network/ingress-nginx/app/helmrelease.yaml", 33),
    }
    assert code == (1 if doc["summary"]["error"] + doc["summary"]["warning"] else 0)


def test_directory_argument_equals_path_option() -> None:
    a = run_cli("check", str(EXAMPLE), "--format", "json", *BITTY_VARS)
    b = run_cli("check", "--path", str(EXAMPLE), "--format", "json", *BITTY_VARS)
    assert a.stdout == b.stdout and a.returncode == b.returncode


def test_text_output_groups_by_file_without_colour_in_a_pipe() -> None:
    proc = run_cli("check", str(EXAMPLE), *BITTY_VARS, "--select", "HO103")
    assert proc.returncode == 1
    assert "\x1b[" not in proc.stdout
    lines = proc.stdout.splitlines()
    i = lines.index(
        "cluster-cd/apps/bitty/media/tautulli/app/helmrelease.yaml:37: warning HO103 variable "
        "${TAUTULLI_API_KEY} has no value in cluster bitty (1 use in flux-system/tautulli): its value is in "
        "Secret/flux-system/cluster-secrets (clusters/bitty/flux/vars/cluster-secrets.sops.yaml:1), "
        "SOPS-encrypted: only the cluster can read it (add to .homeops.yaml: "
        "'vars: {bitty: {TAUTULLI_API_KEY: <value>}}', or pass --var bitty:TAUTULLI_API_KEY=... or --placeholders)"
    )
    assert lines[i + 1] == "    37 |               TAUTULLI__API_KEY: ${TAUTULLI_API_KEY}"
    assert re.fullmatch(r"\d+ problems? \(0 errors, \d+ warnings?, 0 info\) in \d+ files?\.", lines[-1])


def test_fail_on_threshold() -> None:
    base = ("check", str(EXAMPLE), *BITTY_VARS, "--select", "HO103", "--format", "json")
    assert run_cli(*base).returncode == 1
    # values held in a SOPS Secret are warnings (the cluster has them): below an error threshold
    assert run_cli(*base, "--fail-on", "error").returncode == 0
    assert (
        run_cli(
            *base,
            "--var",
            "SECRET_DOMAIN=x",
            "--var",
            "TAUTULLI_API_KEY=k",
            "--var",
            "INGRESS_NGINX_IPV4=1.2.3.4",
        ).returncode
        == 0
    )


def test_select_and_ignore() -> None:
    _, doc, _ = check_json(str(EXAMPLE), *BITTY_VARS, "--select", "HO103")
    assert doc["findings"] and {f["rule"] for f in doc["findings"]} == {"HO103"}
    _, doc, _ = check_json(str(EXAMPLE), *BITTY_VARS, "--select", "HO1", "--ignore", "HO103")
    assert "HO103" not in {f["rule"] for f in doc["findings"]}
    _, doc, _ = check_json(str(EXAMPLE), *BITTY_VARS, "--select", "ho103,HO102")
    assert {f["rule"] for f in doc["findings"]} == {"HO103"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "xml"), "unknown format 'xml'"),
        (("--fail-on", "fatal"), "unknown --fail-on 'fatal'"),
        (("--select", "HO777"), "unknown rule id(s): HO777"),
        (("--var", "NOEQUALS"), "is not NAME=VALUE"),
        (("--var", "=x"), "an empty name is not a variable name"),
        (("--var", "bitty:1X=y"), "'1X' is not a variable name"),
        (("--no-such-flag",), "No such option"),
        (("--path", "/"), "give the repository once"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    proc = run_cli("check", str(EXAMPLE), *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("homeops: error: ") and message in proc.stderr


def test_every_format_runs_on_the_example() -> None:
    for fmt in ("text", "json", "sarif", "github", "markdown"):
        proc = run_cli("check", str(EXAMPLE), *BITTY_VARS, "--format", fmt)
        assert proc.returncode in (0, 1), (fmt, proc.stderr)
        assert proc.stdout.strip(), fmt
    github = run_cli("check", str(EXAMPLE), *BITTY_VARS, "--select", "HO103", "--format", "github").stdout
    assert (
        "::warning file=cluster-cd/apps/bitty/media/tautulli/app/helmrelease.yaml,line=37,title=HO103::"
        in github
    )
    markdown = run_cli("check", str(EXAMPLE), *BITTY_VARS, "--select", "HO103", "--format", "markdown").stdout
    assert markdown.startswith("### homeops check\n") and "#### Warnings (" in markdown


# ------------------------------------------------------------------------------ .homeops.yaml settings
def _profile(root: Path, text: str) -> None:
    (root / ".homeops.yaml").write_text(text)


def test_profile_disables_a_rule(example: Path) -> None:
    _profile(example, "rules:\n  HO103: false\n")
    _, doc, _ = check_json(str(example), *BITTY_VARS, "--select", "HO1")
    assert "HO103" not in {f["rule"] for f in doc["findings"]}
    # naming the id in --select still runs it (a prefix does not)
    _, doc, _ = check_json(str(example), *BITTY_VARS, "--select", "HO103")
    assert doc["findings"]


def test_profile_mapping_disables_a_rule(example: Path) -> None:
    _profile(example, "rules:\n  HO103: {enabled: false}\n")
    _, doc, _ = check_json(str(example), *BITTY_VARS, "--select", "HO1")
    assert "HO103" not in {f["rule"] for f in doc["findings"]}


def test_profile_sets_severity(example: Path) -> None:
    _profile(example, "rules:\n  HO103: info\n")
    code, doc, _ = check_json(str(example), *BITTY_VARS, "--select", "HO103")
    assert doc["findings"] and {f["severity"] for f in doc["findings"]} == {"info"}
    assert code == 0  # below the default --fail-on warning
    proc = run_cli("check", str(example), *BITTY_VARS, "--select", "HO103", "--fail-on", "info")
    assert proc.returncode == 1
    _profile(example, "rules:\n  HO103: {enabled: true, severity: warning}\n")
    _, doc, _ = check_json(str(example), *BITTY_VARS, "--select", "HO103")
    assert {f["severity"] for f in doc["findings"]} == {"warning"}


def test_profile_ignore_paths(example: Path) -> None:
    _profile(example, "ignore_paths:\n  HO103:\n    - cluster-cd/apps/bitty/media/**\n")
    _, doc, _ = check_json(str(example), *BITTY_VARS, "--select", "HO103")
    files = {f["file"] for f in doc["findings"]}
    assert files == {"cluster-cd/apps/bitty/network/ingress-nginx/app/helmrelease.yaml"}
    _profile(example, "ignore_paths:\n  HO1:\n    - cluster-cd/**\n")
    code, doc, _ = check_json(str(example), *BITTY_VARS, "--select", "HO103")
    assert doc["findings"] == [] and code == 0
    # ``*`` stays within one path segment (docs/rules.md): the files below cluster-cd/ are not ignored
    _profile(example, "ignore_paths: {}\n")
    _, every, _ = check_json(str(example), *BITTY_VARS, "--select", "HO103")
    _profile(example, "ignore_paths:\n  HO103:\n    - cluster-cd/*\n")
    _, doc, _ = check_json(str(example), *BITTY_VARS, "--select", "HO103")
    assert doc["findings"] == every["findings"] != []


def test_inline_suppression(example: Path) -> None:
    target = example / "cluster-cd/apps/bitty/media/tautulli/app/helmrelease.yaml"
    lines = target.read_text().splitlines(keepends=True)
    lines[36] = lines[36].rstrip("\n") + "  # homeops: ignore[HO103] only the cluster has it\n"
    target.write_text("".join(lines))
    _, doc, _ = check_json(str(example), *BITTY_VARS, "--select", "HO103")
    assert (target.relative_to(example).as_posix(), 37) not in {
        (f["file"], f["line"]) for f in doc["findings"]
    }
    assert doc["findings"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules:\n  HO103: loud\n", "rules.HO103 in .homeops.yaml must be false, a severity"),
        ("rules:\n  HO103: {severity: loud}\n", "severity must be info, warning or error"),
        ("rules:\n  HO103: {enabled: maybe}\n", "enabled must be true or false"),
        ("rules:\n  HO103: {enable: false}\n", "unknown key(s) enable under rules.HO103"),
        ("rules:\n  HO777: false\n", "unknown rule id 'HO777' in .homeops.yaml"),
        ("rulez: {}\n", "unknown key 'rulez' in .homeops.yaml"),
    ],
)
def test_bad_profile_settings_exit_2(example: Path, text: str, message: str) -> None:
    _profile(example, text)
    proc = run_cli("check", str(example))
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stderr.splitlines()) == 1 and message in proc.stderr


# ------------------------------------------------------------------------------ rules command
def test_rules_table_and_explain() -> None:
    proc = run_cli("rules")
    assert proc.returncode == 0
    header = proc.stdout.splitlines()[0].split()
    assert header == ["ID", "SEVERITY", "FIXABLE", "TITLE"]
    for rid in [*(f"HO10{i}" for i in range(1, 10)), "HO110", "HO111"]:
        assert re.search(rf"^{rid}\s+(error|warning|info)\s+(true|false)\s+\S", proc.stdout, re.M), rid
    one = run_cli("rules", "ho103")
    assert one.returncode == 0
    assert one.stdout.startswith("HO103: A postBuild variable has no value\n")
    for part in ("Severity: error", "Autofix:  no", "Rationale:", "Bad:", "Good:", "VOLSYNC_CAPACITY: 5Gi"):
        assert part in one.stdout
    data = json.loads(run_cli("rules", "-o", "json").stdout)
    assert {
        "id": "HO103",
        "severity": "error",
        "fixable": False,
        "title": "A postBuild variable has no value",
    } in data["items"]
    bad = run_cli("rules", "HO777")
    assert bad.returncode == 2 and "unknown rule id 'HO777'" in bad.stderr


# ------------------------------------------------------------------------------ --enable-helm
def test_enable_helm_expands_every_render(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Offline with an empty chart cache, every cluster's HelmReleases are tried and reported (HO120)."""
    monkeypatch.setenv("HOMEOPS_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    findings, _ctx = check_cmd.collect(
        EXAMPLE, DEFAULT, CheckOptions(cli_vars={"CLUSTER_NAME": "bitty"}, enable_helm=True)
    )
    chart_findings = [f for f in findings if f.rule == "HO120"]
    assert {f.cluster for f in chart_findings} == {"bitty", "chongus"}
    assert all(f.file and f.line for f in chart_findings)


# ------------------------------------------------------------------------------ fixes
def _edit(path: str, old: str | None, new: str | None) -> FileEdit:
    return FileEdit(path, new, old)


def _f(n: int) -> Finding:
    return Finding("HO998", "warning", f"f{n}", "a.yaml", n)


OLD = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n"


def test_merge_edits_apart_changes_merge() -> None:
    edits, accepted, deferred = merge_edits(
        [
            (_f(1), [_edit("a.yaml", OLD, OLD.replace("a: 1", "a: 10"))]),
            (_f(5), [_edit("a.yaml", OLD, OLD.replace("e: 5", "e: 50"))]),
            (_f(3), [_edit("a.yaml", OLD, OLD.replace("c: 3\n", "c: 3\nc2: 33\n"))]),
        ]
    )
    assert [f.line for f in accepted] == [1, 5, 3] and deferred == []
    assert edits == [FileEdit("a.yaml", "a: 10\nb: 2\nc: 3\nc2: 33\nd: 4\ne: 50\n", OLD)]


def test_merge_edits_defers_adjacent_conflicting_and_stale_edits() -> None:
    edits, accepted, deferred = merge_edits(
        [
            (_f(1), [_edit("a.yaml", OLD, OLD.replace("b: 2", "b: 20"))]),
            (_f(2), [_edit("a.yaml", OLD, OLD.replace("c: 3", "c: 30"))]),  # next to line 2
            (_f(3), [_edit("a.yaml", OLD, OLD.replace("b: 2", "b: 21"))]),  # same line, other text
            (_f(4), [_edit("a.yaml", "stale\n", "fresh\n")]),  # computed from other text
            (_f(5), [_edit("a.yaml", OLD, OLD.replace("b: 2", "b: 20"))]),  # the same change: fine
            (
                _f(6),
                [_edit("a.yaml", OLD, OLD.replace("e: 5\n", "e: 5\na: 2\n"))],
            ),  # duplicate key: invalid YAML
        ]
    )
    assert [f.line for f in accepted] == [1, 5]
    assert [f.line for f in deferred] == [2, 3, 4, 6]
    assert edits == [FileEdit("a.yaml", OLD.replace("b: 2", "b: 20"), OLD)]


def test_merge_edits_takes_a_fix_whole_or_not_at_all() -> None:
    edits, accepted, deferred = merge_edits(
        [
            (_f(1), [_edit("a.yaml", OLD, OLD.replace("a: 1", "a: 10"))]),
            (
                _f(2),
                [_edit("b.yaml", "x: 1\n", "x: 2\n"), _edit("a.yaml", OLD, OLD.replace("b: 2", "b: 20"))],
            ),
            (_f(3), [_edit("new.yaml", None, "n: 1\n")]),
            (_f(4), [_edit("new.yaml", None, "n: 2\n")]),
            (_f(5), [_edit("gone.yaml", "g: 1\n", None)]),
            (_f(6), [_edit("gone.yaml", "g: 1\n", "g: 2\n")]),
        ]
    )
    assert [f.line for f in accepted] == [1, 3, 5]
    assert [f.line for f in deferred] == [2, 4, 6]
    assert [e.path for e in edits] == ["a.yaml", "gone.yaml", "new.yaml"]  # b.yaml went with the deferred fix


def _marker_rule(monkeypatch: pytest.MonkeyPatch, *, resolves: bool = True) -> None:
    """A rule HO998 that flags each ``fixme`` line of ``*.yaml`` and fixes it to ``fixed``."""

    def check(ctx: RuleContext) -> Iterable[Finding]:
        for rel in ctx.repo_files():
            if rel.endswith(".yaml"):
                for n, line in enumerate((ctx.root / rel).read_text().splitlines(), 1):
                    if "fixme" in line:
                        yield Finding("HO998", "warning", f"{line.strip()} is marked", rel, n, fixable=True)

    def fix(ctx: RuleContext, f: Finding) -> list[FileEdit]:
        assert f.file and f.line
        lines = (ctx.root / f.file).read_text().splitlines(keepends=True)
        lines[f.line - 1] = lines[f.line - 1].replace("fixme", "fixed" if resolves else "fixme fixme")
        return [edit_file(ctx.root, f.file, "".join(lines))]

    load_rules()
    monkeypatch.setitem(REGISTRY, "HO998", Rule("HO998", "Marker", "warning", "r", "b", "g", check, fix))


def _counting_collect(counter: list[int]):  # type: ignore[no-untyped-def]
    def collector(*args, **kwargs):  # type: ignore[no-untyped-def]
        counter.append(1)
        return check_cmd.collect(*args, **kwargs)

    return collector


def test_fix_repository_merges_apart_fixes_and_defers_neighbours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _marker_rule(monkeypatch)
    (tmp_path / "a.yaml").write_text("# keep this comment\nx: fixme-1\ny: 2\nz: fixme-3\nw: fixme-4\n")
    (tmp_path / "b.yaml").write_text("b: fixme  # trailing comment\n")
    runs: list[int] = []
    outcome = fix_repository(
        tmp_path, DEFAULT, CheckOptions(select=["HO998"]), collector=_counting_collect(runs)
    )
    assert (
        tmp_path / "a.yaml"
    ).read_text() == "# keep this comment\nx: fixed-1\ny: 2\nz: fixed-3\nw: fixed-4\n"
    assert (tmp_path / "b.yaml").read_text() == "b: fixed  # trailing comment\n"
    assert outcome.fixed == 4 and outcome.remaining == [] and outcome.warnings == []
    assert sorted(outcome.originals) == ["a.yaml", "b.yaml"]
    assert len(runs) == 3  # first check, after round 1 (lines 2, 4 and b.yaml), after round 2 (line 5)


def test_fix_that_does_not_resolve_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _marker_rule(monkeypatch, resolves=False)
    (tmp_path / "a.yaml").write_text("x: fixme\n")
    outcome = fix_repository(tmp_path, DEFAULT, CheckOptions(select=["HO998"]))
    assert (tmp_path / "a.yaml").read_text() == "x: fixme fixme\n"
    assert outcome.warnings == ["the fix for HO998 did not resolve it at a.yaml"]
    assert len(outcome.remaining) == 1


def test_preview_fixes_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _marker_rule(monkeypatch)
    (tmp_path / "a.yaml").write_text("x: fixme\ny: fixme\n")
    outcome, edits = preview_fixes(tmp_path, DEFAULT, CheckOptions(select=["HO998"]))
    diff = unified_diff(edits)
    assert (tmp_path / "a.yaml").read_text() == "x: fixme\ny: fixme\n"
    assert diff == "--- a/a.yaml\n+++ b/a.yaml\n@@ -1,2 +1,2 @@\n-x: fixme\n-y: fixme\n+x: fixed\n+y: fixed\n"
    assert outcome.fixed == 2 and outcome.remaining == []


def _unregister(example: Path) -> Path:
    """Drop linkding from its namespace kustomization (an HO021 finding with an autofix)."""
    target = example / "cluster-apps/chongus/default/kustomization.yaml"
    text = target.read_text()
    assert "./linkding/ks.yaml" in text
    target.write_text(
        "".join(line for line in text.splitlines(keepends=True) if "./linkding/ks.yaml" not in line)
    )
    return target


def _needs_fixable(rule_id: str) -> None:
    rule = load_rules().get(rule_id)
    if rule is None or not rule.fixable:
        pytest.skip(f"{rule_id} has no autofix in this tree")


def test_cli_fix_diff_then_fix(example: Path) -> None:
    _needs_fixable("HO021")
    target = _unregister(example)
    before = target.read_text()
    preview = run_cli("check", str(example), "--cluster", "chongus", "--select", "HO021", "--fix", "--diff")
    assert preview.returncode == 1, preview.stderr
    assert preview.stdout.startswith("--- a/cluster-apps/chongus/default/kustomization.yaml\n")
    assert "+  - ./linkding/ks.yaml\n" in preview.stdout
    assert "would fix 1 problem in 1 file" in preview.stderr
    assert target.read_text() == before
    fixed = run_cli("check", str(example), "--cluster", "chongus", "--select", "HO021", "--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "fixed 1 problem in 1 file" in fixed.stderr
    assert fixed.stdout.strip() == "No problems found."
    assert "./linkding/ks.yaml" in target.read_text()
    again = run_cli("check", str(example), "--cluster", "chongus", "--select", "HO021", "--fix", "--diff")
    assert again.returncode == 0 and again.stdout == ""


def test_pre_commit_hook_definition() -> None:
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "homeops-check")
    assert hook["entry"] == "homeops check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("cluster-apps/chongus/default/ks.yaml") and files.search("x/.homeops.yml")
    assert not files.search("README.md")

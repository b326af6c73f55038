"""``homeops check`` and ``homeops rules``: run the rules, report findings, apply safe fixes.

Fixes are applied in rounds: each round runs the checks, asks every fixable finding's rule for its
edits, merges the edits of one file when their changes are apart (and the result still parses),
defers the rest, writes through ``apply_edits`` and checks again, so a deferred fix is recomputed
against the new text. ``--diff`` runs the same rounds on a temporary copy and prints the diff.
"""

from __future__ import annotations

import difflib
import importlib
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from homeops.cli import common
from homeops.cli.flux_cmd import parse_vars
from homeops.core import yamlio
from homeops.core.edits import FileEdit, apply_edits, unified_diff
from homeops.core.errors import EXIT_FINDINGS, HomeopsError
from homeops.core.files import FileCache
from homeops.core.findings import SEVERITIES, Finding
from homeops.core.profile import Profile, load_profile
from homeops.report import FORMATS, at_or_above, plural, render_report, summary_sentence
from homeops.rules.base import Rule, RuleContext
from homeops.rules.engine import load_rules, render_all, run_checks

MAX_FIX_ROUNDS = 10
_COPY_IGNORE = (".git", ".venv", "node_modules")


@dataclass
class CheckOptions:
    """What to check: cluster, variables, rule selection, Helm expansion."""

    cluster: str | None = None
    cli_vars: dict[str, str] = field(default_factory=dict)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    enable_helm: bool = False


def _helm_expand_module() -> Any:
    try:
        return importlib.import_module("homeops.flux.helm_expand")
    except ModuleNotFoundError as exc:
        if exc.name != "homeops.flux.helm_expand":
            raise
        raise HomeopsError(
            "--enable-helm needs HelmRelease expansion (homeops.flux.helm_expand), "
            "which this installation does not have",
            hint="run without --enable-helm",
        ) from None


def collect(
    root: Path, profile: Profile, opts: CheckOptions, progress: Any = None
) -> tuple[list[Finding], RuleContext]:
    """Render every cluster (or ``opts.cluster``), expand HelmReleases if asked, and run the rules."""
    helm = _helm_expand_module() if opts.enable_helm else None
    renders = render_all(root, profile, opts.cluster, opts.cli_vars, FileCache(root), progress)
    if helm is not None:
        for render in renders:
            helm.expand(root, render, list(render.rendered.values()))
    return run_checks(
        root,
        profile,
        cluster=opts.cluster,
        cli_vars=opts.cli_vars,
        select=opts.select,
        ignore=opts.ignore,
        renders=renders,
    )


# ------------------------------------------------------------------------------------------ fixes
Hunk = tuple[int, int, tuple[str, ...]]  # replace old lines [i1, i2) by these lines


def _hunks(old: str, new: str) -> list[Hunk]:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(i1, i2, tuple(b[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _apart(x: Hunk, y: Hunk) -> bool:
    """At least one unchanged line between two changes (an identical change counts as compatible)."""
    return x == y or x[1] < y[0] or y[1] < x[0]


@dataclass(frozen=True)
class _FileState:
    old: str | None
    new: str | None
    hunks: tuple[Hunk, ...] = ()


def _merge(state: _FileState, edit: FileEdit) -> _FileState | None:
    """``state`` with ``edit`` merged in, or None when they conflict (the edit is deferred)."""
    if edit.old != state.old:
        return None
    if edit.new == state.new:
        return state
    if state.old is None or state.new is None or edit.new is None:
        return None
    added = [h for h in _hunks(state.old, edit.new) if h not in state.hunks]
    if not all(_apart(h, k) for h in added for k in state.hunks):
        return None
    hunks = tuple(sorted((*state.hunks, *added)))
    lines = state.old.splitlines(keepends=True)
    for i1, i2, replacement in sorted(hunks, reverse=True):
        lines[i1:i2] = replacement
    merged = "".join(lines)
    if edit.path.endswith((".yaml", ".yml")):
        try:
            yamlio.load_all(merged, edit.path)
        except HomeopsError:
            return None
    return _FileState(state.old, merged, hunks)


def merge_edits(
    groups: Sequence[tuple[Finding, Sequence[FileEdit]]],
) -> tuple[list[FileEdit], list[Finding], list[Finding]]:
    """Merge the edits of several fixes: (one edit per file, accepted findings, deferred findings).

    A fix's edits are taken whole or deferred whole; edits of one file merge when computed from the
    same text and their changes are apart, else the later fix waits for the next round.
    """
    state: dict[str, _FileState] = {}
    accepted: list[Finding] = []
    deferred: list[Finding] = []
    for finding, edits in groups:
        trial = dict(state)
        ok = True
        for edit in edits:
            current = trial.get(edit.path)
            if current is None:
                hunks = (
                    tuple(_hunks(edit.old, edit.new)) if edit.old is not None and edit.new is not None else ()
                )
                trial[edit.path] = _FileState(edit.old, edit.new, hunks)
                continue
            merged = _merge(current, edit)
            if merged is None:
                ok = False
                break
            trial[edit.path] = merged
        if ok:
            state = trial
            accepted.append(finding)
        else:
            deferred.append(finding)
    return [FileEdit(path, s.new, s.old) for path, s in sorted(state.items())], accepted, deferred


def _fix_key(f: Finding) -> tuple[Any, ...]:
    return (f.rule, f.file, f.cluster, f.kind, f.name, f.namespace)


def _where(f: Finding) -> str:
    return f"{f.file}:{f.line}" if f.file and f.line else (f.file or f.cluster or "the repository")


@dataclass
class FixOutcome:
    fixed: int  # findings whose fixes were written
    originals: dict[str, str | None]  # path -> its text before the first fix (None: created)
    remaining: list[Finding]
    ctx: RuleContext
    warnings: list[str] = field(default_factory=list)


def fix_repository(
    root: Path,
    profile: Profile,
    opts: CheckOptions,
    *,
    max_rounds: int = MAX_FIX_ROUNDS,
    collector: Callable[..., tuple[list[Finding], RuleContext]] = collect,
) -> FixOutcome:
    """Apply the fixes of every fixable finding under ``root``, in rounds, then check again."""
    rules = load_rules()
    findings, ctx = collector(root, profile, opts)
    originals: dict[str, str | None] = {}
    warnings: list[str] = []
    fixed = 0
    blocked: set[tuple[Any, ...]] = set()
    expected: dict[tuple[Any, ...], int] = {}
    for _ in range(max_rounds):
        fixable = [
            f for f in findings if f.fixable and (r := rules.get(f.rule)) is not None and r.fix is not None
        ]
        counts = Counter(_fix_key(f) for f in fixable)
        for key, count in counts.items():
            if key in expected and count > expected[key] and key not in blocked:
                blocked.add(key)
                warnings.append(f"the fix for {key[0]} did not resolve it at {key[1] or 'the repository'}")
        groups: list[tuple[Finding, list[FileEdit]]] = []
        for f in fixable:
            if _fix_key(f) in blocked:
                continue
            fix = rules[f.rule].fix
            assert fix is not None
            try:
                edits = [e for e in fix(ctx, f) if e.new != e.old]
            except HomeopsError as exc:
                blocked.add(_fix_key(f))
                warnings.append(f"cannot fix {f.rule} at {_where(f)}: {exc.one_line()}")
                continue
            if edits:
                groups.append((f, edits))
        if not groups:
            break
        edits, accepted, _deferred = merge_edits(groups)
        for edit in edits:
            originals.setdefault(edit.path, edit.old)
        apply_edits(root, edits)
        fixed += len(accepted)
        done = Counter(_fix_key(f) for f in accepted)
        expected = {key: counts[key] - n for key, n in done.items()}
        findings, ctx = collector(root, profile, opts)
    return FixOutcome(fixed, originals, findings, ctx, warnings)


def _copy_repository(root: Path, target: Path) -> None:
    """Copy the work tree (not ``.git``) and recreate its Git remotes, which decide local sources."""
    shutil.copytree(root, target, symlinks=True, ignore=shutil.ignore_patterns(*_COPY_IGNORE))
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "remote", "-v"], capture_output=True, text=True, check=False
        )
        remotes = {
            parts[0]: parts[1]
            for parts in (line.split() for line in out.stdout.splitlines())
            if len(parts) >= 2
        }
        if remotes:
            subprocess.run(["git", "init", "-q", str(target)], capture_output=True, check=False)
            for name, url in remotes.items():
                subprocess.run(
                    ["git", "-C", str(target), "remote", "add", name, url], capture_output=True, check=False
                )
    except OSError:
        pass


def preview_fixes(root: Path, profile: Profile, opts: CheckOptions) -> tuple[FixOutcome, str]:
    """What ``--fix`` would do, as a unified diff, computed on a temporary copy of the repository."""
    with tempfile.TemporaryDirectory(prefix="homeops-fix-") as tmp:
        work = Path(tmp) / "repo"
        _copy_repository(root, work)
        outcome = fix_repository(work, profile, opts)
        edits = []
        for path, old in sorted(outcome.originals.items()):
            target = work / path
            new = target.read_text(encoding="utf-8") if target.is_file() else None
            if new != old:
                edits.append(FileEdit(path, new, old))
        return outcome, unified_diff(edits)


# -------------------------------------------------------------------------------------- commands
def _rule_rows(rules: dict[str, Rule]) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "severity": r.severity, "fixable": r.fixable, "title": r.title} for r in rules.values()
    ]


def explain(rule: Rule) -> str:
    """``homeops rules ID``: title, severity, rationale, examples, autofix."""

    def indent(text: str) -> str:
        return "\n".join(f"    {line}" if line else "" for line in text.splitlines())

    return (
        f"{rule.id}: {rule.title}\n\n"
        f"Severity: {rule.severity}\nAutofix:  {'yes' if rule.fixable else 'no'}\n\n"
        f"Rationale:\n{indent(rule.rationale)}\n\n"
        f"Bad:\n{indent(rule.bad)}\n\n"
        f"Good:\n{indent(rule.good)}\n"
    )


def _ids(values: list[str] | None) -> list[str]:
    return list(values or [])


def _stderr(message: str) -> None:
    print(f"homeops: {message}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        directory: Annotated[
            Path | None, typer.Argument(metavar="[DIR]", help="Repository root (same as --path).")
        ] = None,
        path: Annotated[
            Path | None, typer.Option("--path", help="Repository root (default: Git top level, else .).")
        ] = None,
        cluster: Annotated[
            str | None, typer.Option("--cluster", help="Check one cluster (name or directory).")
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="text, json, sarif, github or markdown.")] = "text",
        fail_on: Annotated[
            str, typer.Option("--fail-on", help="Exit 1 on findings at or above: info, warning, error.")
        ] = "warning",
        select: Annotated[
            list[str] | None,
            typer.Option("--select", help="Only these rule ids or prefixes (comma-separated, repeatable)."),
        ] = None,
        ignore: Annotated[
            list[str] | None, typer.Option("--ignore", help="Skip these rule ids or prefixes.")
        ] = None,
        fix: Annotated[
            bool, typer.Option("--fix", help="Apply the safe autofixes, then report what remains.")
        ] = False,
        diff: Annotated[
            bool,
            typer.Option(
                "--diff", help="Print the fixes as a unified diff and write nothing (implies --fix)."
            ),
        ] = False,
        var: Annotated[
            list[str] | None, typer.Option("--var", help="KEY=VALUE for variables only the cluster knows.")
        ] = None,
        enable_helm: Annotated[
            bool, typer.Option("--enable-helm", help="Expand HelmReleases into their objects first.")
        ] = False,
    ) -> None:
        """Render every cluster and report findings of the rules (see 'homeops rules')."""
        if fmt not in FORMATS:
            raise HomeopsError(f"unknown format {fmt!r}", hint=f"use --format {', '.join(FORMATS)}")
        if fail_on not in SEVERITIES:
            raise HomeopsError(f"unknown --fail-on {fail_on!r}", hint="use info, warning or error")
        if directory is not None and path is not None and directory.resolve() != path.resolve():
            raise HomeopsError("give the repository once, as DIR or --path", hint="drop one of them")
        root = common.repo_root(directory if directory is not None else path)
        profile = load_profile(root)
        opts = CheckOptions(cluster, parse_vars(var), _ids(select), _ids(ignore), enable_helm)
        rules = load_rules()
        if diff:
            outcome, text = preview_fixes(root, profile, opts)
            sys.stdout.write(text)
            for warning in outcome.warnings:
                _stderr(f"warning: {warning}")
            _stderr(
                f"would fix {plural(outcome.fixed, 'problem')} in {plural(len(outcome.originals), 'file')}; "
                f"then: {summary_sentence(outcome.remaining)} (run without --diff to apply)"
            )
            raise typer.Exit(EXIT_FINDINGS if text or at_or_above(outcome.remaining, fail_on) else 0)
        if fix:
            outcome = fix_repository(root, profile, opts)
            for warning in outcome.warnings:
                _stderr(f"warning: {warning}")
            _stderr(f"fixed {plural(outcome.fixed, 'problem')} in {plural(len(outcome.originals), 'file')}")
            findings, ctx = outcome.remaining, outcome.ctx
        else:
            with common.progress("checking") as tick:
                findings, ctx = collect(root, profile, opts, progress=tick)
        if not ctx.renders and cluster is None:
            _stderr(
                f"warning: no cluster found under {profile.clusters_dir}/; only repository-wide rules ran"
            )
        cluster_dirs = {r.cluster.name: r.cluster.directory for r in ctx.renders}
        sys.stdout.write(
            render_report(
                fmt, findings, root=root, rules=rules, color=common.use_color(), cluster_dirs=cluster_dirs
            )
        )
        raise typer.Exit(EXIT_FINDINGS if at_or_above(findings, fail_on) else 0)

    @app.command("rules")
    def rules_cmd(
        rule_id: Annotated[
            str | None, typer.Argument(metavar="[ID]", help="A rule id to explain, e.g. HO009.")
        ] = None,
        output: Annotated[str, typer.Option("-o", "--output", help="table or json.")] = "table",
    ) -> None:
        """List the rules, or explain one (rationale, bad and good example, autofix)."""
        if output not in ("table", "json"):
            raise HomeopsError(f"unknown output {output!r}", hint="use -o table or -o json")
        rules = load_rules()
        if rule_id is None:
            common.print_rows(_rule_rows(rules), ["id", "severity", "fixable", "title"], output)
            return
        rule = rules.get(rule_id.strip().upper())
        if rule is None:
            raise HomeopsError(f"unknown rule id {rule_id!r}", hint="see 'homeops rules'")
        if output == "json":
            common.print_json(
                {
                    "id": rule.id,
                    "title": rule.title,
                    "severity": rule.severity,
                    "fixable": rule.fixable,
                    "rationale": rule.rationale,
                    "bad": rule.bad,
                    "good": rule.good,
                }
            )
        else:
            sys.stdout.write(explain(rule))

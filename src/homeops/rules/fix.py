"""Safe autofixes as library code: the fix loop that ``check --fix`` and ``Workspace.fix`` call.

Fixes are applied in rounds: each round runs the checks, asks every fixable finding's rule for its
edits, merges the edits of one file when their changes are apart (and the result still parses),
defers the rest, writes through ``apply_edits`` and checks again, so a deferred fix is recomputed
against the new text. A preview runs the same rounds on a temporary copy and returns the diff.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import fs, git, yamlio
from homeops.core.edits import FileEdit, apply_edits
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.findings import Finding
from homeops.core.profile import Profile
from homeops.core.variables import ClusterVars
from homeops.flux import helm_expand
from homeops.flux.settings import DEFAULT_SETTINGS, RenderSettings
from homeops.rules.base import RuleContext
from homeops.rules.engine import load_rules, render_all, run_checks

MAX_FIX_ROUNDS = 10
_COPY_IGNORE = (".git", ".venv", "node_modules")


@dataclass
class CheckOptions:
    """What to check: cluster, variables, rule selection, Helm expansion."""

    cluster: str | None = None
    cli_vars: Mapping[str, str] | ClusterVars = field(default_factory=dict)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    enable_helm: bool = False
    settings: RenderSettings = DEFAULT_SETTINGS  # --sources, --strict-substitution, --remote


def collect(
    root: Path, profile: Profile, opts: CheckOptions, progress: Any = None
) -> tuple[list[Finding], RuleContext]:
    """Render every cluster (or ``opts.cluster``), expand HelmReleases if asked, and run the rules."""
    renders = render_all(root, profile, opts.cluster, opts.cli_vars, FileCache(root), progress, opts.settings)
    if opts.enable_helm:
        for render in renders:
            helm_expand.expand(root, render, list(render.rendered.values()), settings=opts.settings)
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
    git.copy_remotes(root, target)


def preview_fixes(root: Path, profile: Profile, opts: CheckOptions) -> tuple[FixOutcome, list[FileEdit]]:
    """What ``--fix`` would do, as edits, computed on a temporary copy of the repository."""
    with tempfile.TemporaryDirectory(prefix="homeops-fix-") as tmp:
        work = Path(tmp) / "repo"
        _copy_repository(root, work)
        outcome = fix_repository(work, profile, opts)
        return outcome, changed_files(outcome.originals, work)


def changed_files(originals: Mapping[str, str | None], root: Path) -> list[FileEdit]:
    """Edits from each file's text before the first fix to its text now under ``root``."""
    edits = []
    for path, old in sorted(originals.items()):
        target = root / path
        new = fs.read_text(root, target) if os.path.isfile(target) else None
        if new != old:
            edits.append(FileEdit(path, new, old))
    return edits

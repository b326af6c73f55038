"""Running a diff: which two trees are compared and how each is rendered, then :func:`compare`.

``diff_repository`` resolves the revisions (``HEAD`` and the working tree by default, ``--merge-base``
as ``git diff A...B`` does) and renders each side (:mod:`homeops.diff.sides`). The head is rendered in
place when it is the working tree (or a clean ``HEAD``) while the base is checked out in the
background and mostly reuses the head's renders; otherwise both revisions share one scratch checkout.
``--path-orig`` compares another directory holding the repository instead of a Git revision.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import git
from homeops.core.codes import REVISION_UNRENDERABLE
from homeops.core.errors import HomeopsError
from homeops.core.git.caches import ParseCache
from homeops.core.git.materialise import BackgroundCheckout, background_checkout, scratch
from homeops.core.profile import DEFAULT
from homeops.core.variables import ClusterVars
from homeops.diff.blast import blast_radius
from homeops.diff.compare import DiffResult, compare
from homeops.diff.side_memo import SideMemo
from homeops.diff.sides import Discovery, RenderMemo, Side, discover, render_side
from homeops.flux.cluster import Cluster
from homeops.flux.settings import DEFAULT_SETTINGS, RenderSettings

Progress = Callable[[str], None]
Inspect = Callable[[str, Path, Side], None]


@dataclass
class DiffOptions:
    base: str | None = None  # default HEAD
    head: str | None = None  # default: the working tree
    merge_base: bool = False
    cluster: str | None = None
    strip_attrs: list[str] = field(default_factory=list)
    cli_vars: Mapping[str, str] | ClusterVars = field(default_factory=dict)  # values only the cluster has
    enable_helm: bool = False
    reuse: bool = True  # reuse renders across sides (off: for measuring)
    in_place: bool = True  # render a head equal to the clean working tree in place (off: for measuring)
    show_secrets: bool = False  # True: Secret values and PEM blocks unredacted (local use only)
    inspect: Inspect | None = None
    """Called as ``inspect("base"|"head", directory, side)`` while ``directory`` holds that revision
    (the API runs the rules there for the findings a change introduces and fixes)."""
    settings: RenderSettings = DEFAULT_SETTINGS  # --strict-substitution, --sources, Helm options
    base_path: Path | None = None  # --path-orig: the base is this directory (a copy of the repository)


@dataclass
class Revisions:
    top: Path
    prefix: str
    base: str
    head: str | None  # None: the working tree
    base_label: str
    head_label: str
    current: str  # HEAD


def resolve_revisions(root: Path, options: DiffOptions) -> Revisions:
    """The repository, and the commits (or working tree) to compare; unknown revisions are errors."""
    top = git.toplevel(root)
    try:
        rel = root.resolve().relative_to(top).as_posix()
    except ValueError:
        raise HomeopsError(
            f"'{root}' is outside the Git repository {top}", hint="pass --path inside it"
        ) from None
    prefix = "" if rel == "." else rel
    base_ref = options.base or "HEAD"
    base, current, *rest = git.resolve_revisions(
        top, [base_ref, "HEAD", *([options.head] if options.head else [])]
    )
    head = rest[0] if rest else None
    if options.merge_base:
        base = git.merge_base(top, base, head or current)
        base_ref = f"merge-base({base_ref}, {options.head or 'HEAD'})"
    base_label = f"{base_ref} ({base[:7]})"
    head_label = f"{options.head} ({head[:7]})" if head and options.head else "working tree"
    return Revisions(top, prefix, base, head, base_label, head_label, current)


def diff_repository(root: Path, options: DiffOptions, progress: Progress | None = None) -> DiffResult:
    """Render both revisions of every cluster (or one) and compare them.

    The head is rendered in place when it is the working tree (or ``HEAD`` with a clean working tree),
    while the base is materialised in the background; the base then mostly reuses the head's renders.
    Otherwise both revisions share one temporary directory that switches between them.
    """
    started = time.perf_counter()
    if options.base_path is not None:
        return _diff_directories(root, options, progress, started)
    revs = resolve_revisions(root, options)
    if revs.head is not None and revs.head == revs.base:
        result = DiffResult(revs.base_label, revs.head_label)
        result.stats = {"seconds": round(time.perf_counter() - started, 3), "identical": True}
        return result
    changed = git.changed_files_started(revs.top, revs.base, revs.head, revs.prefix)  # runs meanwhile
    parses = ParseCache()
    memo = _memo(options, revs.top)
    sides = SideMemo(revs.top, enabled=_keeps_sides(options))
    common = _side_options(options, parses, memo, git.remote_urls(revs.top, is_top=True), progress, revs.top)
    clean = (
        git.worktree_clean(revs.top, revs.prefix) if options.in_place and revs.head == revs.current else None
    )
    in_place = False
    if revs.head is None or clean is not None:
        found_head = discover(root, options.cluster)
        urls, settings = common["local_urls"], options.settings
        key = sides.key(revs.base, revs.prefix, options.cluster, found_head.clusters, urls, settings)
        kept = sides.find(key)
        if kept is not None:  # the base is not checked out at all
            in_place = revs.head is None or (clean is not None and clean())
            if in_place:
                base, head = _diff_in_place(root, revs, options, common, found_head, kept)
        else:
            with background_checkout(revs.top, revs.base, revs.prefix) as pending:  # started at once
                in_place = revs.head is None or (clean is not None and clean())
                if in_place:
                    checked_out = _CheckedOut(pending, sides, key)
                    base, head = _diff_in_place(root, revs, options, common, found_head, checked_out)
    if not in_place:
        base, head = _diff_materialised(revs, options, common, sides)
    result = compare(base, head, options.strip_attrs, show_secrets=options.show_secrets)
    result.blast_radius, result.unattributed = blast_radius(result.changes, base, head, changed())
    kept_sides = {"hits": sides.hits, "misses": sides.misses}
    result.stats = _stats(started, parses, memo, head_in_place=in_place, sides=kept_sides)
    return result


def _keeps_sides(options: DiffOptions) -> bool:
    """May sides be kept across runs (:mod:`homeops.diff.side_memo`)?"""
    return (
        options.reuse
        and not options.enable_helm
        and not options.settings.remote  # what URLs serve is no part of a commit
        and options.inspect is None
        and not ClusterVars.of(options.cli_vars)
    )


def _diff_directories(
    root: Path, options: DiffOptions, progress: Progress | None, started: float
) -> DiffResult:
    """``--path-orig``: the base is another directory holding the repository (a second checkout, a
    worktree of the main branch), the head is ``root`` as it is; no Git revision is read."""
    assert options.base_path is not None
    base_root = options.base_path.resolve()
    if not base_root.is_dir():
        raise HomeopsError(
            f"--path-orig '{options.base_path}' is not a directory",
            hint="pass the directory of the other copy of the repository",
        )
    root = root.resolve()
    parses = ParseCache()
    memo = _memo(options, None)  # two repositories: renders are shared within this run only
    urls = git.remote_urls(root) | git.remote_urls(base_root)
    common = _side_options(options, parses, memo, urls, progress)
    found_head = discover(root, options.cluster)
    found_base = discover(base_root, options.cluster)
    _check_clusters(options, found_base, found_head)
    head_label = f"{root.name} (--path)"
    base_label = f"{options.base_path} (--path-orig)"
    head = render_side(root, head_label, found_head, also=found_base.clusters, **common)
    base = render_side(base_root, base_label, found_base, also=found_head.clusters, **common)
    result = compare(base, head, options.strip_attrs, show_secrets=options.show_secrets)
    result.stats = _stats(started, parses, memo)
    return result


def _memo(options: DiffOptions, scope: Path | None) -> RenderMemo:
    """The renders both sides share, kept across runs under ``scope`` (objects are not shared with
    ``--enable-helm``: Helm expansion changes them); none with ``reuse`` off."""
    if not options.reuse:
        return RenderMemo(None, share=False)
    return RenderMemo(scope, share=not options.enable_helm)


def _side_options(
    options: DiffOptions,
    parses: ParseCache,
    memo: RenderMemo,
    urls: set[str],
    progress: Progress | None,
    scope: Path | None = None,
) -> dict[str, Any]:
    """What :func:`render_side` takes for both sides of one diff (``scope``: the repository both
    stand for, whose persistent parses and builds they share)."""
    return {
        "cli_vars": options.cli_vars,
        "parses": parses,
        "memo": memo,
        "local_urls": urls,
        "enable_helm": options.enable_helm,
        "progress": progress,
        "settings": options.settings,
        "scope": scope,
    }


def _stats(started: float, parses: ParseCache, memo: RenderMemo, **more: Any) -> dict[str, Any]:
    return {
        "seconds": round(time.perf_counter() - started, 3),
        **more,
        "parses": {"hits": parses.hits, "misses": parses.misses},
        "renders": {"hits": memo.hits, "misses": memo.misses},
    }


@dataclass
class _CheckedOut:
    """The base being checked out in the background, and where its render is to be kept."""

    pending: BackgroundCheckout
    sides: SideMemo
    key: bytes | None


def _diff_in_place(
    root: Path,
    revs: Revisions,
    options: DiffOptions,
    common: dict[str, Any],
    found_head: Discovery,
    base_from: _CheckedOut | tuple[Discovery, Side],
) -> tuple[Side, Side]:
    """Head from the working tree; base from a background checkout, or as a run before kept it."""
    root = root.resolve()
    head = render_side(root, revs.head_label, found_head, **common)
    base_dir: Path | None = None
    if isinstance(base_from, tuple):
        found_base, base = base_from
        _check_clusters(options, found_base, found_head)
    else:
        try:
            base_dir, base_ids = base_from.pending.wait()
        except git.GitError as exc:
            problem = REVISION_UNRENDERABLE.finding(exc.one_line())
            _check_clusters(options, Discovery(DEFAULT, [], [problem]), found_head)
            if options.inspect is not None:
                options.inspect("head", root, head)
            return Side(revs.base_label, problems=[problem]), head
        found_base = discover(base_dir, options.cluster)
        _check_clusters(options, found_base, found_head)
        base = render_side(
            base_dir, revs.base_label, found_base, also=found_head.clusters, known_ids=base_ids, **common
        )
        base_from.sides.keep(base_from.key, found_base, base, base_dir)
    extra = [c for c in found_base.clusters if c.name not in head.renders and c.name not in head.failed]
    if extra:  # clusters only the base found: render them at head too when their directory is there
        more = render_side(root, revs.head_label, Discovery(found_head.profile, [], []), also=extra, **common)
        head.renders.update(more.renders)
        head.failed.update(more.failed)
        head.reads.update(more.reads)
    if options.inspect is not None and base_dir is not None:
        options.inspect("base", base_dir, base)
        options.inspect("head", root, head)
    return base, head


def _diff_materialised(
    revs: Revisions, options: DiffOptions, common: dict[str, Any], sides: SideMemo
) -> tuple[Side, Side]:
    """Both sides from one temporary directory that switches from one revision to the other."""
    head_sha = revs.head
    assert head_sha is not None
    with scratch(revs.top, revs.prefix, [head_sha, revs.base]) as work:

        def place(sha: str) -> tuple[dict[str, str] | None, Discovery]:
            try:
                ids = work.switch(sha)
            except git.GitError as exc:
                return None, Discovery(DEFAULT, [], [REVISION_UNRENDERABLE.finding(exc.one_line())])
            return ids, discover(work.directory, options.cluster)

        def side(
            sha: str, label: str, found: Discovery, also: list[Cluster], ids: Callable[[], dict[str, str]]
        ) -> Side:
            """The side at ``sha`` as a run before kept it, else checked out (``ids``) and rendered."""
            key = sides.key(sha, revs.prefix, options.cluster, also, common["local_urls"], options.settings)
            kept = sides.find(key)
            if kept is not None:
                return kept[1]
            known = ids()
            rendered = render_side(work.directory, label, found, also=also, known_ids=known, **common)
            sides.keep(key, found, rendered, work.directory)
            return rendered

        head_ids, found_head = place(head_sha)
        base_ids, found_base = place(revs.base)  # the directory now holds the base
        _check_clusters(options, found_base, found_head)
        base = (
            side(revs.base, revs.base_label, found_base, found_head.clusters, lambda: base_ids)
            if base_ids is not None
            else Side(revs.base_label, problems=found_base.problems)
        )
        if options.inspect is not None and base_ids is not None:
            options.inspect("base", work.directory, base)
        if head_ids is not None:
            head = side(
                head_sha, revs.head_label, found_head, found_base.clusters, lambda: work.switch(head_sha)
            )
            if options.inspect is not None:
                options.inspect("head", work.directory, head)
        else:
            head = Side(revs.head_label, problems=found_head.problems)
    return base, head


def _check_clusters(options: DiffOptions, found_base: Discovery, found_head: Discovery) -> None:
    """A diff needs a cluster on at least one side."""
    if found_base.clusters or found_head.clusters:
        return
    if options.cluster is not None:
        why = next((f.message for f in found_head.problems + found_base.problems), "")
        raise HomeopsError(
            f"cluster '{options.cluster}' is at neither revision: {why}",
            hint="pass a cluster name or directory that exists",
        )
    if not (found_base.problems or found_head.problems):
        raise HomeopsError(
            "no cluster found at either revision (no clusters/<name>/flux directory holds "
            "Flux Kustomizations)",
            hint="pass --cluster DIR or --path to the repository",
        )

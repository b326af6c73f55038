"""Running the rules: render every cluster once, run each selected rule, filter what is suppressed.

Rule modules are discovered (every module of ``homeops.rules`` except the framework ones), so adding
a rule family is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from homeops import rules as rules_pkg
from homeops.core.codes import RENDER_PREFIX
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.findings import Finding
from homeops.core.profile import PROFILE_FILE, Profile, matches_any
from homeops.core.variables import ClusterVars
from homeops.flux.cluster import Cluster, discover_clusters, resolve_cluster
from homeops.flux.render import render_cluster
from homeops.flux.rendered import ClusterRender
from homeops.flux.settings import DEFAULT_SETTINGS, RenderSettings
from homeops.rules.base import REGISTRY, Rule, RuleContext

_FRAMEWORK = {"base", "engine", "conventions", "fix"}  # modules that register no rule
_SUPPRESS = re.compile(r"#\s*homeops:\s*ignore\[(?P<ids>[A-Z0-9, ]+)\]")
_loaded = False
_LEVELS = ("info", "warning", "error")


def load_rules() -> dict[str, Rule]:
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(rules_pkg.__path__):
            if info.name not in _FRAMEWORK and not info.name.startswith("_"):
                importlib.import_module(f"homeops.rules.{info.name}")
        _loaded = True
    return dict(sorted(REGISTRY.items()))


def _id_list(values: Iterable[str] | None) -> set[str]:
    out: set[str] = set()
    for value in values or []:
        out.update(v.strip().upper() for v in value.split(",") if v.strip())
    return out


def selected_rules(
    profile: Profile, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None
) -> list[Rule]:
    """Rules enabled by the profile and the command line; ids may be prefixes (``HO0``)."""
    all_rules = load_rules()
    validate_rule_settings(profile, all_rules)
    sel, ign = _id_list(select), _id_list(ignore)
    unknown = {
        i
        for i in sel | ign
        if not any(r.startswith(i) for r in all_rules) and not i.startswith(RENDER_PREFIX)
    }
    if unknown:
        raise HomeopsError(f"unknown rule id(s): {', '.join(sorted(unknown))}", hint="see 'homeops rules'")
    out = []
    for rid, r in all_rules.items():
        if _disabled(profile, rid) and rid not in sel:  # only naming the id itself overrides the profile
            continue
        if sel and not any(rid.startswith(s) for s in sel):
            continue
        if any(rid.startswith(i) for i in ign):
            continue
        out.append(r)
    return out


def validate_rule_settings(profile: Profile, known: Mapping[str, Rule]) -> None:
    """``rules:`` of ``.homeops.yaml``: known ids, each ``true``/``false``, a severity or ``{enabled, severity}``."""
    for rid, settings in profile.rules.items():
        where = f"rules.{rid} in {PROFILE_FILE}"
        if rid not in known:
            raise HomeopsError(
                f"unknown rule id {rid!r} in {PROFILE_FILE}", PROFILE_FILE, None, "see 'homeops rules'"
            )
        if isinstance(settings, bool) or (isinstance(settings, str) and settings in _LEVELS):
            continue
        if isinstance(settings, Mapping):
            extra = set(settings) - {"enabled", "severity"}
            if extra:
                raise HomeopsError(
                    f"unknown key(s) {', '.join(sorted(map(str, extra)))} under {where}",
                    PROFILE_FILE,
                    None,
                    "known keys: enabled, severity",
                )
            if "enabled" in settings and not isinstance(settings["enabled"], bool):
                raise HomeopsError(f"{where}: enabled must be true or false", PROFILE_FILE)
            if "severity" in settings and settings["severity"] not in _LEVELS:
                raise HomeopsError(f"{where}: severity must be info, warning or error", PROFILE_FILE)
            continue
        raise HomeopsError(
            f"{where} must be false, a severity (info, warning, error) or {{enabled, severity}}", PROFILE_FILE
        )


def _disabled(profile: Profile, rule_id: str) -> bool:
    return profile.rule_disabled(rule_id)


def _severity(profile: Profile, rule_id: str, default: str) -> str:
    return profile.rule_severity(rule_id, default)


def suppressed(
    finding: Finding,
    files: FileCache,
    root: Path,
    profile: Profile,
    lines_of: dict[str, list[str]] | None = None,
) -> bool:
    """A ``# homeops: ignore[ID] reason`` comment on the finding's line or on its object's first line,
    or a profile ``ignore_paths`` glob for the rule. ``lines_of``: the lines of files split before (a
    check asks this of every finding, several of a file)."""
    if finding.file:
        for rule_id, patterns in profile.ignore_paths.items():
            if finding.rule.startswith(rule_id) and matches_any(finding.file, patterns):
                return True
        if finding.line:
            lines = lines_of.get(finding.file) if lines_of is not None else None
            if lines is None:
                try:
                    lines = files.read_text(root / finding.file).splitlines()
                except HomeopsError:
                    return False
                if lines_of is not None:
                    lines_of[finding.file] = lines
            candidates = {finding.line - 1, finding.line - 2}
            for index in candidates:
                if 0 <= index < len(lines):
                    m = _SUPPRESS.search(lines[index])
                    if m and any(finding.rule.startswith(i.strip()) for i in m.group("ids").split(",")):
                        return True
            # an object-level suppression: a comment line right above the document start
            for index in range(min(finding.line - 1, len(lines) - 1), -1, -1):
                if lines[index].strip() == "---":
                    break
                m = _SUPPRESS.search(lines[index])
                if (
                    m
                    and lines[index].lstrip().startswith("#")
                    and any(finding.rule.startswith(i.strip()) for i in m.group("ids").split(","))
                ):
                    return True
    return False


def render_all(
    root: Path,
    profile: Profile,
    cluster: str | None,
    cli_vars: Mapping[str, str] | ClusterVars,
    files: FileCache,
    progress: object = None,
    settings: RenderSettings = DEFAULT_SETTINGS,
) -> list[ClusterRender]:
    clusters: list[Cluster] = (
        discover_clusters(root, profile) if cluster is None else [resolve_cluster(root, profile, cluster)]
    )
    return [
        render_cluster(
            root, c, profile=profile, cli_vars=cli_vars, files=files, progress=progress, settings=settings
        )
        for c in clusters
    ]


def _about_selected_clusters(
    findings: list[Finding], renders: list[ClusterRender], profile: Profile
) -> list[Finding]:
    """With ``--cluster``, repository-wide findings count only for files that cluster uses (it renders
    them, or they live in its own ``clusters/<name>/`` directory)."""
    used: set[str] = set()
    own_dirs: list[str] = []
    for render in renders:
        own_dirs.append(f"{profile.clusters_dir}/{render.cluster.name}/")
        own_dirs.append(render.cluster.directory.rstrip("/") + "/")
        for rk in render.rendered.values():
            if rk.ks.resource.file:
                used.add(rk.ks.resource.file)
            used.update(res.file for res in rk.resources if res.file)
    out = []
    for f in findings:
        if f.cluster is not None or f.file is None or f.file in used or f.file.startswith(tuple(own_dirs)):
            out.append(f)
    return out


def run_checks(
    root: Path,
    profile: Profile,
    *,
    cluster: str | None = None,
    cli_vars: Mapping[str, str] | ClusterVars | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    renders: list[ClusterRender] | None = None,
    progress: object = None,
    files: FileCache | None = None,
) -> tuple[list[Finding], RuleContext]:
    """All findings (render findings HO1xx plus rule findings), suppressions applied, sorted by place.

    ``files``: the file cache the renders read through (its texts are shared), a fresh one by default."""
    files = files if files is not None else FileCache(root)
    if renders is None:
        renders = render_all(root, profile, cluster, cli_vars or {}, files, progress)
    ctx = RuleContext(root=root, profile=profile, renders=renders, files=files)
    sel, ign = _id_list(select), _id_list(ignore)
    findings: list[Finding] = []
    for render in renders:
        for f in render.findings:
            if (sel and not any(f.rule.startswith(s) for s in sel)) or any(f.rule.startswith(i) for i in ign):
                continue
            if _disabled(profile, f.rule) and f.rule not in sel:
                continue
            findings.append(replace(f, severity=_severity(profile, f.rule, f.severity)))
    for r in selected_rules(profile, select, ignore):
        for f in r.check(ctx):
            f.severity = _severity(profile, r.id, f.severity)
            findings.append(f)
    lines_of: dict[str, list[str]] = {}
    findings = [f for f in findings if not suppressed(f, files, root, profile, lines_of)]
    if cluster is not None:
        findings = _about_selected_clusters(findings, renders, profile)
    unique: dict[tuple[object, ...], Finding] = {}
    for f in findings:
        unique.setdefault((f.rule, f.file, f.line, f.message, f.cluster), f)
    return sorted(unique.values(), key=lambda f: (*f.sort_key(), f.cluster or "")), ctx

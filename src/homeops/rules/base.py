"""What a rule is, and what it sees.

A rule is a finding code of :mod:`homeops.core.codes` (stable id, title, default severity) with a
rationale that cites the context document, a bad and a good example, a ``check`` over the rendered
repository, and optionally a ``fix`` that returns file edits (never writes itself). Rules register
themselves in ``REGISTRY`` by id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from homeops.core import cache
from homeops.core.codes import Code
from homeops.core.files import FileCache
from homeops.core.findings import Finding
from homeops.core.listing import Listing
from homeops.core.profile import Profile
from homeops.flux.rendered import ClusterRender
from homeops.kustomize.resource import Resource

if TYPE_CHECKING:
    from homeops.core.edits import FileEdit
    from homeops.flux.model import RenderedKustomization

T = TypeVar("T")


@dataclass
class RuleContext:
    """Everything a rule may look at: the repository, its profile and every rendered cluster."""

    root: Path
    profile: Profile
    renders: list[ClusterRender]
    files: FileCache
    schema_dir: Path | None = None  # CRD schemas in the {group}/{kind}_{version}.json layout (HO100)
    _repo_files: list[str] | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per check run: several rules need the same index of the render."""
        if key not in self._cache:
            self._cache[key] = compute()
        value: T = self._cache[key]
        return value

    def repo_files(self) -> list[str]:
        """Every file of the repository (relative, forward slashes), ``.git`` excluded."""
        if self._repo_files is None:
            self._repo_files = repo_files(self.files)
        return self._repo_files

    def objects(self) -> Iterator[tuple[ClusterRender, RenderedKustomization, Resource]]:
        """Every rendered object of every cluster, with its cluster and Flux Kustomization."""
        for render in self.renders:
            for rk in render.rendered.values():
                for res in rk.resources:
                    yield render, rk, res

    def is_modern(self, render: ClusterRender) -> bool:
        return render.cluster.name not in self.profile.deprecated_clusters


_NOT_REPOSITORY_FILES = frozenset({".git", ".venv", "node_modules"})
_REPO_FILES = "rules:repo_files"


def repo_files(files: FileCache) -> list[str]:
    """Every file of the repository (relative, forward slashes), ``.git`` excluded: what ``os.walk``
    lists as files (links to files, dangling links and special files too; links to directories are
    neither listed nor followed), directories by name, a directory's files before its directories';
    from the run's listing, once per file cache."""
    found = files.derived.get(_REPO_FILES)
    if found is None:
        found = files.derived[_REPO_FILES] = _repo_files(files.listing)
    return list(found)


def _repo_files(listing: Listing) -> list[str]:
    out: list[str] = []
    for directory, _dirs, others in listing.walk(skip=_skipped):
        out.extend(f"{directory}/{e.name}" if directory else e.name for e in others)
    return out


def _skipped(_parent: str, name: str) -> bool:
    return name in _NOT_REPOSITORY_FILES


CheckFn = Callable[[RuleContext], Iterable[Finding]]
FixFn = Callable[[RuleContext, Finding], "list[FileEdit]"]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    rationale: str
    bad: str
    good: str
    check: CheckFn
    fix: FixFn | None = None

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def as_json(self) -> dict[str, Any]:
        """What ``homeops rules ID -o json`` prints."""
        return {
            "id": self.id, "title": self.title, "severity": self.severity, "fixable": self.fixable,
            "rationale": self.rationale, "bad": self.bad, "good": self.good,
        }  # fmt: skip


REGISTRY: dict[str, Rule] = {}


def remembered(ctx: RuleContext, key: Iterable[bytes], compute: Callable[[], list[Finding]]) -> list[Finding]:
    """The findings ``compute`` gives, kept across runs under ``key`` (persistent cache, area ``rules``).

    For checks that look at one object or one file only: the key holds everything they look at (the
    object with its provenance, or the file's path and blob id, and the settings they use), so the
    findings of what did not change are not computed again (``check --changed`` reads little else).
    Fresh objects each time: the engine adjusts severities in place.
    """
    store = ctx.cached("rules:store", lambda: rules_store(ctx.files.scope))
    if store is None:
        return list(compute())
    return store.remembered(cache.digest(*key), lambda: list(compute()))


def rules_store(scope: object) -> cache.Pack | None:
    """The rules' pack of the persistent cache for the repository ``scope`` stands for."""
    return cache.pack("rules", f"findings-{cache.digest(str(scope).encode()).hex()}", 64 * 1024 * 1024)


def rule(
    code: Code, *, rationale: str, bad: str, good: str, fix: FixFn | None = None
) -> Callable[[CheckFn], CheckFn]:
    """Register ``check`` as the rule of ``code``."""

    def decorate(check: CheckFn) -> CheckFn:
        if code.id in REGISTRY:
            raise ValueError(f"rule {code.id} registered twice")
        REGISTRY[code.id] = Rule(
            code.id,
            code.title,
            code.severity,
            rationale.strip(),
            bad.strip("\n"),
            good.strip("\n"),
            check,
            fix,
        )
        return check

    return decorate


def finding(
    code: Code,
    message: str,
    *,
    res: Resource | None = None,
    file: str | None = None,
    line: int | None = None,
    cluster: str | None = None,
    severity: str | None = None,
) -> Finding:
    """A finding of ``code``, located at ``res`` unless file/line are given."""
    rule_obj = REGISTRY.get(code.id)
    return Finding(
        rule=code.id,
        severity=severity or code.severity,
        message=message,
        file=file if file is not None else (res.file if res else None),
        line=line if line is not None else (res.line if res else None),
        kind=res.kind if res else None,
        name=res.name if res else None,
        namespace=res.namespace if res else None,
        cluster=cluster,
        fixable=bool(rule_obj and rule_obj.fixable),
    )

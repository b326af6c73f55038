"""Semantic versions and constraints with the semantics of Masterminds/semver v3.

Flux's source-controller picks ``ref.semver`` tags and Helm picks chart versions with that library,
so a constraint must select what they select: missing parts are wildcards (``1.2`` is ``1.2.x``),
``~`` and ``^`` follow npm, pre-releases only match a constraint that names a pre-release, and
``,`` or a space is AND, ``||`` is OR.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import total_ordering

from homeops.core.errors import HomeopsError

_VERSION_RE = re.compile(
    r"^v?(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?(?:\.(0|[1-9][0-9]*))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


class SemverError(HomeopsError):
    """A version constraint that Masterminds/semver would not parse."""


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = ""
    original: str = ""

    @classmethod
    def parse(cls, text: str) -> Version | None:
        """A version, or None when ``text`` is not one (tags like ``latest`` are skipped, not errors)."""
        match = _VERSION_RE.match(text.strip())
        if not match:
            return None
        major, minor, patch, pre, build = match.groups()
        return cls(int(major), int(minor or 0), int(patch or 0), pre or "", build or "", text)

    def _pre_key(self) -> tuple[tuple[int, int | str], ...]:
        parts: list[tuple[int, int | str]] = []
        for part in self.prerelease.split("."):
            parts.append((0, int(part)) if part.isdigit() else (1, part))
        return tuple(parts)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        a, b = (self.major, self.minor, self.patch), (other.major, other.minor, other.patch)
        if a != b:
            return a < b
        if self.prerelease == other.prerelease:
            return False
        if not self.prerelease:
            return False
        if not other.prerelease:
            return True
        return self._pre_key() < other._pre_key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return (self.major, self.minor, self.patch, self.prerelease) == (
            other.major,
            other.minor,
            other.patch,
            other.prerelease,
        )

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch, self.prerelease))

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text


_WILD = {"x", "X", "*"}
_OPS = ("!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^")
_PART_RE = re.compile(
    r"^v?(x|X|\*|0|[1-9][0-9]*)(?:\.(x|X|\*|0|[1-9][0-9]*))?(?:\.(x|X|\*|0|[1-9][0-9]*))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@dataclass(frozen=True)
class _Term:
    op: str
    version: Version
    minor_dirty: bool
    patch_dirty: bool
    dirty: bool

    def check(self, v: Version) -> bool:
        c = self.version
        if v.prerelease and not c.prerelease:
            return False
        return _CHECKS[self.op](v, self)


def _eq(v: Version, t: _Term) -> bool:
    if t.dirty:
        return _tilde(v, t)
    return v == t.version


def _ne(v: Version, t: _Term) -> bool:
    return not _eq(v, t)


def _gt(v: Version, t: _Term) -> bool:
    c = t.version
    if not t.dirty:
        return v > c
    if v.major != c.major:
        return v.major > c.major
    if t.minor_dirty:
        return False
    if t.patch_dirty:
        return v.minor > c.minor
    return v > c


def _lt(v: Version, t: _Term) -> bool:
    return v < t.version


def _ge(v: Version, t: _Term) -> bool:
    return v >= t.version


def _le(v: Version, t: _Term) -> bool:
    c = t.version
    if not t.dirty:
        return v <= c
    if v.major != c.major:
        return v.major < c.major
    if t.minor_dirty:
        return True
    if t.patch_dirty:
        return v.minor <= c.minor
    return v <= c


def _tilde(v: Version, t: _Term) -> bool:
    c = t.version
    if v < c:
        return False
    if (c.major, c.minor, c.patch) == (0, 0, 0) and not t.minor_dirty and not t.patch_dirty:
        return True  # ~0.0.0 and "*": anything
    if v.major != c.major:
        return False
    return not (v.minor != c.minor and not t.minor_dirty)


def _caret(v: Version, t: _Term) -> bool:
    c = t.version
    if v < c:
        return False
    if c.major > 0 or t.minor_dirty:
        return v.major == c.major
    if c.minor > 0 or t.patch_dirty:
        return v.major == 0 and v.minor == c.minor
    return v.major == 0 and v.minor == 0 and v.patch == c.patch


_CHECKS: dict[str, Callable[[Version, _Term], bool]] = {
    "=": _eq,
    "!=": _ne,
    ">": _gt,
    "<": _lt,
    ">=": _ge,
    "=>": _ge,
    "<=": _le,
    "=<": _le,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}


def _term(text: str, original: str) -> _Term:
    op = ""
    for candidate in _OPS:
        if text.startswith(candidate):
            op = candidate
            break
    rest = text[len(op) :].strip()
    match = _PART_RE.match(rest)
    if not match:
        raise SemverError(f"improper constraint: {original}", None, None, "e.g. >=1.2.0 <2, ~1.2, ^1.2, 1.x")
    major, minor, patch, pre, build = match.groups()
    if major in _WILD:
        # Masterminds turns "*" / "x" into 0.0.0, dirty but with neither minor nor patch dirty
        return _Term(op or "=", Version(0, 0, 0, pre or "", build or "", rest), False, False, True)
    minor_dirty = minor is None or minor in _WILD
    patch_dirty = minor_dirty or patch is None or patch in _WILD
    version = Version(
        int(major),
        0 if minor_dirty else int(minor),
        0 if patch_dirty else int(patch),
        pre or "",
        build or "",
        rest,
    )
    return _Term(op or "=", version, minor_dirty, patch_dirty, minor_dirty or patch_dirty)


_HYPHEN_RE = re.compile(r"^\s*(\S+)\s+-\s+(\S+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint: OR of AND-groups of terms."""

    text: str
    groups: tuple[tuple[_Term, ...], ...]

    @classmethod
    def parse(cls, text: str) -> Constraint:
        if not text.strip():
            raise SemverError("empty semver constraint", None, None, 'use "*" for any version')
        groups: list[tuple[_Term, ...]] = []
        for alternative in text.split("||"):
            terms: list[_Term] = []
            for chunk in alternative.split(","):
                hyphen = _HYPHEN_RE.match(chunk)
                if hyphen:
                    terms.append(_term(">=" + hyphen.group(1), text))
                    terms.append(_term("<=" + hyphen.group(2), text))
                    continue
                # "> = 1.2" is not allowed, but ">= 1.2" is: glue operators to their version
                tokens = re.sub(r"(!=|>=|=>|<=|=<|~>|[><=~^])\s+", r"\1", chunk.strip()).split()
                if not tokens:
                    raise SemverError(f"improper constraint: {text}", None, None, "e.g. >=1.2.0 <2")
                terms.extend(_term(token, text) for token in tokens)
            groups.append(tuple(terms))
        return cls(text, tuple(groups))

    def check(self, version: Version) -> bool:
        return any(all(term.check(version) for term in group) for group in self.groups)


def best_match(
    candidates: Iterable[str], constraint: str, *, transform: Callable[[str], str] | None = None
) -> str | None:
    """The candidate with the highest version satisfying ``constraint`` (the original string), or None."""
    parsed = Constraint.parse(constraint)
    best: tuple[Version, str] | None = None
    for candidate in candidates:
        version = Version.parse(transform(candidate) if transform else candidate)
        if version is None or not parsed.check(version):
            continue
        if best is None or version > best[0]:
            best = (version, candidate)
    return best[1] if best else None

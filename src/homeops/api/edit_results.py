"""Typed results of the :class:`homeops.api.Workspace` methods that edit files (fix, new app, migrate,
init, pin): the edits planned or written, each result serialisable to the JSON of the CLI contract
(``as_json()``). Apart from :mod:`homeops.api.results` so that commands which only read load neither
these nor the edit machinery (start-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from homeops.api.results import ClusterInfo
from homeops.core.edits import FileEdit, unified_diff
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding


@dataclass
class FixResult:
    """What the safe autofixes changed (or would change): edits per file, then what still remains."""

    fixed: int
    edits: list[FileEdit]
    remaining: list[Finding]
    warnings: list[str] = field(default_factory=list)
    written: bool = False
    clusters: list[ClusterInfo] = field(default_factory=list)

    @property
    def diff(self) -> str:
        return unified_diff(self.edits)

    def as_json(self) -> dict[str, Any]:
        return {
            "fixed": self.fixed,
            "files": [e.path for e in self.edits],
            "written": self.written,
            "diff": self.diff,
            "warnings": list(self.warnings),
            "remaining": [f.as_json() for f in self.remaining],
        }


@dataclass
class EditResult:
    """Edits an authoring command planned (new app, migration, init, pin): a diff, or written files."""

    edits: list[FileEdit]
    written: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # what is left for a person

    @property
    def diff(self) -> str:
        return unified_diff(self.edits)

    def as_json(self) -> dict[str, Any]:
        return {
            "files": [{"path": e.path, "action": e.action} for e in self.edits],
            "written": list(self.written),
            "diff": self.diff,
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "steps": list(self.steps),
        }


@dataclass
class MigratedApp:
    """One app of a batch migration: its edits, or why it was refused."""

    target: str  # NS/APP
    result: EditResult | None
    error: HomeopsError | None = None

    @property
    def status(self) -> str:
        if self.result is None:
            return "refused"
        return "migrated with manual steps" if self.result.steps else "migrated"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "status": self.status}
        if self.error is not None:
            out["error"] = self.error.one_line()
        if self.result is not None:
            out.update(self.result.as_json())
        return out


@dataclass
class MigrationBatch:
    """``migrate`` of several apps (or ``--all``) from one cluster to another, one report."""

    old: str
    new: str
    apps: list[MigratedApp] = field(default_factory=list)
    inferred: dict[str, str] = field(
        default_factory=dict
    )  # path variables the old cluster's tree made certain

    @property
    def exit_code(self) -> int:
        """2 when no app could be migrated, 1 when one was refused or left manual steps, else 0."""
        if self.apps and all(a.result is None for a in self.apps):
            return 2
        return 1 if any(a.result is None or a.result.steps for a in self.apps) else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            "inferred": dict(self.inferred),
            "apps": [a.as_json() for a in self.apps],
        }


@dataclass
class InitResult(EditResult):
    """``init``: the files to write, the existing ones kept, and where placeholders wait for the user."""

    kept: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    adding_cluster: bool = False

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "kept": list(self.kept), "placeholders": list(self.placeholders)}


@dataclass
class PinResult:
    """``images pin``: the edits that pin each unpinned tag to its digest, and the images that failed."""

    edits: list[FileEdit]
    pinned: list[tuple[str, int | None, str, str]]  # (file, line, image, digest)
    errors: list[HomeopsError]
    failed_images: list[str]
    written: bool = False

    @property
    def diff(self) -> str:
        return unified_diff(self.edits)

    def rows(self) -> list[dict[str, Any]]:
        """One row per pinned place and per failure, sorted by place (``images pin -o table|json``)."""
        rows: list[dict[str, Any]] = [
            {"file": file, "line": line, "source": f"{file}:{line}", "image": image, "status": "pinned",
             "digest": digest}
            for file, line, image, digest in self.pinned
        ]  # fmt: skip
        rows += [
            {"file": err.file, "line": err.line, "source": f"{err.file}:{err.line}", "image": image,
             "status": "error", "digest": "", "error": err.what + (f" ({err.hint})" if err.hint else "")}
            for image, err in zip(self.failed_images, self.errors, strict=True)
        ]  # fmt: skip
        return sorted(rows, key=lambda r: (r["file"] or "", r["line"] or 0))

    def as_json(self) -> dict[str, Any]:
        return {"items": self.rows(), "written": self.written and bool(self.edits)}

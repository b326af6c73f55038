"""homeops.api: the one public entry point.

>>> from homeops.api import Workspace
>>> ws = Workspace("examples/home-ops")
>>> [c.name for c in ws.clusters()]
['bitty', 'chongus']

Everything the CLI, the review page and the MCP server do goes through :class:`Workspace`; results
are dataclasses with ``as_json()`` giving the JSON shapes of the CLI contract. See docs/api.md.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names for type checkers; at run time each loads on first use (start-up)
    from homeops.api.apps import AppInfo, Backup, RouteInfo, SecretSource
    from homeops.api.context import DocsResult
    from homeops.api.edit_results import EditResult, FixResult, InitResult, PinResult
    from homeops.api.init import init_repository
    from homeops.api.listings import HelmReleaseInfo, ImageInfo, SourceInfo
    from homeops.api.repository import find_root
    from homeops.api.results import (
        CheckResult,
        ClusterInfo,
        KustomizationInfo,
        ReleaseRendering,
        RenderedObject,
        Rendering,
        skipped_kinds,
    )
    from homeops.api.status import TestItem, TestResult
    from homeops.api.values import load_vars_file
    from homeops.api.workspace import Workspace, list_rules
    from homeops.author.init import InitOptions, parse_node
    from homeops.author.migrate import MigrateOptions
    from homeops.author.new_app import AppOptions, split_target
    from homeops.context.model import ContextFacts
    from homeops.core.errors import HomeopsError
    from homeops.core.findings import Finding
    from homeops.core.profile import Profile, load_profile
    from homeops.core.redact import redact, redact_pair
    from homeops.core.variables import ClusterVars
    from homeops.diff.blast import BlastRadius
    from homeops.diff.compare import DiffResult
    from homeops.diff.danger import Danger
    from homeops.diff.model import Change, ImageChange, ImageCheck
    from homeops.diff.scope import narrow as narrow_diff
    from homeops.flux.settings import RenderSettings

_EXPORTS: dict[str, tuple[str, str]] = {
    "AppInfo": ("homeops.api.apps", "AppInfo"),
    "AppOptions": ("homeops.author.new_app", "AppOptions"),
    "Backup": ("homeops.api.apps", "Backup"),
    "BlastRadius": ("homeops.diff.blast", "BlastRadius"),
    "Change": ("homeops.diff.model", "Change"),
    "CheckResult": ("homeops.api.results", "CheckResult"),
    "ClusterInfo": ("homeops.api.results", "ClusterInfo"),
    "ClusterVars": ("homeops.core.variables", "ClusterVars"),
    "ContextFacts": ("homeops.context.model", "ContextFacts"),
    "Danger": ("homeops.diff.danger", "Danger"),
    "DiffResult": ("homeops.diff.compare", "DiffResult"),
    "DocsResult": ("homeops.api.context", "DocsResult"),
    "EditResult": ("homeops.api.edit_results", "EditResult"),
    "Finding": ("homeops.core.findings", "Finding"),
    "FixResult": ("homeops.api.edit_results", "FixResult"),
    "HelmReleaseInfo": ("homeops.api.listings", "HelmReleaseInfo"),
    "HomeopsError": ("homeops.core.errors", "HomeopsError"),
    "ImageChange": ("homeops.diff.model", "ImageChange"),
    "ImageCheck": ("homeops.diff.model", "ImageCheck"),
    "ImageInfo": ("homeops.api.listings", "ImageInfo"),
    "InitOptions": ("homeops.author.init", "InitOptions"),
    "InitResult": ("homeops.api.edit_results", "InitResult"),
    "KustomizationInfo": ("homeops.api.results", "KustomizationInfo"),
    "MigrateOptions": ("homeops.author.migrate", "MigrateOptions"),
    "PinResult": ("homeops.api.edit_results", "PinResult"),
    "Profile": ("homeops.core.profile", "Profile"),
    "ReleaseRendering": ("homeops.api.results", "ReleaseRendering"),
    "RenderSettings": ("homeops.flux.settings", "RenderSettings"),
    "RenderedObject": ("homeops.api.results", "RenderedObject"),
    "Rendering": ("homeops.api.results", "Rendering"),
    "RouteInfo": ("homeops.api.apps", "RouteInfo"),
    "SecretSource": ("homeops.api.apps", "SecretSource"),
    "SourceInfo": ("homeops.api.listings", "SourceInfo"),
    "TestItem": ("homeops.api.status", "TestItem"),
    "TestResult": ("homeops.api.status", "TestResult"),
    "Workspace": ("homeops.api.workspace", "Workspace"),
    "find_root": ("homeops.api.repository", "find_root"),
    "init_repository": ("homeops.api.init", "init_repository"),
    "list_rules": ("homeops.api.workspace", "list_rules"),
    "load_profile": ("homeops.core.profile", "load_profile"),
    "load_vars_file": ("homeops.api.values", "load_vars_file"),
    "narrow_diff": ("homeops.diff.scope", "narrow"),
    "parse_node": ("homeops.author.init", "parse_node"),
    "redact": ("homeops.core.redact", "redact"),
    "redact_pair": ("homeops.core.redact", "redact_pair"),
    "skipped_kinds": ("homeops.api.results", "skipped_kinds"),
    "split_target": ("homeops.author.new_app", "split_target"),
}
"""Each public name -> (the module defining it, its name there): loaded when first used."""


def __getattr__(name: str) -> Any:
    """Load a public name's module when it is first asked for: ``from homeops.api import Workspace``
    loads the render and not, say, the authoring or diff machinery (start-up of every command)."""
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'homeops.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value
    return value


__all__ = [
    "AppInfo",
    "AppOptions",
    "Backup",
    "BlastRadius",
    "Change",
    "CheckResult",
    "ClusterInfo",
    "ClusterVars",
    "ContextFacts",
    "Danger",
    "DiffResult",
    "DocsResult",
    "EditResult",
    "Finding",
    "FixResult",
    "HelmReleaseInfo",
    "HomeopsError",
    "ImageChange",
    "ImageCheck",
    "ImageInfo",
    "InitOptions",
    "InitResult",
    "KustomizationInfo",
    "MigrateOptions",
    "PinResult",
    "Profile",
    "ReleaseRendering",
    "RenderSettings",
    "RenderedObject",
    "Rendering",
    "RouteInfo",
    "SecretSource",
    "SourceInfo",
    "TestItem",
    "TestResult",
    "Workspace",
    "find_root",
    "init_repository",
    "list_rules",
    "load_profile",
    "load_vars_file",
    "narrow_diff",
    "parse_node",
    "redact",
    "redact_pair",
    "skipped_kinds",
    "split_target",
]

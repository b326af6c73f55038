"""homeops.api: the one public entry point.

>>> from homeops.api import Workspace
>>> ws = Workspace("examples/home-ops")
>>> [c.name for c in ws.clusters()]
['bitty', 'chongus']

Everything the CLI, the review page and the MCP server do goes through :class:`Workspace`; results
are dataclasses with ``as_json()`` giving the JSON shapes of the CLI contract. See docs/api.md.
"""

from homeops.api.apps import AppInfo, Backup, RouteInfo, SecretSource
from homeops.api.results import (
    CheckResult,
    ClusterInfo,
    EditResult,
    FixResult,
    HelmReleaseInfo,
    ImageInfo,
    InitResult,
    KustomizationInfo,
    PinResult,
    RenderedObject,
    Rendering,
    SourceInfo,
    skipped_kinds,
)
from homeops.api.status import TestItem, TestResult
from homeops.api.workspace import (
    ReleaseRendering,
    Workspace,
    find_root,
    init_repository,
    list_rules,
    load_vars_file,
)
from homeops.author.init import InitOptions, parse_node
from homeops.author.migrate import MigrateOptions
from homeops.author.new_app import AppOptions, split_target
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.profile import Profile, load_profile
from homeops.core.redact import redact, redact_pair
from homeops.core.variables import ClusterVars
from homeops.diff.blast import BlastRadius
from homeops.diff.compare import Change, DiffResult, ImageChange
from homeops.diff.danger import Danger
from homeops.diff.model import ImageCheck
from homeops.diff.scope import narrow as narrow_diff
from homeops.flux.settings import RenderSettings

__all__ = [
    "AppInfo",
    "AppOptions",
    "Backup",
    "BlastRadius",
    "Change",
    "CheckResult",
    "ClusterInfo",
    "ClusterVars",
    "Danger",
    "DiffResult",
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

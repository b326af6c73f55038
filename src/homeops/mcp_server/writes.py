"""The write tools (``--allow-write`` only): a preview, then an apply bound to it by a token.

A call without ``apply_token`` plans the change on the repository as it is and returns the unified
diff and a token: an HMAC, with a key only this server process knows, over the tool, its arguments and
every edit (path, text before, text after). A call with the same arguments and that token plans again
and applies only when the new plan is exactly the previewed one; anything that changed in between (a
file, an argument, a digest in the registry) makes the token stale and the call is refused, nothing
written. Edits are written atomically by :meth:`homeops.api.Workspace.apply`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homeops.api import AppOptions, EditResult, MigrateOptions, Workspace
from homeops.core.edits import FileEdit, unified_diff
from homeops.core.errors import HomeopsError
from homeops.mcp_server.paging import CHUNK_PROPERTY, text_chunk
from homeops.mcp_server.tools import CLUSTER, Session, ToolSpec, schema, string_property

_KEY = secrets.token_bytes(32)  # per server process: a token never outlives the server that issued it
_NOT_PLANNED = ("apply_token", "diff_page")  # arguments that do not change the plan


@dataclass
class Plan:
    """What a write tool would do: the edits with what it says about them (an :class:`EditResult`), and
    what else the tool reports (fixes counted, pins per image)."""

    result: EditResult
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def edits(self) -> list[FileEdit]:
        return self.result.edits

    def as_json(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.result.as_json().items() if k not in ("diff", "written")}
        return {**shown, **self.extra}


Planner = Callable[[Workspace, dict[str, Any]], Plan]


def token(tool: str, args: dict[str, Any], edits: list[FileEdit]) -> str:
    planned = {k: v for k, v in sorted(args.items()) if k not in _NOT_PLANNED}
    body = json.dumps([tool, planned, [[e.path, e.old, e.new] for e in edits]], sort_keys=True)
    return hmac.new(_KEY, body.encode("utf-8"), hashlib.sha256).hexdigest()[:40]


def write_tool(name: str, planner: Planner) -> Callable[[Session, dict[str, Any]], dict[str, Any]]:
    def handle(session: Session, args: dict[str, Any]) -> dict[str, Any]:
        ws = session.workspace()
        plan = planner(ws, args)
        current = token(name, args, plan.edits)
        given = args.get("apply_token")
        if given is None:
            return {
                "applied": False, "token": current if plan.edits else None, **plan.as_json(),
                **text_chunk(unified_diff(plan.edits), args),
            }  # fmt: skip
        if not hmac.compare_digest(str(given), current):
            raise HomeopsError(
                "stale token: the repository or the arguments changed since the preview (nothing written)",
                hint=f"call {name} again without apply_token and review the new diff",
            )
        if not plan.edits:
            raise HomeopsError("nothing to apply", hint="the preview had no edits")
        written = ws.apply(plan.edits)
        return {"applied": True, "written": written, **plan.as_json()}

    return handle


# ------------------------------------------------------------------------------ planners
def plan_new_app(ws: Workspace, args: dict[str, Any]) -> Plan:
    options = AppOptions(
        namespace=args["namespace"],
        app=args["app"],
        image=args["image"],
        port=int(args["port"]),
        cluster=args.get("cluster"),
        route=args.get("route", "internal"),
        host=args.get("host"),
        volsync=args.get("volsync"),
        secret=args.get("secret"),
        chart=args.get("chart"),
        chart_version=args.get("chart_version"),
        probe_path=args.get("probe_path"),
    )
    return Plan(ws.new_app(options))


def plan_migrate(ws: Workspace, args: dict[str, Any]) -> Plan:
    options = MigrateOptions(
        namespace=args["namespace"],
        app=args["app"],
        old=args["from"],
        new=args["to"],
        remove_source=bool(args.get("remove_source")),
        chart_url=args.get("chart_url"),
        external=bool(args.get("external")),
        to_helm=bool(args.get("to_helm")),
    )
    return Plan(ws.migrate(options))


def plan_fix(ws: Workspace, args: dict[str, Any]) -> Plan:
    result = ws.fix(select=args.get("rules"), cluster=args.get("cluster"))
    return Plan(
        EditResult(result.edits, warnings=result.warnings),
        {"fixed": result.fixed, "remaining": len(result.remaining)},
    )


def plan_pin(ws: Workspace, args: dict[str, Any]) -> Plan:
    result = ws.pin_images(cluster=args.get("cluster"))
    return Plan(EditResult(result.edits), {"items": result.rows()})


# ------------------------------------------------------------------------------ specs
APPLY = {
    "apply_token": {
        "type": "string", "minLength": 1,
        "description": "The token of the preview to apply (from the same call without it); refused when stale.",
    },
    **CHUNK_PROPERTY,
}  # fmt: skip
_FLAG = {"type": "boolean", "default": False}

WRITE_TOOLS: list[ToolSpec] = [
    ToolSpec(
        "new_app",
        "Add an app in the modern pattern (homeops new app): HelmRelease, OCIRepository, ks.yaml, registration in "
        "its namespace. Returns the diff and a token; call again with apply_token to write exactly that diff.",
        schema({"namespace": string_property("A one-word namespace."), "app": string_property("A kebab-case app name."),
                "image": string_property("REPOSITORY:TAG[@sha256:DIGEST]; the digest is looked up when missing."),
                "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "The HTTP port."},
                **CLUSTER, "route": {"enum": ["internal", "external", "none"], "default": "internal"},
                "host": string_property("Route host (default APP.DOMAIN)."),
                "volsync": string_property("Size of a Volsync-backed volume, e.g. 5Gi."),
                "secret": string_property("Doppler secret whose keys become the app's environment."),
                "chart": string_property("oci:// URL of the app's own chart (default app-template)."),
                "chart_version": string_property("Version of chart."),
                "probe_path": string_property("HTTP path for the probes."), **APPLY},
               ("namespace", "app", "image", "port")),
        write_tool("new_app", plan_new_app), write=True,
    ),
    ToolSpec(
        "migrate",
        "Move a legacy app into the modern pattern (homeops migrate): the diff, the manual steps left and a token; "
        "call again with apply_token to write exactly that diff.",
        schema({"namespace": string_property("The app's namespace directory in the old cluster's tree."),
                "app": string_property("The app's directory name."), "from": string_property("The legacy cluster."),
                "to": string_property("The modern cluster."),
                "remove_source": {**_FLAG, "description": "Also delete the old app and its registration."},
                "external": {**_FLAG, "description": "Publish the routes on the external gateway."},
                "to_helm": {**_FLAG, "description": "Turn a simple Deployment + Service into app-template."},
                "chart_url": string_property("oci:// URL of the chart when its repository has no known OCI location."),
                **APPLY}, ("namespace", "app", "from", "to")),
        write_tool("migrate", plan_migrate), write=True,
    ),
    ToolSpec(
        "fix",
        "The safe autofixes of the rules (homeops check --diff / --fix): the diff and a token; call again with "
        "apply_token to write exactly that diff.",
        schema({"rules": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z]+[0-9]*$"},
                          "description": "Only these rule ids or prefixes."}, **CLUSTER, **APPLY}),
        write_tool("fix", plan_fix), write=True,
    ),
    ToolSpec(
        "pin",
        "Pin every image tag to the digest its registry serves (homeops images pin): the diff and a token; call "
        "again with apply_token to write exactly that diff.",
        schema({**CLUSTER, **APPLY}),
        write_tool("pin", plan_pin), write=True,
    ),
]  # fmt: skip

"""The MCP server: tools, resources and prompts over stdio, or streamable HTTP on loopback.

Built on the low-level server of the official ``mcp`` SDK so that every tool's input is described
by the JSON schema written beside it (and checked against it before the tool runs), and every
failure is a tool error carrying homeops' one-line message: a bad call never stops the server.
Tools run one at a time in a worker thread (a render may take seconds; the event loop keeps
answering pings).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import jsonschema
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from homeops import __version__
from homeops.core.errors import HomeopsError
from homeops.core.variables import ClusterVars
from homeops.mcp_server.prompts import PROMPTS, prompt_text, resource_uris
from homeops.mcp_server.tools import READ_TOOLS, Session, ToolSpec
from homeops.mcp_server.writes import WRITE_TOOLS

LOOPBACK = ("127.0.0.1", "localhost", "::1")
INSTRUCTIONS = (
    "homeops answers questions about a Flux GitOps repository from its offline render: clusters, Flux "
    "Kustomizations and HelmReleases with their status, rendered objects with file:line, rule findings, "
    "images, rendered diffs between revisions. Read the homeops://context resources first: they state the "
    "repository's clusters, apps and conventions. Paths are relative to the repository root."
)


class HomeopsServer:
    """The tools, resources and prompts of one repository, and the low-level SDK server serving them."""

    def __init__(self, session: Session, *, allow_write: bool = False) -> None:
        self.session = session
        self.allow_write = allow_write
        specs = READ_TOOLS + (WRITE_TOOLS if allow_write else [])
        self.tools: dict[str, ToolSpec] = {spec.name: spec for spec in specs}
        self._lock = anyio.Lock()
        self.server: Server[Any] = Server(
            "homeops",
            version=__version__,
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_read_resource=self._read_resource,
            on_list_prompts=self._list_prompts,
            on_get_prompt=self._get_prompt,
        )

    # -------------------------------------------------------------------------- tools
    def tool_list(self) -> list[types.Tool]:
        return [
            types.Tool(
                name=spec.name,
                description=spec.description,
                input_schema=spec.schema,
                annotations=types.ToolAnnotations(
                    read_only_hint=not spec.write,
                    destructive_hint=spec.write,
                    idempotent_hint=not spec.write,
                    open_world_hint=False,
                ),
            )
            for spec in self.tools.values()
        ]

    async def _list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self.tool_list())

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        async with self._lock:
            return await anyio.to_thread.run_sync(self.call, params.name, dict(params.arguments or {}))

    def call(self, name: str, args: dict[str, Any]) -> types.CallToolResult:
        """One tool call: its JSON result, or a tool error with one line saying what went wrong."""
        try:
            spec = self.tools.get(name)
            if spec is None:
                hint = (
                    "the write tools need 'homeops mcp --allow-write'"
                    if name in _WRITE_NAMES
                    else "see tools/list"
                )
                raise HomeopsError(f"unknown tool {name!r}", hint=hint)
            _validate(spec, args)
            result = spec.handler(self.session, args)
        except HomeopsError as exc:
            return _error(exc.one_line())
        except Exception as exc:  # a bug must cost one call, never the server
            return _error(f"internal error: {type(exc).__name__}: {exc} (report it)")
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(result, indent=1, default=str))],
            structured_content=json.loads(json.dumps(result, default=str)),
        )

    # -------------------------------------------------------------------------- resources
    async def _list_resources(self, ctx: Any, params: Any) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=uri,
                    name=f"context: {section}" if section else "context",
                    description=(
                        f"The generated '{section}' section of the context document (homeops docs)"
                        if section
                        else "Every generated section of the context document (homeops docs)"
                    ),
                    mime_type="text/markdown",
                )
                for uri, section in resource_uris()
            ]
        )

    async def _read_resource(
        self, ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        known = dict(resource_uris())
        if uri not in known:
            raise MCPError(
                code=types.INVALID_PARAMS, message=f"unknown resource {uri!r} (see resources/list)"
            )
        async with self._lock:
            try:
                sections = await anyio.to_thread.run_sync(self._sections)
            except HomeopsError as exc:
                raise MCPError(code=types.INTERNAL_ERROR, message=exc.one_line()) from None
        section = known[uri]
        text = sections[section] if section else "\n".join(sections.values())
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, text=text, mime_type="text/markdown")]
        )

    def _sections(self) -> dict[str, str]:
        return self.session.workspace().context_sections()

    # -------------------------------------------------------------------------- prompts
    async def _list_prompts(self, ctx: Any, params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=p.name,
                    description=p.description,
                    arguments=[
                        types.PromptArgument(name=n, description=d, required=False) for n, d in p.arguments
                    ],
                )
                for p in PROMPTS
            ]
        )

    async def _get_prompt(self, ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        spec = next((p for p in PROMPTS if p.name == params.name), None)
        if spec is None:
            raise MCPError(
                code=types.INVALID_PARAMS, message=f"unknown prompt {params.name!r} (see prompts/list)"
            )
        args = {k: str(v) for k, v in (params.arguments or {}).items()}
        async with self._lock:
            try:
                sections = await anyio.to_thread.run_sync(self._sections)
            except HomeopsError as exc:
                raise MCPError(code=types.INTERNAL_ERROR, message=exc.one_line()) from None
        text = prompt_text(spec.name, sections, args, self.allow_write)
        return types.GetPromptResult(
            description=spec.description,
            messages=[types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))],
        )

    # -------------------------------------------------------------------------- transports
    async def serve_stdio(self) -> None:
        async with stdio_server() as (read_stream, write_stream):
            await self.server.run(read_stream, write_stream, self.server.create_initialization_options())

    def serve_http(self, host: str, port: int) -> None:
        """Streamable HTTP on a loopback address only (the server has no authentication)."""
        if host not in LOOPBACK:
            raise HomeopsError(
                f"refusing to listen on {host!r}", hint="streamable HTTP serves loopback only: 127.0.0.1"
            )
        import uvicorn  # start-up: only the HTTP transport needs it

        app = self.server.streamable_http_app(host=host)
        uvicorn.run(app, host=host, port=port, log_level="warning")


_WRITE_NAMES = frozenset(spec.name for spec in WRITE_TOOLS)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def _validate(spec: ToolSpec, args: Mapping[str, Any]) -> None:
    """The arguments against the tool's JSON schema: the first problem as one line."""
    errors = sorted(
        jsonschema.Draft202012Validator(spec.schema).iter_errors(args), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path)
        raise HomeopsError(
            f"invalid arguments for {spec.name}: {where + ': ' if where else ''}{first.message}",
            hint="see the tool's input schema",
        )


def run(root: Path, *, vars: ClusterVars, allow_write: bool, offline: bool, http: str | None) -> None:
    """``homeops mcp``: serve until the client goes away (stdio) or the process is stopped (HTTP)."""
    server = HomeopsServer(Session(root, vars, offline=offline), allow_write=allow_write)
    if http is None:
        anyio.run(server.serve_stdio)
        return
    host, _, port = http.rpartition(":")
    if not port.isdigit():
        raise HomeopsError(f"--http {http!r} is not HOST:PORT", hint="e.g. --http 127.0.0.1:8765")
    server.serve_http(host.strip("[]") or "127.0.0.1", int(port))

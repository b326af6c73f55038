"""``homeops mcp``: serve the repository to an AI assistant over the Model Context Protocol."""

from __future__ import annotations

import argparse

from homeops.cli import common
from homeops.core.errors import HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    mcp = commands.add_parser(
        "mcp", parents=parents, help="Serve the repository to an AI assistant over MCP (stdio).",
        description="A Model Context Protocol server over stdio (or streamable HTTP on loopback with --http): "
        "read-only tools over the rendered repository, the context document's generated sections as "
        "resources, and the add-an-app / migrate-an-app procedures as prompts. Needs the 'mcp' extra "
        "(pip install 'homeops[mcp]').",
    )  # fmt: skip
    common.add_flag(
        mcp, "--allow-write",
        "Offer the write tools (new_app, migrate, fix, pin): each previews a diff and applies it only with "
        "the token of that preview.",
    )  # fmt: skip
    common.add_flag(mcp, "--offline", "Never download charts (build_helmrelease uses the cache only).")
    mcp.add_argument(
        "--http", metavar="HOST:PORT",
        help="Serve streamable HTTP on a loopback address (e.g. 127.0.0.1:8765) instead of stdio.",
    )  # fmt: skip
    common.add_vars(mcp)
    common.add_path(mcp)
    mcp.set_defaults(handler=run_mcp)


def run_mcp(args: argparse.Namespace) -> int:
    from homeops.api import find_root  # start-up: the library loads when a command runs

    try:
        from homeops.mcp_server import server  # start-up: the SDK loads only for this command
    except ImportError as exc:
        raise HomeopsError(
            f"the MCP server needs the 'mcp' package ({exc.name} is missing)",
            hint="pip install 'homeops[mcp]'",
        ) from None
    root = find_root(args.path)
    server.run(
        root,
        vars=common.parse_vars(args),
        allow_write=args.allow_write,
        offline=args.offline,
        http=args.http,
    )
    return 0

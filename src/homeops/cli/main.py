"""The ``homeops`` command: parse argv, call :mod:`homeops.api`, print.

Global options (``--debug``, ``--version``) are accepted before or after the subcommand. Every
error is one line on stderr with a documented exit code; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from homeops import __version__
from homeops.cli.common import Parser, UsageError, error_line
from homeops.core.collector import fewer_collections
from homeops.core.errors import EXIT_USAGE, HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

EXIT_INTERNAL = 70
"""A bug: an exception homeops did not expect (reported as one line; --debug shows where)."""

COMMANDS = {
    "kustomize": "render_cmd", "build": "render_cmd", "get": "get_cmd", "test": "test_cmd",
    "check": "check_cmd", "rules": "check_cmd", "init": "author_cmd", "new": "author_cmd",
    "migrate": "migrate_cmd", "images": "images_cmd", "diff": "diff_cmd", "docs": "docs_cmd",
    "mcp": "mcp_cmd", "report": "web_cmd", "serve": "web_cmd", "profile": "profile_cmd",
    "daemon": "daemon_cmd",
}  # fmt: skip
"""Each command as argv names it -> the module of ``homeops.cli`` that registers it (loaded when its
commands are parsed: start-up), in the order ``--help`` lists them."""

COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


def build_parser(only: str | None = None) -> Parser:
    """The whole command tree (cheap: no command imports the library until it runs), or with ``only``
    the tree of that module's commands alone."""
    globals_ = argparse.ArgumentParser(add_help=False)
    globals_.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="Show tracebacks for errors."
    )
    parser = Parser(
        prog="homeops",
        description="Render, check, author, migrate and review Flux GitOps home-ops repositories.",
        epilog="Run 'homeops COMMAND --help' for a command's options. Exit codes: 0 success, "
        "1 the command worked and found problems, 2 unusable input or usage.",
    )
    parser.add_argument("--debug", action="store_true", help="Show tracebacks for errors.")
    parser.add_argument("--version", action="version", version=f"homeops {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in COMMAND_MODULES:
        if only is None or module == only:
            importlib.import_module(f"homeops.cli.{module}").register(commands, [globals_])
    return parser


_PARSER: list[Parser] = []


def parser_once() -> Parser:
    """The command tree, built once per process (a start-up daemon builds it before it forks)."""
    if not _PARSER:
        _PARSER.append(build_parser())
    return _PARSER[0]


RECURSION_LIMIT = 10_000
"""YAML nests up to about 1,000 levels before the parser refuses it; the walks over documents
(substitution, redaction, the schema rule) take a few frames per level, more than Python's default
1,000 frames allow (measured: a 990-deep mapping through check, build, diff and images list)."""


def parser_for(argv: Sequence[str]) -> Parser:
    """The parser of one command line. When it names a command first (``--debug`` aside), only that
    command's module fills the tree (start-up: the ~120 parsers of every command cost ~10 ms of
    argparse); help, ``--version`` and unknown commands get the whole tree, whose messages list every
    command, and so does a daemon that built the whole tree before forking."""
    if not _PARSER:
        command = next((arg for arg in argv if arg != "--debug"), None)
        module = COMMANDS.get(command) if command is not None else None
        if module is not None:
            return build_parser(module)
    return parser_once()


def run(argv: Sequence[str]) -> int:
    """Run one command line; the exit code."""
    debug = "--debug" in argv
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        parser = parser_for(argv)
        args = parser.parse_args(list(argv))
        debug = bool(getattr(args, "debug", False))
        handler = getattr(args, "handler", None)
        if handler is None:
            chosen = getattr(args, "group_parser", parser)
            chosen.print_help(sys.stderr)
            return EXIT_USAGE
        with fewer_collections():
            return int(handler(args) or 0)
    except HomeopsError as exc:
        if debug and not isinstance(exc, UsageError):
            _print_traceback()
        print(error_line(exc.one_line()), file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an unexpected failure is still one line unless --debug
        if debug:
            _print_traceback()
        print(
            error_line(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)"),
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _print_traceback() -> None:
    import traceback  # only with --debug

    traceback.print_exc()


def main() -> None:
    """Console entry point."""
    code = run(sys.argv[1:])
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``| head``): not an error
        code = code or 0
    sys.exit(code)


if __name__ == "__main__":
    main()

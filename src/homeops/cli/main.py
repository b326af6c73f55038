"""The ``homeops`` command: parse argv, call :mod:`homeops.api`, print.

Global options (``--debug``, ``--version``) are accepted before or after the subcommand. Every
error is one line on stderr with a documented exit code; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import sys

from homeops import __version__
from homeops.cli import (
    author_cmd,
    check_cmd,
    daemon_cmd,
    diff_cmd,
    docs_cmd,
    get_cmd,
    images_cmd,
    mcp_cmd,
    migrate_cmd,
    profile_cmd,
    render_cmd,
    test_cmd,
    web_cmd,
)
from homeops.cli.common import Parser, UsageError, error_line
from homeops.core.collector import fewer_collections
from homeops.core.errors import EXIT_USAGE, HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

EXIT_INTERNAL = 70
"""A bug: an exception homeops did not expect (reported as one line; --debug shows where)."""

COMMAND_MODULES = (
    render_cmd, get_cmd, test_cmd, check_cmd, author_cmd, migrate_cmd, images_cmd, diff_cmd, docs_cmd, mcp_cmd,
    web_cmd, profile_cmd, daemon_cmd,
)  # fmt: skip


def build_parser() -> Parser:
    """The whole command tree (cheap: no command imports the library until it runs)."""
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
        module.register(commands, [globals_])
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


def run(argv: Sequence[str]) -> int:
    """Run one command line; the exit code."""
    debug = "--debug" in argv
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        parser = parser_once()
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

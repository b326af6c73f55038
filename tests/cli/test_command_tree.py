"""The command tree built for one command (cli/main.py ``parser_for``): a command line that names a
command first gets a tree holding only that command's module (start-up), which must parse exactly as
the whole tree does; everything else (help, typos) gets the whole tree."""

from __future__ import annotations

import argparse
import importlib

import pytest

from support import run_cli

main = importlib.import_module("homeops.cli.main")  # ``homeops.cli.main`` the attribute is the entry point


def _parsed(parser: argparse.ArgumentParser, argv: list[str]) -> dict[str, object]:
    """What ``parser`` makes of ``argv``; a parser in the result (the group to print help for) by its name."""
    values = vars(parser.parse_args(argv))
    return {k: v.prog if isinstance(v, argparse.ArgumentParser) else v for k, v in values.items()}


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(action.choices)


def test_every_command_is_named_with_the_module_that_registers_it() -> None:
    assert _commands(main.build_parser()) == list(main.COMMANDS)
    for module in main.COMMAND_MODULES:
        assert _commands(main.build_parser(module)) == [c for c, m in main.COMMANDS.items() if m == module]


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "ks", "--cluster", "chongus", "--no-cache"],
        ["--debug", "build", "all", "--enable-helm"],
        ["get", "ks", "-o", "json"],
        ["check", "--changed", "--format", "sarif"],
        ["rules", "HO001"],
        ["diff", "--base", "HEAD~1", "--cluster", "c", "--findings"],
        ["kustomize", "some/dir", "--load-restrictor", "none"],
        ["images", "list"],
    ],
)
def test_a_command_parses_alike_in_its_own_tree_and_in_the_whole(argv: list[str]) -> None:
    module = main.COMMANDS[next(arg for arg in argv if arg != "--debug")]
    own = main.parser_for(argv)
    assert _commands(own) == [c for c, m in main.COMMANDS.items() if m == module]
    assert _parsed(own, argv) == _parsed(main.build_parser(), argv)


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h", "build"], ["--version"], ["nosuch"], ["--debug"]])
def test_help_version_and_unknown_commands_get_the_whole_tree(argv: list[str]) -> None:
    assert _commands(main.parser_for(argv)) == list(main.COMMANDS)


def test_an_unknown_command_is_told_every_command() -> None:
    proc = run_cli("nosuch")
    assert proc.returncode == 2
    assert all(f"'{command}'" in proc.stderr for command in main.COMMANDS)

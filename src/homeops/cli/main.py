"""The ``homeops`` command: thin Typer commands over the library."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from homeops import __version__
from homeops.cli import common

app = typer.Typer(
    name="homeops",
    help="Render, check, author, migrate and review Flux GitOps home-ops repositories.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"homeops {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    common.STATE.debug = debug


def _register() -> None:
    from homeops.cli import kustomize_cmd

    kustomize_cmd.register(app)
    for name in ("flux_cmd", "check_cmd", "author_cmd", "migrate_cmd", "images_cmd", "diff_cmd"):
        try:
            module = __import__(f"homeops.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"homeops.cli.{name}":
                raise
            continue
        module.register(app)


_register()


def main() -> None:
    """Console entry point: one clear line per error, documented exit codes."""
    common.run(app, sys.argv[1:])


if __name__ == "__main__":
    main()

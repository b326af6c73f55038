"""What every command shares: error handling, repository location, output helpers."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import typer

from homeops.core import git
from homeops.core.errors import EXIT_USAGE, HomeopsError


def _exception_types(name: str) -> tuple[type[BaseException], ...]:
    """``name`` from click and, with typer >= 0.29, from the click typer vendors (its own classes)."""
    found: list[type[BaseException]] = [getattr(click.exceptions, name)]
    try:
        from typer import _click as vendored
    except ImportError:  # pragma: no cover - older typer uses click itself
        return tuple(found)
    for module in (vendored, getattr(vendored, "exceptions", None)):
        extra = getattr(module, name, None)
        if isinstance(extra, type) and extra not in found:
            found.append(extra)
    return tuple(found)


_CLICK_EXCEPTIONS = _exception_types("ClickException")
_CLICK_EXIT: tuple[type[BaseException], ...] = (*_exception_types("Exit"), typer.Exit)
_CLICK_ABORT = _exception_types("Abort")


@dataclass
class State:
    debug: bool = False


STATE = State()


def error_line(message: str) -> str:
    return f"homeops: error: {message}"


def run(app: typer.Typer, argv: list[str]) -> None:
    STATE.debug = "--debug" in argv
    try:
        result = app(args=argv, standalone_mode=False)
    except HomeopsError as exc:
        if STATE.debug:
            traceback.print_exc()
        print(error_line(exc.one_line()), file=sys.stderr)
        sys.exit(exc.exit_code)
    except _CLICK_EXIT as exc:
        sys.exit(getattr(exc, "exit_code", 1))
    except _CLICK_EXCEPTIONS as exc:
        if STATE.debug:
            traceback.print_exc()
        hint = " (see 'homeops --help')"
        message = exc.format_message().replace("\n", " ").strip()  # type: ignore[attr-defined]
        if message:  # an empty message follows the help text printed for a bare command
            print(error_line(message + hint), file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except _CLICK_ABORT:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # an unexpected failure is still one line unless --debug
        if STATE.debug:
            traceback.print_exc()
        print(
            error_line(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)"),
            file=sys.stderr,
        )
        sys.exit(70)
    sys.exit(result if isinstance(result, int) else 0)


def repo_root(path: Path | None) -> Path:
    """``--path`` if given, else the Git top level of the current directory, else ``.``."""
    if path is not None:
        if not path.is_dir():
            raise HomeopsError(f"repository path '{path}' is not a directory", hint="pass an existing --path")
        return path.resolve()
    try:
        return git.toplevel(Path.cwd())
    except git.GitError:
        return Path.cwd().resolve()


def use_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def print_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


class _NoProgress:
    def __call__(self, _label: str) -> None:
        return None


def progress(label: str) -> Any:
    """A context manager yielding a tick(label) callback: a Rich spinner on terminals, nothing otherwise."""
    from contextlib import contextmanager

    @contextmanager
    def manager() -> Any:
        if not sys.stderr.isatty() or os.environ.get("NO_COLOR") or os.environ.get("CI"):
            yield _NoProgress()
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn

        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), transient=True, console=_stderr_console()
        ) as bar:
            task = bar.add_task(label)

            def tick(item: str) -> None:
                bar.update(task, description=f"{label} {item}")

            yield tick

    return manager()


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def print_rows(rows: list[dict[str, Any]], columns: list[str], output: str) -> None:
    """A Rich table (``table``/``wide``) or ``{"items": [...]}`` (``json``)."""
    if output == "json":
        print_json({"items": rows})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column.upper())
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    console = Console(no_color=not use_color(), width=None if sys.stdout.isatty() else 250)
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_cell(v) for v in value)
    return str(value)


def digest_resolver() -> Callable[[str], str]:
    """Registry lookups of ``homeops.images.pin`` (network): image reference -> digest, for the
    authoring commands, which take the image layer as a parameter."""
    from homeops.images.pin import resolve_digest  # lazy: only commands that pin need the registry client

    return lambda reference: str(resolve_digest(reference))


def parse_vars(values: list[str] | None) -> dict[str, str]:
    """``--var KEY=VALUE`` options as a mapping."""
    out: dict[str, str] = {}
    for item in values or []:
        if "=" not in item:
            raise HomeopsError(f"--var {item!r} is not KEY=VALUE", hint="write --var NAME=value")
        key, _, value = item.partition("=")
        out[key] = value
    return out

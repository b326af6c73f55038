"""``homeops diff``: the rendered difference between two Git revisions (default: HEAD vs the working tree)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from homeops.cli import common
from homeops.core.errors import EXIT_FINDINGS, HomeopsError

FORMATS = ("unified", "markdown", "json")


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff(
        base: Annotated[str | None, typer.Option("--base", help="Base revision (default: HEAD).")] = None,
        head: Annotated[
            str | None, typer.Option("--head", help="Head revision (default: the working tree).")
        ] = None,
        merge_base: Annotated[
            bool, typer.Option("--merge-base", help="Compare from the merge base of base and head.")
        ] = False,
        cluster: Annotated[
            str | None, typer.Option("--cluster", help="One cluster (name or directory); default: all.")
        ] = None,
        output_format: Annotated[
            str, typer.Option("--format", help="unified, markdown or json.")
        ] = "unified",
        strip_attrs: Annotated[
            str | None,
            typer.Option(
                "--strip-attrs",
                help="Comma-separated keys removed before comparing (labels, annotations, any map key), "
                "e.g. helm.sh/chart,checksum/config,app.kubernetes.io/version.",
            ),
        ] = None,
        limit_bytes: Annotated[
            int | None,
            typer.Option(
                "--limit-bytes",
                help="markdown: the whole report's size (default 60000); unified/json: each object's diff.",
            ),
        ] = None,
        exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when anything changed.")] = False,
        enable_helm: Annotated[
            bool, typer.Option("--enable-helm", help="Expand HelmReleases into their objects.")
        ] = False,
        var: Annotated[
            list[str] | None, typer.Option("--var", help="KEY=VALUE for variables only the cluster knows.")
        ] = None,
        path: Annotated[
            Path | None, typer.Option("--path", help="Repository root (default: Git top level, else .).")
        ] = None,
    ) -> None:
        """The rendered difference Flux would apply between two revisions, object by object."""
        from homeops.diff import formats
        from homeops.diff.compare import DiffOptions, diff_repository

        if output_format not in FORMATS:
            raise HomeopsError(f"unknown format {output_format!r}", hint="use unified, markdown or json")
        if limit_bytes is not None and limit_bytes < 0:
            raise HomeopsError(
                "--limit-bytes must be positive", hint="pass a size in bytes, or 0 for no limit"
            )
        options = DiffOptions(
            base=base, head=head, merge_base=merge_base, cluster=cluster,
            strip_attrs=[a for a in (strip_attrs or "").split(",") if a.strip()],
            cli_vars=common.parse_vars(var), enable_helm=enable_helm,
        )  # fmt: skip
        root = common.repo_root(path)
        with common.progress("rendering") as tick:
            result = diff_repository(root, options, progress=tick)
        if output_format == "json":
            sys.stdout.write(formats.format_json(result, limit=limit_bytes))
        elif output_format == "markdown":
            limit = formats.DEFAULT_MARKDOWN_LIMIT if limit_bytes is None else limit_bytes
            sys.stdout.write(formats.format_markdown(result, limit=limit))
        else:
            sys.stdout.write(formats.format_unified(result, color=common.use_color(), limit=limit_bytes))
            for side, f in result.render_errors:
                where = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
                print(
                    common.error_line(
                        f"{where}{f.message} [{f.rule}] (only at {side}: "
                        f"{result.base_label if side == 'base' else result.head_label})"
                    ),
                    file=sys.stderr,
                )
            for note in result.notes:
                print(f"homeops: note: {note}", file=sys.stderr)
        sys.stdout.flush()
        if result.new_head_errors or (exit_code and result.changes):
            raise typer.Exit(EXIT_FINDINGS)

"""``homeops kustomize DIR``: build one kustomization like ``kustomize build``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from homeops.cli import common
from homeops.core import yamlio
from homeops.core.errors import HomeopsError
from homeops.kustomize.build import Builder, BuildOptions


def register(app: typer.Typer) -> None:
    @app.command("kustomize")
    def kustomize(
        directory: Annotated[Path, typer.Argument(help="The kustomization directory.")],
        engine: Annotated[
            str, typer.Option(help="native (default, never falls back) or kubectl.")
        ] = "native",
        path: Annotated[
            Path | None, typer.Option("--path", help="Repository root (for file names in errors).")
        ] = None,
        load_restrictor: Annotated[
            str, typer.Option(help="rootOnly (kustomize's default) or none (Flux's).")
        ] = "rootOnly",
    ) -> None:
        """Build one kustomization: a YAML stream on stdout, equal to `kubectl kustomize DIR`."""
        if not directory.is_dir():
            raise HomeopsError(
                f"'{directory}' is not a directory", str(directory), None, "pass a kustomization directory"
            )
        if engine == "kubectl":
            cmd = ["kubectl", "kustomize", str(directory)]
            if load_restrictor == "none":
                cmd.append("--load-restrictor=LoadRestrictionsNone")
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                message = (
                    proc.stderr.strip().splitlines()[-1]
                    if proc.stderr.strip()
                    else "kubectl kustomize failed"
                )
                raise HomeopsError(f"kubectl kustomize: {message}", str(directory))
            sys.stdout.write(proc.stdout)
            return
        if engine != "native":
            raise HomeopsError(f"unknown engine {engine!r}", hint="use native or kubectl")
        if load_restrictor not in ("rootOnly", "none"):
            raise HomeopsError(f"unknown load restrictor {load_restrictor!r}", hint="use rootOnly or none")
        root = common.repo_root(path)
        builder = Builder(root, options=BuildOptions(load_restrictor=load_restrictor))
        resources = builder.build(directory)
        sys.stdout.write(yamlio.dump_all(r.obj for r in resources))

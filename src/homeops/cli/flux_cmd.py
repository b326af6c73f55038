"""``homeops build`` and ``homeops get``: render clusters as Flux would and list what is in them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from homeops.cli import common
from homeops.core import yamlio
from homeops.core.errors import EXIT_FINDINGS, HomeopsError
from homeops.core.profile import load_profile
from homeops.flux import inventory
from homeops.flux.cluster import discover_clusters, resolve_cluster
from homeops.flux.render import ClusterRender, render_cluster

PathOpt = Annotated[
    Path | None, typer.Option("--path", help="Repository root (default: Git top level, else .).")
]
ClusterOpt = Annotated[
    str | None, typer.Option("--cluster", help="Cluster name or directory of its root Flux objects.")
]
VarOpt = Annotated[
    list[str] | None, typer.Option("--var", help="KEY=VALUE for variables only the cluster knows.")
]
OutputOpt = Annotated[str, typer.Option("-o", "--output", help="Output format.")]


parse_vars = common.parse_vars  # kept importable here for the commands that took it from this module


def render(
    path: Path | None, cluster: str | None, var: list[str] | None, *, all_clusters: bool = False
) -> list[ClusterRender]:
    """Render one cluster (or every cluster) with a progress bar on terminals."""
    root = common.repo_root(path)
    profile = load_profile(root)
    clusters = (
        discover_clusters(root, profile)
        if all_clusters and cluster is None
        else [resolve_cluster(root, profile, cluster)]
    )
    cli_vars = parse_vars(var)
    results = []
    with common.progress("rendering") as tick:
        for c in clusters:
            results.append(render_cluster(root, c, profile=profile, cli_vars=cli_vars, progress=tick))
    return results


def _report_errors(results: list[ClusterRender]) -> int:
    code = 0
    for result in results:
        for f in result.findings:
            if f.severity == "error":
                loc = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
                print(common.error_line(f"{loc}{f.message} [{f.rule}]"), file=sys.stderr)
                code = EXIT_FINDINGS
    return code


def register(app: typer.Typer) -> None:
    build_app = typer.Typer(help="Render what Flux would apply.", no_args_is_help=True)
    get_app = typer.Typer(help="List objects of the rendered cluster.", no_args_is_help=True)
    app.add_typer(build_app, name="build")
    app.add_typer(get_app, name="get")

    @build_app.command("ks")
    def build_ks(
        name: Annotated[
            str | None, typer.Argument(help="A Flux Kustomization name (default: the whole cluster).")
        ] = None,
        path: PathOpt = None,
        cluster: ClusterOpt = None,
        namespace: Annotated[
            str | None, typer.Option("-n", "--namespace", help="Namespace of the Kustomization.")
        ] = None,
        output: OutputOpt = "yaml",
        var: VarOpt = None,
        enable_helm: Annotated[
            bool, typer.Option("--enable-helm", help="Expand HelmReleases into their objects.")
        ] = False,
    ) -> None:
        """Render one Flux Kustomization by name, or the whole cluster."""
        if output not in ("yaml", "json"):
            raise HomeopsError(f"unknown output {output!r} for build ks", hint="use -o yaml or -o json")
        results = render(path, cluster, var)
        result = results[0]
        selected = [
            rk
            for rk in result.rendered.values()
            if name is None or (rk.ks.name == name and (namespace is None or rk.ks.namespace == namespace))
        ]
        if name is not None and not selected:
            known = ", ".join(sorted({rk.ks.name for rk in result.rendered.values()}))
            raise HomeopsError(
                f"no Flux Kustomization named {name!r} in cluster {result.cluster.name}",
                hint=f"known: {known}",
            )
        if enable_helm:
            from homeops.flux import helm_expand

            helm_expand.expand(common.repo_root(path), result, selected)
        pairs = [(rk, res) for rk in selected for res in rk.resources]
        if output == "yaml":
            sys.stdout.write(yamlio.dump_all(res.obj for _, res in pairs))
        else:
            common.print_json(
                {"items": [{"ks": rk.ks.key, "source": res.where(), "object": res.obj} for rk, res in pairs]}
            )
        selected_keys = {rk.ks.key for rk in selected}
        errors = [
            f
            for f in result.findings
            if f.severity == "error"
            and (
                name is None
                or f.extra.get("ks") in selected_keys
                or ("ks" not in f.extra and f.file in {r.file for rk in selected for r in rk.resources})
            )
        ]
        if errors:
            raise typer.Exit(_report_errors([ClusterRender(result.cluster, findings=errors)]))

    from homeops.cli import helm_cmd

    helm_cmd.register_build(build_app)  # build hr

    @get_app.command("ks")
    def get_ks(
        path: PathOpt = None,
        cluster: ClusterOpt = None,
        all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces")] = False,
        namespace: Annotated[str | None, typer.Option("-n", "--namespace")] = None,
        output: OutputOpt = "table",
        var: VarOpt = None,
    ) -> None:
        """Flux Kustomizations: name, path, dependencies, source line."""
        _get(inventory.kustomizations, path, cluster, namespace if not all_namespaces else None, output, var)

    @get_app.command("hr")
    def get_hr(
        path: PathOpt = None,
        cluster: ClusterOpt = None,
        all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces")] = False,
        namespace: Annotated[str | None, typer.Option("-n", "--namespace")] = None,
        output: OutputOpt = "table",
        var: VarOpt = None,
    ) -> None:
        """HelmReleases: chart, version, source line."""
        _get(inventory.helmreleases, path, cluster, namespace if not all_namespaces else None, output, var)

    @get_app.command("sources")
    def get_sources(
        path: PathOpt = None,
        cluster: ClusterOpt = None,
        all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces")] = False,
        namespace: Annotated[str | None, typer.Option("-n", "--namespace")] = None,
        output: OutputOpt = "table",
        var: VarOpt = None,
    ) -> None:
        """Flux sources (Git, OCI, Helm repositories)."""
        _get(inventory.sources, path, cluster, namespace if not all_namespaces else None, output, var)

    @get_app.command("images")
    def get_images(
        path: PathOpt = None,
        cluster: ClusterOpt = None,
        all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces")] = False,
        namespace: Annotated[str | None, typer.Option("-n", "--namespace")] = None,
        output: OutputOpt = "table",
        var: VarOpt = None,
    ) -> None:
        """Container images in rendered workloads and chart values."""
        _get(inventory.images, path, cluster, namespace if not all_namespaces else None, output, var)

    @get_app.command("clusters")
    def get_clusters(path: PathOpt = None, output: OutputOpt = "table") -> None:
        """Clusters of the repository and their root directories."""
        root = common.repo_root(path)
        rows = [{"name": c.name, "path": c.directory} for c in discover_clusters(root, load_profile(root))]
        common.print_rows(rows, ["name", "path"], output)


def _get(
    fn: Any, path: Path | None, cluster: str | None, namespace: str | None, output: str, var: list[str] | None
) -> None:
    if output not in ("table", "wide", "json"):
        raise HomeopsError(f"unknown output {output!r}", hint="use -o table, -o wide or -o json")
    results = render(path, cluster, var, all_clusters=True)
    rows: list[dict[str, Any]] = []
    for result in results:
        rows.extend(r for r in fn(result) if namespace is None or r.get("namespace") == namespace)
    columns, wide = fn.columns, fn.wide_columns
    common.print_rows(rows, wide if output == "wide" else columns, output)
    code = _report_errors(results)
    if code:
        raise typer.Exit(code)

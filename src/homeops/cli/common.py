"""What every command shares: its options, error lines, tables, JSON and a progress line.

The CLI is argparse (the standard library) so that parsing argv costs a few milliseconds: command
modules import :mod:`homeops.api` only when they run, never at start-up.
"""

from __future__ import annotations

import argparse
import os
import sys

from homeops.core.errors import HomeopsError
from homeops.core.text import escape

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # typing only: the API is imported when a command runs, not at start-up
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from types import TracebackType
    from typing import Any

    from homeops.api import Finding, Rendering, RenderSettings, Workspace
    from homeops.core.variables import ClusterVars


class UsageError(HomeopsError):
    """A bad command line (unknown option, missing argument): exit 2 with a pointer to --help."""


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one ``homeops: error:`` line, exit 2, like every other error."""

    def error(self, message: str) -> Any:
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            words = message[len(prefix) :].split()
            options = [w for w in words if w.startswith("-")]
            message = f"No such option: {options[0]}" if options else f"unexpected argument: {words[0]}"
        raise UsageError(f"{message} (see '{self.prog} --help')")


def error_line(message: str) -> str:
    return "homeops: error: " + escape(message)


def say(message: str) -> None:
    """A status line on stderr: ``homeops: <message>``."""
    print(f"homeops: {escape(message)}", file=sys.stderr)


def note(message: str, kind: str = "note") -> None:
    print(f"homeops: {kind}: {escape(message)}", file=sys.stderr)


def finding_line(f: Finding) -> str:
    """``<file>:<line>: <message> [<rule>]``, how commands print render errors."""
    loc = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
    return f"{loc}{f.message} [{f.rule}]"


def report_errors(findings: Sequence[Finding]) -> int:
    """Print each error finding as an error line; 1 if there was any, 2 if homeops refused to read
    something (a file outside the repository, input over a limit: unusable input)."""
    from homeops.core.codes import REFUSED  # start-up: the registry loads when errors are reported

    code = 0
    for f in findings:
        if f.severity == "error":
            print(error_line(finding_line(f)), file=sys.stderr)
            code = max(code, 2 if f.rule in REFUSED else 1)
    return code


def report_listing(renders: Sequence[Rendering], *, strict: bool = False) -> int:
    """How listing commands (``get``, ``images list``) end: the listing is the result, so problems of
    the render are summarised in one line on stderr. Exit 1 only when part of the render is missing
    from the listing (a Flux Kustomization or a chart that could not be rendered: the contract's
    "render errors of some Kustomizations"); ``--strict`` prints every error line and exits 1 on any."""
    from homeops.core import codes  # start-up: only when a listing ends

    findings = [f for r in renders for f in r.findings]
    if strict:
        return report_errors(findings)
    chart_failures = (codes.CHART_SOURCE_UNAVAILABLE.id, codes.CHART_RENDER_FAILED.id)
    failed = sum(1 for r in renders for k in r.kustomizations if k.status == "error")
    failed_charts = sum(1 for f in findings if f.rule in chart_failures and f.severity == "error")
    if not findings:
        return 0
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    by_rule: dict[str, int] = {}
    for f in findings:
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    parts = [f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for s, n in counts.items() if n]
    rules = ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items()))
    missing = []
    if failed:
        needs = sorted({f"{f.cluster}:{f.extra['variable']}" for f in findings if f.extra.get("in_path")})
        why = (
            f" (their spec.path needs {', '.join(needs)}: give it in .homeops.yaml vars or --var)"
            if needs
            else ""
        )
        missing.append(f"{failed} Flux Kustomization{'s' if failed != 1 else ''} not rendered{why}")
    if failed_charts:
        missing.append(f"{failed_charts} chart{'s' if failed_charts != 1 else ''} not rendered")
    lead = "; ".join(missing) + "; " if missing else ""
    say(
        f"{lead}{', '.join(parts)} in the render ({rules}): 'homeops check' shows them, --strict fails on errors"
    )
    return 1 if failed or failed_charts else 0


def add_strict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict", action="store_true",
        help="Print every error of the render and exit 1 on any (default: one summary line).",
    )  # fmt: skip


# ------------------------------------------------------------------------------------------ options
def add_path(
    parser: argparse.ArgumentParser, help: str = "Repository root (default: Git top level, else .)."
) -> None:
    parser.add_argument("--path", metavar="DIR", help=help)


def add_cluster(
    parser: argparse.ArgumentParser, help: str = "Cluster name or directory of its root Flux objects."
) -> None:
    parser.add_argument("--cluster", metavar="C", help=help)


def add_vars(
    parser: argparse.ArgumentParser,
    help: str = "[CLUSTER:]NAME=VALUE for a variable only the cluster knows (repeatable).",
) -> None:
    parser.add_argument("--var", action="append", metavar="[CLUSTER:]NAME=VALUE", help=help)
    parser.add_argument(
        "--vars-file", metavar="FILE",
        help="YAML mapping cluster name (or \"*\") to {NAME: value}, over .homeops.yaml vars:.",
    )  # fmt: skip
    parser.add_argument(
        "--placeholders", action="store_true",
        help="Render each variable still without a value as ..PLACEHOLDER_NAME.. (never decrypts).",
    )  # fmt: skip
    add_no_cache(parser)  # every command that renders takes --var, and --no-cache


def add_output(
    parser: argparse.ArgumentParser, values: Sequence[str], default: str | None, dest: str = "output"
) -> None:
    """``-o/--output`` naming its values; ``default=None`` leaves the default to the parent command."""
    parser.add_argument(
        "-o", "--output", dest=dest, default=default if default is not None else argparse.SUPPRESS,
        metavar="FORMAT", help=f"Output format: {', '.join(values)}"
        + (f" (default: {default})." if default is not None else "."),
    )  # fmt: skip


def add_render_settings(parser: argparse.ArgumentParser, *, helm: bool = True) -> None:
    """The render options flux-local and flate users pass (:class:`homeops.api.RenderSettings`)."""
    parser.add_argument(
        "--sources", action="append", metavar="NAME[=PATH]",
        help="A GitRepository/OCIRepository/Bucket (NAME or NAMESPACE/NAME) whose artifact is this "
        "checkout, at PATH (relative to --path; default: its root); comma-separated or repeatable.",
    )  # fmt: skip
    add_flag(
        parser, "--strict-substitution",
        "Fail a Flux Kustomization whose postBuild variable has no value and no default, as Flux's "
        "StrictPostBuildSubstitutions feature gate does (default: the ${NAME} text stays).",
    )  # fmt: skip
    add_flag(
        parser, "--remote",
        "Fetch what kustomizations name by URL (resources files, generator files) as Flux does, kept in "
        "the cache (HOMEOPS_OFFLINE=1: the cache only). Default: such a Flux Kustomization does not render.",
    )  # fmt: skip
    if helm:
        parser.add_argument(
            "--kube-version", metavar="VERSION",
            help="Kubernetes version Helm charts see in .Capabilities.KubeVersion (default: the "
            "profile's kubernetes_version).",
        )  # fmt: skip
        parser.add_argument(
            "-a", "--api-versions", action="append", metavar="LIST",
            help="API versions for .Capabilities.APIVersions, comma-separated or repeatable (added to "
            "those of the CRDs in the render).",
        )  # fmt: skip
        parser.add_argument(
            "--registry-config", metavar="FILE",
            help="Docker config.json with OCI registry credentials, read before ~/.docker/config.json.",
        )  # fmt: skip


def add_skip_kinds(parser: argparse.ArgumentParser) -> None:
    """flux-local's and flate's output filters (off by default here: homeops prints everything)."""
    parser.add_argument(
        "--skip-secrets", action=argparse.BooleanOptionalAction, default=False,
        help="Leave Secret objects out of the output (default: kept).",
    )  # fmt: skip
    parser.add_argument(
        "--skip-crds", action=argparse.BooleanOptionalAction, default=False,
        help="Leave CustomResourceDefinition objects out of the output (default: kept).",
    )  # fmt: skip
    parser.add_argument(
        "--skip-kinds", action="append", metavar="LIST",
        help="More kinds to leave out, comma-separated or repeatable.",
    )  # fmt: skip


def _listed(values: Sequence[str] | None) -> list[str]:
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def skip_kinds(args: argparse.Namespace) -> frozenset[str]:
    from homeops.api import skipped_kinds  # start-up: the library loads when a command runs

    return skipped_kinds(
        secrets=bool(getattr(args, "skip_secrets", False)),
        crds=bool(getattr(args, "skip_crds", False)),
        kinds=_listed(getattr(args, "skip_kinds", None)),
    )


def render_settings(args: argparse.Namespace, root: Path) -> RenderSettings:
    """``--sources``, ``--strict-substitution`` and the Helm options as render settings; paths and
    versions checked here so that a typo is one error line, not a render full of failures."""
    import re  # start-up: only when a command runs
    from pathlib import Path

    from homeops.api import RenderSettings

    sources: dict[str, str] = {}
    for item in _listed(getattr(args, "sources", None)):
        name, _, path = item.partition("=")
        if not name.strip():
            raise HomeopsError(f"--sources {item!r} has no source name", hint="write --sources NAME=PATH")
        where = (root / path).resolve() if path else root
        if not where.is_dir():
            raise HomeopsError(
                f"--sources {item!r}: '{path}' is not a directory of {root}",
                hint="pass a path relative to --path",
            )
        sources[name.strip()] = path
    kube_version = getattr(args, "kube_version", None)
    if kube_version is not None and not re.fullmatch(r"v?[0-9]+\.[0-9]+(\.[0-9]+)?", kube_version):
        raise HomeopsError(f"--kube-version {kube_version!r} is not a version", hint="write e.g. 1.33.0")
    registry_config = getattr(args, "registry_config", None)
    if registry_config is not None and not Path(registry_config).is_file():
        raise HomeopsError(
            f"--registry-config '{registry_config}' is not a file", hint="pass a Docker config.json"
        )
    return RenderSettings(
        strict_substitution=bool(getattr(args, "strict_substitution", False)),
        source_paths=sources,
        kube_version=kube_version.removeprefix("v") if kube_version else None,
        api_versions=tuple(_listed(getattr(args, "api_versions", None))),
        registry_config=Path(registry_config) if registry_config else None,
        remote=bool(getattr(args, "remote", False)),
    )


def add_flag(parser: argparse.ArgumentParser, name: str, help: str) -> None:
    parser.add_argument(name, action="store_true", help=help)


def check_choice(value: str, values: Sequence[str], what: str, command: str = "") -> str:
    """An option value among ``values``, else the one-line error users know."""
    if value not in values:
        where = f" for {command}" if command else ""
        raise HomeopsError(
            f"unknown {what} {value!r}{where}",
            hint="use " + ", ".join(f"-o {v}" if what == "output" else v for v in values),
        )
    return value


def parse_vars(args: argparse.Namespace) -> ClusterVars:
    """``--vars-file`` then ``--var`` (later wins) as layers of values, ``--placeholders`` on them."""
    from homeops.api import load_vars_file  # start-up: the library loads when a command runs
    from homeops.core.variables import ClusterVars, from_assignments

    layers = ClusterVars()
    vars_file = getattr(args, "vars_file", None)
    if vars_file:
        layers = load_vars_file(vars_file)
    layers = from_assignments(getattr(args, "var", None) or []).over(layers)
    return layers.with_placeholders(bool(getattr(args, "placeholders", False)))


def refuse_secrets_in_ci(show_secrets: bool) -> None:
    """``--show-secrets`` is for a person's own terminal: refused where ``CI`` is set (logs, PR comments)."""
    if show_secrets and os.environ.get("CI"):
        raise HomeopsError(
            "--show-secrets is refused when the CI environment variable is set",
            hint="CI output is shared (logs, pull-request comments); drop --show-secrets",
        )


def add_no_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="Parse and render everything afresh: neither read nor write the cache (also HOMEOPS_NO_CACHE=1).",
    )


def apply_no_cache(args: argparse.Namespace) -> None:
    """``--no-cache``: this process neither reads nor writes the persistent cache."""
    if getattr(args, "no_cache", False):
        from homeops.core import cache  # start-up: only when the option is given

        cache.disable()


def workspace(args: argparse.Namespace, *, path: str | None = None, offline: bool = False) -> Workspace:
    """The repository of ``--path`` (or the Git top level) with the values of ``--vars-file``/``--var``."""
    from homeops.api import Workspace, find_root  # start-up: the library loads when a command runs
    from homeops.cli import replay

    apply_no_cache(args)
    found = find_root(path if path is not None else getattr(args, "path", None))
    replay.saw_root(str(found))
    ws = Workspace(found, vars=parse_vars(args), offline=offline, settings=render_settings(args, found))
    for message in ws.notes:
        note(message)
    return ws


# ------------------------------------------------------------------------------------------ output
def use_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def write_output(text: str, path: str | None) -> None:
    """``text`` to standard output, or written to ``path`` (atomically: a temporary file renamed)."""
    if path is None:
        sys.stdout.write(text)
        return
    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise HomeopsError(f"'{path}' is a directory", hint="pass a file name to -o")
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise HomeopsError(f"the directory of '{path}' does not exist", hint="create it first")
    temporary = f"{target}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    except OSError as exc:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise HomeopsError(f"cannot write '{path}': {exc.strerror}", hint="check the path") from None


def print_json(data: Any) -> None:
    import json  # start-up: only commands printing JSON need it

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_cell(v) for v in value)
    return escape(str(value))


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], output: str) -> None:
    """A table (``table``/``wide``: upper-case headers, columns two spaces apart) or ``{"items": [...]}``.

    Piped output is never cut; on a terminal wider than the table nothing is cut either, and a table
    wider than the terminal (``COLUMNS`` honoured) shortens its widest column with an ellipsis.
    """
    if output == "json":
        print_json({"items": list(rows)})
        return
    table = [[c.upper() for c in columns]] + [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    if sys.stdout.isatty():
        import shutil  # start-up: only for tables on a terminal

        room = shutil.get_terminal_size().columns
        excess = sum(widths) + 2 * (len(widths) - 1) - room
        floors = [max(len(table[0][i]), 4) for i in range(len(widths))]
        while excess > 0:  # the widest column that can still give way loses one character at a time
            widest = max(range(len(widths)), key=lambda i: (widths[i] > floors[i], widths[i]))
            if widths[widest] <= floors[widest]:
                break
            widths[widest] -= 1
            excess -= 1
    lines = []
    for r in table:
        cells = [_fit(text, widths[i]) for i, text in enumerate(r)]
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip())
    sys.stdout.write("\n".join(lines) + "\n")


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


class progress:
    """A tick(item) callback drawing one status line on a terminal's stderr; nothing when piped or in CI."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.width = 0
        if sys.stderr.isatty() and not os.environ.get("NO_COLOR") and not os.environ.get("CI"):
            import shutil  # start-up: only on a terminal

            self.width = max(shutil.get_terminal_size(fallback=(80, 24)).columns - 1, 10)

    def tick(self, item: str) -> None:
        if self.width:
            stream = _drawing_stream()
            stream.write("\r" + escape(f"{self.label} {item}")[: self.width].ljust(self.width))
            stream.flush()

    def __enter__(self) -> Callable[[str], None]:
        return self.tick

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.width:
            stream = _drawing_stream()
            stream.write("\r" + " " * self.width + "\r")
            stream.flush()


def _drawing_stream() -> Any:
    """Where a progress line is drawn: stderr, past any copy kept of it (a drawing is not output)."""
    return getattr(sys.stderr, "passthrough", sys.stderr)

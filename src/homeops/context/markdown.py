"""The generated sections of a context document, as Markdown, from :class:`ContextFacts`.

Each section starts with its own ``##`` heading so that a document made only of generated sections
reads well; the author may put any text around them. Nothing here depends on time or on the order
files were read in: the same repository gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import groupby

from homeops.context.markers import wrap
from homeops.context.model import AppFacts, ContextFacts

SECTIONS = (
    "clusters",
    "layout",
    "apps",
    "routes",
    "backups",
    "components",
    "conventions",
    "anti-patterns",
    "procedures",
)
"""Every generated section, in the order a new document lists them."""


def _cell(value: object) -> str:
    text = str(value).replace("\n", " ").replace("|", "\\|")
    return text if text else "—"


def _code(value: str) -> str:
    return f"`{value}`" if value else ""


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _clusters(facts: ContextFacts) -> str:
    if not facts.clusters:
        return "## Clusters\n\nNo cluster found.\n"
    rows = [
        (f"`{c.name}`", _role(c.role), _code(c.directory), c.kustomizations, c.apps, c.render_errors)
        for c in facts.clusters
    ]
    headers = ("cluster", "role", "root Flux objects", "Flux Kustomizations", "apps", "render errors")
    notes = []
    modern = [c.name for c in facts.clusters if c.role == "modern"]
    legacy = [c.name for c in facts.clusters if c.role == "legacy"]
    if modern:
        notes.append(f"New work goes to {_names(modern)}, in the modern pattern.")
    if legacy:
        verb = "is" if len(legacy) == 1 else "are"
        notes.append(
            f"{_names(legacy)} {verb} being phased out: deploy nothing new there; move its apps with "
            "`homeops migrate` (see Procedures)."
        )
    text = "## Clusters\n\n" + table(headers, rows)
    return text + ("\n" + " ".join(notes) + "\n" if notes else "")


def _role(role: str) -> str:
    return "modern (follow this)" if role == "modern" else "legacy (being phased out)"


def _names(names: Sequence[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _layout(facts: ContextFacts) -> str:
    lines = []
    for entry in facts.layout:
        depth = entry.path.count("/")
        name = entry.path.rsplit("/", 1)[-1] + "/"
        text = "  " * depth + name
        lines.append(f"{text.ljust(40)} # {entry.note}" if entry.note else text)
    body = "\n".join(line.rstrip() for line in lines)
    return "## Repository layout\n\nDirectories as they are in the repository:\n\n```\n" + body + "\n```\n"


def _apps(facts: ContextFacts) -> str:
    out = ["## Apps\n"]
    if not facts.apps:
        return "## Apps\n\nNo app is deployed yet.\n"
    for cluster, apps in groupby(facts.apps, key=lambda a: a.cluster):
        listed = list(apps)
        out.append(f"### {cluster}\n")
        out.append(
            table(
                ("namespace", "app", "chart", "version", "directory"),
                ((a.namespace, a.name, _chart(a), a.version, _code(a.directory)) for a in listed),
            )
        )
    return "\n".join(out)


def _chart(app: AppFacts) -> str:
    return f"`{app.chart}`" if app.chart else "plain manifests"


def _routes(facts: ContextFacts) -> str:
    if not facts.routes:
        return "## Routes\n\nNo app is routed.\n"
    rows = [
        (r.cluster, r.host, r.exposure, f"{r.namespace}/{r.app}", r.via, _code(r.source))
        for r in facts.routes
    ]
    counts: dict[str, int] = {}
    for r in facts.routes:
        counts[r.exposure] = counts.get(r.exposure, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    return f"## Routes\n\nHost names served, by gateway ({summary}):\n\n" + table(
        ("cluster", "host", "exposure", "app", "via", "defined at"), rows
    )


def _backups(facts: ContextFacts) -> str:
    if not facts.backups:
        return "## Backups\n\nNo app keeps data in a claim, and none has a backup.\n"
    backed = [b for b in facts.backups if b.method != "none"]
    bare = [b for b in facts.backups if b.claims]
    rows = (
        (b.cluster, f"{b.namespace}/{b.app}", b.method, b.capacity, ", ".join(b.claims), _code(b.source))
        for b in facts.backups
    )
    return (
        "## Backups\n\n"
        f"{len(backed)} app(s) backed up; {len(bare)} with claims no backup covers.\n\n"
        + table(
            ("cluster", "app", "backups", "capacity", "claims without backup", "Flux Kustomization"), rows
        )
    )


def _components(facts: ContextFacts) -> str:
    if not facts.components:
        return "## Components\n\nNo component directory.\n"
    rows = [(_code(c.path), len(c.users), ", ".join(c.users)) for c in facts.components]
    return "## Components\n\n" + table(("component", "used by", "where"), rows)


_ORIGINS = {
    "file": "From the profile (`.homeops.yaml` over homeops' defaults)",
    "inferred": "Read from the repository (no `.homeops.yaml`: `homeops profile infer` shows where each "
    "was read), over homeops' defaults",
    "given": "From the profile given to homeops",
}


def _conventions(facts: ContextFacts) -> str:
    origin = _ORIGINS.get(facts.profile_origin, _ORIGINS["file"])
    return f"## Conventions in force\n\n{origin}; `homeops check` enforces them.\n\n" + table(
        ("convention", "value"), facts.conventions
    )


def _anti_patterns(facts: ContextFacts) -> str:
    total = sum(r.count for r in facts.rules)
    rows = [(f"`{r.id}`", r.severity, r.title, r.count) for r in facts.rules]
    return (
        "## Anti-patterns\n\n"
        f"Rules `homeops check` enforces and their findings now ({total} in all); "
        "`homeops rules ID` explains one.\n\n" + table(("rule", "severity", "anti-pattern", "findings"), rows)
    )


def _secret_key(store: str) -> str:
    """A placeholder for a key of the secret store: ``DOPPLER_KEY`` for the store ``doppler``."""
    return "".join(ch if ch.isalnum() else "_" for ch in store.upper()) + "_KEY" if store else "KEY"


def _add_app(facts: ContextFacts, target: str) -> list[str]:
    checks = [
        "3. `homeops check`: no new finding.",
        "4. `homeops diff`: review what Flux will apply.",
        "5. `homeops docs`: refresh this document, then commit and push; Flux reconciles.\n",
    ]
    if target not in facts.authoring:
        where = f"`{facts.app_tree}/<namespace>/<app>/`" if facts.app_tree else "its namespace's directory"
        return [
            "### Add a new app\n",
            "`homeops new app` writes into `cluster-apps/<cluster>/` or a directory of "
            "`<namespace>/<app>/ks.yaml` apps that the cluster's root Flux Kustomizations apply; this "
            "repository has neither.",
            "",
            f"1. Copy an app of {where} that is like the new one (same chart, same kind of storage).",
            "2. Rename it, register it in its namespace's `kustomization.yaml`, pin its image to a digest.",
            *checks,
        ]
    namespaces = facts.namespaces.get(target, [])
    known = f" Namespaces of `{target}`: {', '.join(f'`{n}`' for n in namespaces)}." if namespaces else ""
    return [
        "### Add a new app\n",
        f"1. Preview: `homeops new app NAMESPACE/APP --image REPOSITORY:TAG --port PORT --cluster {target} "
        f"--dry-run`.{known} Add `--volsync SIZE` for persistent data, `--secret {_secret_key(facts.secret_store)}` "
        "for secrets, `--route external` only for an app the internet must reach, `--chart OCI_URL "
        "--chart-version V` for a chart of its own.",
        "2. Write it: the same command without `--dry-run` (the image is pinned to its digest, the app "
        "registered in its namespace's `kustomization.yaml`).",
        *checks,
    ]


def _procedures(facts: ContextFacts) -> str:
    modern = [c.name for c in facts.clusters if c.role == "modern"]
    target = modern[0] if modern else "CLUSTER"
    out = ["## Procedures\n", *_add_app(facts, target)]
    if not any(c.role == "legacy" for c in facts.clusters):
        out += [
            "### Migrate an app from a legacy cluster\n",
            "No cluster is legacy: there is nothing to migrate.\n",
        ]
        return "\n".join(out).rstrip("\n") + "\n"
    out += [
        "### Migrate an app from a legacy cluster\n",
        f"1. Preview: `homeops migrate NAMESPACE/APP --from LEGACY --to {target}` prints the diff and the "
        "steps left for a person.",
        "2. Write it: the same command with `--write`; do the manual steps it printed (secrets into the "
        "secret store, values only the old cluster knew).",
        "3. `homeops check` and `homeops diff`; deploy and test in the new cluster.",
        "4. Remove the old app: the same command with `--remove-source --write`.",
        "5. `homeops docs`: refresh this document.\n",
    ]
    if facts.legacy_apps:
        out.append(f"Apps still on legacy clusters ({len(facts.legacy_apps)}):\n")
        out.append(
            table(
                ("cluster", "app", "preview the migration"),
                (
                    (a.cluster, a.target, f"`homeops migrate {a.target} --from {a.cluster} --to {a.to}`")
                    for a in facts.legacy_apps
                ),
            )
        )
    return "\n".join(out).rstrip("\n") + "\n"


_WRITERS: dict[str, Callable[[ContextFacts], str]] = {
    "clusters": _clusters,
    "layout": _layout,
    "apps": _apps,
    "routes": _routes,
    "backups": _backups,
    "components": _components,
    "conventions": _conventions,
    "anti-patterns": _anti_patterns,
    "procedures": _procedures,
}


def sections(facts: ContextFacts) -> dict[str, str]:
    """Every section's Markdown (ending in one newline), in :data:`SECTIONS` order."""
    return {name: _WRITERS[name](facts) for name in SECTIONS}


def new_document(title: str, bodies: dict[str, str]) -> str:
    """A document holding only the generated sections, under a short hand-written preamble."""
    preamble = (
        f"# {title}\n\n"
        "> The sections between `homeops:begin` and `homeops:end` markers are generated from the "
        "repository by `homeops docs` (CI checks them with `homeops docs --check`); write anything else "
        "around them.\n"
    )
    return preamble + "".join("\n" + wrap(name, bodies[name]) for name in SECTIONS)

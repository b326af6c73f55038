"""The procedures of the context document as MCP prompts, and its generated sections as resources.

The prompts carry the procedure as ``homeops docs`` writes it for this repository (the modern cluster,
its namespaces, the apps left on legacy clusters) and the tool calls that carry it out, in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeops.context.markdown import SECTIONS
from homeops.core.errors import HomeopsError

RESOURCE_PREFIX = "homeops://context"


@dataclass(frozen=True)
class PromptSpec:
    name: str
    description: str
    arguments: tuple[tuple[str, str], ...]  # (name, description), all optional


PROMPTS = (
    PromptSpec(
        "add_app",
        "Add a new app to the repository in the modern pattern, step by step with the homeops tools.",
        (
            ("namespace", "The namespace of the new app."),
            ("app", "The app's name (kebab-case)."),
            ("image", "Its container image, REPOSITORY:TAG."),
            ("port", "Its HTTP port."),
        ),
    ),
    PromptSpec(
        "migrate_app",
        "Move an app from a legacy cluster to the modern one, step by step with the homeops tools.",
        (
            ("app", "The app as NAMESPACE/APP in the legacy cluster's tree."),
            ("from", "The legacy cluster."),
            ("to", "The modern cluster."),
        ),
    ),
)


def procedure(procedures: str, title: str) -> str:
    """One ``### title`` part of the generated procedures section."""
    parts = procedures.split("\n### ")
    for part in parts[1:]:
        if part.startswith(title):
            return "### " + part.rstrip("\n") + "\n"
    raise HomeopsError(f"the procedures section has no part {title!r}")


def add_app_text(sections: dict[str, str], args: dict[str, str], allow_write: bool) -> str:
    target = "/".join([args.get("namespace") or "NAMESPACE", args.get("app") or "APP"])
    image, port = args.get("image") or "REPOSITORY:TAG", args.get("port") or "PORT"
    namespace, app = target.split("/", 1)
    apply = (
        "call `new_app` again with the same arguments and the `apply_token` it returned; it writes exactly "
        "the diff you showed (a stale token means something changed: preview again)"
        if allow_write
        else f"the server is read-only: ask the user to run `homeops new app {target} --image {image} "
        f"--port {port}` (the write tools need `homeops mcp --allow-write`)"
    )
    return (
        f"Add the app `{target}` (image `{image}`, port {port}) to this Flux repository, following its "
        "procedure. The repository's facts are in the resources "
        f"`{RESOURCE_PREFIX}/clusters`, `{RESOURCE_PREFIX}/apps` and `{RESOURCE_PREFIX}/conventions`.\n\n"
        + procedure(sections["procedures"], "Add a new app")
        .replace("NAMESPACE/APP", target)
        .replace("REPOSITORY:TAG", image)
        .replace("PORT", port)
        + "\nWith the homeops tools:\n\n"
        "1. `list_clusters` and the apps resource: check the app does not exist yet and pick the modern "
        "cluster (never a legacy one).\n"
        f'2. `new_app` with {{"namespace": "{namespace}", "app": "{app}", "image": "{image}", "port": {port}}} '
        "(add `volsync`, `secret`, `route` as the app needs): show the user the diff and the notes.\n"
        f"3. Once the user agrees, {apply}.\n"
        f'4. `check` with {{"path": "<the app directory from the diff>"}}: there must be no finding.\n'
        "5. `diff`: the objects Flux will apply; summarise them for the user.\n"
        "6. `docs_status`: the context document is stale now; the user runs `homeops docs` and commits.\n"
    )


def migrate_app_text(sections: dict[str, str], args: dict[str, str], allow_write: bool) -> str:
    target, old, new = (
        args.get("app") or "NAMESPACE/APP",
        args.get("from") or "LEGACY",
        args.get("to") or "MODERN",
    )
    namespace, _, app = target.partition("/")
    apply = (
        "call `migrate` again with the same arguments and the `apply_token` it returned"
        if allow_write
        else f"the server is read-only: ask the user to run `homeops migrate {target} --from {old} --to {new} --write`"
    )
    return (
        f"Move the app `{target}` from the legacy cluster `{old}` to `{new}`, following the repository's "
        f"procedure (facts in `{RESOURCE_PREFIX}/clusters` and `{RESOURCE_PREFIX}/procedures`).\n\n"
        + procedure(sections["procedures"], "Migrate an app")
        .replace("NAMESPACE/APP", target)
        .replace("LEGACY", old)
        + "\nWith the homeops tools:\n\n"
        f'1. `migrate` with {{"namespace": "{namespace}", "app": "{app}", "from": "{old}", "to": "{new}"}}: show '
        "the user the diff, the notes and every manual step (secrets to create in the secret store, values "
        "only the old cluster knew).\n"
        f"2. Once the user agrees, {apply}.\n"
        '3. `check` with {"path": "<the new app directory>"} and `diff`: no finding, and the objects look right.\n'
        "4. After the user has tested the app in the new cluster: the same `migrate` call with "
        '`"remove_source": true` (preview, then apply) removes the old app.\n'
        "5. `docs_status`: the user runs `homeops docs` and commits.\n"
    )


def prompt_text(name: str, sections: dict[str, str], args: dict[str, str], allow_write: bool) -> str:
    if name == "add_app":
        return add_app_text(sections, args, allow_write)
    if name == "migrate_app":
        return migrate_app_text(sections, args, allow_write)
    raise HomeopsError(f"unknown prompt {name!r}", hint="add_app or migrate_app")


def resource_uris() -> list[tuple[str, str]]:
    """(uri, section name or "" for the whole document) of every resource."""
    return [(RESOURCE_PREFIX, "")] + [(f"{RESOURCE_PREFIX}/{name}", name) for name in SECTIONS]

"""``homeops migrate``: move a legacy (Bitty-pattern) app into the modern (Chongus) pattern.

A pure function of the repository: it renders the old cluster to find the app's Flux Kustomizations,
copies the app's tree to ``<apps_dir>/NEW/NS/APP`` and converts what the modern pattern forbids
(Ingress, central HelmRepositories, SOPS Secrets, substitution from SOPS) into what it asks for
(HTTPRoutes on the internal gateway, one OCIRepository per app, ExternalSecrets on the profile's
store, components). The result is a list of ``FileEdit`` values and the manual steps a person still
has to do; nothing is written here, and secret values are never read.
"""

from __future__ import annotations

import base64
import json
import posixpath
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from homeops.author import templates as t
from homeops.author.new_app import STORAGE_PROVIDERS
from homeops.core import yamlio
from homeops.core.edits import FileEdit
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.profile import Gateway, Profile
from homeops.core.yamledit import append_list_item, list_items, remove_list_item
from homeops.flux.cluster import Cluster, resolve_cluster
from homeops.flux.model import FluxKustomization, is_flux_kustomization, is_helmrelease
from homeops.flux.render import ClusterRender, render_cluster
from homeops.kustomize.build import KUSTOMIZATION_FILES, find_kustomization_file, is_remote

# ----------------------------------------------------------------------------------------------
# Generated files follow homeops.author.templates (the shapes init and new app write)

# Variables whose value in the new cluster is known without reading any secret: the cluster's own
# name, and values the profile holds (variable -> Profile attribute).
# Ingress annotations the gateway makes obsolete (certificates and DNS are the gateway's).
OBSOLETE_INGRESS_ANNOTATIONS = (
    "cert-manager.io/",
    "kubernetes.io/tls-acme",
    "kubernetes.io/ingress.class",
    "external-dns.alpha.kubernetes.io/target",
    "external-dns.alpha.kubernetes.io/hostname",
)
CONTROLLER_ANNOTATION_PREFIXES = (
    "nginx.ingress.kubernetes.io/",
    "nginx.org/",
    "traefik.ingress.kubernetes.io/",
)
VARS_SUFFIX = "vars"
_CLAIMS = re.compile(
    r"(?m)^\s*(?:-\s+)?(?:kind:\s*PersistentVolumeClaim\s*$|volumeClaimTemplates:|"
    r"persistentVolumeClaim:\s*$|existingClaim:|type:\s*persistentVolumeClaim\s*$)"
)


@dataclass(frozen=True)
class MigrateOptions:
    """What ``homeops migrate NS/APP --from OLD --to NEW`` was asked to do."""

    namespace: str
    app: str
    old: str
    new: str
    remove_source: bool = False
    chart_url: str | None = None
    external: bool = False
    to_helm: bool = False
    force: bool = False
    cli_vars: Mapping[str, str] = field(default_factory=dict)
    pin: bool = False


@dataclass
class MigrationPlan:
    """The edits of one migration and what is left for a person."""

    old_dir: str
    new_dir: str
    kustomizations: list[str] = field(default_factory=list)
    edits: list[FileEdit] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Resolver = Callable[[str], str]
"""Image reference without digest -> the digest the registry serves for it."""


# ----------------------------------------------------------------------------------------------
# Small YAML emitter (the repository's style: two-space indent, indented sequences)

_PLAIN = re.compile(r"[A-Za-z0-9_./+$-][A-Za-z0-9_./@:+ ${}-]*")


def scalar(value: Any) -> str:
    """A YAML scalar that every reader reads back as ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if (
        text
        and _PLAIN.fullmatch(text)
        and not text.endswith((":", " "))
        and ": " not in text
        and " #" not in text
        and _safe_load(text) == text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _safe_load(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def emit(value: Any, indent: int = 0) -> list[str]:
    """Block YAML lines for a mapping or sequence."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{scalar(str(key))}:"
            if isinstance(item, (dict, list)) and item:
                out.append(head)
                out += emit(item, indent + 2)
            elif isinstance(item, dict):
                out.append(f"{head} {{}}")
            elif isinstance(item, list):
                out.append(f"{head} []")
            elif isinstance(item, str) and "\n" in item.rstrip("\n") and not item.startswith(" "):
                out.append(f"{head} |" + ("" if item.endswith("\n") else "-"))
                out += [f"{pad}  {line}" if line else "" for line in item.rstrip("\n").split("\n")]
            else:
                out.append(f"{head} {scalar(item)}")
        return out
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                inner = emit(item, indent + 2)
                out.append(f"{pad}- {inner[0][indent + 2 :]}")
                out += inner[1:]
            elif isinstance(item, list) and item:
                out.append(f"{pad}-")
                out += emit(item, indent + 2)
            elif isinstance(item, (dict, list)):
                out.append(f"{pad}- {'{}' if isinstance(item, dict) else '[]'}")
            else:
                out.append(f"{pad}- {scalar(item)}")
        return out
    return [f"{pad}{scalar(value)}"]


def document(obj: dict[str, Any], schema: str | None = None, comments: Iterable[str] = ()) -> str:
    """One YAML document with its marker and editor schema comment."""
    lines = ["---"]
    if schema:
        lines.append(f"# yaml-language-server: $schema={schema}")
    lines += [f"# {c}" for c in comments]
    lines += emit(obj)
    return "\n".join(lines) + "\n"


def plain(value: Any) -> Any:
    """Plain dicts and lists (no provenance) for emitting."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# ----------------------------------------------------------------------------------------------
# Paths


def _norm(path: str) -> str:
    out = posixpath.normpath(path) if path else "."
    return "" if out == "." else out


def _join(directory: str, entry: str) -> str:
    return _norm(posixpath.join(directory, entry))


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _rel(target: str, start: str, dot: bool) -> str:
    rel = posixpath.relpath(target or ".", start or ".")
    if dot and not rel.startswith("."):
        rel = f"./{rel}"
    return rel


def _split_docs(text: str) -> list[str]:
    """A YAML stream cut at its ``---`` markers, each chunk keeping its marker and comments."""
    return [c for c in re.split(r"(?m)^(?=---[ \t]*(?:#.*)?$)", text) if c]


def _load_docs(text: str, file: str) -> list[Any]:
    try:
        return yamlio.load_all(text, file)
    except HomeopsError:
        return []


def _is_yaml(path: str) -> bool:
    return path.endswith((".yaml", ".yml"))


# ----------------------------------------------------------------------------------------------
# Kustomization references


@dataclass(frozen=True)
class KRef:
    """A path a kustomization file refers to: the scalar as written and the path inside it."""

    scalar: str
    path: str
    list_item: bool  # a plain ``- entry`` of a list (may be removed line by line)


_LIST_REF_FIELDS = (
    "resources",
    "bases",
    "components",
    "crds",
    "configurations",
    "transformers",
    "generators",
    "validators",
)


def kustomization_refs(kust: Any) -> list[KRef]:
    """Every local path a kustomization file refers to."""
    out: list[KRef] = []
    if not isinstance(kust, dict):
        return out

    def add(value: Any, path: str | None = None, list_item: bool = False) -> None:
        if not isinstance(value, str) or not value.strip() or "\n" in value or is_remote(value):
            return
        out.append(KRef(value, path if path is not None else value, list_item))

    for key in _LIST_REF_FIELDS:
        for item in kust.get(key) or []:
            add(item, list_item=True)
    for item in kust.get("patchesStrategicMerge") or []:
        if isinstance(item, str) and ":" not in item:
            add(item, list_item=True)
    for key in ("patches", "patchesJson6902", "replacements"):
        for item in kust.get(key) or []:
            if isinstance(item, dict):
                add(item.get("path"))
    for key in ("configMapGenerator", "secretGenerator"):
        for gen in kust.get(key) or []:
            if not isinstance(gen, dict):
                continue
            for item in gen.get("files") or []:
                if isinstance(item, str):
                    add(item, item.split("=", 1)[-1])
            for item in gen.get("envs") or []:
                add(item)
            add(gen.get("env"))
    openapi = kust.get("openapi")
    if isinstance(openapi, dict):
        add(openapi.get("path"))
    return out


def _rewrite_scalar_lines(text: str, changes: Mapping[str, str | None]) -> str:
    """Replace (or, for None, delete the list item of) each scalar given, keeping every other line."""
    if not changes:
        return text
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        replaced = False
        for old, new in changes.items():
            m = re.match(
                r"^(?P<pre>\s*(?:-\s+)?(?:[\w.-]+:\s+)?)(?P<q>['\"]?)"
                + re.escape(old)
                + r"(?P=q)(?P<post>\s*(?:#.*)?)$",
                body,
            )
            if not m:
                continue
            if new is None:
                if m.group("pre").strip().startswith("-"):
                    replaced = True
                    break
                continue
            out.append(
                f"{m.group('pre')}{m.group('q')}{new}{m.group('q')}{m.group('post')}"
                + ("\n" if line.endswith("\n") else "")
            )
            replaced = True
            break
        if not replaced:
            out.append(line)
    return "".join(out)


# ----------------------------------------------------------------------------------------------
# Variables (Flux postBuild syntax)

_VAR = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-=+?])?")


def variables_in(text: str) -> dict[str, bool]:
    """Variable name -> whether every use of it has a default."""
    out: dict[str, bool] = {}
    for m in _VAR.finditer(text):
        has_default = m.group("op") is not None and m.group("op").lstrip(":") in ("-", "=")
        out[m.group("name")] = out.get(m.group("name"), True) and has_default
    return out


def replace_variable(text: str, name: str, value: str) -> str:
    """``${NAME}`` and ``${NAME:=default}``-style uses of one variable replaced by its value."""
    out: list[str] = []
    pos = 0
    needle = "${" + name
    while True:
        i = text.find(needle, pos)
        if i < 0:
            break
        after = i + len(needle)
        if (i > 0 and text[i - 1] == "$") or (
            after < len(text) and (text[after].isalnum() or text[after] == "_")
        ):
            out.append(text[pos:after])
            pos = after
            continue
        depth, j = 1, after
        while j < len(text) and depth:
            if text.startswith("${", j):
                depth += 1
                j += 2
                continue
            if text[j] == "}":
                depth -= 1
            j += 1
        if depth:
            break
        inner = text[after : j - 1]
        replacement = value
        if inner and inner[0] not in ":-=+?":
            out.append(text[pos:after])
            pos = after
            continue
        if inner.startswith(":") and not value and inner[1:2] in ("-", "="):
            replacement = inner[2:]
        out.append(text[pos:i] + replacement)
        pos = j
    out.append(text[pos:])
    return "".join(out)


def substitution_disabled(text: str) -> bool:
    return bool(re.search(r"kustomize\.toolkit\.fluxcd\.io/substitute:\s*['\"]?disabled", text))


# ----------------------------------------------------------------------------------------------
# Text edits on YAML by node position


def _compose(text: str) -> list[Node]:
    try:
        return [n for n in yaml.compose_all(text, Loader=yaml.SafeLoader) if n is not None]
    except yaml.YAMLError:
        return []


def _child(node: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    if not isinstance(node, MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def _find(node: Node | None, *path: str) -> tuple[ScalarNode, Node] | None:
    found: tuple[ScalarNode, Node] | None = None
    for key in path:
        found = _child(node, key)
        if found is None:
            return None
        node = found[1]
    return found


def _replace_entry(text: str, key: ScalarNode, value: Node, new_lines: list[str]) -> str:
    """Replace the lines of one mapping entry (key and value) by ``new_lines`` at the key's column."""
    lines = text.splitlines(keepends=True)
    start = key.start_mark.line
    end_mark = value.end_mark
    end = (
        end_mark.line
        if end_mark.column == 0 or not text[end_mark.index - end_mark.column : end_mark.index].strip()
        else end_mark.line + 1
    )
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    pad = " " * key.start_mark.column
    prefix = lines[start][: key.start_mark.column]
    block = [f"{pad}{line}\n" if line else "\n" for line in new_lines]
    if prefix.strip():  # the key follows "- " on its line
        block[0] = prefix + block[0][len(pad) :]
    return "".join(lines[:start] + block + lines[end:])


# ----------------------------------------------------------------------------------------------
# The app in the old cluster


@dataclass
class OldApp:
    directory: str
    kustomizations: list[FluxKustomization]
    render: ClusterRender


def find_old_app(root: Path, profile: Profile, options: MigrateOptions, render: ClusterRender) -> OldApp:
    """The app's Flux Kustomizations, found in the rendered old cluster by their ``ks.yaml``'s directory."""
    by_dir: dict[str, list[FluxKustomization]] = {}
    for ks in render.kustomizations():
        file = ks.resource.file or ""
        directory = posixpath.dirname(file)
        if (
            posixpath.basename(directory) == options.app
            and posixpath.basename(posixpath.dirname(directory)) == options.namespace
        ):
            by_dir.setdefault(directory, []).append(ks)
    if not by_dir:
        candidates = [
            f"{legacy}/apps/{options.old}/{options.namespace}/{options.app}"
            for legacy in profile.legacy_paths
        ]
        candidates.append(f"{profile.apps_dir}/{options.old}/{options.namespace}/{options.app}")
        for candidate in candidates:
            if (root / candidate).is_dir():
                raise HomeopsError(
                    f"app {options.namespace}/{options.app} is not deployed by cluster {options.old}",
                    candidate,
                    None,
                    "register its ks.yaml in the namespace's kustomization.yaml, or check --from",
                )
        known = sorted(
            {
                f"{posixpath.basename(posixpath.dirname(d))}/{posixpath.basename(d)}"
                for d in (posixpath.dirname(ks.resource.file or "") for ks in render.kustomizations())
                if d.count("/") >= 2
            }
        )
        close = [k for k in known if k.split("/")[-1] == options.app or k.split("/")[0] == options.namespace]
        raise HomeopsError(
            f"app {options.namespace}/{options.app} not found in cluster {options.old}",
            hint="known apps: " + ", ".join(close or known[:20]) if known else "check --from",
        )
    prefer = [d for d in by_dir if f"/{options.old}/" in f"/{d}/"] or sorted(by_dir)
    directory = prefer[0]
    kustomizations = sorted(by_dir[directory], key=lambda k: (k.resource.file or "", k.resource.line or 0))
    return OldApp(directory, kustomizations, render)


def new_cluster_kustomizations(root: Path, profile: Profile, cluster: str) -> dict[str, tuple[str, str]]:
    """Name -> (namespace, ks.yaml) of every app's Flux Kustomization in a modern cluster."""
    out: dict[str, tuple[str, str]] = {}
    base = root / profile.apps_dir / cluster
    for ks_file in sorted(base.glob("*/*/ks.yaml")):
        ns_dir = ks_file.parent.parent
        default_ns = ns_dir.name
        ns_kust = find_kustomization_file(ns_dir)
        try:
            if ns_kust is not None:
                data = yamlio.load_one(ns_kust.read_text(encoding="utf-8"))
                if isinstance(data, dict) and isinstance(data.get("namespace"), str):
                    default_ns = data["namespace"]
            docs = yamlio.load_all(ks_file.read_text(encoding="utf-8"))
        except (HomeopsError, OSError):
            continue
        for doc in docs:
            if isinstance(doc, dict) and is_flux_kustomization(doc):
                meta = doc.get("metadata") or {}
                if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                    rel = ks_file.relative_to(root).as_posix()
                    out.setdefault(meta["name"], (str(meta.get("namespace") or default_ns), rel))
    return out


WORKLOAD_KINDS = ("HelmRelease", "Deployment", "StatefulSet", "DaemonSet", "CronJob")


def app_names(old: OldApp) -> list[str]:
    """The names the app goes by: its Flux Kustomizations and the releases and workloads they apply."""
    names = [ks.name for ks in old.kustomizations]
    for ks in old.kustomizations:
        rk = old.render.rendered.get(ks.key)
        for res in rk.resources if rk is not None else []:
            if res.kind in WORKLOAD_KINDS and res.name not in names:
                names.append(res.name)
    return names


def existing_target(
    root: Path, profile: Profile, options: MigrateOptions, names: Iterable[str] | None = None
) -> str | None:
    """Why the app already exists in the new cluster (its directory, an app directory or Flux
    Kustomization under one of its names), or None."""
    new_dir = f"{profile.apps_dir}/{options.new}/{options.namespace}/{options.app}"
    if (root / new_dir).exists():
        return f"{new_dir} exists"
    known = new_cluster_kustomizations(root, profile, options.new)
    for name in [options.app, *(names or [])]:
        if name in known:
            namespace, file = known[name]
            return f"cluster {options.new} already has a Flux Kustomization {namespace}/{name} ({file})"
        same = f"{profile.apps_dir}/{options.new}/{options.namespace}/{name}"
        if (root / same).is_dir():
            return f"{same} exists (the app's {name})"
    return None


def git_dirty(root: Path, paths: Iterable[str]) -> list[str]:
    """Uncommitted changes (``git status --porcelain``) under ``paths``; [] outside a Git work tree."""
    paths = [p for p in paths if p]
    try:
        inside = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            check=False,
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return []
        out = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all", "--", *paths],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return []
    return [line[3:] for line in out.stdout.splitlines() if len(line) > 3]


# ----------------------------------------------------------------------------------------------
# The app's tree: what it reaches, what it borrows from outside, where everything goes


@dataclass
class Tree:
    """Old paths -> new paths, and the new files' texts while they are converted."""

    root: Path
    old_dir: str
    new_dir: str
    dir_map: list[tuple[str, str]] = field(default_factory=list)  # (old dir, new dir), longest first
    file_map: dict[str, str] = field(default_factory=dict)  # vendored single files
    dropped: dict[str, str] = field(default_factory=dict)  # old path -> why (e.g. replaced by a component)
    files: dict[str, str] = field(default_factory=dict)  # new path -> text
    origin: dict[str, str] = field(default_factory=dict)  # new path -> old path
    moves: dict[str, str | None] = field(default_factory=dict)  # new path -> renamed (None: deleted)
    companions: list[tuple[str, str]] = field(default_factory=list)  # (added file, file it goes along with)
    ks_files: dict[str, set[str]] = field(default_factory=dict)  # Flux Kustomization -> old files it reaches
    ks_dropped: dict[str, set[str]] = field(default_factory=dict)  # Flux Kustomization -> dropped templates

    def new_path(self, old: str) -> str | None:
        """Where an old path ends up (None: dropped or not part of the app)."""
        for dropped in self.dropped:
            if _under(old, dropped):
                return None
        if old in self.file_map:
            return self._moved(self.file_map[old])
        for old_prefix, new_prefix in self.dir_map:
            if _under(old, old_prefix):
                return self._moved(new_prefix + old[len(old_prefix) :])
        return None

    def mapped(self, old: str) -> bool:
        """Whether an old path belongs to the migrated tree (kept, moved, deleted or replaced)."""
        return (
            any(_under(old, d) for d in self.dropped)
            or old in self.file_map
            or any(_under(old, prefix) for prefix, _new in self.dir_map)
        )

    def _moved(self, path: str) -> str | None:
        while path in self.moves:
            nxt = self.moves[path]
            if nxt is None or nxt == path:
                return nxt
            path = nxt
        return path

    def move(self, old_new_path: str, target: str | None) -> None:
        self.moves[old_new_path] = target
        if target is None:
            self.files.pop(old_new_path, None)
        elif old_new_path in self.files:
            self.files[target] = self.files.pop(old_new_path)
            self.origin[target] = self.origin.get(old_new_path, "")


def _all_files(root: Path, directory: str) -> list[str]:
    base = root / directory
    if not base.is_dir():
        return []
    return sorted(
        p.relative_to(root).as_posix()
        for p in base.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(base).parts
    )


def _reach(root: Path, target: str, files: set[str], seen: set[str], refs: set[str]) -> None:
    """Collect the files a kustomization target reaches, and every path it refers to."""
    path = root / target
    if path.is_dir():
        if target in seen:
            return
        seen.add(target)
        kfile = find_kustomization_file(path)
        if kfile is None:  # Flux generates a kustomization of every manifest below
            files.update(f for f in _all_files(root, target) if _is_yaml(f) or f.endswith(".json"))
            return
        rel = kfile.relative_to(root).as_posix()
        files.add(rel)
        try:
            kust = yamlio.load_one(kfile.read_text(encoding="utf-8"), rel)
        except (HomeopsError, OSError):
            return
        for ref in kustomization_refs(kust):
            child = _join(target, ref.path)
            refs.add(child)
            _reach(root, child, files, seen, refs)
    elif path.is_file():
        files.add(target)


def is_volsync_template(root: Path, directory: str) -> bool:
    """A directory of claim + Volsync backup objects that the volsync component replaces."""
    kinds: set[str] = set()
    for file in _all_files(root, directory):
        if _is_yaml(file):
            for doc in _load_docs((root / file).read_text(encoding="utf-8", errors="replace"), file):
                if isinstance(doc, dict):
                    kinds.add(str(doc.get("kind") or ""))
    return "PersistentVolumeClaim" in kinds and bool(kinds & {"ReplicationSource", "ReplicationDestination"})


def build_tree(
    root: Path, profile: Profile, old: OldApp, new_dir: str, paths: Mapping[str, str], notes: list[str]
) -> Tree:
    """Map the app directory and everything it borrows from outside into the new app directory."""
    tree = Tree(root, old.directory, new_dir)
    tree.dir_map.append((old.directory, new_dir))
    component = root / profile.component_path(profile.volsync_component)
    outside: set[str] = set()
    per_ks_refs: dict[str, set[str]] = {}
    for ks in old.kustomizations:
        files: set[str] = set()
        refs: set[str] = {paths[ks.name]}
        _reach(root, paths[ks.name], files, set(), refs)
        tree.ks_files[ks.name] = files
        per_ks_refs[ks.name] = refs
        outside |= {r for r in refs if not _under(r, old.directory) and (root / r).exists()}
    # the outermost borrowed paths, each either replaced by a component or copied into the app
    chosen = sorted(
        (p for p in outside if not any(o != p and _under(p, o) and (root / o).is_dir() for o in outside)),
        key=lambda p: (p.count("/"), p),
    )
    used = {p.name for p in (root / old.directory).iterdir()} if (root / old.directory).is_dir() else set()
    for path in chosen:
        if (root / path).is_dir() and component.is_dir() and is_volsync_template(root, path):
            tree.dropped[path] = f"replaced by the {profile.volsync_component} component"
            continue
        name = posixpath.basename(path)
        if name in used:
            name = f"{posixpath.basename(posixpath.dirname(path))}-{name}"
        base, n = name, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        if (root / path).is_dir():
            tree.dir_map.append((path, f"{new_dir}/{name}"))
        else:
            tree.file_map[path] = f"{new_dir}/{name}"
        notes.append(f"copied {path} (outside the app, used by it) to {new_dir}/{name}")
    tree.dir_map.sort(key=lambda pair: -len(pair[0]))
    for name, refs in per_ks_refs.items():
        tree.ks_dropped[name] = {d for d in tree.dropped if any(_under(r, d) for r in refs)}
    # the new files: the whole old app directory, the borrowed directories and files
    sources = [
        f
        for f in _all_files(root, old.directory)
        if posixpath.basename(f) != "ks.yaml" or posixpath.dirname(f) != old.directory
    ]
    for old_prefix, _new in tree.dir_map:
        if old_prefix != old.directory:
            sources += _all_files(root, old_prefix)
    sources += list(tree.file_map)
    for src in sources:
        target = tree.new_path(src)
        if target is None or target in tree.files:
            continue
        try:
            text = (root / src).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            notes.append(f"{src} is not text: copy it to {target} by hand")
            continue
        tree.files[target] = text
        tree.origin[target] = src
    return tree


def fix_kustomizations(tree: Tree, steps: list[str]) -> None:
    """Point every kustomization file's references at where their targets went."""
    for path in sorted(tree.files):
        if posixpath.basename(path) not in KUSTOMIZATION_FILES:
            continue
        text = tree.files[path]
        old_path = tree.origin.get(path, path)
        old_dir, new_dir = posixpath.dirname(old_path), posixpath.dirname(path)
        kust = _load_docs(text, path)
        changes: dict[str, str | None] = {}
        for ref in kustomization_refs(kust[0] if kust else None):
            old_target = _join(old_dir, ref.path)
            new_target = tree.new_path(old_target)
            if new_target is None:
                if tree.mapped(old_target) and ref.list_item:
                    changes[ref.scalar] = None  # replaced by a component, or a file the migration removed
                continue
            rel = _rel(new_target, new_dir, ref.path.startswith("./"))
            if rel != ref.path:
                changes[ref.scalar] = ref.scalar[: len(ref.scalar) - len(ref.path)] + rel
        tree.files[path] = _rewrite_scalar_lines(text, changes)
    # files added next to existing ones are listed wherever those are
    for added, companion in tree.companions:
        listed = False
        for path in sorted(tree.files):
            if posixpath.basename(path) not in KUSTOMIZATION_FILES:
                continue
            kust = _load_docs(tree.files[path], path)
            directory = posixpath.dirname(path)
            targets = {_join(directory, r.path) for r in kustomization_refs(kust[0] if kust else None)}
            if companion in targets:
                entry = _rel(added, directory, True)
                if entry not in list_items(tree.files[path], "resources") and added not in targets:
                    tree.files[path] = append_list_item(tree.files[path], "resources", entry)
                listed = True
        if not listed and find_kustomization_file_in(tree, posixpath.dirname(companion)) is not None:
            steps.append(f"add {added} to the resources of the kustomization that lists {companion}")


def find_kustomization_file_in(tree: Tree, directory: str) -> str | None:
    for name in KUSTOMIZATION_FILES:
        if f"{directory}/{name}" in tree.files:
            return f"{directory}/{name}"
    return None


# ----------------------------------------------------------------------------------------------
# Secrets -> ExternalSecrets


def doppler_key(app: str, key: str) -> str:
    """The Doppler key for one key of an app's Secret: SCREAMING_SNAKE_CASE, prefixed with the app."""
    prefix = re.sub(r"[^A-Za-z0-9]+", "_", app).strip("_").upper()
    name = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").upper() or "VALUE"
    return name if name == prefix or name.startswith(prefix + "_") else f"{prefix}_{name}"


def externalsecret(
    profile: Profile, name: str, keys: list[tuple[str, str]], secret: dict[str, Any]
) -> dict[str, Any]:
    """An ExternalSecret making Secret ``name`` with the same keys, each from its own Doppler key."""
    target: dict[str, Any] = {"name": name, "creationPolicy": "Owner"}
    template: dict[str, Any] = {}
    secret_type = secret.get("type")
    if secret_type and secret_type != "Opaque":
        template["type"] = str(secret_type)
    meta = secret.get("metadata") or {}
    extra = {
        k: plain(meta[k]) for k in ("labels", "annotations") if isinstance(meta.get(k), dict) and meta[k]
    }
    if extra:
        template["metadata"] = extra
    if template:
        target["template"] = template
    out: dict[str, Any] = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": name},
        "spec": {
            "secretStoreRef": {"kind": profile.secret_store_kind, "name": profile.secret_store},
            "target": target,
            "data": [{"secretKey": key, "remoteRef": {"key": remote}} for key, remote in keys],
        },
    }
    if isinstance(meta.get("namespace"), str):
        out["metadata"]["namespace"] = meta["namespace"]
    return out


def convert_secrets(tree: Tree, profile: Profile, app: str, steps: list[str], notes: list[str]) -> None:
    """SOPS-encrypted (and plain) Secrets of the app become ExternalSecrets; keys only, values never read."""
    for path in sorted(tree.files):
        if not _is_yaml(path):
            continue
        text = tree.files[path]
        chunks = _split_docs(text)
        changed = False
        kinds: list[str] = []
        for i, chunk in enumerate(chunks):
            docs = _load_docs(chunk, path)
            if len(docs) != 1 or not isinstance(docs[0], dict):
                if docs:
                    kinds.append("?")
                continue
            doc = docs[0]
            kinds.append(str(doc.get("kind") or ""))
            if doc.get("kind") != "Secret" or doc.get("apiVersion") != "v1":
                continue
            data_keys = [str(k) for part in ("data", "stringData") for k in (doc.get(part) or {})]
            if not data_keys:
                continue
            name = str((doc.get("metadata") or {}).get("name") or app)
            keys = [(k, doppler_key(app, k)) for k in data_keys]
            how = "SOPS-encrypted" if "sops" in doc else "plain"
            chunks[i] = document(externalsecret(profile, name, keys, doc), t.SCHEMA_EXTERNALSECRET)
            kinds[-1] = "ExternalSecret"
            changed = True
            listing = ", ".join(f"{remote} (key {key})" for key, remote in keys)
            steps.append(
                f"create in {profile.secret_store} the key(s) {listing} for Secret {name}, with the values "
                f"of the {how} Secret in {tree.origin.get(path, path)}; "
                f"{path} now reads them through an ExternalSecret"
            )
        if not changed:
            continue
        new_text = "".join(chunks)
        tree.files[path] = new_text
        if all(k == "ExternalSecret" for k in kinds):
            target = _free_name(
                tree,
                posixpath.dirname(path),
                "externalsecret.yaml",
                posixpath.basename(path).split(".")[0] + "-externalsecret.yaml",
            )
            if target != path:
                tree.move(path, target)
                notes.append(f"{tree.origin.get(target, path)} became {target}")


def _free_name(tree: Tree, directory: str, *names: str) -> str:
    for name in names:
        candidate = f"{directory}/{name}"
        if candidate not in tree.files and not any(v == candidate for v in tree.moves.values()):
            return candidate
    n = 2
    stem, ext = posixpath.splitext(names[-1])
    while f"{directory}/{stem}-{n}{ext}" in tree.files:
        n += 1
    return f"{directory}/{stem}-{n}{ext}"


def drop_sops_leftovers(tree: Tree, steps: list[str]) -> None:
    """Files still SOPS-encrypted after conversion (not Secrets) are not carried into the modern tree."""
    for path in sorted(tree.files):
        text = tree.files[path]
        if re.search(r"(?m)^sops:\s*$", text) and re.search(r"(?m)^\s+mac:", text):
            kinds = sorted({str(d.get("kind")) for d in _load_docs(text, path) if isinstance(d, dict)})
            tree.move(path, None)
            steps.append(
                f"{tree.origin.get(path, path)} is SOPS-encrypted ({', '.join(kinds) or 'not a manifest'}) "
                "and was not migrated: recreate it without secrets in Git (values from "
                "an ExternalSecret) and add it to the app"
            )


# ----------------------------------------------------------------------------------------------
# Ingress -> HTTPRoute


@dataclass
class RouteRule:
    path: str | None
    match: str
    backend: dict[str, Any]

    def as_rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {}
        if self.path is not None:
            rule["matches"] = [{"path": {"type": self.match, "value": self.path}}]
        rule["backendRefs"] = [self.backend]
        return rule

    def key(self) -> str:
        return json.dumps([self.path, self.match, self.backend], sort_keys=True)


_PATH_TYPES = {
    "Prefix": "PathPrefix",
    "Exact": "Exact",
    "ImplementationSpecific": "PathPrefix",
    None: "PathPrefix",
}


def _group_by_host(rules: list[tuple[str | None, RouteRule]]) -> list[tuple[list[str], list[RouteRule]]]:
    """(hostnames, rules) groups: hosts with the same rules share one route."""
    by_host: dict[str | None, list[RouteRule]] = {}
    for host, rule in rules:
        bucket = by_host.setdefault(host, [])
        if rule.key() not in {r.key() for r in bucket}:
            bucket.append(rule)
    groups: dict[str, tuple[list[str], list[RouteRule]]] = {}
    for host, bucket in by_host.items():
        sig = json.dumps([r.key() for r in bucket]) + ("" if host else "#nohost")
        hosts, _ = groups.setdefault(sig, ([], bucket))
        if host:
            hosts.append(host)
    return list(groups.values())


def _parent_ref(gateway: Gateway) -> dict[str, Any]:
    return {"name": gateway.name, "namespace": gateway.namespace, "sectionName": gateway.section}


def _external_annotations(profile: Profile) -> dict[str, str]:
    out = {profile.internet_facing_annotation: "true"}
    if profile.domain:
        out["external-dns.alpha.kubernetes.io/target"] = f"external.{profile.domain}"
    return out


def _looks_external(class_name: Any, annotations: Mapping[str, Any]) -> bool:
    words = [str(class_name or "")] + [str(v) for k, v in annotations.items() if "external-dns" in str(k)]
    return any("external" in w or "public" in w for w in words)


def _filter_annotations(annotations: Mapping[str, Any], what: str, steps: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in annotations.items():
        key = str(key)
        if key.startswith(OBSOLETE_INGRESS_ANNOTATIONS):
            continue
        if key.startswith(CONTROLLER_ANNOTATION_PREFIXES):
            steps.append(
                f"{what}: the ingress-controller annotation {key}: {value} has no automatic HTTPRoute "
                "equivalent; reproduce it with route filters or gateway policies, or drop it"
            )
            continue
        out[key] = str(value)
    return out


def service_ports(render: ClusterRender) -> dict[tuple[str, str], dict[str, int]]:
    """(namespace, Service) -> port name -> port of every rendered Service."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for _rk, res in render.objects():
        if res.kind != "Service":
            continue
        ports: dict[str, int] = {}
        for port in (res.obj.get("spec") or {}).get("ports") or []:
            if isinstance(port, dict) and isinstance(port.get("port"), int):
                ports[str(port.get("name") or "")] = port["port"]
        out[(res.namespace or "", res.name)] = ports
    return out


def chart_service_ports(tree: Tree) -> dict[tuple[str, str], dict[str, int]]:
    """("", Service) -> port name -> port of the Services app-template HelmReleases of the app create
    (under the release name and under ``<release>-<identifier>``, app-template's two namings)."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for path in sorted(tree.files):
        if not _is_yaml(path):
            continue
        for doc in _load_docs(tree.files[path], path):
            if not (isinstance(doc, dict) and is_helmrelease(doc)):
                continue
            release = str((doc.get("metadata") or {}).get("name") or "")
            services = ((doc.get("spec") or {}).get("values") or {}).get("service")
            if not isinstance(services, dict):
                continue
            for identifier, svc in services.items():
                if not isinstance(svc, dict):
                    continue
                ports = {
                    str(k): v["port"]
                    for k, v in (svc.get("ports") or {}).items()
                    if isinstance(v, dict) and isinstance(v.get("port"), int)
                }
                names = [f"{release}-{identifier}"]
                if svc.get("forceRename"):
                    names = [str(svc["forceRename"])]
                elif len(services) == 1 or svc.get("primary"):
                    names.append(release)
                for name in names:
                    out.setdefault(("", name), ports)
    return out


def ingress_to_routes(
    obj: dict[str, Any],
    namespace: str,
    ports: Mapping[tuple[str, str], dict[str, int]],
    profile: Profile,
    external: bool,
    what: str,
    steps: list[str],
    notes: list[str],
) -> list[dict[str, Any]] | None:
    """The HTTPRoutes serving an Ingress's hosts and backends, or None (with a step) when a backend
    cannot be expressed."""
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "route")
    problems: list[str] = []

    def backend(ref: Any) -> dict[str, Any] | None:
        service = (ref or {}).get("service") if isinstance(ref, dict) else None
        if not isinstance(service, dict) or not service.get("name"):
            problems.append("a backend that is not a Service")
            return None
        port = service.get("port") or {}
        number = port.get("number") if isinstance(port, dict) else None
        if number is None and isinstance(port, dict) and port.get("name"):
            found = [
                p.get(str(port["name"]))
                for (ns, svc), p in ports.items()
                if svc == service["name"] and ns in (namespace, "")
            ]
            number = next((n for n in found if n is not None), None)
            if number is None:
                problems.append(
                    f"the port name '{port['name']}' of Service {service['name']} (not found in the render)"
                )
                return None
        if number is None:
            problems.append(f"Service {service['name']} without a port")
            return None
        return {"name": str(service["name"]), "port": number}

    rules: list[tuple[str | None, RouteRule]] = []
    default = spec.get("defaultBackend")
    if default:
        b = backend(default)
        if b:
            rules.append((None, RouteRule(None, "PathPrefix", b)))
    for rule in spec.get("rules") or []:
        host = rule.get("host")
        for p in (rule.get("http") or {}).get("paths") or []:
            b = backend(p.get("backend"))
            if b:
                rules.append(
                    (
                        str(host) if host else None,
                        RouteRule(
                            str(p.get("path") or "/"), _PATH_TYPES.get(p.get("pathType"), "PathPrefix"), b
                        ),
                    )
                )
    if problems or not rules:
        steps.append(
            f"{what}: cannot convert to an HTTPRoute ({'; '.join(problems) or 'no rules'}): write the "
            f"HTTPRoute on {profile.gateway_internal.name} by hand and delete the Ingress"
        )
        return None
    annotations = _filter_annotations(meta.get("annotations") or {}, what, steps)
    gateway = profile.gateway_external if external else profile.gateway_internal
    if external:
        annotations.update(_external_annotations(profile))
    elif _looks_external(spec.get("ingressClassName"), meta.get("annotations") or {}):
        steps.append(
            f"{what} was published through an external ingress class; the HTTPRoute is on "
            f"{profile.gateway_internal.name} (rerun with --external to publish it on "
            f"{profile.gateway_external.name})"
        )
    if any(t.get("secretName") for t in spec.get("tls") or [] if isinstance(t, dict)):
        notes.append(
            f"{what}: TLS now ends at the gateway {gateway.name} with its certificate "
            "(the Ingress's own certificate Secret is no longer used)"
        )
    routes: list[dict[str, Any]] = []
    groups = _group_by_host(rules)
    for i, (hosts, group) in enumerate(groups):
        route_meta: dict[str, Any] = {"name": name if i == 0 else f"{name}-{i + 1}"}
        if isinstance(meta.get("namespace"), str):
            route_meta["namespace"] = meta["namespace"]
        if meta.get("labels"):
            route_meta["labels"] = plain(meta["labels"])
        if annotations:
            route_meta["annotations"] = dict(annotations)
        route_spec: dict[str, Any] = {}
        if hosts:
            route_spec["hostnames"] = hosts
        route_spec["parentRefs"] = [_parent_ref(gateway)]
        route_spec["rules"] = [r.as_rule() for r in group]
        routes.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": route_meta,
                "spec": route_spec,
            }
        )
    return routes


def convert_ingresses(
    tree: Tree,
    profile: Profile,
    namespace: str,
    render: ClusterRender,
    external: bool,
    steps: list[str],
    notes: list[str],
) -> None:
    """Every Ingress object of the app becomes HTTPRoutes on the internal (or, asked, external) gateway."""
    ports = {**chart_service_ports(tree), **service_ports(render)}
    for path in sorted(tree.files):
        if not _is_yaml(path):
            continue
        chunks = _split_docs(tree.files[path])
        changed, kinds = False, []
        for i, chunk in enumerate(chunks):
            docs = _load_docs(chunk, path)
            if len(docs) != 1 or not isinstance(docs[0], dict):
                kinds += ["?"] * len(docs)
                continue
            doc = docs[0]
            kinds.append(str(doc.get("kind") or ""))
            group = str(doc.get("apiVersion") or "").split("/")[0]
            if doc.get("kind") != "Ingress" or group not in ("networking.k8s.io", "extensions"):
                continue
            what = f"Ingress {(doc.get('metadata') or {}).get('name')} ({path})"
            routes = ingress_to_routes(doc, namespace, ports, profile, external, what, steps, notes)
            if routes is None:
                continue
            chunks[i] = "".join(document(r, t.SCHEMA_HTTPROUTE) for r in routes)
            kinds[-1] = "HTTPRoute"
            changed = True
        if not changed:
            continue
        tree.files[path] = "".join(chunks)
        base = posixpath.basename(path)
        if all(k == "HTTPRoute" for k in kinds) and "ingress" in base:
            target = _free_name(tree, posixpath.dirname(path), base.replace("ingress", "httproute"))
            tree.move(path, target)


# ----------------------------------------------------------------------------------------------
# HelmReleases: chart source and chart ingress values


def is_app_template(doc: dict[str, Any]) -> bool:
    chart = (((doc.get("spec") or {}).get("chart") or {}).get("spec") or {}).get("chart")
    return str(chart or "").split("/")[-1] == "app-template"


def helm_repositories(render: ClusterRender) -> dict[tuple[str, str], dict[str, Any]]:
    """(namespace, name) -> spec of every HelmRepository of the rendered old cluster."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for _rk, res in render.objects():
        if res.kind == "HelmRepository":
            out[(res.namespace or "flux-system", res.name)] = res.obj.get("spec") or {}
    return out


def chart_oci_url(profile: Profile, repo_spec: Mapping[str, Any], chart: str) -> str | None:
    """The OCI URL of a chart of a HelmRepository: its own URL (type oci) or the profile's mapping."""
    url = str(repo_spec.get("url") or "").strip()
    if repo_spec.get("type") == "oci" or url.startswith("oci://"):
        return f"{url.rstrip('/')}/{chart}"
    mapping = {k.rstrip("/"): v for k, v in profile.chart_repository_oci.items()}
    base = mapping.get(url.rstrip("/"))
    return f"{base.rstrip('/')}/{chart}" if base else None


def ocirepository(profile: Profile, name: str, url: str, version: str) -> str:
    """One OCIRepository per app (the template's), following a semver range when the version is one."""
    text = t.ocirepository(profile, name, url, version)
    if not re.fullmatch(r"v?[0-9]+(\.[0-9]+)*([-+][0-9A-Za-z.-]+)?", version):
        text = text.replace(f"    tag: {t.scalar(version)}\n", f"    semver: {t.scalar(version)}\n")
    return text


@dataclass
class ChartJob:
    path: str
    name: str
    chart: str
    version: str
    repo: str
    url: str | None


def convert_charts(
    tree: Tree,
    profile: Profile,
    render: ClusterRender,
    chart_url: str | None,
    steps: list[str],
    notes: list[str],
) -> None:
    """``spec.chart`` of every HelmRelease -> ``chartRef`` to an OCIRepository of its own."""
    repos = helm_repositories(render)
    jobs: list[ChartJob] = []
    for path in sorted(tree.files):
        if not _is_yaml(path):
            continue
        for doc in _load_docs(tree.files[path], path):
            if not (isinstance(doc, dict) and is_helmrelease(doc)):
                continue
            spec = doc.get("spec") or {}
            name = str((doc.get("metadata") or {}).get("name") or "")
            chart_spec = (
                (spec.get("chart") or {}).get("spec") if isinstance(spec.get("chart"), dict) else None
            )
            if not isinstance(chart_spec, dict):
                if isinstance(spec.get("chartRef"), dict) and spec["chartRef"].get("kind") == "OCIRepository":
                    continue
                if spec.get("chartRef"):
                    steps.append(
                        f"HelmRelease {name} ({path}) takes its chart from "
                        f"{spec['chartRef'].get('kind')} {spec['chartRef'].get('name')}: give it an "
                        "OCIRepository of its own"
                    )
                continue
            source = chart_spec.get("sourceRef") or {}
            chart = str(chart_spec.get("chart") or "")
            version = str(chart_spec.get("version") or "")
            repo_label = f"{source.get('kind')} {source.get('name')}"
            url = None
            if source.get("kind") == "HelmRepository":
                key = (
                    str(
                        source.get("namespace")
                        or (doc.get("metadata") or {}).get("namespace")
                        or "flux-system"
                    ),
                    str(source.get("name") or ""),
                )
                spec_ = repos.get(key) or next((s for (ns, n), s in repos.items() if n == key[1]), None)
                if spec_ is not None:
                    url = chart_oci_url(profile, spec_, chart)
                    repo_label = f"HelmRepository {key[1]} ({spec_.get('url')})"
            jobs.append(ChartJob(path, name, chart, version, repo_label, url))
    unmapped = [j for j in jobs if j.url is None]
    if chart_url and len(unmapped) == 1:
        unmapped[0].url = chart_url
    elif chart_url and len(unmapped) > 1:
        notes.append(
            f"--chart-url {chart_url} not used: {len(unmapped)} charts lack an OCI location "
            f"({', '.join(j.chart for j in unmapped)})"
        )
    elif chart_url and not unmapped:
        notes.append(f"--chart-url {chart_url} not used: every chart has a known OCI location")
    for job in jobs:
        if job.url is None:
            steps.append(
                f"HelmRelease {job.name} ({job.path}): no OCI location known for chart {job.chart} of "
                f"{job.repo}; find one, then rerun with --chart-url oci://.../{job.chart} or add the "
                "repository to chart_repository_oci in .homeops.yaml (the HelmRelease still uses spec.chart)"
            )
            continue
        if not job.version:
            steps.append(
                f"HelmRelease {job.name} ({job.path}) pins no chart version: set ref.tag in its OCIRepository"
            )
        text = tree.files[job.path]
        chunks = _split_docs(text)
        for i, chunk in enumerate(chunks):
            nodes = _compose(chunk)
            docs = _load_docs(chunk, job.path)
            if (
                len(nodes) != 1
                or len(docs) != 1
                or not isinstance(docs[0], dict)
                or not is_helmrelease(docs[0])
            ):
                continue
            if str((docs[0].get("metadata") or {}).get("name") or "") != job.name:
                continue
            found = _find(nodes[0], "spec", "chart")
            if found is None:
                continue
            chunks[i] = _replace_entry(
                chunk,
                found[0],
                found[1],
                ["chartRef:", "  kind: OCIRepository", f"  name: {scalar(job.name)}"],
            )
        tree.files[job.path] = "".join(chunks)
        directory = posixpath.dirname(job.path)
        oci_path = f"{directory}/ocirepository.yaml"
        doc_text = ocirepository(profile, job.name, job.url, job.version or "0.0.0")
        if oci_path in tree.files:
            existing = tree.files[oci_path]
            tree.files[oci_path] = existing + ("" if existing.endswith("\n") else "\n") + doc_text
        else:
            tree.files[oci_path] = doc_text
            tree.origin[oci_path] = ""
            tree.companions.append((oci_path, job.path))
        notes.append(
            f"HelmRelease {job.name}: chart {job.chart} {job.version} from {job.url} (was {job.repo})"
        )
        if (
            job.url == profile.app_template_chart
            and job.version
            and job.version != profile.app_template_version
        ):
            notes.append(
                f"HelmRelease {job.name} keeps app-template {job.version} (the profile's is "
                f"{profile.app_template_version}; a major upgrade changes the values schema)"
            )


def _resolve_values_port(values: Mapping[str, Any], service: Mapping[str, Any]) -> int | None:
    port = service.get("port")
    if isinstance(port, int):
        return port
    services = values.get("service") or {}
    if not isinstance(services, dict):
        return None
    candidates = []
    if service.get("identifier") in services:
        candidates.append(services[service["identifier"]])
    elif service.get("name"):
        candidates += [s for k, s in services.items() if k == service["name"]]
    if len(services) == 1 and not candidates:
        candidates = list(services.values())
    for svc in candidates:
        ports = (svc or {}).get("ports") or {} if isinstance(svc, dict) else {}
        if (
            isinstance(port, str)
            and isinstance(ports.get(port), dict)
            and isinstance(ports[port].get("port"), int)
        ):
            return int(ports[port]["port"])
        if port is None and len(ports) == 1:
            only = next(iter(ports.values()))
            if isinstance(only, dict) and isinstance(only.get("port"), int):
                return int(only["port"])
    return None


def values_ingress_to_route(
    values: Mapping[str, Any], profile: Profile, external: bool, what: str, steps: list[str]
) -> dict[str, Any] | None:
    """app-template ``ingress.<name>`` entries -> ``route.<name>`` entries (None: not convertible)."""
    ingress = values.get("ingress")
    if not isinstance(ingress, dict):
        return None
    routes: dict[str, Any] = {}
    gateway = profile.gateway_external if external else profile.gateway_internal
    for entry_name, entry in ingress.items():
        if not isinstance(entry, dict):
            return None
        if entry.get("enabled") is False or str(entry.get("enabled")).lower() == "false":
            continue
        label = f"{what} ingress.{entry_name}"
        rules: list[tuple[str | None, RouteRule]] = []
        for host in entry.get("hosts") or []:
            for p in (host or {}).get("paths") or []:
                service = p.get("service") or {}
                port = _resolve_values_port(values, service)
                if port is None:
                    steps.append(
                        f"{label}: cannot tell the port of {service}; convert it to route.{entry_name} by hand"
                    )
                    return None
                ref: dict[str, Any] = {}
                if service.get("identifier"):
                    ref["identifier"] = str(service["identifier"])
                elif service.get("name"):
                    ref["name"] = str(service["name"])
                else:
                    steps.append(f"{label}: a path without service identifier or name; convert it by hand")
                    return None
                ref["port"] = port
                rules.append(
                    (
                        str(host.get("host")) if host.get("host") else None,
                        RouteRule(
                            str(p.get("path") or "/"), _PATH_TYPES.get(p.get("pathType"), "PathPrefix"), ref
                        ),
                    )
                )
        if not rules:
            steps.append(f"{label}: no hosts/paths to convert; convert it to route.{entry_name} by hand")
            return None
        annotations = _filter_annotations(entry.get("annotations") or {}, label, steps)
        if external:
            annotations.update(_external_annotations(profile))
        elif _looks_external(entry.get("className"), entry.get("annotations") or {}):
            steps.append(
                f"{label} was published through an external ingress class; the route is on "
                f"{profile.gateway_internal.name} (rerun with --external to publish it on "
                f"{profile.gateway_external.name})"
            )
        for i, (hosts, group) in enumerate(_group_by_host(rules)):
            route: dict[str, Any] = {}
            if annotations:
                route["annotations"] = dict(annotations)
            if hosts:
                route["hostnames"] = hosts
            route["parentRefs"] = [_parent_ref(gateway)]
            route["rules"] = [r.as_rule() for r in group]
            routes[str(entry_name) if i == 0 else f"{entry_name}-{i + 1}"] = route
    return routes


def convert_chart_ingress(
    tree: Tree, profile: Profile, external: bool, steps: list[str], notes: list[str]
) -> None:
    """app-template ``values.ingress`` -> ``values.route``; other charts' ingress values -> a manual step."""
    from homeops.rules.routing import enabled_ingresses

    for path in sorted(tree.files):
        if not _is_yaml(path):
            continue
        chunks = _split_docs(tree.files[path])
        changed = False
        for i, chunk in enumerate(chunks):
            docs = _load_docs(chunk, path)
            if len(docs) != 1 or not isinstance(docs[0], dict) or not is_helmrelease(docs[0]):
                continue
            doc = docs[0]
            values = (doc.get("spec") or {}).get("values")
            if not isinstance(values, dict) or not isinstance(values.get("ingress"), dict):
                continue
            if not enabled_ingresses(values["ingress"]):
                continue
            name = (doc.get("metadata") or {}).get("name")
            what = f"HelmRelease {name} ({path})"
            if not is_app_template(doc):
                steps.append(
                    f"{what}: its chart's ingress values create an Ingress; disable them and add an "
                    f"HTTPRoute on {profile.gateway_internal.name} (or the chart's Gateway API values)"
                )
                continue
            if "route" in values:
                steps.append(
                    f"{what}: has both ingress and route values; move the ingress hosts into route by hand"
                )
                continue
            routes = values_ingress_to_route(values, profile, external, what, steps)
            if routes is None:
                continue
            node = _compose(chunk)
            found = _find(node[0] if node else None, "spec", "values", "ingress")
            if found is None:
                continue
            new_chunk = _replace_entry(chunk, found[0], found[1], emit({"route": routes}))
            if len(_load_docs(new_chunk, path)) != 1:
                steps.append(
                    f"{what}: its ingress values share YAML anchors with other values; convert them by hand"
                )
                continue
            chunks[i] = new_chunk
            changed = True
            notes.append(
                f"{what}: ingress.{', ingress.'.join(map(str, values['ingress']))} became route values "
                f"on {(profile.gateway_external if external else profile.gateway_internal).name}"
            )
        if changed:
            tree.files[path] = "".join(chunks)


# ----------------------------------------------------------------------------------------------
# --to-helm: a simple Deployment (+ Service) as an app-template HelmRelease

# pod fields app-template's defaultPodOptions carries as they are
_POD_OPTIONS = {
    "affinity",
    "automountServiceAccountToken",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostUsers",
    "imagePullSecrets",
    "nodeSelector",
    "priorityClassName",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "securityContext",
    "terminationGracePeriodSeconds",
    "tolerations",
    "topologySpreadConstraints",
}
_POD_KEYS = {"containers", "volumes", "serviceAccountName", *_POD_OPTIONS}
_CONTAINER_KEYS = {
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "env",
    "envFrom",
    "ports",
    "resources",
    "securityContext",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "volumeMounts",
    "workingDir",
}
_VOLUME_TYPES = {"persistentVolumeClaim", "configMap", "emptyDir", "secret"}


@dataclass
class Workload:
    path: str
    chunk: int
    doc: dict[str, Any]


def _workloads(tree: Tree, files: Iterable[str]) -> Iterator[Workload]:
    for path in files:
        if path in tree.files and _is_yaml(path):
            for i, chunk in enumerate(_split_docs(tree.files[path])):
                docs = _load_docs(chunk, path)
                if len(docs) == 1 and isinstance(docs[0], dict):
                    yield Workload(path, i, docs[0])


def to_helm_values(
    app: str, deployment: dict[str, Any], service: dict[str, Any] | None, image: str | None, profile: Profile
) -> tuple[dict[str, Any], list[str]]:
    """app-template values for one Deployment (and its Service); reasons it cannot be done, if any."""
    reasons: list[str] = []
    dspec = deployment.get("spec") or {}
    pod = (dspec.get("template") or {}).get("spec") or {}
    extra = sorted(set(pod) - _POD_KEYS)
    if extra:
        reasons.append(f"pod fields app-template values do not carry here: {', '.join(extra)}")
    containers = pod.get("containers") or []
    if len(containers) != 1:
        reasons.append(f"{len(containers)} containers (one is supported)")
    if pod.get("initContainers"):
        reasons.append("init containers")
    for vol in pod.get("volumes") or []:
        kinds = set(vol) - {"name"}
        if not kinds <= _VOLUME_TYPES:
            reasons.append(
                f"volume {vol.get('name')} of type {', '.join(sorted(kinds))} "
                "(only PVC, configMap, secret, emptyDir)"
            )
    if reasons:
        return {}, reasons
    c = containers[0]
    extra = sorted(set(c) - _CONTAINER_KEYS)
    if extra:
        return {}, [f"container fields app-template values do not carry here: {', '.join(extra)}"]
    ref = str(image or c.get("image") or "")
    rest, _, digest = ref.partition("@")
    colon = rest.rfind(":")
    repository, tag = (rest[:colon], rest[colon + 1 :]) if colon > rest.rfind("/") else (rest, "latest")
    container: dict[str, Any] = {
        "image": {"repository": repository, "tag": tag + (f"@{digest}" if digest else "")}
    }
    for key in ("command", "args", "workingDir"):
        if c.get(key):
            container[key] = plain(c[key])
    if c.get("env"):
        env: dict[str, Any] = {}
        for item in c["env"]:
            if "valueFrom" in item:
                env[str(item["name"])] = {"valueFrom": plain(item["valueFrom"])}
            else:
                env[str(item["name"])] = plain(item.get("value", ""))
        container["env"] = env
    if c.get("envFrom"):
        container["envFrom"] = plain(c["envFrom"])
    probes: dict[str, Any] = {}
    for kind in ("liveness", "readiness", "startup"):
        probe = c.get(f"{kind}Probe")
        if probe:
            probes[kind] = {"enabled": True, "custom": True, "spec": plain(probe)}
    if probes:
        container["probes"] = probes
    for key in ("resources", "securityContext"):
        if c.get(key):
            container[key] = plain(c[key])
    controller: dict[str, Any] = {"annotations": {profile.reloader_annotation: "true"}}
    strategy = (dspec.get("strategy") or {}).get("type")
    if strategy:
        controller["strategy"] = str(strategy)
    if isinstance(dspec.get("replicas"), int) and dspec["replicas"] != 1:
        controller["replicas"] = dspec["replicas"]
    pod_annotations = ((dspec.get("template") or {}).get("metadata") or {}).get("annotations")
    if pod_annotations:
        controller["pod"] = {"annotations": plain(pod_annotations)}
    if pod.get("serviceAccountName"):
        controller["serviceAccount"] = {"name": str(pod["serviceAccountName"])}
    controller["containers"] = {"app": container}
    values: dict[str, Any] = {"controllers": {app: controller}}
    pod_options = {k: plain(v) for k, v in pod.items() if k in _POD_OPTIONS and v is not None}
    if pod_options:
        values["defaultPodOptions"] = pod_options
    container_ports = {
        str(p.get("name")): p.get("containerPort") for p in c.get("ports") or [] if p.get("name")
    }
    if service is not None:
        sspec = service.get("spec") or {}
        ports: dict[str, Any] = {}
        for p in sspec.get("ports") or []:
            entry: dict[str, Any] = {"port": p.get("port")}
            target = p.get("targetPort")
            if isinstance(target, str):
                target = container_ports.get(target)
            if target is not None and target != p.get("port"):
                entry["targetPort"] = target
            if p.get("protocol") and p["protocol"] != "TCP":
                entry["protocol"] = p["protocol"]
            ports[str(p.get("name") or f"port-{p.get('port')}")] = entry
        svc: dict[str, Any] = {
            "controller": app,
            "forceRename": str((service.get("metadata") or {}).get("name")),
        }
        if sspec.get("type") and sspec["type"] != "ClusterIP":
            svc["type"] = sspec["type"]
        annotations = (service.get("metadata") or {}).get("annotations")
        if annotations:
            svc["annotations"] = plain(annotations)
        svc["ports"] = ports
        values["service"] = {"app": svc}
    mounts: dict[str, list[dict[str, Any]]] = {}
    for m in c.get("volumeMounts") or []:
        mount: dict[str, Any] = {"path": m.get("mountPath")}
        if m.get("subPath"):
            mount["subPath"] = m["subPath"]
        if m.get("readOnly"):
            mount["readOnly"] = True
        mounts.setdefault(str(m.get("name")), []).append(mount)
    persistence: dict[str, Any] = {}
    for vol in pod.get("volumes") or []:
        name = str(vol.get("name"))
        entry = {}
        if "persistentVolumeClaim" in vol:
            entry["existingClaim"] = vol["persistentVolumeClaim"].get("claimName")
        elif "configMap" in vol:
            entry = {"type": "configMap", "name": vol["configMap"].get("name")}
        elif "secret" in vol:
            entry = {"type": "secret", "name": vol["secret"].get("secretName")}
        else:
            entry = {"type": "emptyDir"}
            if (vol.get("emptyDir") or {}).get("medium"):
                entry["medium"] = vol["emptyDir"]["medium"]
        if name in mounts:
            entry["globalMounts"] = mounts[name]
        else:
            entry["enabled"] = True
        persistence[name] = entry
    if persistence:
        values["persistence"] = persistence
    return values, []


def convert_to_helm(
    tree: Tree,
    profile: Profile,
    app: str,
    ks_name: str,
    render: ClusterRender,
    steps: list[str],
    notes: list[str],
) -> None:
    """``--to-helm``: replace the app's one Deployment (+ Service) by an app-template HelmRelease, or say why not."""
    files = [p for p in tree.files if tree.origin.get(p) in tree.ks_files.get(ks_name, set())]
    items = list(_workloads(tree, sorted(files)))
    workloads = [
        w
        for w in items
        if w.doc.get("kind")
        in ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet", "Pod")
    ]
    deployments = [w for w in workloads if w.doc.get("kind") == "Deployment"]
    reasons = []
    if any(is_helmrelease(w.doc) for w in items):
        reasons.append("it already deploys a HelmRelease")
    if len(deployments) != 1 or len(workloads) != 1:
        reasons.append(
            f"{len(workloads)} workloads ({', '.join(str(w.doc.get('kind')) for w in workloads) or 'none'}); "
            "one Deployment is supported"
        )
    services = [w for w in items if w.doc.get("kind") == "Service"]
    if len(services) > 1:
        reasons.append(f"{len(services)} Services (one is supported)")
    selectors = [
        w
        for w in items
        if w.doc.get("kind") not in ("Service", "Deployment")
        and isinstance(w.doc.get("spec"), dict)
        and ("selector" in w.doc["spec"] or "podSelector" in w.doc["spec"])
    ]
    if selectors:
        reasons.append(
            "pods are selected by label from "
            + ", ".join(f"{w.doc.get('kind')} {(w.doc.get('metadata') or {}).get('name')}" for w in selectors)
            + " (app-template sets its own labels)"
        )
    if reasons:
        steps.append(f"--to-helm: {ks_name} keeps its raw manifests: " + "; ".join(reasons))
        return
    deployment = deployments[0]
    service = services[0] if services else None
    name = str((deployment.doc.get("metadata") or {}).get("name") or app)
    rendered = render.find("Deployment", name)
    image = None
    if rendered:
        containers = (((rendered[0][1].obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        ) or []
        image = containers[0].get("image") if len(containers) == 1 else None
    values, why = to_helm_values(app, deployment.doc, service.doc if service else None, image, profile)
    if why:
        steps.append(f"--to-helm: {ks_name} keeps its raw manifests: " + "; ".join(why))
        return
    directory = posixpath.dirname(deployment.path)
    hr_lines = [*t.helmrelease_head(app, schema=t.SCHEMA_APP_TEMPLATE), "  values:", *emit(values, 4)]
    for w in sorted([deployment, *([service] if service else [])], key=lambda w: (w.path, -w.chunk)):
        chunks = _split_docs(tree.files[w.path])
        del chunks[w.chunk]
        if any(_load_docs(c, w.path) for c in chunks):
            tree.files[w.path] = "".join(chunks)
        else:
            tree.move(w.path, None)
    hr_path = _free_name(tree, directory, "helmrelease.yaml", f"{app}-helmrelease.yaml")
    tree.files[hr_path] = t.join(hr_lines)
    tree.origin[hr_path] = ""
    oci_path = _free_name(tree, directory, "ocirepository.yaml", f"{app}-ocirepository.yaml")
    tree.files[oci_path] = ocirepository(
        profile, app, profile.app_template_chart, profile.app_template_version
    )
    tree.origin[oci_path] = ""
    kfile = find_kustomization_file_in(tree, directory)
    if kfile is not None:
        text = tree.files[kfile]
        for added in (oci_path, hr_path):
            entry = _rel(added, directory, True)
            if entry not in list_items(text, "resources"):
                text = append_list_item(text, "resources", entry)
        tree.files[kfile] = text
    notes.append(
        f"--to-helm: Deployment {name}{' and Service ' + str((service.doc.get('metadata') or {}).get('name')) if service else ''} "
        f"became HelmRelease {app} ({hr_path}, app-template {profile.app_template_version}); "
        "review its values"
    )


# ----------------------------------------------------------------------------------------------
# Variables: what the old cluster substituted, and where each value comes from now


@dataclass
class VariablePlan:
    inline: dict[str, str] = field(default_factory=dict)  # written into the files
    from_secret: dict[str, list[str]] = field(default_factory=dict)  # name -> Flux Kustomizations using it
    unknown: dict[str, list[str]] = field(default_factory=dict)


def _source_values(
    render: ClusterRender, ks: FluxKustomization
) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """Plain values of the old Kustomization's substituteFrom sources (name -> (value, source)), and the
    names held by encrypted ones (SOPS key names are plain text)."""
    plain_values: dict[str, tuple[str, str]] = {}
    encrypted: set[str] = set()
    for ref in (ks.post_build or {}).get("substituteFrom") or []:
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        found = render.find(kind, name, ks.namespace)
        if not found:
            continue
        obj = found[0][1].obj
        label = f"{kind} {name}"
        if kind == "Secret" and "sops" in obj:
            encrypted |= {str(k) for part in ("data", "stringData") for k in (obj.get(part) or {})}
            continue
        data: dict[str, Any] = dict(obj.get("data") or {})
        if kind == "Secret":
            decoded = {}
            for k, v in data.items():
                try:
                    decoded[k] = base64.b64decode(str(v)).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    continue
            data = {**decoded, **(obj.get("stringData") or {})}
        for k, v in data.items():
            plain_values[str(k)] = ("" if v is None else str(v), label)
    return plain_values, encrypted


def plan_variables(
    tree: Tree,
    profile: Profile,
    options: MigrateOptions,
    old: OldApp,
    substitutes: Mapping[str, dict[str, str]],
    notes: list[str],
) -> VariablePlan:
    """Each variable the app's files use, classified by where its value comes from in the new cluster."""
    plan = VariablePlan()
    for ks in old.kustomizations:
        plain_values, encrypted = _source_values(old.render, ks)
        used: dict[str, bool] = {}
        for new_path, text in tree.files.items():
            if tree.origin.get(new_path) in tree.ks_files.get(ks.name, set()) and not substitution_disabled(
                text
            ):
                for name, default in variables_in(text).items():
                    used[name] = used.get(name, True) and default
        own = substitutes.get(ks.name, {})
        for name, has_default in sorted(used.items()):
            if name in own:
                continue
            if name == profile.cluster_name_variable:
                plan.inline[name] = options.new
                continue
            attr = profile.profile_variables.get(name)
            if attr and getattr(profile, attr, None):
                plan.inline[name] = str(getattr(profile, attr))
                continue
            if name in plain_values:
                value, source = plain_values[name]
                plan.inline[name] = value
                notes.append(
                    f"${{{name}}} written as '{value}' (the value of {source} in cluster {options.old}); "
                    f"check it holds for {options.new}"
                )
                continue
            if name in encrypted:
                plan.from_secret.setdefault(name, []).append(ks.name)
                continue
            if not has_default:
                plan.unknown.setdefault(name, []).append(ks.name)
    return plan


def apply_inline(tree: Tree, values: Mapping[str, str]) -> None:
    for path, text in list(tree.files.items()):
        if substitution_disabled(text):
            continue
        new = text
        for name, value in values.items():
            new = replace_variable(new, name, value)
        tree.files[path] = new


# ----------------------------------------------------------------------------------------------
# ks.yaml


@dataclass
class KsSpec:
    name: str
    path: str
    components: list[str] = field(default_factory=list)  # component names (under the components directory)
    component_paths: list[str] = field(default_factory=list)  # other components, relative to path
    depends_on: list[tuple[str, str]] = field(default_factory=list)
    substitute: dict[str, str] = field(default_factory=dict)
    substitute_from: list[dict[str, Any]] = field(default_factory=list)
    prune: bool = True
    wait: bool = False
    timeout: str = t.KS_TIMEOUT
    extra: dict[str, Any] = field(default_factory=dict)


def flux_ks(profile: Profile, cluster: str, namespace: str, spec: KsSpec) -> str:
    """One Flux Kustomization: the template's, plus what it does not model (substituteFrom, prune: false,
    fields of the old Kustomization carried over)."""
    text = t.flux_ks(
        profile,
        t.FluxKs(
            cluster,
            namespace,
            spec.name,
            path=spec.path,
            components=spec.components,
            depends_on=[t.Dependency(n, ns) for n, ns in spec.depends_on],
            wait=spec.wait,
            timeout=spec.timeout,
        ),
    )
    entries: dict[str, list[str]] = {}
    if spec.component_paths:
        names = [t.relpath(profile.component_path(c), spec.path) for c in spec.components]
        entries["components"] = ["components:", *[f"  - {c}" for c in [*names, *spec.component_paths]]]
    if spec.substitute or spec.substitute_from:
        post = ["postBuild:"]
        if spec.substitute:
            post.append("  substitute:")
            for key, value in sorted(spec.substitute.items(), key=lambda kv: (kv[0] != "APP", kv[0])):
                post.append(
                    f"    {key}: {'*app' if key == 'APP' and value == spec.name else t.scalar(str(value))}"
                )
        if spec.substitute_from:
            post.append("  substituteFrom:")
            post += emit(spec.substitute_from, 4)
        entries["postBuild"] = post
    if not spec.prune:
        entries["prune"] = ["prune: false"]
    for key, value in spec.extra.items():
        entries[key] = emit({key: plain(value)})
    return set_spec_entries(text, entries)


def set_spec_entries(text: str, entries: Mapping[str, list[str]]) -> str:
    """Set top-level ``spec`` keys of a generated Flux Kustomization, keeping the keys in alphabetical order."""
    lines = text.rstrip("\n").split("\n")
    start = lines.index("spec:") + 1
    segments: dict[str, list[str]] = {}
    key = None
    for line in lines[start:]:
        m = re.match(r"^  ([A-Za-z][\w-]*):", line)
        if m:
            key = m.group(1)
            segments[key] = [line]
        elif key is not None:
            segments[key].append(line)
    for key, value in entries.items():
        segments[key] = [f"  {line}" for line in value]
    body = [line for key in sorted(segments) for line in segments[key]]
    return "\n".join(lines[:start] + body) + "\n"


_KS_DROPPED = {
    "path",
    "sourceRef",
    "targetNamespace",
    "commonMetadata",
    "decryption",
    "postBuild",
    "dependsOn",
    "interval",
    "retryInterval",
    "prune",
    "wait",
    "timeout",
    "components",
}


def old_ks_path(ks: FluxKustomization, options: MigrateOptions, profile: Profile) -> str:
    return _norm(replace_variable(ks.path or ".", profile.cluster_name_variable, options.old))


# ----------------------------------------------------------------------------------------------
# Images


def image_steps(tree: Tree, resolve: Resolver | None, steps: list[str], notes: list[str]) -> None:
    """Images without a digest: pinned when a resolver is given, else a manual step each."""
    from homeops.images import pin

    unpinned: dict[str, list[str]] = {}
    for path in sorted(tree.files):
        if not _is_yaml(path):
            continue
        text = tree.files[path]
        if resolve is not None:
            try:
                report = pin.pin_images(text, resolve=lambda ref: resolve(str(ref)), file=path)
            except HomeopsError:
                report = None
            if report is not None:
                text = report.text
                tree.files[path] = text
                for occ, digest in report.pinned:
                    notes.append(f"pinned {occ.ref.unpinned} to {digest} ({path}:{occ.line})")
                notes += [f"not pinned: {err.one_line()}" for err in report.errors]
        try:
            found = pin.find_images(text, path)
        except HomeopsError:
            continue
        for occ in found:
            if not occ.ref.digest:
                unpinned.setdefault(str(occ.ref), []).append(f"{path}:{occ.line}")
        if posixpath.basename(path) in KUSTOMIZATION_FILES:
            for doc in _load_docs(text, path)[:1]:
                for image in (doc.get("images") or []) if isinstance(doc, dict) else []:
                    if (
                        isinstance(image, dict)
                        and image.get("newTag")
                        and not image.get("digest")
                        and "@" not in str(image.get("newTag"))
                    ):
                        ref = f"{image.get('newName') or image.get('name')}:{image.get('newTag')}"
                        unpinned.setdefault(ref, []).append(f"{path} (images)")
    for ref, places in sorted(unpinned.items()):
        steps.append(
            f"pin image {ref} to a digest ({', '.join(places)}): homeops images pin --write, "
            "or rerun the migration with --pin"
        )


# ----------------------------------------------------------------------------------------------
# Registration


def namespace_kustomization(
    profile: Profile, root: Path, namespace: str, app: str, privileged: bool
) -> tuple[str, list[str]]:
    """A new namespace directory's kustomization.yaml (the template's), and the components it lacks."""
    wanted = (
        profile.privileged_namespace_component if privileged else profile.namespace_component,
        profile.alerts_component,
    )
    missing = [profile.component_path(c) for c in wanted if not (root / profile.component_path(c)).is_dir()]
    if not missing:
        return t.namespace_kustomization(profile, namespace, [app], privileged=privileged), []
    lines = [
        *t.header(t.SCHEMA_KUSTOMIZATION),
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        f"namespace: {namespace}",
        "resources:",
        f"  - ./{app}/ks.yaml",
    ]
    return t.join(lines), missing


def _old_namespace_privileged(root: Path, old_dir: str) -> bool:
    ns_dir = root / posixpath.dirname(old_dir)
    for path in sorted(ns_dir.glob("*.yaml")):
        try:
            docs = yamlio.load_all(path.read_text(encoding="utf-8"))
        except (HomeopsError, OSError):
            continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Namespace":
                labels = (doc.get("metadata") or {}).get("labels") or {}
                if str(labels.get("pod-security.kubernetes.io/enforce")) == "privileged":
                    return True
    return False


def _namespace_leftovers(root: Path, old_dir: str) -> list[str]:
    """Resources of the old namespace's kustomization that are neither apps nor the Namespace."""
    ns_dir = posixpath.dirname(old_dir)
    kfile = find_kustomization_file(root / ns_dir)
    if kfile is None:
        return []
    try:
        kust = yamlio.load_one(kfile.read_text(encoding="utf-8"))
    except (HomeopsError, OSError):
        return []
    out = []
    for ref in kustomization_refs(kust):
        target = _join(ns_dir, ref.path)
        if target.endswith("/ks.yaml") or not (root / target).is_file():
            continue
        kinds = {
            str(d.get("kind"))
            for d in _load_docs((root / target).read_text(encoding="utf-8"), target)
            if isinstance(d, dict)
        }
        if kinds - {"Namespace"}:
            out.append(target)
    return out


def unregister(text: str, app: str) -> str | None:
    """The namespace kustomization without the app's ks.yaml entry (None: not listed)."""
    for item in list_items(text, "resources"):
        if _norm(item) == f"{app}/ks.yaml":
            return remove_list_item(text, "resources", item)
    return None


# ----------------------------------------------------------------------------------------------
# The plan


def validate(options: MigrateOptions, profile: Profile) -> None:
    name = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
    if not name.match(options.namespace) or not name.match(options.app):
        raise HomeopsError(
            f"{options.namespace}/{options.app} is not NAMESPACE/APP",
            hint="write the namespace and app directory names, e.g. media/jellyseerr",
        )
    if options.old == options.new:
        raise HomeopsError("--from and --to name the same cluster", hint="migrate between two clusters")
    if options.new in profile.deprecated_clusters:
        raise HomeopsError(
            f"cluster {options.new} is deprecated: apps move out of it, not into it",
            hint="pass a modern cluster to --to",
        )
    if options.chart_url is not None and not options.chart_url.startswith("oci://"):
        raise HomeopsError(
            f"--chart-url {options.chart_url!r} is not an OCI URL", hint="pass oci://REGISTRY/PATH/CHART"
        )


def render_old(root: Path, profile: Profile, options: MigrateOptions) -> ClusterRender:
    cluster: Cluster = resolve_cluster(root, profile, options.old)
    return render_cluster(
        root, cluster, profile=profile, cli_vars=dict(options.cli_vars), files=FileCache(root)
    )


def _store_provider(
    root: Path, profile: Profile, known: Mapping[str, tuple[str, str]]
) -> tuple[str, str] | None:
    """The new cluster's Flux Kustomization that deploys the ClusterSecretStore of the profile."""
    pattern = re.compile(r"(?m)^kind:\s*" + re.escape(profile.secret_store_kind) + r"\s*$")
    for name, (namespace, ks_file) in sorted(known.items()):
        try:
            docs = yamlio.load_all((root / ks_file).read_text(encoding="utf-8"))
        except (HomeopsError, OSError):
            continue
        for doc in docs:
            if (
                not (isinstance(doc, dict) and is_flux_kustomization(doc))
                or (doc.get("metadata") or {}).get("name") != name
            ):
                continue
            path = _norm(str((doc.get("spec") or {}).get("path") or ""))
            for file in _all_files(root, path) if path else []:
                text = (root / file).read_text(encoding="utf-8", errors="replace")
                if pattern.search(text) and re.search(
                    r"(?m)^\s+name:\s*['\"]?" + re.escape(profile.secret_store) + r"['\"]?\s*$", text
                ):
                    return name, namespace
    return None


def _component_required(root: Path, profile: Profile, component: str) -> set[str]:
    names: dict[str, bool] = {}
    for file in _all_files(root, profile.component_path(component)):
        for name, default in variables_in(
            (root / file).read_text(encoding="utf-8", errors="replace")
        ).items():
            names[name] = names.get(name, True) and default
    return {n for n, d in names.items() if not d}


def plan_migration(
    root: Path,
    profile: Profile,
    options: MigrateOptions,
    *,
    old_render: ClusterRender | None = None,
    resolve: Resolver | None = None,
) -> MigrationPlan:
    """Every edit of one migration, or a HomeopsError (exit 2) before anything is written."""
    validate(options, profile)
    root = root.resolve()
    if not (root / profile.apps_dir / options.new).is_dir():
        raise HomeopsError(
            f"cluster {options.new} has no {profile.apps_dir}/{options.new} directory",
            hint="run 'homeops init . --cluster NAME' first, or check --to",
        )
    render = old_render if old_render is not None else render_old(root, profile, options)
    old = find_old_app(root, profile, options, render)
    ns_rel = f"{profile.apps_dir}/{options.new}/{options.namespace}"
    new_dir = f"{ns_rel}/{options.app}"
    plan = MigrationPlan(old_dir=old.directory, new_dir=new_dir)
    ks_names = [ks.name for ks in old.kustomizations]
    exists = existing_target(root, profile, options, app_names(old))
    old_ns_kust = f"{posixpath.dirname(old.directory)}/kustomization.yaml"
    if exists is not None and not options.remove_source:
        raise HomeopsError(
            f"app {options.namespace}/{options.app} already exists in cluster {options.new}: {exists}",
            hint="nothing to migrate; pass --remove-source to delete the old copy only",
        )
    touched = [old.directory, old_ns_kust] if options.remove_source else []
    if exists is None:
        touched += [new_dir, f"{ns_rel}/kustomization.yaml"]
    dirty = git_dirty(root, touched)
    if dirty and not options.force:
        raise HomeopsError(
            f"uncommitted changes in paths the migration touches: {', '.join(sorted(dirty)[:5])}"
            + (" ..." if len(dirty) > 5 else ""),
            hint="commit or stash them, or pass --force",
        )
    if exists is not None:
        plan.notes.append(f"{exists}: only the old copy is removed")
        _remove_source(root, plan, old, options)
        return plan

    # --- the tree
    paths = {ks.name: old_ks_path(ks, options, profile) for ks in old.kustomizations}
    tree = build_tree(root, profile, old, new_dir, paths, plan.notes)
    known = new_cluster_kustomizations(root, profile, options.new)
    namespace = options.namespace
    for ks in old.kustomizations:
        rk = render.rendered.get(ks.key)
        if rk is not None and rk.error is not None:
            plan.notes.append(
                f"Flux Kustomization {ks.key} does not render in {options.old} ({rk.error}); "
                "migrated as it is"
            )
        if ks.target_namespace and ks.target_namespace != namespace:
            plan.notes.append(
                f"{ks.name} deployed to namespace {ks.target_namespace} in {options.old}; it deploys "
                f"to {namespace} now"
            )

    # --- conversions
    convert_secrets(tree, profile, options.app, plan.steps, plan.notes)
    drop_sops_leftovers(tree, plan.steps)
    if options.to_helm:
        for ks in old.kustomizations:
            convert_to_helm(
                tree,
                profile,
                options.app if len(old.kustomizations) == 1 else ks.name,
                ks.name,
                render,
                plan.steps,
                plan.notes,
            )
    convert_ingresses(tree, profile, namespace, render, options.external, plan.steps, plan.notes)
    convert_chart_ingress(tree, profile, options.external, plan.steps, plan.notes)
    convert_charts(tree, profile, render, options.chart_url, plan.steps, plan.notes)
    fix_kustomizations(tree, plan.steps)

    # --- the Flux Kustomizations
    component_dir = profile.component_path(profile.volsync_component)
    required = _component_required(root, profile, profile.volsync_component)
    substitutes: dict[str, dict[str, str]] = {}
    specs: list[KsSpec] = []
    siblings = set(ks_names)
    stateful = False
    store_provider = _store_provider(root, profile, known)
    for ks in old.kustomizations:
        new_path = tree.new_path(paths[ks.name])
        if new_path is None:
            raise HomeopsError(
                f"the path {paths[ks.name]} of {ks.key} could not be placed in the new app",
                ks.resource.file,
                ks.resource.line,
            )
        spec = ks.spec
        post = ks.post_build or {}
        substitute = {str(k): "" if v is None else str(v) for k, v in (post.get("substitute") or {}).items()}
        ks_spec = KsSpec(
            name=ks.name,
            path=new_path,
            substitute=substitute,
            prune=spec.get("prune") is not False,
            wait=spec.get("wait") is True,
            timeout=str(spec.get("timeout") or t.KS_TIMEOUT),
        )
        for comp in spec.get("components") or []:
            target = tree.new_path(_join(paths[ks.name], str(comp)))
            if target and _under(target, profile.components_dir):
                ks_spec.components.append(target[len(profile.components_dir) + 1 :])
            else:
                ks_spec.component_paths.append(_rel(target, new_path, False) if target else str(comp))
        uses_volsync_vars = all(v in substitute for v in profile.volsync_variables)
        own_claims = any(
            "ReplicationSource" in tree.files.get(p, "")
            for p in tree.files
            if tree.origin.get(p) in tree.ks_files.get(ks.name, set())
        )
        if (tree.ks_dropped.get(ks.name) or (uses_volsync_vars and not own_claims)) and (
            root / component_dir
        ).is_dir():
            ks_spec.components.append(profile.volsync_component)
            stateful = True
            for name in sorted(required - set(substitute)):
                if name == "APP":
                    substitute["APP"] = ks.name
                elif name == profile.cluster_name_variable:
                    substitute[name] = options.new
                else:
                    plan.steps.append(
                        f"set postBuild.substitute.{name} of {ks.name} in {new_dir}/ks.yaml "
                        f"(the {profile.volsync_component} component needs it)"
                    )
            for dropped in sorted(tree.ks_dropped.get(ks.name, ())):
                plan.notes.append(f"{dropped} ({ks.name}) {tree.dropped[dropped]}")
        extra = {k: v for k, v in spec.items() if k not in _KS_DROPPED and v not in (None, "", [], {})}
        ks_spec.extra = extra
        if spec.get("decryption"):
            plan.notes.append(f"{ks.name}: SOPS decryption dropped (the app keeps no encrypted files)")
        for dep in ks.depends_on:
            if dep.name in siblings:
                ks_spec.depends_on.append((dep.name, namespace))
            elif dep.name in known:
                ks_spec.depends_on.append((dep.name, known[dep.name][0]))
            elif store_provider is not None and _deploys(render, dep.name, profile.secret_store_kind):
                if store_provider not in ks_spec.depends_on:
                    ks_spec.depends_on.append(store_provider)
                plan.notes.append(
                    f"{ks.name}: dependency on {dep.name} ({profile.secret_store_kind} in "
                    f"{options.old}) became {store_provider[1]}/{store_provider[0]}"
                )
            elif _is_ingress_controller(render, dep.name):
                plan.notes.append(
                    f"{ks.name}: dependency on {dep.name} dropped (an ingress controller; routes go "
                    "through the gateway now)"
                )
            else:
                plan.steps.append(
                    f"{ks.name} depended on {dep.name} in {options.old}, which {options.new} does not "
                    f"have: add the matching dependency to {new_dir}/ks.yaml if there is one"
                )
        substitutes[ks.name] = substitute
        specs.append(ks_spec)
    if stateful:
        for provider in STORAGE_PROVIDERS:
            if provider in known:
                for ks_spec in specs:
                    if profile.volsync_component in ks_spec.components and provider not in {
                        d[0] for d in ks_spec.depends_on
                    }:
                        ks_spec.depends_on.append((provider, known[provider][0]))
        plan.steps.append(
            f"move the data: the {profile.volsync_component} component fills the new claim of "
            f"{options.app} from its Volsync backup; stop the app in {options.old} and make sure a "
            f"fresh backup exists where {options.new}'s component restores from before the app starts "
            "there (or copy the data by hand)"
        )
    elif any(_CLAIMS.search(text) for text in tree.files.values()):
        plan.steps.append(
            f"move the data: {options.app} keeps data in volume claims that are not copied from "
            f"{options.old}, and no Volsync backup covers them in {options.new}; copy the data, and "
            f"consider the {profile.volsync_component} component (postBuild APP and VOLSYNC_CAPACITY, "
            "the app's claim as existingClaim ${APP})"
        )

    # --- variables
    variables = plan_variables(tree, profile, options, old, substitutes, plan.notes)
    apply_inline(tree, variables.inline)
    for name in sorted(variables.inline):
        if name == profile.cluster_name_variable or name in profile.profile_variables:
            plan.notes.append(f"${{{name}}} written as '{variables.inline[name]}'")
    has_secrets = any("kind: ExternalSecret" in text for text in tree.files.values())
    store = store_provider if (has_secrets or variables.from_secret) else None
    if variables.from_secret:
        vars_name = f"{options.app}-{VARS_SUFFIX}"
        vars_dir = f"{new_dir}/{VARS_SUFFIX}"
        keys = sorted(variables.from_secret)
        es = externalsecret(profile, vars_name, [(k, k) for k in keys], {})
        tree.files[f"{vars_dir}/externalsecret.yaml"] = document(
            es,
            t.SCHEMA_EXTERNALSECRET,
            [
                f"Variables {', '.join(ks_names)} substituted from the SOPS cluster secret "
                f"in {options.old}, now from {profile.secret_store}."
            ],
        )
        tree.files[f"{vars_dir}/kustomization.yaml"] = t.app_kustomization(["externalsecret.yaml"])
        # wait: the app's Kustomization starts once the Secret exists, not merely the ExternalSecret
        vars_spec = KsSpec(name=vars_name, path=vars_dir, depends_on=[store] if store else [], wait=True)
        users = {u for us in variables.from_secret.values() for u in us}
        for ks_spec in specs:
            if ks_spec.name in users:
                ks_spec.depends_on.append((vars_name, namespace))
                ks_spec.substitute_from.append({"kind": "Secret", "name": vars_name})
        specs.insert(0, vars_spec)
        plan.steps.append(
            f"create in {profile.secret_store} the key(s) {', '.join(keys)} with the values of the SOPS "
            f"cluster secret of {options.old} (the ExternalSecret {vars_name} feeds them to postBuild "
            f"substitution); a value that is not secret may instead be written in place of its "
            f"${{VARIABLE}} and dropped from {vars_dir}/externalsecret.yaml"
        )
    for name, using in sorted(variables.unknown.items()):
        plan.steps.append(
            f"${{{name}}} (used by {', '.join(sorted(set(using)))}) has no value in {options.old} "
            "either (Flux substitutes an empty string): give it one or remove it"
        )
    if store is not None:
        for ks_spec in specs:
            if ks_spec.name.endswith(f"-{VARS_SUFFIX}"):
                continue
            files = [p for p in tree.files if p.startswith(ks_spec.path + "/")]
            if (
                any("kind: ExternalSecret" in tree.files[p] for p in files)
                and store not in ks_spec.depends_on
            ):
                ks_spec.depends_on.append(store)

    # --- images, last: after every conversion
    image_steps(tree, resolve, plan.steps, plan.notes)

    # --- edits
    ks_text = "".join(flux_ks(profile, options.new, namespace, s) for s in specs)
    plan.kustomizations = [s.name for s in specs]
    plan.edits.append(FileEdit(f"{new_dir}/ks.yaml", ks_text))
    for path in sorted(tree.files):
        plan.edits.append(FileEdit(path, tree.files[path]))
    ns_kust = f"{ns_rel}/kustomization.yaml"
    entry = f"./{options.app}/ks.yaml"
    ns_file = find_kustomization_file(root / ns_rel) if (root / ns_rel).is_dir() else None
    if ns_file is not None:
        rel = ns_file.relative_to(root).as_posix()
        text = ns_file.read_text(encoding="utf-8")
        if not any(_norm(i) == _norm(entry) for i in list_items(text, "resources")):
            plan.edits.append(FileEdit(rel, append_list_item(text, "resources", entry), text))
    elif (root / ns_rel).is_dir():
        # Flux generates a kustomization for it today (every ks.yaml below, and every app directory with
        # a kustomization file, applied directly too); an explicit one lists the apps' ks.yaml only.
        listed = sorted(f"./{p.parent.name}/ks.yaml" for p in (root / ns_rel).glob("*/ks.yaml"))
        lines = [
            *t.header(t.SCHEMA_KUSTOMIZATION),
            "apiVersion: kustomize.config.k8s.io/v1beta1",
            "kind: Kustomization",
            "resources:",
            *[f"  - {e}" for e in sorted({*listed, entry})],
        ]
        plan.edits.append(FileEdit(ns_kust, t.join(lines)))
        plan.steps.append(
            f"review {ns_kust}: {ns_rel} had no kustomization file, so Flux generated one that also "
            "applied its apps' directories directly; the new file lists the apps' ks.yaml only "
            f"({', '.join(listed) or 'none before'})"
        )
    else:
        text, missing = namespace_kustomization(
            profile, root, namespace, options.app, _old_namespace_privileged(root, old.directory)
        )
        plan.edits.append(FileEdit(ns_kust, text))
        for m in missing:
            plan.notes.append(f"{ns_kust}: component {m} does not exist, so it is not used")
        leftovers = _namespace_leftovers(root, old.directory)
        if leftovers:
            plan.steps.append(
                f"namespace-level files of {posixpath.dirname(old.directory)} are not migrated: "
                f"{', '.join(leftovers)}; add what {namespace} still needs to {ns_rel}"
            )
        cluster_kust = find_kustomization_file(root / profile.apps_dir / options.new)
        if cluster_kust is not None:
            rel = cluster_kust.relative_to(root).as_posix()
            ctext = cluster_kust.read_text(encoding="utf-8")
            plan.edits.append(FileEdit(rel, append_list_item(ctext, "resources", f"./{namespace}"), ctext))
    if options.remove_source:
        _remove_source(root, plan, old, options)
    else:
        plan.notes.append(
            f"after testing in {options.new}: homeops migrate {options.namespace}/{options.app} "
            f"--from {options.old} --to {options.new} --remove-source --write"
        )
    return plan


def _deploys(render: ClusterRender, name: str, kind: str) -> bool:
    """Whether the old cluster's Flux Kustomization ``name`` applies an object of ``kind``."""
    return any(
        res.kind == kind for rk in render.rendered.values() if rk.ks.name == name for res in rk.resources
    )


def _is_ingress_controller(render: ClusterRender, name: str) -> bool:
    for rk in render.rendered.values():
        if rk.ks.name != name:
            continue
        for res in rk.resources:
            if res.kind == "IngressClass":
                return True
            if is_helmrelease(res.obj) and "ingress" in str(
                (((res.obj.get("spec") or {}).get("chart") or {}).get("spec") or {}).get("chart") or ""
            ):
                return True
        return "ingress" in name or "nginx" in name
    return "ingress" in name or "nginx" in name


def _remove_source(root: Path, plan: MigrationPlan, old: OldApp, options: MigrateOptions) -> None:
    """Delete the old app directory and its registration."""
    for file in _all_files(root, old.directory):
        plan.edits.append(FileEdit(file, None, (root / file).read_text(encoding="utf-8", errors="replace")))
    ns_dir = root / posixpath.dirname(old.directory)
    kfile = find_kustomization_file(ns_dir)
    if kfile is None:
        return
    rel = kfile.relative_to(root).as_posix()
    text = kfile.read_text(encoding="utf-8")
    new = unregister(text, options.app)
    if new is None:
        plan.notes.append(f"{rel} does not list {options.app}/ks.yaml")
    else:
        plan.edits.append(FileEdit(rel, new, text))

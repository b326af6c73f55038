"""Step "copy": the app's tree, what it reaches and borrows from outside, and where every file goes
in the new app directory; the files' texts are converted in place by the later steps."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from homeops.author.migrate.kustrefs import kustomization_refs
from homeops.author.migrate.model import OldApp
from homeops.author.migrate.text import all_files, is_yaml, join_path, load_docs, rel_path, under
from homeops.core import fs, yamlio
from homeops.core.errors import HomeopsError
from homeops.core.yamledit import append_list_item, list_items, replace_scalars
from homeops.kustomize.build import KUSTOMIZATION_FILES, find_kustomization_file


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
            if under(old, dropped):
                return None
        if old in self.file_map:
            return self._moved(self.file_map[old])
        for old_prefix, new_prefix in self.dir_map:
            if under(old, old_prefix):
                return self._moved(new_prefix + old[len(old_prefix) :])
        return None

    def mapped(self, old: str) -> bool:
        """Whether an old path belongs to the migrated tree (kept, moved, deleted or replaced)."""
        return (
            any(under(old, d) for d in self.dropped)
            or old in self.file_map
            or any(under(old, prefix) for prefix, _new in self.dir_map)
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


def _reach(root: Path, target: str, files: set[str], seen: set[str], refs: set[str]) -> None:
    """Collect the files a kustomization target reaches, and every path it refers to."""
    path = root / target
    if path.is_dir():
        if target in seen:
            return
        seen.add(target)
        kfile = find_kustomization_file(path)
        if kfile is None:  # Flux generates a kustomization of every manifest below
            files.update(f for f in all_files(root, target) if is_yaml(f) or f.endswith(".json"))
            return
        rel = kfile.relative_to(root).as_posix()
        files.add(rel)
        try:
            kust = yamlio.load_one(fs.read_text(root, kfile), rel)
        except (HomeopsError, OSError):
            return
        for ref in kustomization_refs(kust):
            child = join_path(target, ref.path)
            refs.add(child)
            _reach(root, child, files, seen, refs)
    elif path.is_file():
        files.add(target)


Replacement = Callable[[str], str | None]
"""A borrowed path -> why it is not copied (a component replaces it), or None to copy it."""


def build_tree(
    root: Path, old: OldApp, new_dir: str, paths: Mapping[str, str], replaced: Replacement, notes: list[str]
) -> Tree:
    """Map the app directory and everything it borrows from outside into the new app directory."""
    tree = Tree(root, old.directory, new_dir)
    tree.dir_map.append((old.directory, new_dir))
    outside: set[str] = set()
    per_ks_refs: dict[str, set[str]] = {}
    for ks in old.kustomizations:
        files: set[str] = set()
        refs: set[str] = {paths[ks.name]}
        _reach(root, paths[ks.name], files, set(), refs)
        tree.ks_files[ks.name] = files
        per_ks_refs[ks.name] = refs
        outside |= {r for r in refs if not under(r, old.directory) and (root / r).exists()}
    _place_borrowed(tree, outside, replaced, notes)
    for name, refs in per_ks_refs.items():
        tree.ks_dropped[name] = {d for d in tree.dropped if any(under(r, d) for r in refs)}
    _read_files(tree, notes)
    return tree


def _place_borrowed(tree: Tree, outside: set[str], replaced: Replacement, notes: list[str]) -> None:
    """The outermost borrowed paths, each either replaced by a component or copied into the app under
    a name not yet used there."""
    root, new_dir = tree.root, tree.new_dir
    chosen = sorted(
        (p for p in outside if not any(o != p and under(p, o) and (root / o).is_dir() for o in outside)),
        key=lambda p: (p.count("/"), p),
    )
    old_dir = root / tree.old_dir
    used = {p.name for p in old_dir.iterdir()} if old_dir.is_dir() else set()
    for path in chosen:
        why = replaced(path)
        if why is not None:
            tree.dropped[path] = why
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


def _read_files(tree: Tree, notes: list[str]) -> None:
    """The new files: the whole old app directory (but its ks.yaml), the borrowed directories and files."""
    root, old_dir = tree.root, tree.old_dir
    sources = [
        f
        for f in all_files(root, old_dir)
        if posixpath.basename(f) != "ks.yaml" or posixpath.dirname(f) != old_dir
    ]
    for old_prefix, _new in tree.dir_map:
        if old_prefix != old_dir:
            sources += all_files(root, old_prefix)
    sources += list(tree.file_map)
    for src in sources:
        target = tree.new_path(src)
        if target is None or target in tree.files:
            continue
        try:
            text = fs.read_text(root, src)
        except HomeopsError as exc:
            if fs.refusal_code(exc) is not None or "UTF-8" not in exc.what:
                raise
            notes.append(f"{src} is not text: copy it to {target} by hand")
            continue
        tree.files[target] = text
        tree.origin[target] = src


def fix_kustomizations(tree: Tree, steps: list[str]) -> None:
    """Point every kustomization file's references at where their targets went."""
    for path in sorted(tree.files):
        if posixpath.basename(path) not in KUSTOMIZATION_FILES:
            continue
        text = tree.files[path]
        old_path = tree.origin.get(path, path)
        old_dir, new_dir = posixpath.dirname(old_path), posixpath.dirname(path)
        kust = load_docs(text, path)
        changes: dict[str, str | None] = {}
        for ref in kustomization_refs(kust[0] if kust else None):
            old_target = join_path(old_dir, ref.path)
            new_target = tree.new_path(old_target)
            if new_target is None:
                if tree.mapped(old_target) and ref.list_item:
                    changes[ref.scalar] = None  # replaced by a component, or a file the migration removed
                continue
            rel = rel_path(new_target, new_dir, ref.path.startswith("./"))
            if rel != ref.path:
                changes[ref.scalar] = ref.scalar[: len(ref.scalar) - len(ref.path)] + rel
        tree.files[path] = replace_scalars(text, changes)
    # files added next to existing ones are listed wherever those are
    for added, companion in tree.companions:
        listed = False
        for path in sorted(tree.files):
            if posixpath.basename(path) not in KUSTOMIZATION_FILES:
                continue
            kust = load_docs(tree.files[path], path)
            directory = posixpath.dirname(path)
            targets = {join_path(directory, r.path) for r in kustomization_refs(kust[0] if kust else None)}
            if companion in targets:
                entry = rel_path(added, directory, True)
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


def free_name(tree: Tree, directory: str, *names: str) -> str:
    for name in names:
        candidate = f"{directory}/{name}"
        if candidate not in tree.files and not any(v == candidate for v in tree.moves.values()):
            return candidate
    n = 2
    stem, ext = posixpath.splitext(names[-1])
    while f"{directory}/{stem}-{n}{ext}" in tree.files:
        n += 1
    return f"{directory}/{stem}-{n}{ext}"

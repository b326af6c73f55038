"""The review page: one self-contained HTML file for a :class:`homeops.api.DiffResult`.

The page holds the data of ``diff --format json`` (the same changes, danger notes and review
signals, images with their registry verdicts, blast radius, render problems, findings) plus, per
changed object, its whole YAML as a diff with every unchanged line (folded by the page) and a link
to its file:line. Its script draws three panes from that data: a tree of the changed objects
(cluster → Flux Kustomization → HelmRelease → kind → name), the selected object's diff with
word-level highlights, and the summary. Nothing is fetched: it works from disk and as a CI artifact.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from homeops.api import Change, DiffResult
from homeops.web.page import document, embed_json

SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def object_label(cluster: str, kind: str, namespace: str | None, name: str) -> str:
    """``cluster/kind/namespace/name`` (no empty parts), as the JSON's workloads and blast radius name objects."""
    return "/".join(p for p in (cluster, kind, namespace, name) if p)


def full_rows(change: Change) -> list[list[str]]:
    """The object's diff with every line: ``[op, text]`` rows, ``op`` one of ``" "``, ``"-"``, ``"+"``.

    The lines are matched exactly as the unified ``diff`` of the JSON matches them (difflib's
    ``SequenceMatcher`` with its defaults), so the added and removed lines are the same.
    """
    before = (change.base_yaml or "").splitlines()
    after = (change.head_yaml or "").splitlines()
    rows: list[list[str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after).get_opcodes():
        if tag == "equal":
            rows.extend([" ", line] for line in before[i1:i2])
            continue
        rows.extend(["-", line] for line in before[i1:i2])
        rows.extend(["+", line] for line in after[j1:j2])
    return rows


def source_link(source: str | None, *, root: Path, page_dir: Path, link_base: str | None) -> str | None:
    """Where a resource's ``file:line`` link points: ``link_base`` + file + ``#L<line>`` when given (a
    forge's blob URL, or the server's source view), else the file relative to the page."""
    if not source:
        return None
    file, _, line = source.rpartition(":")
    if not file or not line.isdigit():
        file, line = source, ""
    if link_base is not None:
        return f"{link_base}{file}" + (f"#L{line}" if line else "")
    target = (root / file).resolve()
    try:
        rel = os.path.relpath(target, page_dir.resolve())
    except ValueError:  # another drive (Windows)
        return target.as_uri()
    return rel.replace(os.sep, "/")


def review_data(
    result: DiffResult, *, root: Path, page_dir: Path | None = None, link_base: str | None = None
) -> dict[str, Any]:
    """What the page shows: ``diff --format json`` with, per change, its full rows, link and signals."""
    data = result.as_json()
    page_dir = page_dir or Path.cwd()
    dangers = data["dangers"]
    for d in dangers:
        d["object"] = object_label(d["cluster"], d["kind"], d["namespace"], d["name"])
    changes = []
    for i, change in enumerate(result.changes):
        label = object_label(change.cluster, change.kind, change.namespace, change.name)
        own = [d for d in dangers if d["object"] == label]
        item = change.as_json()
        del item["diff"]  # the rows hold every line; the JSON's 3-line-context diff is in "diff" there
        item.update(
            id=i,
            rows=full_rows(change),
            link=source_link(change.source, root=root, page_dir=page_dir, link_base=link_base),
            signals=[d["type"] for d in own],
            worst=min((d["severity"] for d in own), key=lambda s: SEVERITY_RANK.get(s, 3), default=None),
        )
        changes.append(item)
    data["changes"] = changes
    return data


def review_page(
    result: DiffResult,
    *,
    root: Path,
    page_path: str | Path | None = None,
    link_base: str | None = None,
    nav: list[tuple[str, str, bool]] | None = None,
    head_extra: str = "",
) -> str:
    """The whole HTML page for ``result`` (``page_path``: where it will be written, for relative links)."""
    page_dir = Path(page_path).resolve().parent if page_path else Path.cwd()
    data = review_data(result, root=root, page_dir=page_dir, link_base=link_base)
    title = f"homeops review: {result.base_label} → {result.head_label}"
    body = (
        '<main class="panes">\n'
        '<aside id="tree-pane"><div class="tools">'
        '<input id="filter" class="filter" type="search" placeholder="filter (/)" autocomplete="off" '
        'aria-label="filter the changed resources">'
        '<div class="hint"><span id="filter-count"></span> · <kbd>j</kbd>/<kbd>k</kbd> move · '
        "<kbd>/</kbd> filter · <kbd>t</kbd> theme</div></div>"
        '<nav id="tree" aria-label="changed resources"></nav></aside>\n'
        '<section id="diff-pane" aria-label="diff of the selected resource">'
        '<p class="empty">Select a resource (<kbd>j</kbd>/<kbd>k</kbd>).</p></section>\n'
        '<aside id="summary-pane" aria-label="summary"></aside>\n'
        "</main>\n"
        f'<script type="application/json" id="review-data">{embed_json(data)}</script>'
    )
    return document(
        title,
        body,
        styles=["review.css"],
        scripts=["review.js"],
        nav=nav or [],
        body_class="review",
        head_extra=head_extra,
    )

"""Printing a diff: ``unified`` (terminal), ``markdown`` (a PR comment) and ``json`` (the contract)."""

from __future__ import annotations

import json
import re
from collections import defaultdict

from homeops.core.text import escape
from homeops.diff.blast import BlastRadius
from homeops.diff.compare import DiffResult
from homeops.diff.danger import Danger
from homeops.diff.model import Change, ImageCheck

MARKER = "<!-- homeops-diff -->"
DEFAULT_MARKDOWN_LIMIT = 60_000
"""GitHub refuses comments over 65,536 characters; this leaves room for a workflow's own text."""

_ICONS = {"error": "🛑", "warning": "⚠️", "info": "ℹ️"}
_RESET, _BOLD, _RED, _GREEN, _YELLOW, _CYAN, _DIM = (
    "\033[0m",
    "\033[1m",
    "\033[31m",
    "\033[32m",
    "\033[33m",
    "\033[36m",
    "\033[2m",
)


def _truncate(text: str, limit: int | None) -> str:
    """``text`` cut at a line boundary to at most ``limit`` bytes, with a note."""
    if not limit or len(text.encode("utf-8")) <= limit:
        return text
    out: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if size + n > limit:
            break
        out.append(line)
        size += n
    total = text.count("\n")
    return "".join(out) + f"# … diff truncated at {limit} bytes ({total - len(out)} more lines)\n"


def _where(c: Change) -> str:
    parts = [f"ks {c.ks}"]
    if c.helmrelease and c.kind != "HelmRelease":
        parts.append(f"hr {c.helmrelease}")
    return ", ".join(parts)


def _object(c: Change) -> str:
    return f"{c.kind} {c.namespace}/{c.name}" if c.namespace else f"{c.kind} {c.name}"


def _group_dangers(dangers: list[Danger]) -> list[tuple[Danger, list[Danger]]]:
    """Removal notes of one Kustomization with the same outcome are one note listing the objects."""
    out: list[tuple[Danger, list[Danger]]] = []
    groups: dict[tuple[str, str, str, str, str], list[Danger]] = defaultdict(list)
    for d in dangers:
        if d.type in ("prune-delete", "prune-orphan") and d.kind not in (
            "PersistentVolumeClaim",
            "PersistentVolume",
            "Namespace",
        ):
            key = (d.type, d.severity, d.cluster, d.ks, d.message)
            if key not in groups:
                out.append((d, groups[key]))
            groups[key].append(d)
        else:
            out.append((d, [d]))
    return out


def _danger_line(first: Danger, members: list[Danger]) -> str:
    if len(members) > 1:
        objects = ", ".join(m.object for m in members[:8]) + (
            f" and {len(members) - 8} more" if len(members) > 8 else ""
        )
        return f"{first.cluster}: {len(members)} objects ({objects}) {first.message}"
    return f"{first.cluster}: {first.object} (ks {first.ks}): {first.message}"


# ----------------------------------------------------------------------------------------------
# unified


def format_unified(result: DiffResult, *, color: bool = False, limit: int | None = None) -> str:
    """Danger notes, then each object's diff, then images and the summary."""

    def paint(text: str, *codes: str) -> str:
        return "".join(codes) + text + _RESET if color else text

    lines: list[str] = []
    if not result.changes and not result.dangers:
        return ""
    for first, members in _group_dangers(result.dangers):
        colour = _RED if first.severity == "error" else _YELLOW if first.severity == "warning" else _DIM
        text = escape(f"{first.severity.upper()}: {_danger_line(first, members)}")
        lines.append(paint(text, colour, _BOLD) + "\n")
    if result.dangers:
        lines.append("\n")
    for c in result.changes:
        lines.append(paint(escape(f"# {c.cluster}: {c.change} {_object(c)} ({_where(c)})"), _BOLD) + "\n")
        for line in _truncate(c.diff, limit).splitlines(keepends=True):
            if line.startswith(("+++", "---")):  # they name the object: its name is repository data
                lines.append(paint(escape(line.rstrip("\n")), _BOLD) + "\n")
            elif line.startswith("@@"):
                lines.append(paint(line.rstrip("\n"), _CYAN) + "\n")
            elif line.startswith("+"):
                lines.append(paint(line.rstrip("\n"), _GREEN) + "\n")
            elif line.startswith("-"):
                lines.append(paint(line.rstrip("\n"), _RED) + "\n")
            else:
                lines.append(line)
    if result.images:
        lines.append("\n" + paint("images:", _BOLD) + "\n")
        for img in result.images:
            text = f"  {img.image}: {img.from_ or '(none)'} -> {img.to or '(none)'}  [{', '.join(img.workloads)}]"
            lines.append(escape(text) + (f"  {_verdict(img.check)}" if img.check is not None else "") + "\n")
    wide = [b for b in result.blast_radius if b.count > 1]
    if wide:
        lines.append("\n" + paint("blast radius:", _BOLD) + "\n")
        for b in wide:
            lines.append(escape(f"  {b.file} ({_lines(b)}): {_reach(b)}") + "\n")
    lines.append("\n" + paint("summary:", _BOLD) + "\n")
    for row in result.summary():
        text = (
            f"  {row['cluster']:<12} {row['kind']:<28} +{row['added']} -{row['removed']} ~{row['modified']}"
        )
        lines.append(escape(text) + "\n")
    return "".join(lines)


# ----------------------------------------------------------------------------------------------
# markdown


def _cell(text: object) -> str:
    return escape(str(text)).replace("|", "\\|")


def _code(text: str) -> str:
    text = escape(text)
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fence(text: str) -> str:
    ticks = max((len(m) for m in re.findall(r"^`{3,}", text, re.M)), default=0)
    return "`" * max(3, ticks + 1)


def _details(c: Change, diff: str) -> str:
    summary = (
        f"{_cell(c.cluster)} · <b>{c.change}</b> {_html(c.kind)} <code>{_html(c.namespace + '/' if c.namespace else '')}"
        f"{_html(c.name)}</code> (ks <code>{_html(c.ks)}</code>"
        + (f", hr <code>{_html(c.helmrelease)}</code>" if c.helmrelease and c.kind != "HelmRelease" else "")
        + ")"
    )
    fence = _fence(diff)
    return f"<details><summary>{summary}</summary>\n\n{fence}diff\n{diff}{fence}\n\n</details>\n\n"


def _html(text: str) -> str:
    return escape(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_markdown(result: DiffResult, *, limit: int | None = DEFAULT_MARKDOWN_LIMIT) -> str:
    """A PR comment: headline, danger notes, summary table, images, problems, one collapsible diff per object."""
    limit = limit or None
    head: list[str] = [
        MARKER + "\n",
        f"### homeops diff: {_code(result.base_label)} → {_code(result.head_label)}\n\n",
    ]
    counts = {k: sum(1 for c in result.changes if c.change == k) for k in ("added", "removed", "modified")}
    if result.changes:
        head.append(
            f"**{len(result.changes)} rendered object{'s' if len(result.changes) != 1 else ''} changed**: "
            f"{counts['added']} added, {counts['removed']} removed, {counts['modified']} modified.\n\n"
        )
    else:
        head.append("**No rendered changes.**\n\n")
    if result.dangers:
        head.append("#### Danger notes\n\n")
        for first, members in _group_dangers(result.dangers):
            head.append(
                f"- {_ICONS.get(first.severity, '')} **{first.type}** {_md_text(_danger_line(first, members))}\n"
            )
        head.append("\n")
    if result.changes:
        head.append("| cluster | kind | added | removed | modified |\n| --- | --- | ---: | ---: | ---: |\n")
        for row in result.summary():
            head.append(
                f"| {_cell(row['cluster'])} | {_cell(row['kind'])} | {row['added']} | {row['removed']} | "
                f"{row['modified']} |\n"
            )
        head.append("\n")
    if result.images:
        checked = any(img.check is not None for img in result.images)
        head.append(
            "#### Images\n\n| image | from | to | workloads |"
            + (
                " registry |\n| --- | --- | --- | --- | --- |\n"
                if checked
                else "\n| --- | --- | --- | --- |\n"
            )
        )
        for img in result.images:
            head.append(
                f"| {_code(img.image)} | {_code(img.from_) if img.from_ else '—'} | "
                f"{_code(img.to) if img.to else '—'} | {_cell(', '.join(img.workloads))} |"
                + (f" {_cell(_verdict(img.check)) if img.check else '—'} |" if checked else "")
                + "\n"
            )
        head.append("\n")
    wide = [b for b in result.blast_radius if b.count > 1]
    if wide:
        head.append("#### Blast radius\n\n| file | lines | rendered objects changed |\n| --- | --- | --- |\n")
        for b in wide[:20]:
            head.append(f"| {_code(b.file)} | {_lines(b)} | {_cell(_reach(b))} |\n")
        head.append("\n")
    if result.render_errors or result.notes or result.shared_errors:
        head.append("#### Render problems\n\n")
        shared = [("both sides", f) for f in result.shared_errors]
        for side, f in [*((f"{side} only", f) for side, f in result.render_errors), *shared]:
            where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "")
            head.append(
                f"- **{side}** ({_cell(f.cluster or '')}) {_code(where) + ' ' if where else ''}"
                f"{_md_text(f.message)} [{f.rule}]\n"
            )
        for note in result.notes:
            head.append(f"- {_md_text(note)}\n")
        head.append("\n")
    text = "".join(head)
    if limit and len(text.encode("utf-8")) > limit:
        text = _truncate(text, limit - 200) + "\n_The report was truncated._\n"
        return text
    if not result.changes:
        return text
    body = ["#### Changes\n\n"]
    size = len(text.encode("utf-8")) + len(body[0])
    reserve = 300
    shown = 0
    for c in result.changes:
        block = _details(c, c.diff)
        n = len(block.encode("utf-8"))
        if limit and size + n > limit - reserve:
            room = limit - reserve - size - 400
            if (room > 1000 and shown == 0) or room > 4000:
                block = _details(c, _truncate(c.diff, room))
                body.append(block)
                size += len(block.encode("utf-8"))
                shown += 1
            break
        body.append(block)
        size += n
        shown += 1
    if shown < len(result.changes):
        body.append(
            f"\n_Output limited to {limit} bytes: {len(result.changes) - shown} more changed "
            f"object{'s' if len(result.changes) - shown != 1 else ''} not shown; run `homeops diff` "
            "locally for the full diff._\n"
        )
    return text + "".join(body)


def _verdict(check: ImageCheck) -> str:
    """``verified``, ``MISSING (manifest unknown …)``, ``unverified (why)``."""
    if check.status == "verified":
        return "verified"
    if check.status == "missing":
        return f"MISSING ({check.message})" if check.message else "MISSING"
    return f"unverified ({check.message})" if check.message else "unverified"


def _lines(b: BlastRadius) -> str:
    if b.added is None or b.removed is None:
        return "binary"
    return f"+{b.added} -{b.removed}"


def _reach(b: BlastRadius) -> str:
    clusters = b.clusters
    return (
        f"{b.count} objects in {len(b.kustomizations)} Kustomization{'s' if len(b.kustomizations) != 1 else ''}"
        f" ({', '.join(clusters)})"
    )


def _md_text(text: str) -> str:
    return re.sub(r"([*_<>\[\]])", r"\\\1", escape(text))


# ----------------------------------------------------------------------------------------------
# json


def format_json(result: DiffResult, *, limit: int | None = None) -> str:
    """The contract's shape plus ``dangers``, ``summary``, ``render_errors`` and ``notes``."""
    data = result.as_json()
    if limit:
        for change in data["changes"]:
            change["diff"] = _truncate(change["diff"], limit)
    return json.dumps(data, indent=2, default=str) + "\n"

"""The shell every homeops page shares: one self-contained HTML document (styles and scripts inline,
nothing fetched), a header with navigation and the theme switch, and safe embedding of data."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any


@cache
def asset(name: str) -> str:
    """The text of ``homeops/web/assets/<name>`` (CSS and JavaScript shipped with the package)."""
    return resources.files("homeops.web").joinpath("assets", name).read_text(encoding="utf-8")


def esc(text: object) -> str:
    """Text for HTML content and attribute values."""
    return html.escape(str(text), quote=True)


def embed_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` can end it."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def document(
    title: str,
    body: str,
    *,
    styles: Sequence[str] = (),
    scripts: Sequence[str] = (),
    nav: Sequence[tuple[str, str, bool]] = (),
    body_class: str = "",
    head_extra: str = "",
) -> str:
    """A whole page: ``nav`` is (label, href, current) links; ``styles``/``scripts`` are asset names."""
    css = "\n".join(asset(name) for name in ("base.css", *styles))
    js = "\n".join(asset(name) for name in scripts)
    links = "".join(
        f'<a href="{esc(href)}"{" class=current" if current else ""}>{esc(text)}</a>'
        for text, href, current in nav
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # nothing on a homeops page may reach the network: the policy says so to the browser too
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:; connect-src 'self'\">\n"
        f"<title>{esc(title)}</title>\n<style>\n{css}\n</style>\n"
        f"<script>\n{asset('theme.js')}\n</script>\n{head_extra}</head>\n"
        f'<body class="{esc(body_class)}">\n'
        f'<header class="top"><h1>{esc(title)}</h1><nav>{links}</nav><span class="spacer"></span>'
        '<span class="muted keys"></span><button id="theme-toggle" class="theme" type="button">theme</button></header>\n'
        f"{body}\n" + (f"<script>\n{js}\n</script>\n" if js else "") + "</body>\n</html>\n"
    )

"""``homeops serve``: the report and the review of the working tree, served on loopback, kept fresh.

A small ASGI application (run by ``uvicorn``) over pages held in memory. A watcher thread notices
when the repository changes (files below it, outside dot-directories, and the ``HEAD`` commit),
renders again through :class:`homeops.api.Workspace` — the report site and the review of the working
tree against ``--base`` — and bumps a version; each page asks ``/api/version`` every second and
reloads itself when it moved.

Read-only by construction: only ``GET`` and ``HEAD`` are answered (anything else is 405), no route
takes input that changes anything, and the only work a request can cause is reading pages already
made. ``/source/<file>`` shows a repository file with numbered lines (what the review's file:line
links open); it refuses anything outside the repository and anything under ``.git``.
"""

from __future__ import annotations

import html
import json
import os
import socket
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from homeops.api import ClusterVars, HomeopsError, Workspace
from homeops.web.page import document, esc
from homeops.web.review import review_page
from homeops.web.site import build_site

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HTML = "text/html; charset=utf-8"
SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__"})
MAX_SOURCE_BYTES = 2 * 1024 * 1024


def live_script(version: int) -> str:
    """What each served page carries to reload itself when the server has rendered again."""
    return (
        f'<meta name="homeops-version" content="{version}">\n'
        "<script>(function(){var v="
        + str(version)
        + ";function poll(){fetch('/api/version',{cache:'no-store'})"
        ".then(function(r){return r.json();}).then(function(d){if(d.version!==v){location.reload();}})"
        ".catch(function(){}).then(function(){setTimeout(poll,1000);});}setTimeout(poll,1000);})();</script>\n"
    )


@dataclass
class Pages:
    """One generation of everything served."""

    version: int
    pages: dict[str, bytes] = field(default_factory=dict)  # path -> HTML
    error: str | None = None
    seconds: float = 0.0


class ReviewServer:
    """The pages of one repository and the thread that keeps them current."""

    def __init__(
        self,
        root: str | Path,
        *,
        base: str | None = None,
        cluster: str | None = None,
        vars: ClusterVars | None = None,
        poll: float = 1.0,
        debug: bool = False,
    ) -> None:
        self.root = Path(root).resolve()
        self.base = base
        self.cluster = cluster
        self.vars = vars
        self.poll = poll
        self.debug = debug
        self.current = Pages(0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fingerprint: tuple[Any, ...] | None = None

    # ---------------------------------------------------------------------------------- generation
    def fingerprint(self) -> tuple[Any, ...]:
        """What decides the pages: every file's size and mtime (dot-directories skipped) and HEAD."""
        entries: list[tuple[str, int, int]] = []
        for directory, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRECTORIES)
            for name in sorted(files):
                path = os.path.join(directory, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                entries.append((path, st.st_mtime_ns, st.st_size))
        return (Workspace(self.root).head_revision(), tuple(entries))

    def generate(self) -> Pages:
        """Render the repository again: the report site and the review of the working tree. A part
        that fails shows its error in its place; the other part is still served."""
        version = self.current.version + 1
        started = time.perf_counter()
        pages = Pages(version)
        extra = live_script(version)
        errors: list[str] = []
        ws = Workspace(self.root, vars=self.vars)
        try:
            site = build_site(ws, extra_nav=[("Review", "/review")], head_extra=extra)
            for name, text in site.pages.items():
                pages.pages[f"/report/{name}"] = text.encode("utf-8")
        except Exception as exc:  # a bug or bad input must show on the page, not stop the server
            errors.append(self._describe("report", exc))
        try:
            result = ws.diff(self.base, None, cluster=self.cluster, findings=True)
            nav = [
                ("Overview", "/report/index.html", False),
                ("Apps", "/report/apps.html", False),
                ("Findings", "/report/findings.html", False),
                ("Images", "/report/images.html", False),
                ("Review", "/review", True),
            ]
            page = review_page(result, root=ws.root, link_base="/source/", nav=nav, head_extra=extra)
            pages.pages["/review"] = page.encode("utf-8")
        except Exception as exc:
            errors.append(self._describe("review", exc))
        pages.error = "\n".join(errors) or None
        pages.seconds = round(time.perf_counter() - started, 3)
        return pages

    def _describe(self, part: str, exc: Exception) -> str:
        if isinstance(exc, HomeopsError):
            return f"{part}: {exc.one_line()}"
        return f"{part}: {type(exc).__name__}: {exc}" + ("\n" + traceback.format_exc() if self.debug else "")

    def refresh(self) -> bool:
        """Generate again if the repository changed since the last generation (True if it did)."""
        fingerprint = self.fingerprint()
        if fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        self.current = self.generate()
        return True

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                if self.fingerprint() != self._fingerprint:
                    time.sleep(min(0.3, self.poll))  # let an editor or git finish writing
                    self.refresh()
            except Exception:  # the watcher must outlive a bad moment (a file vanishing mid-walk)
                continue

    def start(self) -> None:
        self.refresh()
        self._thread = threading.Thread(target=self._watch, name="homeops-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    # ---------------------------------------------------------------------------------- requests
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, b"read-only: only GET and HEAD\n", "text/plain; charset=utf-8",
                           {"allow": "GET, HEAD"}, head=False)  # fmt: skip
            return
        status, body, content_type, headers = self.answer(scope.get("path", "/"))
        await _respond(send, status, body, content_type, headers, head=method == "HEAD")

    def answer(self, path: str) -> tuple[int, bytes, str, dict[str, str]]:
        """(status, body, content type, headers) of a GET of ``path``."""
        current = self.current
        if path in ("/", "/report", "/report/"):
            return 302, b"", HTML, {"location": "/report/index.html"}
        if path == "/api/version":
            body = json.dumps(
                {"version": current.version, "error": current.error, "seconds": current.seconds}
            )
            return 200, body.encode(), "application/json", {}
        if path.startswith("/source/"):
            return self._source(unquote(path[len("/source/") :]), current.version)
        page = current.pages.get(path)
        if page is None and current.error is not None and (path == "/review" or path.startswith("/report/")):
            return 500, self._error_page(current), HTML, {}
        if page is None:
            return 404, _plain_page("not found", f"nothing at {path}", current.version), HTML, {}
        return 200, page, HTML, {}

    def _error_page(self, current: Pages) -> bytes:
        body = (
            '<main class="site"><h2>The repository does not render</h2>'
            f"<pre>{esc(current.error or '')}</pre><p>The page reloads when a file changes.</p></main>"
        )
        return document(
            "homeops serve: error", body, styles=["site.css"], head_extra=live_script(current.version)
        ).encode()

    def _source(self, rel: str, version: int) -> tuple[int, bytes, str, dict[str, str]]:
        target = (self.root / rel).resolve()
        try:
            inside = target.relative_to(self.root)
        except ValueError:
            return 404, _plain_page("not found", "outside the repository", version), HTML, {}
        if not inside.parts or inside.parts[0] == ".git" or not target.is_file():
            return 404, _plain_page("not found", f"no file {rel}", version), HTML, {}
        with open(target, "rb") as handle:  # a regular file inside the repository: its first bytes
            data = handle.read(MAX_SOURCE_BYTES)
        lines = data.decode("utf-8", "replace").splitlines()
        rows = "".join(
            f'<tr id="L{i}"><td class="ln"><a href="#L{i}">{i}</a></td><td><code>{html.escape(line)}</code></td></tr>'
            for i, line in enumerate(lines, 1)
        )
        style = (
            "<style>table.src{border-collapse:collapse;width:100%}table.src td{padding:0 8px;white-space:pre-wrap;"
            "vertical-align:top}table.src td.ln{text-align:right;width:50px;user-select:none}"
            "table.src tr:target td{background:var(--sel)}</style>"
        )
        body = f'<main class="site"><h2><code>{esc(inside.as_posix())}</code></h2><table class="src">{rows}</table></main>'
        page = document(
            f"homeops: {inside.as_posix()}",
            body,
            styles=["site.css"],
            head_extra=style + live_script(version),
        )
        return 200, page.encode(), HTML, {}


def _plain_page(title: str, text: str, version: int) -> bytes:
    body = f'<main class="site"><h2>{esc(title)}</h2><p>{esc(text)}</p><p><a href="/report/index.html">report</a></p></main>'
    return document(
        f"homeops serve: {title}", body, styles=["site.css"], head_extra=live_script(version)
    ).encode()


async def _respond(
    send: Send, status: int, body: bytes, content_type: str, headers: dict[str, str], *, head: bool
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
           (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]  # fmt: skip
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else body})


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (``port`` 0: any free one), so the URL can be told before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HomeopsError(
            f"cannot listen on {host}:{port}: {exc.strerror}", hint="pick another --port"
        ) from None
    sock.listen(64)
    return sock


def serve(server: ReviewServer, sock: socket.socket) -> None:
    """Serve until interrupted (uvicorn runs the ASGI application on ``sock``)."""
    try:  # lazy: only `homeops serve` needs the ASGI server
        import uvicorn
    except ImportError:
        raise HomeopsError("homeops serve needs uvicorn", hint="pip install uvicorn") from None
    config = uvicorn.Config(server, log_level="warning", lifespan="on", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        server.stop()

"""``homeops serve`` as a user runs it: the real CLI in a subprocess on a loopback port, pages opened in
Chromium. The review shows the working tree against HEAD as ``diff --format json`` does, pages reload
when a file changes, nothing but GET/HEAD is answered, nothing is written, nothing leaves."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import Guard, keep_screenshot
from web_support import GitRepo, make_repo

import registry_support as testing
from support import run_cli

Opener = Callable[..., tuple[Any, Guard]]
ECHO_HR = "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml"
LINKDING_HR = "cluster-apps/chongus/default/linkding/app/helmrelease.yaml"


def _snapshot(root: Path) -> dict[str, str]:
    """Every file below ``root`` (``.git`` included) by content hash."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != "index":  # git's own index refresh is not a repository write
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[GitRepo, str]]:
    repo = make_repo(tmp_path / "home-ops")
    repo.edit(ECHO_HR, "        replicas: 2\n", "        replicas: 0\n")  # uncommitted: the review shows it
    port = testing.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "homeops.cli.main", "serve", "--path", str(repo.path), "--port", str(port), "--poll", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if _request(url, "GET", "/api/version")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise AssertionError("serve did not answer within 60 s")
    try:
        yield repo, url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _request(
    url: str, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes, dict[str, str]]:
    host = url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=10)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def _same_origin(url: str) -> Callable[[str], bool]:
    return lambda u: u.startswith(url + "/") or u == url or u.startswith(("data:", "about:"))


def test_report_and_review_are_served(served: tuple[GitRepo, str], open_page: Opener) -> None:
    repo, url = served
    assert _request(url, "GET", "/")[0] == 302
    page, guard = open_page(f"{url}/report/index.html", allowed=_same_origin(url))
    assert page.locator("tr.cluster").count() == 2
    page.click("header nav a:text-is('Review')")
    page.wait_for_selector("body[data-ready=true]")
    proc = run_cli("diff", "--path", str(repo.path), "--format", "json")
    data = json.loads(proc.stdout)
    leaves = page.eval_on_selector_all(
        "#tree a.res", "els => els.map(a => [a.dataset.kind, a.dataset.name, a.dataset.change])"
    )
    assert sorted(map(tuple, leaves)) == sorted((c["kind"], c["name"], c["change"]) for c in data["changes"])
    assert [d["type"] for d in data["dangers"]] == page.eval_on_selector_all(
        "#signals li.signal", "els => els.map(li => li.dataset.type)"
    )
    # the resource link opens the file at its line, served read-only
    href = page.locator("#source-link").get_attribute("href") or ""
    assert href.startswith("/source/") and "#L" in href
    page.click("#source-link")
    page.wait_for_selector("table.src")
    line = href.rsplit("#L", 1)[1]
    assert page.locator(f"tr#L{line}").count() == 1
    keep_screenshot(page, "serve-source")
    guard.assert_offline()


def test_pages_reload_when_a_file_changes(served: tuple[GitRepo, str], open_page: Opener) -> None:
    repo, url = served
    page, guard = open_page(f"{url}/review", allowed=_same_origin(url))
    assert page.locator('#tree a.res[data-name="linkding"]').count() == 0
    version = json.loads(_request(url, "GET", "/api/version")[1])["version"]
    repo.edit(LINKDING_HR, "  interval: 1h", "  interval: 2h")
    page.wait_for_selector('#tree a.res[data-name="linkding"]', timeout=30_000)
    assert json.loads(_request(url, "GET", "/api/version")[1])["version"] > version
    keep_screenshot(page, "serve-review")
    guard.assert_offline()


def test_read_only(served: tuple[GitRepo, str]) -> None:
    repo, url = served
    before = _snapshot(repo.path)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/", "/review", "/report/index.html", "/api/version", f"/source/{ECHO_HR}"):
            status, _body, headers = _request(url, method, path, b"x")
            assert status == 405 and headers["allow"] == "GET, HEAD", (method, path)
    for path in ("/source/../../../../etc/passwd", "/source/%2e%2e/%2e%2e/etc/hostname", "/source/.git/config",
                 "/source/no/such/file.yaml"):  # fmt: skip
        assert _request(url, "GET", path)[0] == 404, path
    assert _request(url, "HEAD", "/review")[0] == 200
    for path in ("/review", "/report/index.html", "/report/apps.html", f"/source/{ECHO_HR}"):
        assert _request(url, "GET", path)[0] == 200
    assert _snapshot(repo.path) == before
    assert repo.git("status", "--porcelain") == f"M {ECHO_HR}"


def test_a_part_that_fails_does_not_take_the_other_down(tmp_path: Path) -> None:
    """Outside Git there is no review to make: the report is still served, the review says why."""
    from homeops.web.server import ReviewServer
    from support import EXAMPLE

    copy = tmp_path / "not-a-repo"
    shutil.copytree(EXAMPLE, copy)
    server = ReviewServer(copy)
    assert server.refresh() is True
    assert server.answer("/report/index.html")[0] == 200
    status, body, _type, _headers = server.answer("/review")
    assert status == 500 and b"not inside a Git repository" in body
    assert server.refresh() is False  # nothing changed: nothing rendered again
    (copy / "cluster-apps/chongus/default/ntfy/app/helmrelease.yaml").write_text("kind: [broken\n")
    assert server.refresh() is True
    assert server.current.version == 2


def test_the_served_review_shows_no_secret_value_and_no_file_outside(tmp_path: Path) -> None:
    """The served review redacts a rotated Secret as ``diff`` does, and the source page does not
    follow a link out of the repository."""
    from homeops.web.server import ReviewServer

    (tmp_path / "outside.txt").write_text("OUTSIDE-MARKER-serve\n")
    repo = make_repo(tmp_path / "home-ops")
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: echo-token\nstringData:\n  token: {}\n"
    app = "cluster-apps/chongus/network/echo-server/app"
    repo.write(f"{app}/secret.yaml", secret.format("Served-first-8Rk2"))
    repo.edit(
        f"{app}/kustomization.yaml", "  - ./httproute.yaml\n", "  - ./httproute.yaml\n  - ./secret.yaml\n"
    )
    repo.commit("a secret")
    repo.write(f"{app}/secret.yaml", secret.format("Served-second-3Vn7"))
    (repo.path / f"{app}/leak.yaml").symlink_to(tmp_path / "outside.txt")
    server = ReviewServer(repo.path)
    server.refresh()
    status, body, _type, _headers = server.answer("/review")
    assert status == 200 and b"echo-token" in body and b"redacted" in body
    assert b"Served-" not in body
    status, body, _type, _headers = server.answer(f"/source/{app}/leak.yaml")
    assert status == 404 and b"OUTSIDE-MARKER" not in body

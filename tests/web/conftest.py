"""Browser fixtures: Debian's Chromium driven by Playwright, every request outside the page refused.

Chromium is the system's (``apt-get install chromium``; never ``playwright install``). Where it or
Playwright is absent the tests skip with the reason — except in CI (``CI`` set), where they fail:
the browser tests must run there. A failing test leaves a screenshot of its page in the artifacts
directory (``HOMEOPS_TEST_ARTIFACTS``, default ``test-artifacts/`` at the project root).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Guard


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _unavailable(f"{CHROMIUM} is absent (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def open_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., tuple[Any, Guard]]]:
    """``open_page(url, allowed=..., dark=False)``: a fresh page with every request guarded."""
    opened: list[tuple[Any, Any, Guard]] = []

    def opener(
        url: str,
        *,
        allowed: Callable[[str], bool] | None = None,
        dark: bool = False,
        width: int = 1440,
        height: int = 900,
    ) -> tuple[Any, Guard]:
        if allowed is None:
            local = url.split("#", 1)[0]
            folder = local.rsplit("/", 1)[0] + "/"
            allowed = lambda u: u.startswith(folder) or u.startswith(("data:", "about:"))  # noqa: E731
        guard = Guard(allowed)
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme="dark" if dark else "light",
            device_scale_factor=1,
        )  # fmt: skip
        context.route("**/*", guard.route)
        page = context.new_page()
        page.on("request", guard.seen)
        page.on("pageerror", lambda exc: guard.errors.append(str(exc)))
        page.on("console", lambda msg: guard.errors.append(msg.text) if msg.type == "error" else None)
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]", timeout=10_000)
        opened.append((context, page, guard))
        return page, guard

    yield opener
    failed = getattr(request.node, "report_call", None)
    for i, (context, page, _guard) in enumerate(opened):
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in request.node.name)
            with contextlib.suppress(Exception):  # the page may be gone with the failure
                page.screenshot(path=str(ARTIFACTS / f"{name}-{i}.png"), full_page=True)
        context.close()

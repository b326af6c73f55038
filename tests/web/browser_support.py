"""What the browser tests share (a module of its own: ``conftest`` names collide across test
directories): where Chromium is, the request guard, and screenshots for the README."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import ROOT

CHROMIUM = os.environ.get("HOMEOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = Path(os.environ.get("HOMEOPS_TEST_ARTIFACTS", ROOT / "test-artifacts"))
SCREENSHOTS = ROOT / "docs" / "screenshots"


class Guard:
    """The requests a page made, and those refused because they would have left it."""

    def __init__(self, allowed: Callable[[str], bool]) -> None:
        self.allowed = allowed
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []

    def route(self, route: Any) -> None:
        url = route.request.url
        if self.allowed(url):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def seen(self, request: Any) -> None:
        self.requests.append(request.url)
        if not self.allowed(request.url) and request.url not in self.refused:
            self.refused.append(request.url)

    def assert_offline(self) -> None:
        assert self.refused == [], f"the page tried to reach the network: {self.refused}"
        assert self.errors == [], f"script errors: {self.errors}"


def keep_screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """A screenshot for the README: always into the artifacts, and into docs/screenshots when
    ``HOMEOPS_UPDATE_SCREENSHOTS=1`` (then committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("HOMEOPS_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / f"{name}.png")
    return path

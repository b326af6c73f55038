"""The review page in a real browser, opened from disk: it shows exactly what ``diff --format json``
reports (changed resources, signals, images, blast radius, findings), the tree and the diff pane
work by mouse and keyboard, and nothing leaves the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_support import Guard, keep_screenshot
from web_support import ECHO, GitRepo, diff_html, diff_json, make_repo, two_commit_change

from support import run_cli

Opener = Callable[..., tuple[Any, Guard]]


@pytest.fixture(scope="module")
def change(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, Any], Path]:
    """The two-commit change, its JSON and its review page (written next to the repository)."""
    work = tmp_path_factory.mktemp("review")
    repo = two_commit_change(work / "home-ops")
    data = diff_json(repo, "--findings")
    page = diff_html(repo, work / "review.html")
    return repo, data, page


def _label(o: dict[str, Any]) -> str:
    return "/".join(p for p in (o["cluster"], o["kind"], o["namespace"], o["name"]) if p)


def test_page_shows_what_the_json_reports(
    change: tuple[GitRepo, dict[str, Any], Path], open_page: Opener
) -> None:
    _repo, data, path = change
    page, guard = open_page(path.as_uri())
    leaves = page.eval_on_selector_all(
        "#tree a.res",
        "els => els.map(a => [a.dataset.change, a.dataset.cluster, a.dataset.kind, a.dataset.namespace, a.dataset.name, a.dataset.ks])",
    )
    assert sorted(map(tuple, leaves)) == sorted(
        (c["change"], c["cluster"], c["kind"], c["namespace"], c["name"], c["ks"]) for c in data["changes"]
    )
    assert len(leaves) == len(data["changes"]) >= 10
    signals = page.eval_on_selector_all(
        "#signals li.signal",
        "els => els.map(li => [li.dataset.type, li.dataset.severity, li.dataset.object])",
    )
    assert [tuple(s) for s in signals] == [(d["type"], d["severity"], _label(d)) for d in data["dangers"]]
    assert {d["type"] for d in data["dangers"]} >= {"host-network", "rbac-wildcard", "scale-to-zero"}
    images = page.eval_on_selector_all(
        "#images tr.image", "els => els.map(tr => [tr.dataset.image, tr.dataset.from, tr.dataset.to])"
    )
    assert [tuple(i) for i in images] == [
        (i["image"], i["from"] or "", i["to"] or "") for i in data["images"]
    ]
    assert len(images) == 2
    blast = page.eval_on_selector_all(
        "#blast tr.blast", "els => els.map(tr => [tr.dataset.file, Number(tr.dataset.count)])"
    )
    assert [tuple(b) for b in blast] == [(b["file"], b["count"]) for b in data["blast_radius"]["files"]]
    assert ("cluster-apps/components/flux/alerts/alert.yaml", 7) in [tuple(b) for b in blast]
    findings = page.eval_on_selector_all(
        "#findings li.finding", "els => els.map(li => [li.dataset.state, li.dataset.rule])"
    )
    expected = [["introduced", f["rule"]] for f in data["findings"]["introduced"]]
    expected += [["fixed", f["rule"]] for f in data["findings"]["fixed"]]
    assert findings == expected and ["introduced", "HO009"] in findings
    counts = page.eval_on_selector(
        "#counts", "el => [el.dataset.added, el.dataset.removed, el.dataset.modified].map(Number)"
    )
    assert counts == [
        sum(c["change"] == k for c in data["changes"]) for k in ("added", "removed", "modified")
    ]
    assert page.locator("#render-errors li.render-error").count() == len(data["render_errors"])
    guard.assert_offline()
    assert all(url.startswith("file://") for url in guard.requests)
    keep_screenshot(page, "review")


def _diff_lines(page: Any) -> list[tuple[str, str]]:
    return [
        tuple(r)
        for r in page.eval_on_selector_all(
            "#diff-table tr.add, #diff-table tr.del",
            "els => els.map(tr => [tr.classList.contains('add') ? '+' : '-', tr.querySelector('td.tx').textContent])",
        )
    ]


def _json_lines(diff: str) -> list[tuple[str, str]]:
    return [
        (line[0], line[1:])
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_clicking_the_tree_shows_the_diff(
    change: tuple[GitRepo, dict[str, Any], Path], open_page: Opener
) -> None:
    repo, data, path = change
    page, guard = open_page(path.as_uri())
    for item in data["changes"]:
        selector = (
            f'#tree a.res[data-cluster="{item["cluster"]}"][data-kind="{item["kind"]}"]'
            f'[data-namespace="{item["namespace"]}"][data-name="{item["name"]}"]'
        )
        page.click(selector)
        head = page.locator("#diff-head h2").inner_text()
        assert item["kind"] in head and item["name"] in head
        assert page.locator(selector).get_attribute("class") == "res selected"
        # every added and removed line of the JSON's diff, in order, and no other
        assert _diff_lines(page) == _json_lines(item["diff"]), item["name"]
        link = page.locator("#source-link")
        if item["source"]:
            file = item["source"].rsplit(":", 1)[0]
            href = link.get_attribute("href") or ""
            assert (path.parent / href.split("#")[0]).resolve() == (repo.path / file).resolve()
    # the HelmRelease's tag change is highlighted word by word, the rest of the line is not
    page.click('#tree a.res[data-kind="HelmRelease"][data-name="echo-server"]')
    removed = page.locator("#diff-table tr.del span.wd").all_inner_texts()
    added = page.locator("#diff-table tr.add span.wa").all_inner_texts()
    assert any("sha256" in t for t in removed) and "8" in "".join(added)
    assert page.locator("#diff-head .object-signals li.signal").count() == sum(
        1 for d in data["dangers"] if (d["kind"], d["name"]) == ("HelmRelease", "echo-server")
    )
    guard.assert_offline()
    keep_screenshot(page, "review-diff")


def test_unchanged_context_is_folded_and_unfolds(
    change: tuple[GitRepo, dict[str, Any], Path], open_page: Opener
) -> None:
    _repo, _data, path = change
    page, guard = open_page(path.as_uri())
    page.click('#tree a.res[data-kind="HelmRelease"][data-name="echo-server"]')
    folds = page.locator("#diff-table tr.fold")
    assert folds.count() >= 1
    before = page.locator("#diff-table tr").count()
    hidden = int(folds.first.inner_text().split()[1])
    folds.first.click()
    assert page.locator("#diff-table tr").count() == before - 1 + hidden
    guard.assert_offline()


def test_keyboard_navigation_and_filter(
    change: tuple[GitRepo, dict[str, Any], Path], open_page: Opener
) -> None:
    _repo, _data, path = change
    page, guard = open_page(path.as_uri())
    order = page.eval_on_selector_all("#tree a.res", "els => els.map(a => a.dataset.id)")
    selected = lambda: page.eval_on_selector("#tree a.res.selected", "a => a.dataset.id")  # noqa: E731
    assert selected() == order[0]  # the first resource opens with the page
    for expected in order[1:4]:
        page.keyboard.press("j")
        assert selected() == expected
    page.keyboard.press("k")
    assert selected() == order[2]
    assert page.locator("#diff-head").get_attribute("data-id") == order[2]
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "filter"
    page.keyboard.type("clusterrole")
    visible = page.eval_on_selector_all(
        "#tree li.leaf:not(.hidden) a.res", "els => els.map(a => a.dataset.name)"
    )
    assert visible == ["echo-server-reader"]
    assert "1 of" in page.inner_text("#filter-count")
    page.keyboard.press("Enter")
    assert page.eval_on_selector("#tree a.res.selected", "a => a.dataset.name") == "echo-server-reader"
    page.keyboard.press("j")  # the filter is left: j moves within what is shown
    assert page.eval_on_selector("#tree a.res.selected", "a => a.dataset.name") == "echo-server-reader"
    page.fill("#filter", "")
    page.keyboard.press("Escape")
    assert len(page.eval_on_selector_all("#tree li.leaf:not(.hidden)", "els => els")) == len(order)
    guard.assert_offline()


def test_deep_link_and_themes(change: tuple[GitRepo, dict[str, Any], Path], open_page: Opener) -> None:
    _repo, data, path = change
    index = next(i for i, c in enumerate(data["changes"]) if c["kind"] == "ClusterRole")
    page, guard = open_page(f"{path.as_uri()}#c={index}", dark=True)
    assert page.locator("#diff-head h2").inner_text() == "ClusterRole echo-server-reader"
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    keep_screenshot(page, "review-dark")
    page.click("#theme-toggle")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.keyboard.press("t")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    guard.assert_offline()


def test_secret_values_never_reach_the_page(tmp_path: Path) -> None:
    """The page is a shared artifact: Secret values are redacted as in every diff format, and
    ``--show-secrets`` is refused for it."""
    repo = make_repo(tmp_path / "home-ops")
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: echo-token\nstringData:\n  token: {}\n"
    repo.write(f"{ECHO}/secret.yaml", secret.format("hunter2-first-value"))
    repo.edit(
        f"{ECHO}/kustomization.yaml", "  - ./httproute.yaml\n", "  - ./httproute.yaml\n  - ./secret.yaml\n"
    )
    repo.commit("a secret")
    repo.write(f"{ECHO}/secret.yaml", secret.format("hunter2-second-value"))
    repo.commit("rotate it")
    page = tmp_path / "review.html"
    proc = run_cli("diff", "--path", str(repo.path), "--base", "HEAD~2", "--format", "html", "-o", str(page))
    assert proc.returncode == 0, proc.stderr
    text = page.read_text(encoding="utf-8")
    assert "echo-token" in text and "hunter2" not in text and "redacted" in text
    refused = run_cli("diff", "--path", str(repo.path), "--format", "html", "--show-secrets", "-o", str(page))
    assert refused.returncode == 2 and "--show-secrets cannot be used with --format html" in refused.stderr


def test_registry_verdicts_agree_with_the_json(
    tmp_path: Path, open_page: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--verify-images`` against a real registry: the page shows each image's verdict as the JSON
    reports it (verified, missing)."""
    import registry_support as testing
    from homeops.registry.oci.client import RegistryClient
    from homeops.registry.oci.credentials import CredentialStore

    if testing.registry_binary() is None:
        pytest.skip("docker-registry binary absent: apt-get install docker-registry (CNCF distribution)")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    with testing.LocalRegistry(tmp_path / "registry") as registry:
        client = RegistryClient(credentials=CredentialStore([]))
        testing.push_image(client, f"{registry.host}/jmalloc/echo-server", "0.3.8")
        repo = make_repo(tmp_path / "home-ops")
        hr = f"{ECHO}/helmrelease.yaml"
        repo.edit(
            hr, "repository: ghcr.io/jmalloc/echo-server", f"repository: {registry.host}/jmalloc/echo-server"
        )
        repo.edit(
            hr,
            "tag: v0.3.7@sha256:b9d790bbffe59120141361a5d49105115ebd54f9e10c217bd6ca22dd7d9d361d",
            "tag: 0.3.8",
        )
        repo.edit(
            "cluster-apps/chongus/default/linkding/app/helmrelease.yaml",
            "repository: ghcr.io/sissbruecker/linkding",
            f"repository: {registry.host}/sissbruecker/linkding",
        )
        repo.commit("images from the local registry")
        repo.commit("nothing more")  # the helpers compare HEAD~2..HEAD
        data = diff_json(repo, "--verify-images")
        page_path = diff_html(repo, tmp_path / "review.html", "--verify-images")
    want = {(i["image"], i["to"] or ""): i["verify"]["status"] for i in data["images"] if i.get("verify")}
    assert sorted(want.values()) == ["missing", "verified"]
    page, guard = open_page(page_path.as_uri())
    shown = page.eval_on_selector_all(
        "#images tr.image[data-status]:not([data-status=''])",
        "els => els.map(tr => [tr.dataset.image, tr.dataset.to, tr.dataset.status])",
    )
    assert {(image, to): status for image, to, status in shown} == want
    guard.assert_offline()

"""``homeops mcp`` as an assistant meets it: the SDK's own client starts the server over stdio and
every tool's answer is compared with the CLI's JSON output on the same repository."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from homeops.mcp_server.tools import READ_TOOLS
from homeops.mcp_server.writes import WRITE_TOOLS
from layouts import other_layout
from support import EXAMPLE, run_cli

WHOAMI = (
    "ghcr.io/traefik/whoami:v1.10.4@sha256:1699d99cb4b9acc17f74ca670b3d8d0b7ba27c948b3445f0593b58ebece92f04"
)
GIT = ("git", "-c", "user.email=test@example.net", "-c", "user.name=test")


def git_copy(target: Path) -> Path:
    """The example repository as a Git repository of its own, everything committed."""
    shutil.copytree(EXAMPLE, target)
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "example")):
        subprocess.run([*GIT, "-C", str(target), *args], check=True)
    return target


def server_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(home / "cache"), "DOCKER_CONFIG": str(home / "docker")}
    env.pop("HOMEOPS_OFFLINE", None)
    return env


@asynccontextmanager
async def connect(root: Path, *flags: str, env: dict[str, str] | None = None) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "homeops.cli.main", "mcp", "--path", str(root), *flags],
        env=env or dict(os.environ),
    )
    async with Client(params, read_timeout_seconds=120) as client:
        yield client


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """``anyio.run`` in a thread of its own: a test of another package may hold an event loop in this
    one (Playwright's sync API keeps its loop running for the whole session in tests/web)."""
    failures: list[BaseException] = []

    def target() -> None:
        try:
            anyio.run(scenario)
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def cli_json(*args: str) -> Any:
    proc = run_cli(*args)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


async def call(client: Client, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(tool, args or {})
    assert not result.is_error, f"{tool}: {result.content}"
    data = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert data == result.structured_content
    return data


async def error(client: Client, tool: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(tool, args)
    assert result.is_error, f"{tool} should have failed: {result.content}"
    assert len(result.content) == 1
    text = result.content[0].text  # type: ignore[union-attr]
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Git copy of the example with one change in the working tree (linkding's volume 2Gi -> 3Gi)."""
    root = git_copy(tmp_path_factory.mktemp("mcp") / "home-ops")
    ks = root / "cluster-apps/chongus/default/linkding/ks.yaml"
    ks.write_text(
        ks.read_text(encoding="utf-8").replace("VOLSYNC_CAPACITY: 2Gi", "VOLSYNC_CAPACITY: 3Gi"), "utf-8"
    )
    return root


def test_read_tools_answer_what_the_cli_prints(repo: Path) -> None:
    path = ("--path", str(repo))

    async def scenario() -> None:
        async with connect(repo) as client:
            tools = (await client.list_tools()).tools
            assert [t.name for t in tools] == [spec.name for spec in READ_TOOLS]
            for tool in tools:
                assert tool.description and tool.input_schema["type"] == "object"
                assert tool.annotations is not None and tool.annotations.read_only_hint is True

            assert (await call(client, "list_clusters"))["items"] == cli_json(
                "get", "clusters", *path, "-o", "json"
            )["items"]
            ks = await call(client, "list_kustomizations", {"page_size": 200})
            cli_ks = cli_json("get", "ks", "-A", *path, "-o", "json")["items"]
            assert [{k: v for k, v in row.items() if k != "reason"} for row in ks["items"]] == cli_ks
            assert ks["total"] == len(cli_ks) and ks["pages"] == 1
            hr = await call(client, "list_helmreleases", {"page_size": 200})
            cli_hr = cli_json("get", "hr", "-A", *path, "-o", "json")["items"]
            assert [
                {k: v for k, v in h.items() if k not in ("status", "reason")} for h in hr["items"]
            ] == cli_hr
            assert {h["status"] for h in hr["items"]} == {"source found"}

            build = cli_json(
                "build", "ks", "grafana", "--cluster", "chongus", *path, "--redact", "-o", "json"
            )["items"]
            built = await call(client, "build_kustomization", {"name": "grafana"})
            assert built["items"] == build and built["kustomization"]["status"] == "rendered"
            second = await call(client, "build_kustomization", {"name": "grafana", "page": 2, "page_size": 1})
            assert second["items"] == build[1:2] and second["pages"] == len(build) == second["total"]

            secret = await call(client, "show_object", {"kind": "Secret", "name": "cluster-secrets"})
            redacted = cli_json(
                "build", "ks", "cluster-vars", "--cluster", "bitty", *path, "--redact", "-o", "json"
            )
            assert secret["items"] == [
                {"cluster": "bitty", **i} for i in redacted["items"] if i["object"]["kind"] == "Secret"
            ]
            values = secret["items"][0]["object"]["stringData"]
            assert values and set(values.values()) == {
                "<redacted>"
            }  # no ciphertext or value reaches the assistant
            vars_build = await call(client, "build_kustomization", {"name": "cluster-vars", "page_size": 200})
            assert vars_build["items"] == redacted["items"]

            ntfy = await call(client, "show_object", {"kind": "helmrelease", "name": "ntfy"})
            expected = next(i for i in cli_json("build", "ks", "ntfy", "--cluster", "chongus", *path, "-o", "json")[
                "items"] if i["object"]["kind"] == "HelmRelease")  # fmt: skip
            assert ntfy["items"] == [{"cluster": "chongus", **expected}]
            assert ntfy["items"][0]["source"].startswith(
                "cluster-apps/chongus/default/ntfy/app/helmrelease.yaml:"
            )

            selected = await call(client, "check", {"rules": ["HO009", "HO010"], "page_size": 200})
            cli_check = cli_json("check", *path, "--select", "HO009,HO010", "--format", "json")
            assert (
                selected["findings"] == cli_check["findings"] and selected["summary"] == cli_check["summary"]
            )
            everything = cli_json("check", *path, "--format", "json")["findings"]
            where = "cluster-cd/apps/bitty/media/jellyseerr"
            scoped = await call(client, "check", {"path": where, "page_size": 200})
            assert scoped["findings"] == [f for f in everything if f["file"].startswith(where + "/")]
            assert scoped["findings"]

            assert await call(client, "explain_rule", {"rule": "ho009"}) == cli_json(
                "rules", "HO009", "-o", "json"
            )

            cli_diff = cli_json("diff", *path, "--format", "json")
            summary = await call(client, "diff", {"page_size": 200})
            assert summary["changes"] == [
                {k: v for k, v in c.items() if k != "diff"} for c in cli_diff["changes"]
            ]
            assert summary["images"] == cli_diff["images"]
            changed = cli_diff["changes"][0]
            one = await call(client, "diff", {"kind": changed["kind"], "name": changed["name"]})
            assert one["diff"] == changed["diff"] and "3Gi" in one["diff"] and one["diff_pages"] == 1

            images = await call(client, "list_images", {"page_size": 200})
            assert images["items"] == cli_json("images", "list", *path, "-o", "json")["items"]
            unpinned = await call(client, "list_images", {"unpinned": True})
            assert unpinned["items"] and not any(i["pinned"] for i in unpinned["items"])

            profile = await call(client, "show_profile")
            assert profile["source"] == ".homeops.yaml" and profile["inferred"] is False
            assert profile["profile"]["domain"] == "home.example.net"
            assert profile["profile"]["deprecated_clusters"] == ["bitty"]

            docs = await call(client, "docs_status")
            cli_docs = cli_json("docs", "--check", *path, "-o", "json")
            assert docs == {**{k: v for k, v in cli_docs.items() if k != "diff"}, "diff": cli_docs["diff"],
                            "diff_page": 1, "diff_pages": 1}  # fmt: skip
            assert docs["stale"] == ["backups"]  # the working tree's change shows in the document

    run(scenario)


def test_diff_of_two_revisions(tmp_path: Path) -> None:
    """diff with base and head compares two commits (the working tree left out), as diff --base --head."""
    root = git_copy(tmp_path / "home-ops")
    ks = root / "cluster-apps/chongus/default/linkding/ks.yaml"
    ks.write_text(
        ks.read_text(encoding="utf-8").replace("VOLSYNC_CAPACITY: 2Gi", "VOLSYNC_CAPACITY: 5Gi"), "utf-8"
    )
    subprocess.run([*GIT, "-C", str(root), "commit", "-qam", "grow linkding"], check=True)
    ks.write_text(
        ks.read_text(encoding="utf-8").replace("5Gi", "9Gi"), "utf-8"
    )  # not committed: not compared
    cli = cli_json("diff", "--base", "HEAD~1", "--head", "HEAD", "--path", str(root), "--format", "json")
    assert cli["changes"]

    async def scenario() -> None:
        async with connect(root) as client:
            summary = await call(client, "diff", {"base": "HEAD~1", "head": "HEAD", "page_size": 200})
            assert summary["changes"] == [{k: v for k, v in c.items() if k != "diff"} for c in cli["changes"]]
            assert (summary["base"], summary["head"]) == (cli["base"], cli["head"])
            changed = cli["changes"][0]
            one = await call(client, "diff", {"base": "HEAD~1", "head": "HEAD", "kind": changed["kind"],
                                              "name": changed["name"], "namespace": changed["namespace"]})  # fmt: skip
            assert one["diff"] == changed["diff"] and "5Gi" in one["diff"] and "9Gi" not in one["diff"]

    run(scenario)


def test_build_helmrelease_offline_error_is_the_cli_line(repo: Path, tmp_path: Path) -> None:
    env = server_env(tmp_path)
    cli = subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", "build", "hr", "ntfy", "--cluster", "chongus", "--enable-helm",
         "--offline", "--path", str(repo)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert cli.returncode == 1 and cli.stderr.startswith("homeops: error: ")

    async def scenario() -> None:
        async with connect(repo, "--offline", env=env) as client:
            text = await error(client, "build_helmrelease", {"name": "ntfy"})
            assert "homeops: error: " + text == cli.stderr.strip()

    run(scenario)


def chart_repository(root: Path, url: str) -> Path:
    """One cluster whose only app is a HelmRelease of a chart in a local registry."""
    files = {
        "clusters/lab/flux/apps.yaml": """\
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: apps, namespace: flux-system}
            spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
            """,
        "apps/source.yaml": f"""\
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata: {{name: demo, namespace: media}}
            spec:
              interval: 1h
              layerSelector: {{mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}}
              ref: {{tag: 1.2.0}}
              url: {url}
            """,
        "apps/release.yaml": """\
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: demo, namespace: media}
            spec:
              interval: 1h
              chartRef: {kind: OCIRepository, name: demo}
              values: {replicaCount: 2}
            """,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_build_helmrelease_renders_a_chart_from_a_registry(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helm"))
    from helm_support import push_all, require_registry

    import registry_support

    require_registry()
    with registry_support.LocalRegistry(tmp_path / "registry") as registry:
        pushed = push_all(registry, ("1.2.0",))
        root = chart_repository(tmp_path / "repo", pushed.url)
        env = server_env(tmp_path / "home")
        cli = subprocess.run(
            [sys.executable, "-m", "homeops.cli.main", "build", "hr", "demo", "--enable-helm", "--redact", "-o",
             "json", "--path", str(root)],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stderr
        expected = json.loads(cli.stdout)

        async def scenario() -> None:
            async with connect(root, env=env) as client:
                built = await call(client, "build_helmrelease", {"name": "demo", "page_size": 200})
                assert built["release"] == expected["release"] and built["items"] == expected["items"]
                assert built["findings"] == []
                deployment = next(o for o in built["items"] if o["kind"] == "Deployment")
                assert deployment["spec"]["replicas"] == 2

        run(scenario)


def test_resources_and_prompts(repo: Path) -> None:
    async def scenario() -> None:
        async with connect(repo) as client:
            resources = (await client.list_resources()).resources
            uris = [str(r.uri) for r in resources]
            assert uris[0] == "homeops://context" and "homeops://context/anti-patterns" in uris
            document = (EXAMPLE / "CLAUDE.md").read_text(encoding="utf-8")
            for name in ("clusters", "apps", "routes", "procedures"):
                text = (await client.read_resource(f"homeops://context/{name}")).contents[0].text  # type: ignore[union-attr]
                assert f"<!-- homeops:begin {name} -->\n{text}<!-- homeops:end {name} -->" in document
            whole = (await client.read_resource("homeops://context")).contents[0].text  # type: ignore[union-attr]
            assert whole.startswith("## Clusters") and "## Procedures" in whole

            prompts = (await client.list_prompts()).prompts
            assert [p.name for p in prompts] == ["add_app", "migrate_app"]
            add = await client.get_prompt(
                "add_app", {"namespace": "media", "app": "whoami", "image": WHOAMI, "port": "80"}
            )
            text = add.messages[0].content.text  # type: ignore[union-attr]
            assert (
                f"homeops new app media/whoami --image {WHOAMI} --port 80 --cluster chongus --dry-run" in text
            )
            assert "`new_app` with" in text and "homeops mcp --allow-write" in text  # read-only server
            migrate = await client.get_prompt(
                "migrate_app", {"app": "media/tautulli", "from": "bitty", "to": "chongus"}
            )
            text = migrate.messages[0].content.text  # type: ignore[union-attr]
            assert "homeops migrate media/tautulli --from bitty --to chongus" in text
            assert "remove_source" in text

    run(scenario)


def test_malformed_calls_are_tool_errors_and_the_server_keeps_serving(repo: Path) -> None:
    async def scenario() -> None:
        async with connect(repo) as client:
            cases = [
                ("build_kustomization", {}, "invalid arguments for build_kustomization: 'name' is a required property"),
                ("check", {"rules": "HO009"}, "invalid arguments for check: rules: 'HO009' is not of type 'array'"),
                ("list_images", {"page": 0}, "invalid arguments for list_images: page: 0 is less than the minimum"),
                ("list_clusters", {"extra": 1}, "invalid arguments for list_clusters: Additional properties"),
                ("build_kustomization", {"name": "nope"}, "no Flux Kustomization nope in any cluster"),
                ("show_object", {"kind": "Pod", "name": "x"}, "no Pod named 'x' in the rendered clusters"),
                ("explain_rule", {"rule": "HO999"}, "unknown rule id 'HO999'"),
                ("list_helmreleases", {"page": 9}, "page 9 does not exist"),
                ("list_kustomizations", {"cluster": "nowhere"}, "nowhere"),
                ("no_such_tool", {}, "unknown tool 'no_such_tool' (see tools/list)"),
                ("new_app", {"namespace": "default", "app": "x", "image": WHOAMI, "port": 80},
                 "unknown tool 'new_app' (the write tools need 'homeops mcp --allow-write')"),
            ]  # fmt: skip
            for tool, args, message in cases:
                text = await error(client, tool, args)
                assert message in text, text
            assert (await call(client, "list_clusters"))["items"]  # still serving

    run(scenario)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def test_write_tools_preview_then_apply_only_with_a_current_token(tmp_path: Path) -> None:
    root = git_copy(tmp_path / "home-ops")
    whoami = {"namespace": "default", "app": "whoami", "image": WHOAMI, "port": 80, "cluster": "chongus"}
    cli_preview = run_cli(
        "new", "app", "default/whoami", "--image", WHOAMI, "--port", "80", "--cluster", "chongus", "--dry-run",
        "--path", str(root),
    )  # fmt: skip
    assert cli_preview.returncode == 0, cli_preview.stderr

    async def scenario() -> None:
        async with connect(root, "--allow-write") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert list(tools) == [s.name for s in READ_TOOLS + WRITE_TOOLS]
            for name in ("new_app", "migrate", "fix", "pin"):
                annotations = tools[name].annotations
                assert (
                    annotations is not None
                    and annotations.destructive_hint
                    and not annotations.read_only_hint
                )
                assert "apply_token" in tools[name].input_schema["properties"]

            before = snapshot(root)
            preview = await call(client, "new_app", whoami)
            assert preview["applied"] is False and preview["diff"] == cli_preview.stdout
            assert {f["path"] for f in preview["files"]} >= {"cluster-apps/chongus/default/whoami/ks.yaml"}
            assert snapshot(root) == before  # a preview writes nothing

            refused = await error(client, "new_app", {**whoami, "apply_token": "0" * 40})
            assert refused.startswith(
                "stale token: the repository or the arguments changed since the preview"
            )
            other = await error(client, "new_app", {**whoami, "port": 8080, "apply_token": preview["token"]})
            assert other.startswith("stale token")  # the token is bound to the arguments it previewed
            assert snapshot(root) == before

            # another change lands in between: the earlier preview is stale and nothing is written
            echo = {**whoami, "app": "echo"}
            echo_preview = await call(client, "new_app", echo)
            applied = await call(client, "new_app", {**echo, "apply_token": echo_preview["token"]})
            assert (
                applied["applied"] is True
                and "cluster-apps/chongus/default/echo/ks.yaml" in applied["written"]
            )
            after_echo = snapshot(root)
            stale = await error(client, "new_app", {**whoami, "apply_token": preview["token"]})
            assert stale.startswith("stale token")
            assert snapshot(root) == after_echo
            reused = await error(client, "new_app", {**echo, "apply_token": echo_preview["token"]})
            assert "stale token" in reused or "already exists" in reused  # a token applies once

            fresh = await call(client, "new_app", whoami)
            done = await call(client, "new_app", {**whoami, "apply_token": fresh["token"]})
            assert sorted(done["written"]) == sorted(f["path"] for f in fresh["files"])
            listed = await call(client, "list_helmreleases", {"cluster": "chongus", "page_size": 200})
            assert {"whoami", "echo"} <= {h["name"] for h in listed["items"]}  # the server sees the new files

            migration = await call(client, "migrate", {"namespace": "media", "app": "tautulli", "from": "bitty",
                                                       "to": "chongus"})  # fmt: skip
            cli_migration = run_cli(
                "migrate", "media/tautulli", "--from", "bitty", "--to", "chongus", "--path", str(root)
            )
            assert migration["token"] and migration["steps"]
            diff_text, _, steps_text = cli_migration.stdout.partition("\nManual steps")
            assert migration["diff"] == diff_text  # the CLI prints the diff, a blank line, then the steps
            assert all(step in steps_text for step in migration["steps"])
            moved = await call(client, "migrate", {"namespace": "media", "app": "tautulli", "from": "bitty",
                                                   "to": "chongus", "apply_token": migration["token"]})  # fmt: skip
            assert moved["applied"] is True
            assert sorted(moved["written"]) == sorted(f["path"] for f in migration["files"])
            assert (root / "cluster-apps/chongus/media/tautulli/ks.yaml").is_file()
            fix = await call(client, "fix")
            cli_fix = run_cli("check", "--diff", "--path", str(root))
            assert fix["diff"] == cli_fix.stdout
            pin = await call(client, "pin", {"cluster": "chongus"})
            assert pin["applied"] is False and pin["diff"] == ""

    run(scenario)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_streamable_http_on_loopback(repo: Path) -> None:
    refused = run_cli("mcp", "--path", str(repo), "--http", "0.0.0.0:8765")
    assert refused.returncode == 2 and "loopback only" in refused.stderr and refused.stderr.count("\n") == 1

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "homeops.cli.main", "mcp", "--path", str(repo), "--http", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)

        async def scenario() -> None:
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=120) as client:
                names = [t.name for t in (await client.list_tools()).tools]
                assert names == [spec.name for spec in READ_TOOLS]
                clusters = await call(client, "list_clusters")
                assert [c["name"] for c in clusters["items"]] == ["bitty", "chongus"]

        run(scenario)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: default\nstringData:\n  password: {}\n"
)
OLD_VALUE, NEW_VALUE = "Old-pw-Hx81bQ2mZr", "New-pw-Tq93vN5kLw"


def test_secret_values_never_reach_the_assistant(tmp_path: Path) -> None:
    """What an assistant reads may end up anywhere: the diff (summary and one change), show_object and
    build_kustomization show a rotated Secret's keys, never its values, their base64 or a prefix."""
    root = tmp_path / "repo"
    (root / "clusters/c/flux").mkdir(parents=True)
    (root / "clusters/c/flux/root.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
        "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./apps\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
    (root / "apps").mkdir()
    (root / "apps/secret.yaml").write_text(SECRET.format(OLD_VALUE))
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "base")):
        subprocess.run([*GIT, "-C", str(root), *args], check=True)
    (root / "apps/secret.yaml").write_text(SECRET.format(NEW_VALUE))
    needles = [
        v
        for value in (OLD_VALUE, NEW_VALUE)
        for v in (value, value[:8], base64.b64encode(value.encode()).decode()[:12])
    ]

    async def scenario() -> None:
        async with connect(root, env=server_env(tmp_path)) as client:
            answers = [
                await call(client, "diff"),
                await call(client, "diff", {"kind": "Secret", "name": "db"}),
                await call(client, "show_object", {"kind": "Secret", "name": "db"}),
                await call(client, "build_kustomization", {"name": "apps"}),
            ]
            text = json.dumps(answers)
            assert not [n for n in needles if n in text]
            assert "password" in answers[1]["diff"] and "redacted" in answers[1]["diff"]
            assert answers[2]["items"][0]["object"]["stringData"] == {"password": "<redacted>"}

    run(scenario)


def test_show_profile_of_a_repository_without_homeops_yaml(tmp_path: Path) -> None:
    """Without .homeops.yaml the profile in force is the one read from the repository: the tool says
    so and gives each convention with where it was read, the keys ``homeops profile infer`` prints."""
    root = other_layout(tmp_path / "home-ops")
    infer = run_cli("profile", "infer", "--path", str(root))
    assert infer.returncode == 0, infer.stderr
    keys = re.findall(r"^([a-z_]+):", infer.stdout, flags=re.M)

    async def scenario() -> None:
        async with connect(root) as client:
            profile = await call(client, "show_profile")
            assert profile["source"] == "inferred" and profile["inferred"] is True
            assert list(dict.fromkeys(c["key"] for c in profile["conventions"])) == keys
            assert profile["profile"]["backup_components"] == ["kubernetes/components/snap"]
            assert profile["profile"]["rules"]["HO026"] == "warning"
            why = next(c["why"] for c in profile["conventions"] if c["key"] == "backup_components")
            assert "kubernetes/components/snap" in why
            assert any("domain" in note for note in profile["not_inferred"])

    run(scenario)

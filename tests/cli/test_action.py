"""The GitHub Action (``action.yml``): its steps run as a runner runs them, on a pull request made from
the example repository.

Each ``run:`` step is executed with bash (``-eo pipefail``, as GitHub does) after its ``${{ }}``
expressions are evaluated from the inputs, the step outputs written to ``$GITHUB_OUTPUT`` and the
pull-request event; ``if:`` conditions are evaluated the same way. Steps that ``uses:`` another action
(setup-python, the SARIF upload) cannot run here: their inputs are checked instead. The GitHub API the
comment step talks to is a local HTTP server keeping the comments it is given.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diff"))

from diff_support import GitRepo, make_repo

from homeops.core import yamlio

ROOT = Path(__file__).resolve().parents[2]
ACTION = yamlio.load_one((ROOT / "action.yml").read_text(encoding="utf-8"))
GATUS_HR = "cluster-apps/chongus/observability/gatus/app/helmrelease.yaml"


class FakeGitHub(http.server.ThreadingHTTPServer):
    """The three issue-comment endpoints of the GitHub REST API, in memory."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.comments: dict[int, str] = {}
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeGitHub

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, code: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path))
        assert self.headers["Authorization"] == "Bearer test-token"
        page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))  # type: ignore[union-attr]
        items = [{"id": i, "body": b} for i, b in sorted(self.server.comments.items())]
        self._reply(200, items[(page - 1) * 100 : page * 100])

    def do_POST(self) -> None:
        self.server.requests.append(("POST", self.path))
        assert self.path == "/repos/owner/home-ops/issues/7/comments"
        comment_id = 1000 + len(self.server.comments)
        self.server.comments[comment_id] = self._body()["body"]
        self._reply(201, {"id": comment_id})

    def do_PATCH(self) -> None:
        self.server.requests.append(("PATCH", self.path))
        comment_id = int(self.path.rsplit("/", 1)[1])
        assert comment_id in self.server.comments
        self.server.comments[comment_id] = self._body()["body"]
        self._reply(200, {"id": comment_id})


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def pull_request(tmp_path: Path) -> GitRepo:
    """The example on ``main`` pushed to an ``origin``, and a branch changing gatus checked out."""
    repo = make_repo(tmp_path / "home-ops")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    repo.git("checkout", "-q", "-b", "bump-gatus")
    repo.edit(GATUS_HR, "tag: v5.20.0", "tag: v5.21.0")
    repo.commit("bump gatus")
    return repo


class Runner:
    """Runs the action's steps as a GitHub runner would, recording what each did."""

    def __init__(self, tmp: Path, inputs: dict[str, str], env: dict[str, str]) -> None:
        self.tmp = tmp
        self.inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
        self.inputs.update(inputs)
        self.env = env
        self.outputs: dict[str, dict[str, str]] = {}
        self.inputs = {name: self.substitute(value) for name, value in self.inputs.items()}  # defaults
        self.ran: list[str] = []
        self.skipped: list[str] = []
        self.used: list[dict[str, Any]] = []

    def value(self, expression: str) -> str:
        """One ``${{ }}`` expression: inputs, github.*, steps.*.outputs.*, ``a || b``."""
        for part in (p.strip() for p in expression.split("||")):
            if part.startswith("inputs."):
                found = self.inputs.get(part.removeprefix("inputs."), "")
            elif part.startswith("steps."):
                _, step, _, key = part.split(".")
                found = self.outputs.get(step, {}).get(key, "")
            elif part == "github.action_path":
                found = str(ROOT)
            elif part == "github.base_ref":
                found = self.env["GITHUB_BASE_REF"]
            elif part == "github.token":
                found = "test-token"
            else:
                raise AssertionError(f"expression the test runner does not know: {part}")
            if found:
                return found
        return ""

    def substitute(self, text: str) -> str:
        return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: self.value(m.group(1)), text)

    def condition(self, text: str) -> bool:
        def operand(token: str) -> str:
            token = token.strip()
            if token.startswith("'"):
                return token.strip("'")
            if token == "github.event_name":
                return self.env["GITHUB_EVENT_NAME"]
            return self.value(token)

        clauses = []
        for clause in text.split("&&"):
            left, op, right = re.split(r"\s*(==|!=)\s*", clause.strip())
            clauses.append((operand(left) == operand(right)) == (op == "=="))
        return all(clauses)

    def run(self) -> None:
        for step in ACTION["runs"]["steps"]:
            name = step["name"]
            if "if" in step and not self.condition(step["if"]):
                self.skipped.append(name)
                continue
            if "uses" in step:
                self.used.append(
                    {
                        "uses": step["uses"],
                        **{k: self.substitute(str(v)) for k, v in step.get("with", {}).items()},
                    }
                )
                continue
            output = self.tmp / f"output-{len(self.ran)}"
            output.write_text("")
            env = {**os.environ, **self.env, "GITHUB_OUTPUT": str(output)}
            env.update({k: self.substitute(str(v)) for k, v in step.get("env", {}).items()})
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
            assert proc.returncode == 0, f"step {name!r} failed: {proc.stderr}"
            self.ran.append(name)
            if "id" in step:
                pairs = (line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
                self.outputs[step["id"]] = dict(pairs)


def _runner(tmp: Path, repo: GitRepo, github: FakeGitHub, **inputs: str) -> Runner:
    event = tmp / "event.json"
    event.write_text(json.dumps({"number": 7, "pull_request": {"number": 7}}))
    (tmp / "runner").mkdir(exist_ok=True)
    env = {
        "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_BASE_REF": "main",
        "GITHUB_REPOSITORY": "owner/home-ops", "GITHUB_API_URL": github.url, "RUNNER_TEMP": str(tmp / "runner"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "CI": "true",
    }  # fmt: skip
    return Runner(tmp, {"path": str(repo.path), "install": "false", **inputs}, env)


def test_action_checks_uploads_sarif_and_keeps_one_diff_comment(
    tmp_path: Path, pull_request: GitRepo, github: FakeGitHub
) -> None:
    runner = _runner(tmp_path, pull_request, github)
    runner.run()
    assert runner.ran == ["Check", "Diff", "Comment the diff"]
    assert (
        "Install homeops" in runner.skipped and "Verdict" in runner.skipped
    )  # install: false, fail-on: never
    sarif = json.loads(Path(runner.outputs["check"]["sarif"]).read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["tool"]["driver"]["name"] == "homeops"
    upload = next(u for u in runner.used if u["uses"].startswith("github/codeql-action/upload-sarif"))
    assert upload["sarif_file"] == runner.outputs["check"]["sarif"]
    assert runner.outputs["diff"]["exit-code"] == "1"
    [(comment_id, body)] = github.comments.items()
    assert body.startswith(f"<!-- homeops-diff {pull_request.path}:* -->")
    assert "observability/gatus" in body and "v5.21.0" in body
    # a second push: the same comment is updated, not a new one
    pull_request.edit(GATUS_HR, "tag: v5.21.0", "tag: v5.22.0")
    pull_request.commit("bump again")
    _runner(tmp_path, pull_request, github).run()
    assert list(github.comments) == [comment_id] and "v5.22.0" in github.comments[comment_id]
    assert [m for m, _ in github.requests].count("POST") == 1 and (
        "PATCH",
        f"/repos/owner/home-ops/issues/comments/{comment_id}",
    ) in github.requests
    # the change reverted: the comment says so instead of showing a stale diff
    pull_request.edit(GATUS_HR, "tag: v5.22.0", "tag: v5.20.0")
    pull_request.commit("revert")
    _runner(tmp_path, pull_request, github).run()
    assert "No rendered change." in github.comments[comment_id]


def test_action_posts_nothing_when_nothing_renders_differently(
    tmp_path: Path, pull_request: GitRepo, github: FakeGitHub
) -> None:
    pull_request.write("README-extra.md", "docs only\n")
    pull_request.git("checkout", "-q", "main")
    pull_request.git("checkout", "-q", "-b", "docs")
    pull_request.write("README-extra.md", "docs only\n")
    pull_request.commit("docs")
    runner = _runner(tmp_path, pull_request, github, cluster="chongus", **{"enable-helm": "false"})
    runner.run()
    assert runner.outputs["diff"]["exit-code"] == "0"
    assert (
        github.comments == {} and ("POST", "/repos/owner/home-ops/issues/7/comments") not in github.requests
    )


def test_action_inputs_reach_homeops(tmp_path: Path, pull_request: GitRepo, github: FakeGitHub) -> None:
    """cluster, vars-file and fail-on are passed; an unknown cluster stops the job with homeops' error."""
    vars_file = tmp_path / "vars.yaml"
    vars_file.write_text('"*":\n  SECRET_DOMAIN: example.net\n')
    runner = _runner(
        tmp_path, pull_request, github, cluster="chongus", **{"vars-file": str(vars_file), "fail-on": "error"}
    )
    runner.run()
    assert runner.ran == ["Check", "Diff", "Comment the diff", "Verdict"]
    broken = _runner(tmp_path, pull_request, github, cluster="nope", diff="false")
    with pytest.raises(AssertionError, match="step 'Check' failed"):
        broken.run()

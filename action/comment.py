"""The sticky pull-request comment of the homeops GitHub Action (``action.yml``): one comment per
pull request (and per path/cluster, for matrix jobs), created when the diff first has changes, updated
in place afterwards, never posted for a pull request that changes nothing rendered.

Standard library only: it runs before anything but Python is known to be there. Reads the GitHub
Actions environment (``GITHUB_EVENT_PATH``, ``GITHUB_REPOSITORY``, ``GITHUB_API_URL``) and ``GH_TOKEN``,
``DIFF_FILE``, ``DIFF_EXIT_CODE`` (``0``: no rendered change), ``INPUT_PATH``/``INPUT_CLUSTER``.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

MARKER = "<!-- homeops-diff {key} -->"
MAX_PAGES = 20
MAX_BODY = 65000  # GitHub refuses comments over 65536 characters


def api(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/vnd.github+json")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("X-GitHub-Api-Version", "2022-11-28")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


def existing_comment(base: str, token: str, marker: str) -> int | None:
    for page in range(1, MAX_PAGES + 1):
        comments = api("GET", f"{base}/comments?per_page=100&page={page}", token)
        for comment in comments:
            if marker in str(comment.get("body") or ""):
                return int(comment["id"])
        if len(comments) < 100:
            return None
    return None


def main() -> int:
    with open(os.environ["GITHUB_EVENT_PATH"], encoding="utf-8") as handle:
        event = json.load(handle)
    number = (event.get("pull_request") or {}).get("number") or event.get("number")
    if not number:
        print("homeops: not a pull request: no comment", file=sys.stderr)
        return 0
    api_url = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    repository = os.environ["GITHUB_REPOSITORY"]
    token = os.environ["GH_TOKEN"]
    key = f"{os.environ.get('INPUT_PATH') or '.'}:{os.environ.get('INPUT_CLUSTER') or '*'}"
    marker = MARKER.format(key=key)
    with open(os.environ["DIFF_FILE"], encoding="utf-8") as handle:
        report = handle.read()
    changed = os.environ.get("DIFF_EXIT_CODE", "1") != "0"
    issue = f"{api_url}/repos/{repository}/issues/{number}"
    try:
        found = existing_comment(issue, token, marker)
        if not changed and found is None:
            print("homeops: no rendered change: no comment", file=sys.stderr)
            return 0
        body = f"{marker}\n{report}" if changed else f"{marker}\n### homeops diff\n\nNo rendered change.\n"
        if len(body) > MAX_BODY:
            body = body[:MAX_BODY] + "\n\n_Truncated: run `homeops diff` locally for the full diff._\n"
        if found is None:
            api("POST", f"{issue}/comments", token, {"body": body})
            print(f"homeops: diff commented on #{number}", file=sys.stderr)
        else:
            api("PATCH", f"{api_url}/repos/{repository}/issues/comments/{found}", token, {"body": body})
            print(f"homeops: diff comment {found} updated on #{number}", file=sys.stderr)
    except urllib.error.HTTPError as exc:
        print(
            f"::error::homeops: the GitHub API refused the comment: HTTP {exc.code} {exc.reason}",
            file=sys.stderr,
        )
        return 1
    except urllib.error.URLError as exc:
        print(f"::error::homeops: the GitHub API is unreachable: {exc.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

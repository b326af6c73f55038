"""Every read of repository content goes through the confined reader (``homeops.core.fs``).

This scans the package for raw reads (``open``, ``read_text``, ``read_bytes``, ``yaml.load``,
``os.read``) outside the reader's own entry points. The modules listed below read something else
(homeops's own cache and journal, package data, the user's credential and ``--vars-file`` files, Git's
metadata, pipes) or read a path already confined; a new raw read anywhere else fails this test: route
it through ``fs.read_text``, ``FileCache`` or a ``Boundary``, or add it here with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import homeops

PACKAGE = Path(homeops.__file__).resolve().parent
RAW = re.compile(r"\.read_text\(|\.read_bytes\(|(?<![.\w])open\(|yaml\.(?:safe_)?load\(|os\.read\(")
CONFINED = re.compile(
    r"fs\.read_text\(|files\.read_text\(|\.boundary\.read_|inside\.read_|chart\.read_text\(|"
    r"loader\.read_text|def (?:read_text|read_bytes)|super\(\)\.read_text|self\.read_text\(|self\.read_bytes\("
)
ALLOWED = {
    "core/fs.py": "the confined reader itself",
    "core/journal.py": "its own journal in the Git directory, and Git's .git file",
    "core/git/materialise.py": "Git's own metadata (.git/info/attributes) and its temporary trees",
    "core/changes.py": "Git's own metadata (info/attributes, to know whether checkouts convert files)",
    "core/snapshot.py": "Git's own metadata files",
    "core/cache.py": "homeops's own cache files",
    "core/yamlio.py": "yaml.load of a string, not a file",
    "helm/cache.py": "homeops's own chart cache",
    "helm/archive.py": "writes extracted members of an archive already in the cache",
    "helm/sdk.py": "the worker's pipe",
    "helm/sources.py": "yaml.load of a downloaded index.yaml (bytes, size-limited)",
    "helm/dependencies.py": "charts already confined (check_tree) or in the cache",
    "registry/oci/credentials.py": "the user's Docker credential file",
    "registry/oci/client.py": "writes of verified blobs",
    "rules/schema.py": "schemas shipped with homeops",
    "rules/scripts.py": "the first bytes of a file after Boundary.check",
    "author/templates/__init__.py": "templates shipped with homeops; yaml.safe_load of strings",
    "web/page.py": "assets shipped with homeops",
    "web/server.py": "a source file after resolving it inside the repository",
    "cli/common.py": "writes its own temporary file",
    "api/values.py": "the --vars-file the user names on the command line",
}


def test_no_raw_read_of_repository_content_outside_the_reader() -> None:
    offenders: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in ALLOWED:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if RAW.search(code) and not CONFINED.search(code):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == [], "raw reads outside homeops.core.fs:\n" + "\n".join(offenders)


def test_the_allow_list_names_modules_that_exist() -> None:
    assert [rel for rel in ALLOWED if not (PACKAGE / rel).is_file()] == []

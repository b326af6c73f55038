"""``homeops mcp``: the rendered repository served to an AI assistant over the Model Context Protocol.

Built on the official ``mcp`` SDK (the ``homeops[mcp]`` extra). Every tool calls :mod:`homeops.api`
and returns the JSON the matching CLI command prints, paged when long; rendered objects and diffs are
redacted (:mod:`homeops.core.redact`) before an assistant sees them. Read-only tools are always
there; the write tools (``new_app``, ``migrate``, ``fix``, ``pin``) exist only with ``--allow-write``
and work in two calls: a preview that returns the diff and a token, then the same call with that
token, which applies exactly the previewed edits or is refused when anything changed since. The
generated context sections are resources; the add-an-app and migrate-an-app procedures are prompts.
"""

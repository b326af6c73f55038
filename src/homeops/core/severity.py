"""Finding severities, lowest first: a module of its own so the CLI can name them without loading more."""

SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0

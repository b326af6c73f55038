"""Values for postBuild variables that only the live cluster has: a ``--vars-file`` read as one layer
of :class:`ClusterVars` (its lines kept), and the check that every cluster values are given for
exists (reported where the values are written)."""

from __future__ import annotations

from pathlib import Path

from homeops.core import yamlio
from homeops.core.errors import HomeopsError
from homeops.core.profile import Profile
from homeops.core.variables import ClusterVars, layer_from_mapping
from homeops.flux.cluster import discover_clusters


def load_vars_file(path: str | Path) -> ClusterVars:
    """A ``--vars-file``: YAML mapping a cluster name (or ``"*"``) to ``{NAME: value}``, as one layer."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise HomeopsError(
            f"cannot read vars file '{path}': {exc.strerror or exc}", str(path), None, "pass an existing file"
        ) from None
    data = yamlio.load_one(text, str(path))
    if data is None:
        return ClusterVars()
    return ClusterVars((layer_from_mapping(data, str(path), line_of=1),))


def check_scopes(root: Path, given: ClusterVars, profile: Profile) -> None:
    """Values given for a cluster the repository does not have would silently do nothing: an error
    naming where they are written and the clusters there are."""
    layers = ClusterVars.of(given).over(ClusterVars((profile.vars,)))
    scopes = layers.scopes()
    if scopes:
        known = sorted({c.name for c in discover_clusters(root, profile)})
        for scope, layer in scopes:
            if scope not in known:
                line = next((n for (c, _v), n in layer.lines.items() if c == scope), layer.line)
                file = layer.origin if layer.origin not in ("--var", "vars") else None
                raise HomeopsError(
                    f"values given for cluster {scope!r}, which the repository does not have",
                    file,
                    line if file else None,
                    f"known clusters: {', '.join(known) or 'none'}",
                )

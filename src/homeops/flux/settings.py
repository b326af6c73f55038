"""How a render departs from the repository's own defaults: the controller options and command-line
flags flux-local and flate users pass (``--strict-substitution``, ``--sources``, ``--kube-version``,
``--api-versions``, ``--registry-config``).

* ``strict_substitution``: kustomize-controller's ``StrictPostBuildSubstitutions`` feature gate (on by
  default since kustomize-controller v1.9): a variable without a value and without a default fails
  the Kustomization's build (``VARIABLE_UNSET``) instead of keeping its ``${NAME}`` text.
* ``source_paths``: a source (``NAME`` or ``NAMESPACE/NAME`` of a GitRepository, OCIRepository or
  Bucket) whose artifact is a directory of this checkout: Kustomizations using it are rendered from
  ``PATH`` (relative to the repository root; ``""`` is the root), as flux-local's ``--sources
  NAME=PATH`` does.
* ``kube_version`` / ``api_versions``: what Helm's ``.Capabilities`` report (``--kube-version``
  overrides the profile's ``kubernetes_version``; API versions add to those of the rendered CRDs).
* ``registry_config``: a Docker ``config.json`` read for OCI registry credentials before the
  default ones (``$REGISTRY_AUTH_FILE``, ``$DOCKER_CONFIG``, ``~/.docker/config.json``).
* ``remote``: fetch what kustomizations name by URL (``resources`` files, generator ``files``), as
  kustomize-controller does (``--remote``; kept in the cache, read from it alone when offline:
  :mod:`homeops.kustomize.remote`). Off, such a Kustomization does not render (HO101), and nothing
  reaches the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from homeops.flux.model import Ref

SOURCE_PATH_KINDS = frozenset({"GitRepository", "OCIRepository", "Bucket"})


@dataclass(frozen=True)
class RenderSettings:
    strict_substitution: bool = False
    source_paths: Mapping[str, str] = field(default_factory=dict)
    kube_version: str | None = None
    api_versions: tuple[str, ...] = ()
    registry_config: Path | None = None
    remote: bool = False

    def source_path(self, ref: Ref) -> str | None:
        """The checkout directory standing for ``ref``'s artifact (None: not mapped)."""
        if ref.kind not in SOURCE_PATH_KINDS:
            return None
        for key in (f"{ref.namespace}/{ref.name}", ref.name):
            if key in self.source_paths:
                path = self.source_paths[key].strip("/").removeprefix("./").strip("/")
                return "" if path == "." else path
        return None

    def memo_key(self) -> dict[str, object]:
        """What of these settings changes a Kustomization's render (for render reuse)."""
        return {
            "strict": self.strict_substitution,
            "sources": dict(sorted(self.source_paths.items())),
            "remote": self.remote,
        }


DEFAULT_SETTINGS = RenderSettings()

"""What profile inference gives: each convention with where it was read, and the profile they make
(:meth:`InferredProfile.text` writes it as ``.homeops.yaml`` with those places as comments)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from homeops.core import yamlemit
from homeops.core.profile import DEFAULT, Profile, apply_overrides
from homeops.kustomize.resource import Resource

TEMPLATED = re.compile(r"\$\{|\{\{|\.\.PLACEHOLDER_")
"""A value still holding a variable, a template or a placeholder: not a convention."""


@dataclass(frozen=True)
class Convention:
    """One key of the profile as the repository shows it, and where that was read."""

    key: str
    value: Any  # as .homeops.yaml writes it (lists, mappings, scalars)
    why: str


@dataclass
class InferredProfile:
    conventions: list[Convention] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be read

    def overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in self.conventions:
            if c.key == "rules":
                out["rules"] = {
                    **out.get("rules", {}),
                    **c.value,
                }  # every rule setting, none changed in place
            else:
                out[c.key] = c.value
        return out

    def apply(self, base: Profile = DEFAULT) -> Profile:
        """``base`` with the inferred conventions (keys ``base`` was given explicitly stay)."""
        inferred = apply_overrides(base, self.overrides())
        return replace(inferred, **{k: getattr(base, k) for k in base.overridden}, overridden=base.overridden)

    def text(self) -> str:
        """The profile as ``.homeops.yaml`` text, each key under a comment saying where it was read."""
        lines = [
            "# Conventions inferred from this repository by 'homeops profile infer'.",
            "# Keys not listed keep the defaults of the context document (home-ops-context.md).",
        ]
        merged = self.overrides()
        whys: dict[str, list[str]] = {}
        for c in self.conventions:
            whys.setdefault(c.key, []).append(c.why)
        for key, value in merged.items():
            lines.append("")
            lines.extend(f"# {why}" for why in whys[key])
            lines.append(yamlemit.dump_handwritten({key: value}).rstrip("\n"))
        lines.extend(["", *(f"# not inferred: {note}" for note in self.notes)] if self.notes else [])
        return "\n".join(lines) + "\n"


def group_of(res: Resource) -> str:
    """The API group of an object (empty for the core group)."""
    return res.api_version.split("/")[0] if "/" in res.api_version else ""

"""What one kustomization level has gathered: its objects and its merged transformer configuration
(kustomize's ``api/internal/accumulator`` resAccumulator), which every builtin plugin works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from homeops.core.errors import KustomizeError
from homeops.kustomize import generators
from homeops.kustomize.fieldspec import TransformerConfig
from homeops.kustomize.resource import Resource


@dataclass
class Accumulator:
    """The objects of one build level and the transformer configuration merged so far."""

    resources: list[Resource] = field(default_factory=list)
    config: TransformerConfig = field(default_factory=TransformerConfig.default)
    _index: dict[tuple[Any, ...], Resource] | None = field(default=None, repr=False)

    @staticmethod
    def _key(res: Resource) -> tuple[Any, ...]:
        cid = res.cur_id
        return (cid.gvk, cid.name, cid.effective_namespace)

    def invalidate(self) -> None:
        """Transformers may have renamed objects: rebuild the id index on next use."""
        self._index = None

    def append(self, res: Resource) -> None:
        if self._index is None:
            self._index = {self._key(r): r for r in self.resources}
        key = self._key(res)
        existing = self._index.get(key)
        if existing is not None:
            cid = res.cur_id
            raise KustomizeError(
                f"may not add resource with an already registered id: {cid.describe()}",
                res.file,
                res.line,
                f"the same object is also defined at {existing.where()}",
            )
        self._index[key] = res
        self.resources.append(res)

    def add_generated(self, res: Resource, behavior: str, where: str, line: int) -> None:
        """Add a generated ConfigMap or Secret, or merge it into / replace the one of that id."""
        cid = res.cur_id
        matches = [
            r for r in self.resources if any(i.same(cid) for i in r.all_ids()) or _same_generated(r, res)
        ]
        if behavior not in ("merge", "replace"):
            behavior = "create"  # kustomize treats an unknown behavior as create
        if behavior == "create":
            if matches:
                raise KustomizeError(
                    f"{cid.describe()} already exists; use behavior merge or replace",
                    where,
                    line,
                    "set behavior: merge or behavior: replace",
                )
            self.append(res)
            return
        if len(matches) != 1:
            raise KustomizeError(
                f"cannot {behavior} {cid.describe()}: no existing object with that id",
                where,
                line,
                "generate it with behavior create in a base first",
            )
        old = matches[0]
        old.obj = generators.apply_behavior(old.obj, res.obj, behavior)
        old.needs_hash = generators.merged_needs_hash(old.needs_hash, res.needs_hash, behavior)
        old.generated = True


def _same_generated(existing: Resource, new: Resource) -> bool:
    return (
        existing.generated
        and existing.kind == new.kind
        and existing.org_id.name == new.name
        and (existing.org_id.namespace or "default") == (new.namespace or "default")
    )


def check_unique(resources: list[Resource], where: str, what: str) -> None:
    """kustomize's resource map refuses two objects with one id (``what``: the transformer that made them)."""
    seen: dict[tuple[Any, ...], Resource] = {}
    for res in resources:
        cid = res.cur_id
        key = (cid.gvk, cid.name, cid.effective_namespace)
        if key in seen:
            message = (
                f"may not add resource with an already registered id: {cid.describe()}"
                if not what
                else f"{what} transformation produces ID conflict: {cid.describe()}"
            )
            raise KustomizeError(message, where, None, f"also from {seen[key].where()}")
        seen[key] = res

"""``homeops diff``: the rendered difference Flux would apply between two Git revisions."""

from homeops.diff.compare import Change, DiffOptions, DiffResult, ImageChange, compare, diff_repository
from homeops.diff.danger import Danger

__all__ = ["Change", "Danger", "DiffOptions", "DiffResult", "ImageChange", "compare", "diff_repository"]

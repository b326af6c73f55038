"""``homeops diff``: the rendered difference Flux would apply between two Git revisions."""

from homeops.diff.compare import DiffOptions, DiffResult, compare, diff_repository
from homeops.diff.danger import Danger
from homeops.diff.model import Change, ImageChange

__all__ = ["Change", "Danger", "DiffOptions", "DiffResult", "ImageChange", "compare", "diff_repository"]

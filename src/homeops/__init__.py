"""homeops: render, check, author, migrate and review Flux GitOps home-ops repositories."""

__version__ = "0.1.0"

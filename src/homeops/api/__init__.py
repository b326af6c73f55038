"""homeops.api: the one public entry point (Workspace)."""

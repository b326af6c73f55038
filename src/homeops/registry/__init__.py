"""The OCI distribution client shared by chart sources and image references."""

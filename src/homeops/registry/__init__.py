"""The OCI distribution client shared by chart sources and image pins, and image references."""

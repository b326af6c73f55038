"""homeops.core: errors, findings, the profile, Git, the YAML layer with provenance, edits and Go-compatible helpers: the layer every other one stands on."""

"""Image references: extraction, pinning."""

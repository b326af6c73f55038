"""Images of a repository: listing what the render uses, planning and writing digest pins."""

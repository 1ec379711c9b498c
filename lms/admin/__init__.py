"""Administration: staff accounts, roles, and bulk import."""

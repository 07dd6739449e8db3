"""Interactive altair charts of tidy benchmark and accuracy tables."""

"""Reproducible builds: canonical paths, neutralized environment, PEP 517 backends."""

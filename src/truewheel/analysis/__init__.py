"""Analyses built on the facts core: scanning, resolution, identity, findings."""

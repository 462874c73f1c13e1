"""Explain how two wheels differ: causes first, consequences after."""

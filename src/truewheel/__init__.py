"""truewheel: open, repair, prove and slim Python wheels that carry native code.

The library API is the facts core (:mod:`truewheel.wheel`, :mod:`truewheel.elf`,
:mod:`truewheel.policy`) and the commands (:mod:`truewheel.commands`); the
command-line interface lives in :mod:`truewheel.cli`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

"""Where a command's output goes, checked before the work starts.

A report written with ``-o`` must not land on one of the inputs (``inspect -o
X.whl X.whl`` would replace the wheel with its own report) and must fail in one
line, before minutes of work, when its directory cannot hold it.  The final
write (:func:`truewheel._atomic.write_atomically`) checks the inputs again, so
an input found only during the work is protected too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from truewheel._files import check_not_input, output_directory
from truewheel.errors import InputError

__all__ = ["prepare_output", "refuse_same_path"]


def prepare_output(
    output: str, inputs: Iterable[str | os.PathLike[str]], *, option: str = "-o"
) -> None:
    """Create the directory ``output`` goes to; refuse an ``output`` that is an input."""
    target = Path(output)
    output_directory(target.parent, option=option)
    check_not_input(target, inputs, option=option)


def refuse_same_path(output: str, other: str | os.PathLike[str], what: str, option: str) -> None:
    """Refuse ``output`` naming ``other`` (e.g. the catalog), even before either exists."""
    if os.path.realpath(output) == os.path.realpath(other):
        raise InputError(f"{option}: refusing to overwrite the {what} with the output", path=output)

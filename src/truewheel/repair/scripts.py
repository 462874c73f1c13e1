"""ELF programs in ``<dist>.data/scripts/`` that need grafted libraries.

pip installs ``.data/scripts/`` into the environment's ``bin/``, whose distance to
site-packages depends on the install scheme, so no ``$ORIGIN`` path written at repair
time reaches ``<dist>.libs`` from there: patched in place, such a program fails once
installed ("cannot open shared object file", exit 127).  As auditwheel does, the program
moves to ``<dist>.scripts/`` in the install root, where ``$ORIGIN/../<dist>.libs`` holds,
and a Python launcher with a ``#!python`` line (which installers rewrite to the
environment's interpreter) takes its place and execs it.

The launcher does more than auditwheel's, which joins ``sysconfig``'s platlib and the
path and execs whatever is there: it looks where the root was installed first (purelib
for a ``Root-Is-Purelib: true`` wheel; the two differ on Fedora-like systems), then on
``sys.path`` (``--user``, ``--prefix`` installs), names what is missing instead of a
traceback, and gives SIGPIPE and SIGXFSZ back their default action (Python ignores
them, and an ignored signal stays ignored across exec: ``program | head`` would turn
into write errors).  Arguments, the environment, standard streams and the exit status
are the program's own, since exec replaces the launcher's process.
"""

from __future__ import annotations

import posixpath

__all__ = ["is_script", "launcher", "program_path"]

_TEMPLATE = """\
#!python
# Written by truewheel repair.  The ELF program {shown} needs libraries grafted
# into the wheel: it is installed in site-packages as {program}, where it finds
# them, and this launcher runs it from there.
import os
import signal
import sys
import sysconfig

PROGRAM = {parts!r}


def _find():
    places = [sysconfig.get_path(key) for key in {keys!r}]
    places += [p for p in sys.path if os.path.isabs(p)]
    for place in places:
        candidate = os.path.join(place or "", *PROGRAM)
        if place and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


if __name__ == "__main__":
    program = _find()
    if program is None:
        sys.stderr.write(
            "%s: cannot find %s in site-packages or on sys.path\\n"
            % (sys.argv[0], "/".join(PROGRAM))
        )
        sys.exit(127)
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    os.execv(program, sys.argv)
"""


def is_script(member: str) -> bool:
    """A member pip installs into the scripts directory (``bin/``)."""
    parts = member.split("/")
    return len(parts) > 2 and parts[0].endswith(".data") and parts[1] == "scripts"


def program_path(member: str, distribution: str) -> str:
    """Where a script's program goes: ``<dist>.scripts/<path under scripts/>``."""
    rest = member.split("/", 2)[2]
    return f"{distribution}.scripts/{rest}"


def launcher(program: str, *, root_is_purelib: bool) -> bytes:
    """The launcher script that replaces the program at its ``.data/scripts/`` path."""
    keys = ("purelib", "platlib") if root_is_purelib else ("platlib", "purelib")
    parts = tuple(program.split("/"))
    shown = repr(posixpath.basename(program))
    text = _TEMPLATE.format(shown=shown, program=repr(program), parts=parts, keys=keys)
    return text.encode("utf-8", "surrogateescape")

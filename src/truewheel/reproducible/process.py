"""Child processes of a build that never outlive it.

A backend runs compilers, and ``--check`` runs whole builds, as grandchildren.
When truewheel stops early (Ctrl-C, SIGTERM from ``timeout`` or a CI cancel),
killing only the direct child would leave a compiler running, still holding
the build root's lock and writing into directories about to be removed.  So
each child starts a process group of its own, and the whole group goes when
truewheel stops waiting for it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["failure_line", "run_group"]

_GRACE_SECONDS = 5.0
_DIAGNOSTIC = re.compile(r":\d+(?::\d+)?: (?:fatal )?error: ")  # gcc, clang, gfortran
_EXCEPTION = re.compile(r"(?:^|[\s|.])([A-Za-z_]\w*(?:Error|Exception)): \S")
_MARGIN = re.compile(r"^[\s|]+")


def run_group(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    umask: int = 0o022,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a new process group, output captured as text; on any exception
    (KeyboardInterrupt and SystemExit included) the group is stopped before it propagates."""
    with subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        umask=umask,
        start_new_session=True,
    ) as child:
        try:
            out, err = child.communicate()
        except BaseException:
            _stop(child)
            raise
        return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def _stop(child: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            child.wait(timeout=_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; members of its group may still be finishing.
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return


def failure_line(output: str) -> str | None:
    """The line of a failed build's output that says why, when one does.

    A compiler's first diagnostic, else the last exception a Python backend raised,
    else the last ``ERROR:`` a tool it ran printed (meson); the closing lines of a
    backend or of pip ("error: command failed", "See above for details") say only that.
    """
    lines = [_MARGIN.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if _DIAGNOSTIC.search(line):
            return line
    for line in reversed(lines):
        found = _EXCEPTION.search(line)
        if found:
            return line[found.start(1) :]
    indented = [raw.strip() for raw in output.splitlines() if raw[:1].isspace()]
    for line in reversed(indented):
        if "ERROR:" in line:
            return _MARGIN.sub("", line)
    return None

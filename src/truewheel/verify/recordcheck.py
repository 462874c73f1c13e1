"""The wheel's own RECORD against its members: a member edited after the wheel was built
(a patched ``__init__.py`` with RECORD left as it was) is the first thing to know.

verify hashes every member anyway (sha256), so a RECORD line with a sha256 is checked for
free; a line with another algorithm (rare) is only checked for its size.  RECORD itself
and its signatures (``RECORD.jws``, ``RECORD.p7s``) are not listed in it, by the spec.
"""

from __future__ import annotations

import base64

from truewheel.verify.model import Finding
from truewheel.verify.wheelfiles import WheelFile
from truewheel.wheel import WheelArchive

__all__ = ["record_findings"]


def record_findings(wheel: WheelArchive, files: list[WheelFile]) -> list[Finding]:
    """One finding per member RECORD does not describe, and per line with no member."""
    out: list[Finding] = []
    record = wheel.record_name
    for file in files:
        if file.path == record or file.path.startswith(f"{record}."):
            continue
        problem = _problem(wheel, file)
        if problem is not None:
            out.append(Finding("finding", "record-mismatch", problem, file.path))
    for path in wheel.missing_files:
        out.append(
            Finding("finding", "record-mismatch", "listed in RECORD, not in the wheel", path)
        )
    return out


def _problem(wheel: WheelArchive, file: WheelFile) -> str | None:
    entry = wheel.record_entry(file.member)
    if entry is None:
        return "not listed in RECORD (added after the wheel was built?)"
    if entry.size is not None and entry.size != file.member.file_size:
        return f"{file.member.file_size} bytes, RECORD says {entry.size} (changed after the build?)"
    if entry.algorithm == "sha256" and entry.digest is not None:
        ours = base64.urlsafe_b64encode(bytes.fromhex(file.sha256)).rstrip(b"=").decode()
        if ours != entry.digest:
            return "its sha256 is not RECORD's (changed after the wheel was built?)"
    return None

"""Times a wheel can carry, and the one rule for ``SOURCE_DATE_EPOCH``.

A zip entry stores a DOS date and time: 1980-01-01 to 2107-12-31, in steps of
two seconds, no time zone (truewheel writes UTC).  ``SOURCE_DATE_EPOCH``
(reproducible-builds.org) is "an ASCII representation of an integer", the
output of ``date +%s``; the specification asks tools to fail on anything
malformed rather than guess.  Every command that writes a wheel (build,
repair, normalize) reads it through :func:`source_date_epoch`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from truewheel.errors import InputError

__all__ = ["ZIP_FIRST", "ZIP_LAST", "dos_datetime", "source_date_epoch"]

ZIP_FIRST = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can carry
ZIP_LAST = 4354819199  # 2107-12-31T23:59:59Z, written as :58 (zip counts in 2 seconds)


def source_date_epoch(environ: Mapping[str, str]) -> int | None:
    """``SOURCE_DATE_EPOCH`` as the user set it; None when unset.

    It must be ASCII digits (no sign, no spaces) and no later than 2107-12-31, the
    last date a zip can hold: a later one could only be written as another time, so
    it is refused rather than silently changed.  An earlier time than 1980 (``0`` is
    common) is kept as given, for the build backend and compilers; the wheel's entries
    then say 1980-01-01 (:func:`dos_datetime`).
    """
    value = environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()):
        raise InputError(f"SOURCE_DATE_EPOCH is not a non-negative integer: {value[:40]!r}")
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(ZIP_LAST)) or int(digits) > ZIP_LAST:
        raise InputError(
            f"SOURCE_DATE_EPOCH is after 2107-12-31, the last date a zip can hold: {value[:40]!r}"
        )
    return int(digits)


def dos_datetime(epoch: int) -> tuple[int, int]:
    """(date, time) in zip's DOS format for a Unix time, clamped to zip's 1980..2107 range."""
    t = time.gmtime(min(max(epoch, ZIP_FIRST), ZIP_LAST))
    date = ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday
    clock = (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2)
    return date, clock

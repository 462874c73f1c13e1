"""RECORD: the list of every file in a wheel (or an installation) with its hash and size.

One reader serves both the RECORD inside a wheel and the RECORD of an installed
distribution (``scan``).  It never raises on content: every malformed row (a CSV
error such as a field over the ``csv`` module's limit or a stray quote, a wrong
number of fields, a malformed hash or size, an unusable path) becomes one line in
a list of problems, so ``inspect`` can report all of them at once (pypa/installer's
records.py does the same per row).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

from truewheel.wheel.zipreader import unsafe_name_reason

__all__ = [
    "RecordEntry",
    "format_record",
    "installed_record_paths",
    "parse_record",
    "record_digest",
]

# The wheel spec forbids md5 and sha1; anything hashlib has that is sha256 or stronger passes.
_ALLOWED = {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b"}
# An installed RECORD may use any algorithm hashlib guarantees (recording-installed-packages).
_INSTALLED = frozenset(hashlib.algorithms_guaranteed)
# A size needs at most 20 digits (2**64); longer ones would also trip int()'s digit limit.
_MAX_SIZE_DIGITS = 20
_SHOWN = 60  # characters of an offending value quoted in a problem


@dataclass(frozen=True, slots=True)
class RecordEntry:
    path: str
    algorithm: str | None
    digest: str | None
    size: int | None


def parse_record(text: str) -> tuple[dict[str, RecordEntry], list[str]]:
    """A wheel's RECORD: the entries by path and a list of problems (one line each).

    Paths must be safe wheel member names (relative, no ``..``, no NUL), hashes an
    allowed algorithm, sizes ASCII digits.
    """
    entries: dict[str, RecordEntry] = {}
    problems: list[str] = []
    for lineno, row in _rows(text, problems):
        entry = _entry(lineno, row, _ALLOWED, problems)
        if entry is None:
            continue
        reason = unsafe_name_reason(entry.path)
        if reason:
            problems.append(f"line {lineno}: unsafe path ({reason}): {_show(entry.path)}")
            continue
        if entry.path in entries:
            problems.append(f"line {lineno}: duplicate entry for {_show(entry.path)}")
        entries[entry.path] = entry
    return entries, problems


def installed_record_paths(text: str) -> tuple[list[str], list[str]]:
    """An installed distribution's RECORD: the listed paths (as written) and the problems.

    Paths are relative to site-packages and may climb out of it (``../../../bin/tool``);
    whether such a path may be opened is the caller's decision.  Directory entries
    (a trailing ``/``) are left out.
    """
    paths: list[str] = []
    problems: list[str] = []
    for lineno, row in _rows(text, problems):
        entry = _entry(lineno, row, _INSTALLED, problems)
        if entry is not None and not entry.path.endswith("/"):
            paths.append(entry.path)
    return list(dict.fromkeys(paths)), problems


def _rows(text: str, problems: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Non-empty CSV rows with their line numbers; CSV errors go to ``problems``."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(f"line {reader.line_num}: {exc}")
            continue
        if row:
            yield reader.line_num, row


def _entry(
    lineno: int, row: list[str], algorithms: frozenset[str] | set[str], problems: list[str]
) -> RecordEntry | None:
    if len(row) != 3:
        problems.append(f"line {lineno}: expected 3 fields, got {len(row)}")
        return None
    path, hash_field, size_field = row
    if not path:
        problems.append(f"line {lineno}: empty path")
        return None
    if "\x00" in path:
        problems.append(f"line {lineno}: NUL byte in path {_show(path)}")
        return None
    algorithm = digest = None
    if hash_field:
        algorithm, sep, digest = hash_field.partition("=")
        if not sep or not digest:
            problems.append(f"line {lineno}: malformed hash {_show(hash_field)}")
            return None
        if algorithm not in algorithms:
            problems.append(f"line {lineno}: hash algorithm {_show(algorithm)} is not allowed")
            return None
    size = None
    if size_field:
        if not (size_field.isascii() and size_field.isdigit()) or (
            len(size_field) > _MAX_SIZE_DIGITS
        ):
            problems.append(f"line {lineno}: malformed size {_show(size_field)}")
            return None
        size = int(size_field)
    return RecordEntry(path, algorithm, digest, size)


def _show(value: str) -> str:
    """``repr`` of an offending value, cut short: a field may be 128 KiB long."""
    shown = repr(value[:_SHOWN])
    return shown + "..." if len(value) > _SHOWN else shown


def record_digest(algorithm: str, data: bytes | memoryview) -> str:
    """The urlsafe, unpadded base64 digest RECORD uses."""
    raw = hashlib.new(algorithm, data).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def format_record(rows: list[tuple[str, str, int]], record_name: str) -> bytes:
    """RECORD text for (path, sha256 digest as RECORD writes it, size) rows, RECORD's own last."""
    lines = [f"{_csv_field(path)},sha256={digest},{size}" for path, digest, size in rows]
    return ("\n".join([*lines, f"{_csv_field(record_name)},,"]) + "\n").encode()


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n\r') else value

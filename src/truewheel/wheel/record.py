"""RECORD: the list of every file in a wheel with its hash and size.

Parsing collects every malformed row instead of stopping at the first, so
``inspect`` can report all of them at once (pypa/installer's records.py does
the same per row).
"""

from __future__ import annotations

import base64
import csv
import hashlib
from dataclasses import dataclass

__all__ = ["RecordEntry", "format_record", "parse_record", "record_digest"]

# The wheel spec forbids md5 and sha1; anything hashlib has that is sha256 or stronger passes.
_ALLOWED = {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b"}


@dataclass(frozen=True, slots=True)
class RecordEntry:
    path: str
    algorithm: str | None
    digest: str | None
    size: int | None


def parse_record(text: str) -> tuple[dict[str, RecordEntry], list[str]]:
    """Return the entries by path and a list of problems (one line each)."""
    entries: dict[str, RecordEntry] = {}
    problems: list[str] = []
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row:
            continue
        if len(row) != 3:
            problems.append(f"line {lineno}: expected 3 fields, got {len(row)}")
            continue
        path, hash_field, size_field = row
        algorithm = digest = None
        if hash_field:
            algorithm, sep, digest = hash_field.partition("=")
            if not sep or not digest:
                problems.append(f"line {lineno}: malformed hash {hash_field!r}")
                continue
            if algorithm not in _ALLOWED:
                problems.append(f"line {lineno}: hash algorithm {algorithm!r} is not allowed")
                continue
        size = None
        if size_field:
            if not size_field.isdigit():
                problems.append(f"line {lineno}: malformed size {size_field!r}")
                continue
            size = int(size_field)
        if path in entries:
            problems.append(f"line {lineno}: duplicate entry for {path}")
        entries[path] = RecordEntry(path, algorithm, digest, size)
    return entries, problems


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

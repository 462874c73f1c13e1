"""Structure-aware mutations, so fuzzed bytes get past checksums and compression.

A byte flip inside a zip member or a gzip stream almost always ends at the CRC or
the inflater, and the code behind them (RECORD, METADATA, the ELF reader through
inspect, tar headers) would never see a mutated byte.  Half of the time these
mutators decode the container, let libFuzzer mutate what is inside, and encode it
again; the other half they mutate the raw bytes, which keeps the container code
itself under fire.
"""

from __future__ import annotations

import gzip
import io
import random
import zipfile
from collections.abc import Callable

import atheris

__all__ = ["MUTATORS"]

Mutator = Callable[[bytes, int, int], bytes]


def _raw(data: bytes, max_size: int) -> bytes:
    return bytes(atheris.Mutate(data, max_size))


def _inner(data: bytes, limit: int) -> bytes:
    """Mutate decoded content, which may grow up to ``limit`` bytes."""
    return bytes(atheris.Mutate(data, max(limit, len(data))))


def _rezip(data: bytes, max_size: int, rng: random.Random) -> bytes | None:
    """One member's content or name mutated, the zip written again with valid CRCs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            members = [(info, source.read(info)) for info in source.infolist()]
    except Exception:
        return None
    if not members:
        return None
    index = rng.randrange(len(members))
    info, content = members[index]
    if rng.random() < 0.15:
        name = _inner(info.filename.encode(), 255).decode("utf-8", "replace")
        clone = zipfile.ZipInfo(name.replace("\x00", "") or "x", info.date_time)
        clone.compress_type, clone.external_attr = info.compress_type, info.external_attr
        members[index] = (clone, content)
    else:
        members[index] = (info, _inner(content, max_size))
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(out, "w") as target:
            for member, body in members:
                target.writestr(member, body, compress_type=member.compress_type)
    except Exception:
        return None
    return out.getvalue()


def _regzip(data: bytes, max_size: int, rng: random.Random) -> bytes | None:
    try:
        inner = gzip.decompress(data)
    except Exception:
        return None
    return gzip.compress(_inner(inner, max_size * 8), mtime=0)


def _structured(
    decode: Callable[[bytes, int, random.Random], bytes | None],
) -> Mutator:
    def mutate(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() < 0.5:
            mutated = decode(data, max_size, rng)
            if mutated is not None and len(mutated) <= max_size:
                return mutated
        return _raw(data, max_size)

    return mutate


def _sdist(data: bytes, max_size: int, seed: int) -> bytes:
    if data.startswith(b"PK"):
        return _structured(_rezip)(data, max_size, seed)
    if data.startswith(b"\x1f\x8b"):
        return _structured(_regzip)(data, max_size, seed)
    return _raw(data, max_size)


#: Harness name -> custom mutator; harnesses not named here use libFuzzer's own.
MUTATORS: dict[str, Mutator] = {
    "zip": _structured(_rezip),
    "sdist": _sdist,
}

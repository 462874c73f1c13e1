"""Tell findings apart, keep going past them, and shrink their inputs.

libFuzzer stops at the first exception; a long local run should instead collect every
distinct failure.  Two failures are the same when they raise the same exception type at
the same place in truewheel (the innermost frame under ``src/truewheel``, or the harness
for a :class:`harnesses.Finding`).

    python fuzz/findings.py minimize HARNESS FILE   # writes FILE.min, prints it in base64
    python fuzz/findings.py show HARNESS FILE ...   # the signature and traceback of each
"""

from __future__ import annotations

import base64
import hashlib
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

__all__ = ["KEEP_GOING", "keep_going", "minimize", "signature"]

#: The environment variable naming the directory where target.py keeps going (run.py sets it).
KEEP_GOING = "TRUEWHEEL_FUZZ_KEEP_GOING"

_OURS = ("/src/truewheel/", "/fuzz/harnesses.py")


def signature(exc: BaseException) -> str:
    """``Type at file:line (function)`` for the innermost frame of truewheel or a harness."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if any(part in f.filename for part in _OURS)] or frames[-1:]
    if not ours:
        return type(exc).__name__
    top = ours[-1]
    where = top.filename.split("/src/", 1)[-1].split("/fuzz/", 1)[-1]
    return f"{type(exc).__name__} at {where}:{top.lineno} ({top.name})"


def _failure(harness: Callable[[bytes], None], data: bytes) -> BaseException | None:
    try:
        harness(data)
    except Exception as exc:  # the harnesses let only failures out
        return exc
    return None


def keep_going(harness: Callable[[bytes], None], out: Path) -> Callable[[bytes], None]:
    """Wrap a harness so each new kind of failure is saved to ``out`` and fuzzing goes on."""
    out.mkdir(parents=True, exist_ok=True)
    seen = {p.read_text().splitlines()[0] for p in out.glob("*.txt")}

    def run(data: bytes) -> None:
        try:
            harness(data)
        except Exception as exc:
            key = signature(exc)
            if key in seen:
                return
            seen.add(key)
            name = hashlib.sha1(data).hexdigest()[:16]
            (out / f"{name}.bin").write_bytes(data)
            text = "".join(traceback.format_exception(exc))
            (out / f"{name}.txt").write_text(f"{key}\n\n{text}")

    return run


def minimize(harness: Callable[[bytes], None], data: bytes) -> bytes:
    """A smaller input with the same failure: chunks dropped or zeroed until neither helps.

    Zeroing matters for formats of absolute offsets (ELF, zip): once a far offset is zero
    the bytes it pointed at can be dropped.  Last, the bytes left are made as plain as they
    can be (0 or "A"), so the reproducer shows what matters.
    """
    first = _failure(harness, data)
    if first is None:
        raise SystemExit("this input does not fail")
    wanted = signature(first)

    def same(candidate: bytes) -> bool:
        found = _failure(harness, candidate)
        return found is not None and signature(found) == wanted

    def shrink(data: bytes, edit: Callable[[bytes, int, int], bytes]) -> bytes:
        chunk = max(1, len(data) // 2)
        while chunk >= 1:
            at = 0
            while at < len(data):
                candidate = edit(data, at, chunk)
                if candidate != data and same(candidate):
                    dropped, data = len(candidate) < len(data), candidate
                    if dropped:
                        continue  # the next chunk now starts at ``at``
                at += chunk
            chunk //= 2
        return data

    def drop(data: bytes, at: int, chunk: int) -> bytes:
        return data[:at] + data[at + chunk :]

    def zero(data: bytes, at: int, chunk: int) -> bytes:
        return data[:at] + bytes(len(data[at : at + chunk])) + data[at + chunk :]

    while True:
        smaller = shrink(shrink(data, drop), zero)
        if smaller == data:
            break
        data = smaller
    for at in range(len(data)):
        for plain in (0, 0x41):
            if data[at] != plain:
                candidate = data[:at] + bytes([plain]) + data[at + 1 :]
                if same(candidate):
                    data = candidate
                    break
    return data


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] not in ("minimize", "show"):
        print(__doc__)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import harnesses

    harness = harnesses.HARNESSES[argv[1]]
    for name in argv[2:]:
        data = Path(name).read_bytes()
        if argv[0] == "minimize":
            small = minimize(harness, data)
            Path(name + ".min").write_bytes(small)
            print(f"{name}: {len(data)} -> {len(small)} bytes")
            print(base64.b64encode(small).decode())
            data = small
        failure = _failure(harness, data)
        if failure is None:
            print(f"{name}: no failure")
            continue
        print(f"{name}: {signature(failure)}")
        print("".join(traceback.format_exception(failure)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

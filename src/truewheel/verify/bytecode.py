"""A ``.pyc`` member proven to be its sdist ``.py`` compiled: compiled again here, compared byte
for byte, the bytecode never loaded.

Stale or doctored bytecode beside a clean ``.py`` is a classic way to hide code, so a ``.pyc``
is code that nothing accounts for until shown otherwise.  When the ``.pyc`` carries this
interpreter's magic number, the sdist's source (``pkg/__pycache__/mod.cpython-311.pyc`` is
``pkg/mod.py``; a legacy ``pkg/mod.pyc`` too) is compiled with :func:`compile` (which parses,
never runs) under the file name the ``.pyc`` records and at the optimisation level its name
says, and :func:`marshal.dumps` of the result must equal everything after the 16-byte header;
the header must name the source's size (or hash).  The ``.pyc`` itself is never unmarshalled:
``marshal`` is not safe against hostile data.  Another Python's ``.pyc`` cannot be checked
here and stays unexplained (numpy 1.26.4's wheel ships one built with 3.11).
"""

from __future__ import annotations

import importlib.util
import marshal
import re
import warnings

__all__ = ["compiled_from", "source_of"]

_PYCACHE = re.compile(r"(?:(.*)/)?__pycache__/([^/.]+)\.[^/]+?(?:\.opt-([12]))?\.pyc")
_MAX_FILENAME = 4096
_MAX_SEEN = 8  # occurrences of the name looked at, and file names tried
_SHORT = (ord("z"), ord("z") | 0x80, ord("Z"), ord("Z") | 0x80)  # short ASCII strings
_LONG = (ord("a"), ord("a") | 0x80, ord("A"), ord("A") | 0x80, ord("u"), ord("u") | 0x80)


def source_of(tree_path: str) -> tuple[str, int] | None:
    """The ``.py`` a ``.pyc`` tree path was compiled from, and its optimisation level."""
    found = _PYCACHE.fullmatch(tree_path)
    if found is not None:
        directory, stem, level = found.groups()
        return (f"{directory}/{stem}.py" if directory else f"{stem}.py"), int(level or 0)
    if tree_path.endswith(".pyc") and "__pycache__" not in tree_path.split("/"):
        return tree_path[:-1], 0
    return None


def compiled_from(pyc: bytes, source: bytes, basename: str, optimize: int) -> str | None:
    """Why ``pyc`` is ``source`` compiled by this interpreter, or None when it is not shown."""
    if len(pyc) < 16 or pyc[:4] != importlib.util.MAGIC_NUMBER:
        return None
    flags = int.from_bytes(pyc[4:8], "little")
    if flags & 1:
        if pyc[8:16] != importlib.util.source_hash(source):
            return None
    elif int.from_bytes(pyc[12:16], "little") != len(source) & 0xFFFFFFFF:
        return None
    body = pyc[16:]
    for filename in _filenames(body, basename):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # its invalid escapes are not ours to print
                code = compile(source, filename, "exec", dont_inherit=True, optimize=optimize)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            return None
        if marshal.dumps(code) == body:
            version = f"{importlib.util.MAGIC_NUMBER.hex()}"
            return f"compiled here (magic {version}, as {filename!r}): the same bytecode"
    return None


def _filenames(body: bytes, basename: str) -> list[str]:
    """The marshalled strings ending in ``basename`` (the code's ``co_filename``), found by
    the string's own type and length bytes (short ASCII, ASCII or Unicode); a few at most."""
    out: dict[str, None] = {}
    needle = basename.encode()
    start = 0
    for _ in range(_MAX_SEEN):
        at = body.find(needle, start)
        if at < 0:
            break
        start, end = at + 1, at + len(needle)
        for begin in range(at, max(at - _MAX_FILENAME, 1) - 1, -1):
            length = end - begin
            short = begin >= 2 and body[begin - 2] in _SHORT and body[begin - 1] == length
            wide = begin >= 5 and body[begin - 5] in _LONG
            if short or (wide and int.from_bytes(body[begin - 4 : begin], "little") == length):
                try:
                    out.setdefault(body[begin:end].decode("utf-8"))
                except UnicodeDecodeError:
                    continue
        if len(out) >= _MAX_SEEN:
            break
    return list(out)[:_MAX_SEEN]

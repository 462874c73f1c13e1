"""The licence of a distro package as an SPDX expression, where the package says it plainly.

Debian's machine-readable copyright files (copyright-format 1.0, "DEP-5") name licences
with short names (``GPL-2+``, ``LGPL-3+``, ``Expat``, ``BSD-3-clause``) joined by ``or`` and
``and``, a comma lowering the precedence of what follows (``A or B, and C`` is
``(A or B) and C``); ``and`` binds tighter than ``or``, as in SPDX.  Only the licence
of the package as a whole is taken: the header paragraph's ``License`` field, else the
``Files: *`` paragraph's, but only when no paragraph that may cover the library's own
sources (top-level files, ``lib/``, ``src/``) names a different licence: ``Files: *`` is
then only the rest (keyutils' ``keyutils.*`` is LGPL-2+ where ``*`` is GPL-2+), and the
SBOM points at the copied file instead.  A name that maps to no SPDX id, or an exception
SPDX does not list for that licence, gives None: a licence that is missing is better than
one that is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path

from truewheel.wheel.metadata import Headers

__all__ = ["debian_licence", "dep5_to_spdx", "strict_spdx"]

_MAX_COPYRIGHT_BYTES = 4 << 20  # gcc's is 70 KB; anything near this is not a copyright file

_GNU = re.compile(r"(A?GPL|LGPL|GFDL-NIV|GFDL)-(\d+(?:\.\d+)?)(\+?)", re.IGNORECASE)
_OPERATOR = re.compile(r"\s+(and|or)\s+", re.IGNORECASE)
_EXCEPTION = re.compile(r"(\S+)\s+with\s+(\S+)\s+exception", re.IGNORECASE)
_TOKEN = re.compile(r"\(|\)|[^\s()]+")

# Debian's standard short names that are not spelled as SPDX ids (copyright-format 1.0,
# "License specification").  Any other name must be an SPDX id letter for letter: a
# package's own name for its licence ("libpng", "OpenLDAP-2.8") is defined by the text in
# its file, which may not be SPDX's text of that name.
_RENAMED = {
    "expat": "MIT",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-4-clause": "BSD-4-Clause",
    "zlib": "Zlib",
    "apache-2": "Apache-2.0",
    "perl": "Artistic-1.0-Perl OR GPL-1.0-or-later",
    "zope-2.1": "ZPL-2.1",
}

# (Debian exception keyword, SPDX licence id prefix) -> SPDX exception id.  Only pairs whose
# text is certain: Bison's GPL-3 exception is the 2.2 text, its GPL-2 one could be either.
_EXCEPTIONS = {
    ("autoconf", "GPL-2.0"): "Autoconf-exception-2.0",
    ("autoconf", "GPL-3.0"): "Autoconf-exception-3.0",
    ("bison", "GPL-3.0"): "Bison-exception-2.2",
    ("classpath", "GPL-2.0"): "Classpath-exception-2.0",
    ("linux-syscall-note", "GPL-2.0"): "Linux-syscall-note",
    ("gcc-3.1", "GPL-3.0"): "GCC-exception-3.1",
}


# Paragraphs naming these may hold the library's own sources: top-level files (no "/") and
# the usual source directories.  Others (debian/, demos/, doc/, vendored build tools) are not
# what the library is built from.
_SOURCE_DIRS = ("lib/", "src/", "source/", "include/")


def _may_hold_library(patterns: list[str]) -> bool:
    return any(("/" not in p and p != "*") or p.startswith(_SOURCE_DIRS) for p in patterns)


def debian_licence(path: str | Path) -> str | None:
    """The SPDX expression of a package's whole licence from its DEP-5 copyright file."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_COPYRIGHT_BYTES + 1)
    except OSError:
        return None
    if len(data) > _MAX_COPYRIGHT_BYTES:
        return None
    paragraphs = _paragraphs(data.decode("utf-8", errors="replace"))
    form = (paragraphs[0].unfolded("format") or "") if paragraphs else ""
    if "copyright-format" not in form and "dep5" not in form:
        return None  # free text: only a person can read it
    whole = _synopsis(paragraphs[0])
    if whole is not None:
        return dep5_to_spdx(whole)
    star = [p for p in paragraphs[1:] if "*" in (p.unfolded("files") or "").split()]
    whole = _synopsis(star[0]) if star else None
    if whole is None:
        return None
    spdx = dep5_to_spdx(whole)
    for paragraph in paragraphs[1:]:
        patterns = (paragraph.unfolded("files") or "").split()
        if "*" in patterns or not _may_hold_library(patterns):
            continue
        other = _synopsis(paragraph)
        if other is not None and dep5_to_spdx(other) != spdx:
            return None  # ``Files: *`` is then the rest, and the library may be elsewhere
    return spdx


def _paragraphs(text: str) -> list[Headers]:
    """The file's paragraphs (deb822: field blocks separated by blank lines)."""
    found: list[Headers] = []
    block: list[str] = []
    for line in [*text.splitlines(keepends=True), ""]:
        if line.strip():
            block.append(line)
            continue
        if block:
            headers = Headers("".join(block))
            if headers.fields:
                found.append(headers)
            block = []
    return found


def _synopsis(paragraph: Headers) -> str | None:
    """The first line of a License field: the licence's short name(s)."""
    value = paragraph.get("license")
    if value is None:
        return None
    first = value.split("\n", 1)[0].strip()
    return first or None


def dep5_to_spdx(synopsis: str) -> str | None:
    """``GPL-2+ or LGPL-3+`` -> ``GPL-2.0-or-later OR LGPL-3.0-or-later``; None if not mappable."""
    pieces = re.split(r",\s*(and|or)\s+", synopsis.strip(), flags=re.IGNORECASE)
    result: str | None = None
    for index in range(0, len(pieces), 2):
        translated = _group(pieces[index].strip())
        if translated is None:
            return None
        if result is None:
            result = translated
        else:
            result = f"{_wrap(result)} {pieces[index - 1].upper()} {_wrap(translated)}"
    return result if result and strict_spdx(result) else None


def _wrap(expression: str) -> str:
    return f"({expression})" if " " in expression else expression


def _group(text: str) -> str | None:
    """A comma-free run of terms joined by ``and``/``or`` (same precedence as SPDX)."""
    parts = _OPERATOR.split(text)
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(part.upper())
            continue
        term = _term(part.strip())
        if term is None:
            return None
        out.append(f"({term})" if " OR " in term and len(parts) > 1 else term)
    return " ".join(out)


def _term(text: str) -> str | None:
    exception = _EXCEPTION.fullmatch(text)
    if exception:
        licence = _licence_id(exception.group(1))
        if licence is None:
            return None
        for (keyword, prefix), spdx in _EXCEPTIONS.items():
            if exception.group(2).lower() == keyword and licence.startswith(prefix):
                return f"{licence} WITH {spdx}"
        return None
    return _licence_id(text)


def _licence_id(name: str) -> str | None:
    if name.lower() in _RENAMED:
        return _RENAMED[name.lower()]
    gnu = _GNU.fullmatch(name)
    if gnu:
        family, version, later = gnu.groups()
        family = family.upper()
        if "." not in version:
            version += ".0"
        suffix = "or-later" if later else "only"
        if family == "GFDL-NIV":
            return _known(f"GFDL-{version}-no-invariants-{suffix}")
        return _known(f"{family}-{version}-{suffix}")
    if name.endswith("+") or name.lower().startswith(("gpl", "lgpl", "agpl", "gfdl")):
        return None  # "Apache-2.0+" is no SPDX id; an unversioned GPL names no version
    return _known(name)


def _known(spdx_id: str) -> str | None:
    from cyclonedx.spdx import is_supported_id

    return spdx_id if is_supported_id(spdx_id) else None


def strict_spdx(expression: str) -> bool:
    """A valid SPDX expression whose ids are spelled exactly as the SPDX list spells them.

    cyclonedx's own check accepts ``mit`` and ``zlib and Boost``: names that say
    something else on an older rpm host ("Boost" is no SPDX id, "and" no operator).
    """
    from cyclonedx.spdx import is_expression, is_supported_id

    tokens = _TOKEN.findall(expression)
    after_with = False
    for token in tokens:
        if token in ("(", ")", "AND", "OR"):
            continue
        if token == "WITH":
            after_with = True
            continue
        if not after_with and not is_supported_id(token):
            return False
        after_with = False
    return bool(tokens) and is_expression(expression)

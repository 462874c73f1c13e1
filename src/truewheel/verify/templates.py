"""A file the build renders from a template the sdist holds (``__config__.py.in`` ->
``__config__.py``), checked line by line rather than taken on trust.

Meson's and CMake's ``configure_file`` and autoconf replace ``@NAME@`` (CMake also
``${NAME}``) and nothing else, one line for one line.  So a rendered file is accepted only
when it has as many lines as its template, every line without a placeholder is unchanged,
and every line with one matches the template line with each placeholder standing for a
value; in a C header ``#mesondefine NAME`` and ``#cmakedefine NAME`` lines become
``#define NAME value`` or ``/* #undef NAME */``.  A value holds no quote, backslash or line
break; in Python output each line must
also tokenize into the same kinds of tokens as its template line, so a substitution can
fill a string or stand for a name, never add a call, an import or a statement.
"""

from __future__ import annotations

import io
import re
import tokenize

__all__ = ["TEMPLATE_SUFFIXES", "rendered_from", "untemplated"]

#: A template's name is its output's name plus one of these (``.tp``: Tempita, as in
#: scikit-learn's ``_sag_fast.pyx.tp``).
TEMPLATE_SUFFIXES = (".in", ".src", ".tmpl", ".template", ".tp")
_PLACEHOLDER = re.compile(r"@[A-Za-z_][A-Za-z0-9_]*@|\$\{[A-Za-z_][A-Za-z0-9_]*\}")
#: Python's ``%(name)s`` (a ``write_version_py`` template held in a script's string literal)
_PERCENT = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdr]")
_VALUE = r"[^'\"\\\r\n]*"
#: In Python output a value may hold backslashes (scipy's Windows ``__config__.py`` fills
#: ``r"@PYTHON_PATH@"`` with ``C:\Users\...``): a backslash that escapes a closing quote
#: leaves the string open, and the token check below refuses the line.
_PYTHON_VALUE = r"[^'\"\r\n]*"
_DEFINE = re.compile(r"#\s*(mesondefine|cmakedefine01|cmakedefine)\s+([A-Za-z_][A-Za-z0-9_]*)\b.*")
_MAX_LINES = 20_000


def untemplated(name: str) -> str | None:
    """``x.py`` for ``x.py.in``; None for a name with no template suffix."""
    for suffix in TEMPLATE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def rendered_from(
    template: bytes, output: bytes, *, python: bool, percent: bool = False
) -> int | None:
    """How many placeholders lines were filled, when ``output`` is ``template`` rendered
    (0 is a copy); None when it is not.  ``percent``: the placeholders are ``%(name)s``."""
    placeholder = _PERCENT if percent else _PLACEHOLDER
    try:
        old = template.decode("utf-8").splitlines()
        new = output.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None
    if len(old) != len(new) or len(old) > _MAX_LINES:
        return None
    filled = 0
    for before, after in zip(old, new, strict=True):
        if before == after:
            continue
        defined = not python and _defined(before, after)
        placed = bool(placeholder.search(before)) and _fills(before, after, placeholder, python)
        if not defined and not placed:
            return None
        if python and not _same_tokens(before, after, placeholder):
            return None
        filled += 1
    return filled


def _defined(before: str, after: str) -> bool:
    """Meson's ``#mesondefine NAME`` and CMake's ``#cmakedefine NAME [value]`` /
    ``#cmakedefine01 NAME``, rendered as ``#define NAME value`` or ``/* #undef NAME */``
    (C headers only: the caller never asks for Python)."""
    found = _DEFINE.fullmatch(before.strip())
    if found is None:
        return False
    name = found.group(2)
    rendered = after.strip()
    if rendered in (f"/* #undef {name} */", f"#undef {name}"):
        return True
    value = rendered.removeprefix(f"#define {name}")
    return value != rendered and (value == "" or (value[0] in " \t" and "\n" not in value))


def _fills(before: str, after: str, placeholder: re.Pattern[str], python: bool) -> bool:
    pieces = placeholder.split(before)
    pattern = (_PYTHON_VALUE if python else _VALUE).join(re.escape(piece) for piece in pieces)
    return re.fullmatch(pattern, after) is not None


def _same_tokens(before: str, after: str, placeholder: re.Pattern[str]) -> bool:
    """The template line (each placeholder a name) and the output line tokenize alike."""
    return _kinds(placeholder.sub("x", before)) == _kinds(after)


def _kinds(line: str) -> list[int]:
    kinds: list[int] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            kinds.append(tokenize.NAME if token.type == tokenize.NUMBER else token.type)
    except (tokenize.TokenError, SyntaxError):
        kinds.append(-1)  # an unfinished bracket or string: the same on both sides or not
    return kinds

"""What the Python scripts at an sdist's top say a build writes, read and never run.

Some builds write files from code the sdist ships beside ``setup.py``: h5py's
``api_gen.py`` writes ``h5py/defs.pyx`` (compiled into ``h5py/defs.*.so``) from
``api_functions.txt``; setuptools' ``setup.py`` writes ``distutils-precedence.pth`` from a
string literal.  Two narrow facts are kept from the top directory's ``*.py`` files:

* the source paths each mentions (``h5py/defs.pyx``, anywhere in its text): a compiled
  module's *own* source named in its bytes, absent from the sdist but mentioned by such a
  script, is a file that script says it writes (weaker than a file the sdist holds, and
  the evidence line says so);
* ``setup.py``'s string literals: a ``.pth`` at the top of the wheel (it runs at every
  interpreter start-up) is accounted for only when ``setup.py`` quotes its name and holds
  its code as a literal, statement for statement.

And from any ``.py`` of the sdist, the ``%(name)s`` templates a script writes a wheel's
module from (:func:`percent_templates`): pywavelets' ``util/version_utils.py`` quotes
``'pywt/version.py'`` and holds its text as a multi-line literal, which ``templates.py``
then checks line by line against the member.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field

__all__ = ["MAX_SCRIPT", "BuildScripts", "is_build_script", "percent_templates", "statements"]

#: A larger script is not read (real ones are tens of KiB).
MAX_SCRIPT = 1 << 20
_MAX_MENTIONS = 4096
_MAX_LITERALS = 4096
_EXT_PACKAGE = re.compile(r"""\bext_package\s*=\s*['"]([A-Za-z_][\w.]{0,200})['"]""")
_QUOTED_MODULE = re.compile(r"""['"]([A-Za-z0-9_][\w./-]{0,200}\.py)['"]""")
_PERCENT = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdr]")
_MENTION = re.compile(
    r"(?<![\w./-])([A-Za-z0-9_][\w./-]{0,200}\.(?:pyx|pxd|pxi|c|cc|cpp|cxx|h|hpp|f|f90))(?![\w.])"
)


def is_build_script(parts: tuple[str, ...], size: int) -> bool:
    """A ``.py`` file directly below the sdist's top directory."""
    return len(parts) == 2 and parts[1].endswith(".py") and size <= MAX_SCRIPT


def statements(code: str) -> list[str]:
    """The statements of one-line code, however joined (``;`` or newlines), stripped."""
    return [s.strip() for s in re.split(r"[;\n]", code) if s.strip()]


@dataclass
class BuildScripts:
    """Source paths mentioned by each top-level script, and ``setup.py``'s string literals."""

    mentions: dict[str, str] = field(default_factory=dict)  # mentioned path -> script
    setup_literals: set[str] = field(default_factory=set)
    #: ``setup(ext_package="pycares")``: the package cffi's relative module names go in
    ext_package: str | None = None

    def add(self, name: str, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        for found in _MENTION.findall(text):
            if len(self.mentions) >= _MAX_MENTIONS:
                break
            self.mentions.setdefault(found.removeprefix("./"), name)
        if name == "setup.py":
            self.setup_literals = _literals(text)
            found = _EXT_PACKAGE.search(text)
            self.ext_package = found.group(1) if found else None

    def mentioning(self, name: str) -> tuple[str, str] | None:
        """(script, mention) for a mentioned path that ``name`` names: the shorter of the
        two paths is a tail of the other."""
        parts = [p for p in name.split("/") if p not in ("", ".", "..")]
        if not parts:
            return None
        for mention, script in sorted(self.mentions.items(), key=lambda m: (-m[0].count("/"), m)):
            tail = mention.split("/")
            width = min(len(tail), len(parts))
            if tail[-1] == parts[-1] and tail[-width:] == parts[-width:]:
                return script, mention
        return None

    def writes_pth(self, stem: str, code: str) -> bool:
        """``setup.py`` quotes ``stem`` and holds ``code`` as a literal, statement for
        statement (setuptools joins its dedented lines with ``'; '``)."""
        wanted = statements(code)
        return (
            bool(wanted)
            and stem in self.setup_literals
            and any(statements(literal) == wanted for literal in self.setup_literals)
        )


def percent_templates(data: bytes, modules: set[str]) -> list[tuple[str, str]]:
    """``(module, literal)``: a multi-line ``%(name)s`` string literal of a script that
    quotes ``module``, one of the wheel's ``.py`` paths (``modules``); empty for most
    files, which are skipped before parsing."""
    if b"%(" not in data:
        return []
    text = data.decode("utf-8", "replace")
    named = sorted({m for m in _QUOTED_MODULE.findall(text) if m.removeprefix("./") in modules})
    if not named:
        return []
    found = [
        literal
        for literal in _literals(text)
        if "\n" in literal and _PERCENT.search(literal) and len(literal) <= MAX_SCRIPT
    ]
    return [(module.removeprefix("./"), literal) for module in named for literal in found]


def _literals(text: str) -> set[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.add(node.value)
            if len(out) >= _MAX_LITERALS:
                break
    return out

"""Runtime preload for libraries that another distribution provides (``--provided-by``).

A consumer wheel whose extension modules need ``libfoo.so.1`` from another distribution keeps
its DT_NEEDED entry untouched, gains ``Requires-Dist: <provider>`` and carries, in its top-level
``__init__.py``, a small block that runs before anything else in the package: it finds the
provider distribution's copy of the library through ``importlib.metadata`` and loads it with
``ctypes.CDLL(path, mode=RTLD_GLOBAL)``.  When an extension module is imported afterwards, the
dynamic loader satisfies its DT_NEEDED ``libfoo.so.1`` from the already loaded object (glibc
matches the SONAME), so neither bundling nor an RPATH into the other package is needed.

This module only produces and places that text:

* :func:`preload_source` renders the block for a set of :class:`ProvidedLibrary`;
* :func:`inject_preload` puts it into the text of an ``__init__.py`` (idempotently), and
  :func:`inject_preload_bytes` into its bytes, in the encoding the file declares;
* :func:`target_packages` names the ``__init__.py`` members that must carry it.
"""

from __future__ import annotations

import io
import re
import shlex
import tokenize
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from truewheel.errors import InputError
from truewheel.repair.model import ProvidedLibrary

if TYPE_CHECKING:
    from truewheel.wheel import WheelArchive

__all__ = [
    "BEGIN_MARKER",
    "END_MARKER",
    "FUNCTION_NAME",
    "inject_preload",
    "inject_preload_bytes",
    "preload_source",
    "preloaded_inits",
    "target_packages",
]

BEGIN_MARKER = "# --- truewheel preload: begin (do not edit) ---"
END_MARKER = "# --- truewheel preload: end ---"
#: The only name the block binds in the package namespace; it is deleted again at once.
FUNCTION_NAME = "_truewheel_preload"

# Marker lines are recognised by these prefixes, so a later wording of the begin marker still
# replaces an older block.
_BEGIN_PREFIX = "# --- truewheel preload: begin"
_END_PREFIX = "# --- truewheel preload: end"

_CODING_RE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")
_DATA_DIR_RE = re.compile(r"^[^/]+\.data$")
_SHARED_OBJECT_RE = re.compile(r"\.so(\.[0-9A-Za-z_]+)*$")

_TEMPLATE = """\
{begin}
# Added by truewheel.  The extension modules of this package need shared libraries that
# other distributions provide; load those by absolute path first, so that the dynamic loader
# finds them already loaded (by SONAME) instead of searching for them.
def {function}():
    import ctypes
    import fnmatch
    import importlib.metadata
    import os

    provided = (
        # (library, file-name pattern, distribution, requirement, quoted requirement)
{entries}
    )
    for library, pattern, distribution, requirement, quoted in provided:
        prefix = "%s: %s is provided by %s" % (__name__, library, requirement)
        try:
            dist = importlib.metadata.distribution(distribution)
        except importlib.metadata.PackageNotFoundError:
            raise ImportError(
                "%s, which is not installed: pip install %s" % (prefix, quoted)
            ) from None
        exact = []
        similar = []
        for file in dist.files or ():
            name = file.name
            if name == library:
                exact.append(file)
            elif fnmatch.fnmatchcase(name, pattern) and ".so" in name:
                similar.append(file)
        for file in sorted(exact, key=str) + sorted(similar, key=str):
            path = os.path.abspath(str(file.locate()))
            if not os.path.isfile(path):
                continue
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            except OSError as exc:
                raise ImportError(
                    "%s, but loading it from the installed %s %s failed: %s"
                    % (prefix, distribution, dist.version, exc)
                ) from None
            break
        else:
            raise ImportError(
                "%s, but the installed %s %s has no file %s or matching %r: "
                "pip install --force-reinstall %s"
                % (prefix, distribution, dist.version, library, pattern, quoted)
            )


try:
    {function}()
finally:
    del {function}
{end}
"""


def _shell_quoted(requirement: str) -> str:
    """``'REQ'`` for a shell: single quotes always, unless the requirement itself has one."""
    return f"'{requirement}'" if "'" not in requirement else shlex.quote(requirement)


def preload_source(provided: Sequence[ProvidedLibrary]) -> str:
    """Python source of the preload block for ``provided``, ending with a newline.

    The block is self-contained (stdlib only: ``importlib.metadata``, ``ctypes``, ``os``,
    ``fnmatch``; Python 3.8 or newer), delimited by :data:`BEGIN_MARKER` and
    :data:`END_MARKER`, and leaves no name behind in the namespace it runs in.  Libraries are
    listed by rank (:attr:`ProvidedLibrary.order`), then name, so equal input gives equal
    text.  For each library it looks through
    the provider distribution's RECORD for a file whose basename is the library name, else one
    matching the pattern that is a shared object (``.so`` in its name), and loads the first one
    that exists.  A missing distribution, a missing file or a failed load raises ImportError
    with a one-line message naming the package, library, requirement and the pip command.
    """
    if not provided:
        raise ValueError("preload_source needs at least one provided library")
    unique = {(p.order, p.name, p.pattern, p.distribution, p.requirement) for p in provided}
    entries = []
    for _, name, pattern, distribution, requirement in sorted(unique):
        values = (name, pattern, distribution, requirement, _shell_quoted(requirement))
        entries.append("        (" + ", ".join(_literal(v) for v in values) + "),")
    return _TEMPLATE.format(
        begin=BEGIN_MARKER, end=END_MARKER, function=FUNCTION_NAME, entries="\n".join(entries)
    )


def _literal(value: str) -> str:
    """A double-quoted Python string literal (``repr`` prefers single quotes)."""
    if '"' not in value and "\\" not in value and value.isprintable():
        return f'"{value}"'
    return repr(value)


# --------------------------------------------------------------------------------------------
# Placing the block


def inject_preload_bytes(data: bytes, block: str) -> bytes:
    """:func:`inject_preload` on the bytes of an ``__init__.py``, kept in its own encoding.

    The encoding is the one Python itself would use (PEP 263: a BOM or a coding cookie,
    else UTF-8); a file that is not valid in it is refused (InputError), never guessed at.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise InputError(f"cannot add the preload block: {exc.msg}") from exc
    codec = "utf-8" if encoding == "utf-8-sig" else encoding  # the BOM stays in the text
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"cannot add the preload block: not valid {encoding} "
            f"(byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from exc
    try:
        return inject_preload(text, block).encode(codec)
    except UnicodeEncodeError as exc:
        raise InputError(
            f"cannot add the preload block: it does not fit the file's encoding {encoding}"
        ) from exc


def inject_preload(init_text: str, block: str) -> str:
    """Insert ``block`` (from :func:`preload_source`) into the text of an ``__init__.py``.

    An existing truewheel block is replaced where it stands, so injecting twice gives the same
    text as injecting once.  Otherwise the block goes after the module docstring and any
    ``from __future__`` imports (which must stay first), separated by one blank line from what
    comes before and after; without those, after a leading comment header (shebang, coding
    cookie, licence) that is followed by a blank line, else at the very top (after a shebang
    or coding line).  An empty (or blank) file becomes just the block.  A leading BOM stays.

    Only the statements up to the insertion point are tokenized, so syntax newer than the
    running Python further down the file does not matter.  Raises ValueError for a block
    without markers, and InputError (a ValueError) for a file whose existing block is
    unterminated, out of order or duplicated: which one to replace is not ours to guess.
    """
    block_lines = block.splitlines()
    if not block_lines or block_lines[0] != BEGIN_MARKER or block_lines[-1] != END_MARKER:
        raise ValueError("block must start with the begin marker and end with the end marker")
    if not block.endswith("\n"):
        block += "\n"

    bom = ""
    if init_text.startswith("\ufeff"):
        bom, init_text = "\ufeff", init_text[1:]
    lines = io.StringIO(init_text).readlines()

    existing = _existing_block(lines)
    if existing is not None:
        start, stop = existing
        return bom + "".join(lines[:start]) + block + "".join(lines[stop:])

    if not init_text.strip():
        return bom + block

    split = _insertion_line(init_text, lines)
    head = "".join(lines[:split])
    if head and not head.endswith("\n"):
        head += "\n"
    rest_lines = lines[split:]
    while rest_lines and not rest_lines[0].strip():
        rest_lines.pop(0)
    rest = "".join(rest_lines)

    text = head
    if head:
        text += "\n"
    text += block
    if rest:
        text += "\n" + rest
    return bom + text


def _existing_block(lines: Sequence[str]) -> tuple[int, int] | None:
    """``(first, last + 1)`` line indexes of the truewheel block in ``lines``, if any."""
    begins = [i for i, line in enumerate(lines) if line.strip().startswith(_BEGIN_PREFIX)]
    ends = [i for i, line in enumerate(lines) if line.strip().startswith(_END_PREFIX)]
    if not begins and not ends:
        return None
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        where = ", ".join(str(i + 1) for i in sorted([*begins, *ends])[:6])
        raise InputError(
            f"cannot add the preload block: {len(begins)} begin and {len(ends)} end markers "
            f"of a truewheel preload block (lines {where}) are not one block; "
            "remove them by hand"
        )
    return begins[0], ends[0] + 1


_SKIPPED_TOKENS = frozenset(
    {tokenize.ENCODING, tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT}
)


def _insertion_line(text: str, lines: Sequence[str]) -> int:
    """Index of the line before which the block goes (0 = top of the file)."""
    after_head = 0  # lines[:after_head] hold the docstring and __future__ imports
    first_statement = True
    statement: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _SKIPPED_TOKENS and not statement:
                continue
            if token.type == tokenize.ENDMARKER:
                break
            if token.type != tokenize.NEWLINE:
                if token.type not in (tokenize.COMMENT, tokenize.NL):
                    statement.append(token)
                continue
            kinds = [t.type for t in statement]
            names = [t.string for t in statement[:2]]
            is_docstring = first_statement and bool(kinds) and set(kinds) == {tokenize.STRING}
            is_future = names == ["from", "__future__"]
            if not (is_docstring or is_future):
                break
            after_head = token.end[0]
            first_statement = False
            statement = []
    except (tokenize.TokenError, SyntaxError):
        pass  # the insertion point found so far stands; the rest is not ours to judge
    if after_head:
        return after_head
    return _header_end(lines)


def _header_end(lines: Sequence[str]) -> int:
    """End of the leading comment header, when no docstring or ``__future__`` import exists.

    A run of comment lines at the top that is followed by a blank line (a shebang, coding
    cookie or licence header) stays above the block; a comment directly attached to the code
    below it stays with that code, except a shebang or coding line, which must stay first.
    """
    count = 0
    while count < len(lines) and lines[count].lstrip().startswith("#"):
        count += 1
    if count and count < len(lines) and not lines[count].strip():
        return count
    keep = 0
    for index, line in enumerate(lines[:2]):
        if (index == 0 and line.startswith("#!")) or _CODING_RE.match(line):
            keep = index + 1
        else:
            break
    return keep


# --------------------------------------------------------------------------------------------
# Which __init__.py


def target_packages(
    extension_members: Sequence[str], members: Collection[str] | None = None
) -> list[str]:
    """The ``__init__.py`` wheel members that must carry the preload block, sorted.

    ``extension_members`` are wheel member paths of the shared objects that need provided
    libraries (extension modules, or libraries inside a package that they load), e.g.
    ``pkg/sub/_core.cpython-311-x86_64-linux-gnu.so``.  Importing ``pkg.sub._core`` always
    imports ``pkg`` first, so the block goes into the top-level package: ``pkg/__init__.py``.
    Files under ``{dist}.data/purelib/`` or ``.../platlib/`` count by their installed path.

    If ``members`` (every member name of the wheel) is given, the target is the outermost
    *regular* package on the path, the first directory that has an ``__init__.py`` member
    (so a namespace package such as ``google/`` is skipped, never given an ``__init__.py``);
    the member name returned is the one in the wheel (it may lie in a ``.data`` directory).
    Without ``members`` the top-level directory is assumed to be a regular package.

    Returns ``[]`` if any of ``extension_members`` cannot be covered by a package preload: a
    top-level module (``_foo.so``), a file in a directory that is not importable (``pkg.libs/``,
    other ``.data`` schemes), a file that is not a shared object (an executable), or, with
    ``members``, one with no regular package above it.  Call it per member to find which.
    """
    installed_inits: dict[str, str] = {}
    for member in members or ():
        installed = _installed_path(member)
        if installed is not None and installed.rsplit("/", 1)[-1] == "__init__.py":
            installed_inits.setdefault(installed, member)

    targets: set[str] = set()
    for member in extension_members:
        target = _target_for(member, installed_inits if members is not None else None)
        if target is None:
            return []
        targets.add(target)
    return sorted(targets)


def _installed_path(member: str) -> str | None:
    """Where a wheel member lands relative to site-packages; None for other ``.data`` schemes."""
    parts = member.strip("/").split("/")
    if len(parts) >= 2 and _DATA_DIR_RE.match(parts[0]):
        if parts[1] not in ("purelib", "platlib"):
            return None
        parts = parts[2:]
    return "/".join(parts) if parts else None


def _target_for(member: str, installed_inits: dict[str, str] | None) -> str | None:
    installed = _installed_path(member)
    if installed is None:
        return None
    *directories, filename = installed.split("/")
    if not directories or not _SHARED_OBJECT_RE.search(filename):
        return None
    if not all(part.isidentifier() for part in directories):
        return None
    if installed_inits is None:
        return f"{directories[0]}/__init__.py"
    for depth in range(1, len(directories) + 1):
        init = "/".join([*directories[:depth], "__init__.py"])
        if init in installed_inits:
            return installed_inits[init]
    return None


def preloaded_inits(wheel: WheelArchive, inits: Sequence[str], block: str) -> dict[str, bytes]:
    """Each ``__init__.py`` member of ``inits`` (empty if the wheel lacks it) with ``block``."""
    from truewheel.errors import located
    from truewheel.wheel.archive import MAX_TEXT_BYTES

    changed = {}
    for init in inits:
        member = wheel.zip.get(init)
        with located(wheel.path, init):
            data = wheel.read(member, limit=MAX_TEXT_BYTES) if member else b""
            changed[init] = inject_preload_bytes(data, block)
    return changed

"""Untrusted text meets the terminal here, and only here.

Member names, METADATA fields, DT_NEEDED entries and the messages that quote
them come from strangers.  Printed raw, an ESC sequence repaints the screen, a
``\\n`` forges a line of our own output, a bidi override reverses what the
reader sees, and ``[/x]`` is rich markup.  :func:`printable` shows every
character Python does not call printable as its escape (``\\x1b``, ``\\n``,
``\\u202e``), the way :func:`repr` would; :func:`cell` wraps it in a
:class:`rich.text.Text`, which rich never parses as markup.  JSON output needs
neither: ``json.dumps`` escapes control characters itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["cell", "error_line", "listing", "plain_text", "printable", "stacked"]

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(value: object) -> str:
    """``value`` as text with every non-printable character (C0, C1, separators, format
    characters such as bidi overrides, lone surrogates) shown as its escape."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def cell(value: object, style: str = "") -> Text:
    """A rich cell for untrusted text: escaped, and never parsed as markup."""
    from rich.text import Text

    return Text(printable(value), style=style)


def listing(items: Sequence[str], limit: int | None) -> str:
    """``a, b, c (+N more)``: one table cell stays short however many items there are."""
    if limit is None or len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" (+{len(items) - limit} more)"


def stacked(items: Sequence[str], limit: int | None) -> Text:
    """A rich cell with one item per line (each escaped), cut after ``limit`` items."""
    shown = [printable(item) for item in (items if limit is None else items[:limit])]
    if limit is not None and len(items) > limit:
        shown.append(f"(+{len(items) - limit} more)")
    from rich.text import Text

    return Text("\n".join(shown))


def error_line(error: object) -> str:
    """``truewheel: error: ...`` as exactly one line, whatever the message embeds."""
    return f"truewheel: error: {printable(error)}\n"


def plain_text(lines: Iterable[str]) -> str:
    """Lines of plain output as one text, each escaped so it stays one line on the screen."""
    return "".join(printable(line) + "\n" for line in lines)

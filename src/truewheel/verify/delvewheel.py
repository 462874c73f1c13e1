(
    """delvewheel's patch: the block it writes into a package's ``__init__.py`` when it repairs a
Windows wheel, so that the DLLs it grafted into ``<dist>.libs`` are found.

The block sits between ``# start delvewheel patch`` and ``# end delvewheel patch`` (with
``"""
    """`` before it when the module had no docstring of its own).  It is a repair edit,
not the project's code, but it runs at import, so it is accepted only in delvewheel's
shape: one function named ``_delvewheel_patch_<version>`` or
``_delvewheel_init_patch_<version>``, called once and deleted, whose body imports
``os``/``sys``/``ctypes``/``platform``, computes paths, tests versions, and calls nothing but
the path, DLL-loading and introspection functions its templates use (1.1 to 1.11), naming
a ``<dist>.libs`` directory the wheel has.  Anything else in the block, or outside it,
leaves the file as it was judged: different from the sdist.
"""
)

from __future__ import annotations

import ast
import re
import warnings

__all__ = ["without_patch"]

_START = re.compile(rb'^(?:"""""")?# start delvewheel patch\r?\n', re.M)
_END = re.compile(rb"^# end delvewheel patch\r?\n?", re.M)
_FUNCTION = re.compile(r"_delvewheel_(?:init_)?patch_\d+(?:_\d+)*")
_LIBS = re.compile(r"[A-Za-z0-9_.\-]+\.libs")
#: What delvewheel's templates call, by the called name.
_CALLS = frozenset({
    "abspath", "join", "dirname", "isdir", "isfile", "exists", "add_dll_directory",
    "getattr", "hasattr", "python_implementation", "open", "read", "split", "WinDLL",
    "LoadLibraryExW", "LoadLibraryW", "get_last_error", "WinError", "OSError",
    "GetModuleHandleW", "SetDllDirectoryW", "AddDllDirectory", "startswith", "lower",
    "get", "replace", "isinstance",
})  # fmt: skip
_REFUSED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Global)
_MODULES = frozenset({"os", "sys", "ctypes", "ctypes.wintypes", "platform"})


def without_patch(data: bytes, libs_dirs: set[str]) -> tuple[bytes, str] | None:
    """The module with delvewheel's block taken out, and the ``.libs`` directory the block
    adds; None when there is no such block or it is not in delvewheel's shape."""
    start = _START.search(data)
    end = _END.search(data, start.end()) if start else None
    if start is None or end is None:
        return None
    block = data[start.end() : end.start()]
    try:
        text = block.decode("utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    named = set(_LIBS.findall(text))
    if len(named) != 1 or not named <= libs_dirs or not _shape(tree):
        return None
    return data[: start.start()] + data[end.end() :], named.pop()


def _shape(tree: ast.Module) -> bool:
    """``def _delvewheel_patch_X(): ...``, ``_delvewheel_patch_X()``, ``del ...``."""
    if len(tree.body) != 3:
        return False
    define, call, delete = tree.body
    if not isinstance(define, ast.FunctionDef) or not _FUNCTION.fullmatch(define.name):
        return False
    name = define.name
    called = (
        isinstance(call, ast.Expr)
        and isinstance(call.value, ast.Call)
        and ast.unparse(call.value) == f"{name}()"
    )
    deleted = isinstance(delete, ast.Delete) and ast.unparse(delete) == f"del {name}"
    no_arguments = not (define.args.args or define.args.vararg or define.args.kwarg)
    return called and deleted and no_arguments and all(_safe(n) for n in define.body)


def _safe(node: ast.stmt) -> bool:
    for child in ast.walk(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in child.names]
            if isinstance(child, ast.ImportFrom):
                names = [child.module or ""]
            if not all(n in _MODULES for n in names):
                return False
        elif isinstance(child, ast.Call):
            func = child.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called not in _CALLS:
                return False
        elif isinstance(child, _REFUSED) or (
            isinstance(child, ast.Attribute) and child.attr.startswith("__")
        ):
            return False
    return True

"""Where setuptools takes each package from: ``package_dir``, read without running anything.

A wheel's ``regex/regex.py`` may come from the sdist's ``regex_3/regex.py`` when the project
says ``package_dir={'regex': 'regex_3'}``; no path-suffix search can see such a rename.
setuptools takes the mapping from three places, and all three are read here *statically*:
a literal dict in ``setup.py``'s ``setup(package_dir=...)`` call (or a module-level name
bound to one), ``[options] package_dir`` in ``setup.cfg``, and ``[tool.setuptools]
package-dir`` in ``pyproject.toml``.  ``setup.py`` is parsed, never executed: a
``package_dir`` computed at run time is simply not seen, and its members stay as the
suffix search finds them.  The mapping only *proposes* sources; the layout that explains
the most members still wins (``content.py``), so a stale ``setup.py`` beside another
backend's ``pyproject.toml`` cannot hide anything.

Each file is untrusted: decoding, syntax and shape problems make that file contribute
nothing (the reason is kept for the report), and a directory that leaves the tree
(``..``, absolute) is ignored.
"""

from __future__ import annotations

import ast
import configparser
import sys
import warnings
from dataclasses import dataclass

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["CONFIG_FILES", "MAX_CONFIG", "PackageDirs", "read_package_dirs"]

#: The files below the sdist's top directory that may declare ``package_dir``.
CONFIG_FILES = ("setup.py", "setup.cfg", "pyproject.toml")
#: A larger configuration file is not read (real ones are a few KiB).
MAX_CONFIG = 1 << 20


@dataclass(frozen=True)
class PackageDirs:
    """``(package, directory, declared in)`` triples, and why a file gave nothing."""

    mappings: tuple[tuple[str, str, str], ...] = ()
    problems: tuple[str, ...] = ()

    def sources(self, tree_path: str) -> list[tuple[str, str]]:
        """``(label, sdist path)`` of each file a mapping puts at ``tree_path``, when the
        mapping renames a package (a mere prefix such as ``"" -> "src"`` is left to the
        suffix search, which finds it anyway)."""
        *package, name = tree_path.split("/")
        out: list[tuple[str, str]] = []
        for declared in dict.fromkeys(where for _, _, where in self.mappings):
            table = {p: d for p, d, where in self.mappings if where == declared}
            for depth in range(len(package), -1, -1):
                key = ".".join(package[:depth])
                if key not in table:
                    continue
                directory = table[key]
                path = "/".join(p for p in (directory, *package[depth:], name) if p)
                if path != tree_path and not path.endswith("/" + tree_path):
                    shown = f"{directory}/" if directory else "(top)"
                    label = f"{shown} (package_dir {key or '(root)'})"
                    out.append((label, path))
                break
        return list(dict.fromkeys(out))


def read_package_dirs(files: dict[str, bytes]) -> PackageDirs:
    """The mappings declared by ``files`` (``setup.py``, ``setup.cfg``, ``pyproject.toml``
    from the sdist's top directory; any may be missing)."""
    mappings: list[tuple[str, str, str]] = []
    problems: list[str] = []
    readers = {"setup.py": _from_setup_py, "setup.cfg": _from_setup_cfg}
    readers["pyproject.toml"] = _from_pyproject
    for name in CONFIG_FILES:
        data = files.get(name)
        if data is None:
            continue
        try:
            text = data.decode("utf-8")
            found = readers[name](text)
        except (ValueError, SyntaxError, RecursionError, MemoryError, configparser.Error) as exc:
            problems.append(f"{name}: {type(exc).__name__}")
            continue
        for package, directory in found.items():
            clean = _directory(directory)
            if _package(package) and clean is not None:
                mappings.append((package, clean, name))
    return PackageDirs(tuple(mappings), tuple(problems))


def _package(name: str) -> bool:
    """A dotted package name; the first part may be a PEP 561 stub package
    (``rapidjson-stubs``)."""
    first, _, rest = name.partition(".")
    first = first.removesuffix("-stubs")
    return name == "" or all(part.isidentifier() for part in [first, *rest.split(".")] if part)


def _directory(value: str) -> str | None:
    """A relative POSIX directory that stays in the tree, normalised; None otherwise."""
    if value.startswith(("/", "\\")) or "\\" in value or "\0" in value or ":" in value:
        return None
    parts = [p for p in value.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


def _str_dict(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _from_setup_py(text: str) -> dict[str, str]:
    """``package_dir=`` of a ``setup(...)``/``setuptools.setup(...)`` call: a dict literal,
    ``dict(a='b')`` with literal values, or a module-level name assigned one of those; or
    the ``"package_dir"`` entry of a dict display that ``setup(**NAME)`` spreads (pygame's
    ``PACKAGEDATA``, its other values computed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes warn (3.12: SyntaxWarning, shown)
        tree = ast.parse(text)
    names: dict[str, ast.expr] = {}
    spreads: dict[str, list[ast.Dict]] = {}  # every dict display bound to a name, anywhere
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                names[target.id] = statement.value
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    spreads.setdefault(target.id, []).append(node.value)
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _called(node.func) != "setup":
            continue
        for keyword in node.keywords:
            if keyword.arg is None and isinstance(keyword.value, ast.Name):
                for display in spreads.get(keyword.value.id, ()):
                    for key, value in zip(display.keys, display.values, strict=True):
                        if isinstance(key, ast.Constant) and key.value == "package_dir":
                            found.update(_literal_dict(value))
                continue
            if keyword.arg != "package_dir":
                continue
            value = keyword.value
            if isinstance(value, ast.Name):
                value = names.get(value.id, value)
            found.update(_literal_dict(value))
    return found


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal_dict(node: ast.expr) -> dict[str, str]:
    if isinstance(node, ast.Call) and _called(node.func) == "dict" and not node.args:
        pairs = {k.arg: k.value for k in node.keywords if k.arg is not None}
        return _str_dict({k: _literal(v) for k, v in pairs.items()})
    return _str_dict(_literal(node)) if isinstance(node, ast.Dict) else {}


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None


def _from_setup_cfg(text: str) -> dict[str, str]:
    """``[options] package_dir``: ``key = directory`` per line (``= src`` for the root), or
    comma-separated on one line, as setuptools' ``_parse_dict`` reads it."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    if not parser.has_option("options", "package_dir"):
        return {}
    value = parser.get("options", "package_dir")
    lines = value.splitlines() if "\n" in value else value.split(",")
    found: dict[str, str] = {}
    for line in (line.strip() for line in lines):
        key, sep, directory = line.partition("=")
        if sep:
            found[key.strip()] = directory.strip()
    return found


def _from_pyproject(text: str) -> dict[str, str]:
    data = tomllib.loads(text)
    tool = data.get("tool")
    setuptools = tool.get("setuptools") if isinstance(tool, dict) else None
    if not isinstance(setuptools, dict):
        return {}
    return _str_dict(setuptools.get("package-dir"))

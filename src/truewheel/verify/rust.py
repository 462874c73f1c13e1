"""Which extension modules an sdist's Rust crates build, read from their manifests.

A PyO3 module exports ``PyInit_<name>`` where ``<name>`` is the crate's library name (or
maturin's ``module-name``), and every Rust extension is linked from crates: its own, and
those Cargo downloads (pinned with their checksums by ``Cargo.lock``).  "The sdist holds a
``Cargo.toml``" is therefore no evidence that *this* module came from it: any PyO3 module
would pass.  What counts is a name the sdist declares:

* ``[lib] name`` (else ``[package] name``, ``-`` read as ``_``) of a ``Cargo.toml`` whose
  library is a ``cdylib`` (what a Python extension is), or of the top directory's
  ``Cargo.toml`` (maturin makes a ``cdylib`` of it);
* the last part of ``[tool.maturin] module-name`` in ``pyproject.toml``.

Source names under Cargo's registry (``~/.cargo/registry/src/...``), the standard library
(``/rustc/<hash>/library/...``, ``/rust/deps/...``) are the dependencies' and the
toolchain's: never matched to an sdist file by their tail (``src/lib.rs`` is in every crate).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DEPENDENCY_PATHS", "RustCrates", "is_manifest"]

MAX_MANIFEST = 1 << 20
_MAX_MODULES = 1024
#: Where a Rust binary's source names point when the code is a dependency's or the toolchain's.
DEPENDENCY_PATHS = ("/.cargo/registry/", "/.cargo/git/", "/rustc/", "/rust/deps/")


def is_manifest(parts: tuple[str, ...], size: int) -> bool:
    """A ``Cargo.toml`` anywhere, or the top directory's ``pyproject.toml``."""
    return size <= MAX_MANIFEST and (
        parts[-1] == "Cargo.toml" or (len(parts) == 2 and parts[1] == "pyproject.toml")
    )


@dataclass
class RustCrates:
    """Extension module names the sdist's manifests declare, each with the file saying so."""

    modules: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, data: bytes, *, top: bool) -> None:
        """Read one manifest; ``top``: it is directly below the sdist's top directory."""
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, MemoryError):
            return
        if path.endswith("pyproject.toml"):
            tool = document.get("tool")
            maturin = tool.get("maturin") if isinstance(tool, dict) else None
            name = maturin.get("module-name") if isinstance(maturin, dict) else None
            if isinstance(name, str):
                self._declare(name.rsplit(".", 1)[-1], path)
            return
        lib = document.get("lib")
        package = document.get("package")
        lib = lib if isinstance(lib, dict) else {}
        kinds = lib.get("crate-type")
        cdylib = isinstance(kinds, list) and "cdylib" in kinds
        name = lib.get("name")
        if not isinstance(name, str) and isinstance(package, dict):
            name = package.get("name")
        if isinstance(name, str) and (cdylib or top):
            self._declare(name.replace("-", "_"), path)

    def _declare(self, name: str, path: str) -> None:
        if name.isidentifier() and len(self.modules) < _MAX_MODULES:
            self.modules.setdefault(name, path)

    def below(self, top: str) -> RustCrates:
        cut = len(top) + 1 if top else 0
        return RustCrates(
            {m: p[cut:] if p.startswith(top + "/") else p for m, p in self.modules.items()}
        )

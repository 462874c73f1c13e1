"""Run one harness under atheris (libFuzzer): ``python fuzz/target.py NAME [libFuzzer args]``.

Everything after NAME goes to libFuzzer: corpus directories to fuzz from, or files to run
once (a reproducer), and options such as ``-max_total_time=60 -timeout=2 -rss_limit_mb=512``.
``run.py`` is the usual way in; this is the one process it starts per harness.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import resource
import sys
from pathlib import Path

import atheris

#: The libraries each harness's input reaches through truewheel, instrumented so the fuzzer is
#: guided through them too.  Only modules imported inside the instrumenting block get coverage,
#: so the ones truewheel imports lazily (inside functions) are imported there up front.
INSTRUMENTED: dict[str, list[str]] = {
    "zip": ["packaging.metadata", "packaging.requirements", "packaging.tags"],
    "elf": [],
    "macho": [],
    "metadata": ["packaging.metadata", "packaging.requirements", "email.feedparser"],
    "sdist": ["tarfile", "zipfile", "gzip", "bz2", "lzma"],
}

INSTRUMENTED["pe"] = []  # PE/COFF (issue 14): truewheel.pe alone
#: verify (issue 15): its readers of PKG-INFO, setup.cfg, pyproject.toml and setup.py
INSTRUMENTED["verify"] = ["packaging.requirements", "packaging.version", "configparser", "tomllib"]

#: No single file written while fuzzing may grow beyond this (libFuzzer reports SIGXFSZ).
MAX_FILE_BYTES = 256 * 2**20


def _truewheel_modules() -> list[str]:
    """Every module of the library (not the CLI, which no harness calls)."""
    import truewheel

    found = pkgutil.walk_packages(truewheel.__path__, "truewheel.")
    return [m.name for m in found if not m.name.startswith(("truewheel.cli", "truewheel.__main__"))]


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in INSTRUMENTED:
        sys.exit(f"usage: target.py {{{','.join(INSTRUMENTED)}}} [libFuzzer args]")
    name = sys.argv.pop(1)
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    with atheris.instrument_imports(include=["truewheel", *INSTRUMENTED[name]]):
        for module in _truewheel_modules() + INSTRUMENTED[name]:
            importlib.import_module(module)
        import harnesses
    import findings
    import mutators  # after the harnesses, so zipfile and gzip are instrumented for sdist

    harness = harnesses.HARNESSES[name]
    if os.environ.get(findings.KEEP_GOING):
        harness = findings.keep_going(harness, Path(os.environ[findings.KEEP_GOING]))
    mutator = mutators.MUTATORS.get(name)
    extra = {"custom_mutator": mutator} if mutator else {}
    atheris.Setup(sys.argv, harness, **extra)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

"""The ``truewheel`` command line: parse arguments, call a command, render, exit.

Errors become exit codes in one place (:func:`main`): 0 success, 1 findings at
or above ``--fail-on`` (or differences), 2 bad input or usage, 3 an internal
error.  Commands return an :class:`~truewheel.cli._outcome.Outcome`; ``main``
writes it and decides the status from it.  An exception that is not
truewheel's own is a bug, whatever the input: it becomes one line naming the
input and asking for a report, and its traceback is shown only with
``--debug``.  Heavy modules (rich, the analysis) are imported inside the
commands so ``truewheel --help`` stays fast.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from truewheel import __version__
from truewheel._files import check_output_directory
from truewheel.cli._outcome import EXIT_ERROR, EXIT_INTERNAL, EXIT_OK, Outcome, finish
from truewheel.cli._text import error_line
from truewheel.errors import TruewheelError

__all__ = ["InternalError", "main", "working_on"]

FAIL_ON = ("error", "warning", "info", "never")
F = TypeVar("F", bound=Callable[..., Any])


def _executor_options(workers_help: str, dask_help: str) -> Callable[[F], F]:
    """``-j/--workers``, ``--dask`` and ``--dask-timeout``: where scan and verify --index run."""

    def decorate(command: F) -> F:
        command = click.option(
            "--dask-timeout",
            type=click.FloatRange(min=0.1),
            default=30.0,
            show_default=True,
            help="Seconds to wait for the Dask scheduler.",
        )(command)
        command = click.option(
            "--dask", "dask_address", metavar="ADDRESS", default=None, help=dask_help
        )(command)
        return click.option(
            "-j", "--workers", type=click.IntRange(1, 256), default=None, help=workers_help
        )(command)

    return decorate


@dataclass
class _Session:
    """What :func:`main` must know after a command has raised: only ``--debug``."""

    debug: bool = False


class InternalError(Exception):
    """A bug met while working on ``subject`` (an input); the cause is the real exception."""

    def __init__(self, subject: str) -> None:
        super().__init__(subject)
        self.subject = subject


@contextmanager
def working_on(subject: str | os.PathLike[str]) -> Iterator[None]:
    """Name the input in the report of a bug met while handling it.

    truewheel's own errors and interruptions pass through untouched: the
    per-wheel loops report those and go on.
    """
    try:
        yield
    except (TruewheelError, InternalError, click.exceptions.ClickException, click.Abort):
        raise
    except Exception as exc:
        raise InternalError(os.fspath(subject)) from exc


def imported() -> None:
    """The command's modules and tables are in: collect cycles normally from here on."""
    gc.enable()


def _check_wheel_dir(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A ``-w`` given that can never hold outputs is refused before any work, creating nothing."""
    if param.name and ctx.get_parameter_source(param.name) is not ParameterSource.DEFAULT:
        check_output_directory(value, option="-w")
    return value


def wheel_dir_option(default: str, help_text: str) -> Callable[[F], F]:
    """The ``-w/--wheel-dir`` option every writing command shares with auditwheel."""
    return click.option(
        "-w",
        "--wheel-dir",
        default=default,
        show_default=True,
        type=click.Path(file_okay=False, path_type=str),
        callback=_check_wheel_dir,
        help=help_text,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="truewheel")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Open, repair, prove and slim Python wheels that carry native code.

    \b
    Exit status: 0 success; 1 findings at or above --fail-on, or differences;
    2 bad input or usage; 3 internal error (a bug in truewheel: please report it).
    """
    ctx.ensure_object(_Session).debug = debug


@cli.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the JSON document (its schema: docs/json-schema.md in the repository).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write the output to this file (atomically) instead of stdout.",
)
@click.option(
    "--files", "show_files", is_flag=True, help="Also show a table of native files per wheel."
)
@click.option("-v", "--verbose", is_flag=True, help="Show every finding and the per-file tables.")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Threads for inflating and parsing (default: all cores).",
)
def inspect_command(
    paths: tuple[str, ...],
    as_json: bool,
    output: str | None,
    show_files: bool,
    verbose: bool,
    fail_on: str,
    workers: int | None,
) -> Outcome:
    """What is really inside these wheels, and will they work?

    PATHS are wheel files or directories (every *.whl below them).  Linux (ELF),
    macOS (Mach-O) and Windows (PE) wheels are each judged by their platform's
    loader and tag rules.

    \b
    Exit status: 0 no finding at or above --fail-on; 1 such findings; 2 a wheel
    could not be read (no -o file is written); 3 internal error.
    """
    from truewheel.cli._inspect import run_inspect

    imported()

    return run_inspect(
        paths,
        as_json=as_json,
        output=output,
        show_files=show_files or verbose,
        verbose=verbose,
        fail_on=fail_on,
        workers=workers,
    )


@cli.command("repair")
@click.argument("wheels", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--plat",
    default=None,
    help="Target platform tag (default: the most compatible the content allows).",
)
@wheel_dir_option("wheelhouse", "Directory for the repaired wheels.")
@click.option(
    "-L",
    "--lib-sdir",
    default=".libs",
    show_default=True,
    help="Suffix of the directory grafted libraries go to (<dist><suffix>).",
)
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="PATTERN",
    help="Do not graft libraries matching this glob (SONAME or path), nor what only they need.",
)
@click.option(
    "--provided-by",
    "providers",
    multiple=True,
    metavar="DIST[SPEC]:PATTERN",
    help="Libraries another distribution provides: keep DT_NEEDED, require it, preload it.",
)
@click.option("--strip", is_flag=True, help="Strip symbols from the wheel's ELF files.")
@click.option(
    "--only-plat",
    is_flag=True,
    help="Tag the wheel with the target tag (and its legacy alias) only, not a more "
    "compatible tag the content also meets.",
)
@click.option("--no-update-tags", is_flag=True, help="Keep the wheel's file name and WHEEL tags.")
@click.option(
    "-z",
    "--zip-compression-level",
    type=click.IntRange(-1, 9),
    default=None,
    help="Deflate level for new members, 0 (stored) to 9.",
)
@click.option(
    "--keep-rpath",
    is_flag=True,
    help="Keep RPATH/RUNPATH entries that point outside the wheel (build-host paths).",
)
@click.option(
    "--disable-isa-ext-check",
    is_flag=True,
    help="Do not let an x86-64 ISA level above baseline (x86-64-v2...) bound the tag.",
)
@click.option(
    "--ldpaths",
    metavar="DIRS",
    default=None,
    help="Colon-separated directories to find libraries in, instead of LD_LIBRARY_PATH, "
    "ld.so.conf and the default directories (AUDITWHEEL_LD_LIBRARY_PATH is still searched).",
)
@click.option(
    "--allow-pure-python-wheel",
    "allow_pure",
    is_flag=True,
    help="Copy a pure Python wheel (no ELF files) instead of refusing it.",
)
@click.option(
    "--patcher",
    default="patchelf",
    show_default=True,
    help="ELF patcher; only patchelf is supported.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report of everything done.")
def repair_command(wheels: tuple[str, ...], **options: Any) -> Outcome:
    """Graft external libraries into wheels, drop-in compatible with auditwheel repair.

    \b
    Exit status: 0 every wheel written; 2 a wheel could not be repaired (the
    others are written); 3 internal error.
    """
    from truewheel.cli._repair import run_repair

    return run_repair(wheels, **options)


@cli.command("unvendor")
@click.argument("wheels", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--lib",
    "patterns",
    multiple=True,
    metavar="PATTERN",
    help="Library to share, a glob on its unmangled name (libgmp*); repeat for chains "
    "(libmpfr* needs libgmp*). Required unless --plan.",
)
@wheel_dir_option("wheelhouse", "Directory for the library wheels and rewritten consumers.")
@click.option("--name", default=None, help="Distribution name of the library wheel (one library).")
@click.option(
    "--plan",
    "plan_only",
    is_flag=True,
    help="Change nothing: per library, the copies, the ABI gate's verdict, the bytes saved.",
)
@click.option(
    "--catalog",
    default=None,
    metavar="DB",
    help="With --plan: ask about the wheels of a scan catalog (truewheel scan --catalog) "
    "that hold a library another wheel also vendors.",
)
@click.option(
    "-z",
    "--zip-compression-level",
    type=click.IntRange(-1, 9),
    default=None,
    help="Deflate level for new members, 0 (stored) to 9.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report.")
def unvendor_command(wheels: tuple[str, ...], **options: Any) -> Outcome:
    """Share one copy of a library that several wheels vendor: a library wheel, and
    each consumer rewritten to require and preload it, ABI-checked and proven to load.

    \b
    Exit status: 0 written (or, with --plan, every library passes the ABI gate);
    1 with --plan, some library is refused; 2 bad input or a refused unvendor
    (nothing is written); 3 internal error.
    """
    from truewheel.cli._unvendor import run_unvendor

    return run_unvendor(wheels, **options)


@cli.command("normalize")
@click.argument("wheels", nargs=-1, required=True, type=click.Path(path_type=str))
@wheel_dir_option("wheelhouse", "Directory for the normalized wheels.")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; say why a wheel is not already normal, and exit 1 if one is not.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report (docs/json-schema.md).")
def normalize_command(
    wheels: tuple[str, ...], wheel_dir: str, check: bool, as_json: bool
) -> Outcome:
    """Rewrite wheels deterministically without changing any file inside.

    \b
    Exit status: 0 done (with --check: every wheel normal); 1 with --check, a
    wheel is not normal; 2 a wheel could not be read; 3 internal error.
    """
    from truewheel.cli._normalize import run_normalize

    imported()

    return run_normalize(wheels, wheel_dir=wheel_dir, check=check, as_json=as_json)


@cli.command("diff")
@click.argument("wheel_a", type=click.Path(path_type=str))
@click.argument("wheel_b", type=click.Path(path_type=str))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the differences as JSON (docs/json-schema.md)."
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Also list every member whose zip metadata differs."
)
def diff_command(wheel_a: str, wheel_b: str, as_json: bool, verbose: bool) -> Outcome:
    """Explain how two wheels differ: causes first, consequences after.

    Members of the two .dist-info (and .data) directories are paired by their
    path inside, so two versions of one project compare file by file.

    \b
    Exit status: 0 the files are byte for byte identical; 1 they differ (even
    if only in zip metadata or in the order of WHEEL Tag lines); 2 either file
    is missing or not a wheel; 3 internal error.
    """
    from truewheel.cli._diff import run_diff

    imported()

    return run_diff(wheel_a, wheel_b, as_json=as_json, verbose=verbose)


class _BuildCommand(click.Command):
    """``--check`` takes an optional N: a SOURCE written right after it is not N."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = list(args)
        for index, arg in enumerate(args):
            if arg == "--":
                break
            if arg == "--check":
                following = args[index + 1] if index + 1 < len(args) else None
                if following is None or not following.isdigit():
                    args.insert(index + 1, "2")
                break
        return super().parse_args(ctx, args)


@cli.command("build", cls=_BuildCommand)
@click.argument("source")
@wheel_dir_option("dist", "Directory for the wheel and its buildinfo.")
@click.option(
    "--check",
    "check",
    type=click.IntRange(min=2),
    default=None,
    is_flag=False,
    flag_value=2,
    help="Build N times (default 2) under varied conditions; exit 1 unless identical.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report (docs/json-schema.md).")
def build_command(source: str, wheel_dir: str, check: int | None, as_json: bool) -> Outcome:
    """Build SOURCE (sdist, directory or requirement) reproducibly.

    \b
    Exit status: 0 built (with --check: every build identical); 1 with --check,
    the builds differ; 2 bad source or failed build; 3 internal error.
    """
    from truewheel.cli._build import run_build

    imported()

    return run_build(source, wheel_dir=wheel_dir, check=check, as_json=as_json)


@cli.command("scan")
@click.argument("sources", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--env", "include_running", is_flag=True, help="Also scan this interpreter's environment."
)
@click.option(
    "--catalog",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="SQLite catalog to use [default: $XDG_CACHE_HOME/truewheel/catalog.sqlite].",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the JSON report (docs/json-schema.md)."
)
@click.option("--csv", "as_csv", is_flag=True, help="Print the report as CSV rows.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write the report to this file (atomically) instead of stdout.",
)
@_executor_options(
    "Local worker processes [default: all cores].",
    "Run on this Dask scheduler (tcp://host:8786) instead of local processes.",
)
@click.option("--rescan", is_flag=True, help="Scan every unit again, even if unchanged.")
@click.option(
    "--top",
    type=click.IntRange(1, 10_000),
    default=10,
    show_default=True,
    help="Rows per table in the text report.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="error",
    show_default=True,
    help="Exit 1 when an environment conflict is at least this severe.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
def scan_command(
    sources: tuple[str, ...],
    include_running: bool,
    catalog: str | None,
    as_json: bool,
    as_csv: bool,
    output: str | None,
    workers: int | None,
    dask_address: str | None,
    dask_timeout: float,
    rescan: bool,
    top: int,
    fail_on: str,
    no_progress: bool,
) -> Outcome:
    """Find duplicated and conflicting native libraries across wheels and environments.

    SOURCES are wheels, directories of wheels (searched recursively), or installed
    environments (a venv, a prefix or a site-packages directory).

    \b
    Exit status: 0 no conflict at or above --fail-on; 1 such conflicts; 2 a
    unit could not be read (no -o file is written; the catalog keeps the
    others); 3 internal error.
    """
    from truewheel.cli._scan import run_scan

    imported()

    return run_scan(
        sources,
        include_running=include_running,
        catalog=catalog,
        output_format="json" if as_json else "csv" if as_csv else "text",
        output=output,
        workers=workers,
        dask_address=dask_address,
        dask_timeout=dask_timeout,
        rescan=rescan,
        top=top,
        fail_on=fail_on,
        progress=not no_progress,
    )


@cli.command("verify")
@click.argument("inputs", nargs=-1, metavar="[WHEEL [NAME==VERSION] | SOURCES...]")
@click.option(
    "--sdist",
    default=None,
    type=click.Path(path_type=str),
    help="The sdist the wheel claims to come from (.tar.gz or .zip); without it, the "
    "sdist of NAME==VERSION (default: the wheel's own) is fetched from the index.",
)
@click.option(
    "--release",
    metavar="DIR",
    default=None,
    type=click.Path(path_type=str),
    help="Verify a release: DIR holds the sdist and every wheel of one version.",
)
@click.option(
    "--index",
    "index",
    is_flag=True,
    help="SOURCES are directory trees of releases or files of NAME==VERSION lines; "
    "one table row per release.",
)
@click.option(
    "--index-url",
    metavar="URL",
    default=None,
    help="Simple API to fetch releases from [default: $PIP_INDEX_URL or PyPI].",
)
@_executor_options(
    "With --index: local worker processes [default: 1].",
    "With --index: run on this Dask scheduler (tcp://host:8786).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the JSON report (docs/json-schema.md)."
)
@click.option("--csv", "as_csv", is_flag=True, help="With --index: print the table as CSV.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write the report to this file (atomically) instead of stdout.",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="List every member and every note, diffs in full."
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Also build the sdist here (truewheel build), repair it as WHEEL was, "
    "compare every member (one WHEEL, with --sdist or NAME==VERSION).",
)
def verify_command(inputs: tuple[str, ...], **options: Any) -> Outcome:
    """Does a wheel come from its sdist?  Metadata and every member, without building.

    \b
    truewheel verify WHEEL --sdist SDIST [--rebuild]
    truewheel verify WHEEL [NAME==VERSION] [--rebuild]   (the sdist fetched from the index)
    truewheel verify --release DIR           (an sdist and all wheels of one version)
    truewheel verify --index SOURCES...      (many releases, one row each)

    \b
    Exit status: 0 the wheel (or every release) corresponds to the sdist; 1 findings
    (metadata that PEP 643 says must match and does not, a file-name tag WHEEL does
    not list, code that differs from the sdist or that nothing in it accounts for,
    wheels of one release that disagree, a tag the content contradicts), or with
    --rebuild a rebuild that does not reproduce the wheel; 2 bad input, usage, a
    release that could not be read or fetched, or a sdist that does not build here
    (no -o file is written); 3 internal error.
    """
    from truewheel.cli._verify_modes import run_verify_modes

    imported()

    return run_verify_modes(inputs, **options)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status instead of raising SystemExit.

    The cycle collector is off while a command imports its modules: they allocate many
    objects that live as long as the process, and walking them again and again costs
    ~15 ms of a small repair.  The command turns it back on (:func:`imported`).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    installed = _exit_on_sigterm()
    try:
        return _main(argv)
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if was_enabled:
            gc.enable()


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _exit_on_sigterm() -> bool:
    """SIGTERM (``timeout``, a CI cancel) unwinds like Ctrl-C: temporary outputs are
    removed and a build's child processes stopped, instead of the process vanishing."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False  # the embedding program handles it
    signal.signal(signal.SIGTERM, _terminated)
    return True


def _main(argv: Sequence[str] | None) -> int:
    session = _Session()
    args = list(argv) if argv is not None else None
    try:
        result = cli.main(args=args, standalone_mode=False, obj=session)
        if isinstance(result, Outcome):
            return finish(result)
    except click.exceptions.Abort:
        sys.stderr.write("truewheel: aborted\n")
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except TruewheelError as exc:
        sys.stderr.write(error_line(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("truewheel: interrupted\n")
        return EXIT_ERROR
    except BrokenPipeError:
        _quiet_stdout()  # the reader went away: not a bug, and nothing left to say
        return EXIT_ERROR
    except Exception as exc:
        return _internal_error(exc, session.debug)
    return EXIT_OK  # --help, --version


def _internal_error(exc: Exception, debug: bool) -> int:
    """One line for a bug; the traceback (with the cause) only when asked for."""
    cause: BaseException = exc
    subject = ""
    if isinstance(exc, InternalError) and exc.__cause__ is not None:
        cause, subject = exc.__cause__, f"{exc.subject}: "
    if debug:
        traceback.print_exception(cause, file=sys.stderr)
    hint = "" if debug else "; --debug shows the traceback"
    what = f"{type(cause).__name__}: {cause}"
    sys.stderr.write(error_line(f"{subject}internal error, please report ({what}{hint})"))
    return EXIT_INTERNAL


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

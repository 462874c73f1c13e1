"""The fuzz targets: bytes in, one public truewheel entry point called, only its own errors out.

Each harness is a plain function so it can run under atheris (``target.py``) or be called
by hand on a reproducer.  A :class:`~truewheel.errors.TruewheelError` is the expected answer
to bad input; any other exception escapes and is a finding, and so is a broken promise the
harness checks itself (an error that does not name the file, files written outside the build
directory, an input that was modified).  Time and memory bounds are the runner's business.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from truewheel.analysis import member
from truewheel.analysis.inspector import Inspector
from truewheel.elf import ElfFile
from truewheel.elf.dwarf import read_producers
from truewheel.elf.source import BytesSource, RangeSet, SparseSource, Unavailable
from truewheel.errors import MachOError, TruewheelError
from truewheel.macho import MachOFile, is_macho, read_macho, slice_ranges
from truewheel.macho import symbols as macho_symbols
from truewheel.policy.libraries import LibraryTable
from truewheel.reproducible.source import prepare_source
from truewheel.wheel.archive import WheelArchive
from truewheel.wheel.metadata import CoreMetadata, WheelInfo
from truewheel.wheel.record import parse_record
from truewheel.wheel.zipreader import ZipReader

__all__ = ["HARNESSES", "Finding"]

#: A tag that makes inspect judge the platform of the ELF members it finds.
WHEEL_NAME = "fuzz-1.0-cp311-cp311-linux_x86_64.whl"
#: More than a member of a fuzzed wheel can legitimately unpack to (deflate stops near 1032:1).
MAX_UNPACKED_BYTES = 100 * 2**20


class Finding(AssertionError):
    """A promise broken without an exception from truewheel itself."""


_scratch_root: Path | None = None
_inspector: Inspector | None = None


def _scratch() -> Path:
    """One private directory per process; each input gets a fresh subdirectory."""
    global _scratch_root
    if _scratch_root is None:
        _scratch_root = Path(tempfile.mkdtemp(prefix="truewheel-fuzz-"))
    return _scratch_root


@contextmanager
def _fresh_dir() -> Iterator[Path]:
    work = _scratch() / "work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _expect_located(exc: TruewheelError, path: Path) -> None:
    if not exc.path:
        raise Finding(f"error does not name the file {path.name}: {exc!r}") from exc


def zip_archive(data: bytes) -> None:
    """ZipReader reads every member; WheelArchive opens; inspect runs to a report."""
    global _inspector
    if _inspector is None:
        _inspector = Inspector(workers=1)
    with _fresh_dir() as work:
        path = work / WHEEL_NAME
        path.write_bytes(data)
        try:
            with ZipReader(path) as reader:
                for member in reader.members:
                    reader.read(member)
        except TruewheelError as exc:
            _expect_located(exc, path)
        try:
            with WheelArchive(path) as wheel:
                for member in wheel.files:
                    wheel.read(member)
        except TruewheelError as exc:
            _expect_located(exc, path)
            return
        try:
            _inspector.inspect(path)
        except TruewheelError as exc:
            _expect_located(exc, path)
        if path.read_bytes() != data:
            raise Finding("the input wheel was modified")


def elf(data: bytes) -> None:
    """ElfFile.parse and every derived fact a report shows (and diff's DW_AT_producer reader);
    the same facts from a stream.

    The file read as a stream of small chunks (what inspect does with a member), keeping
    only the first 512 bytes eagerly so the second-pass logic is exercised, must give the
    facts the whole file gives, or the same kind of error.
    """
    try:
        parsed = ElfFile.parse(data)
    except TruewheelError:
        parsed = None
    if parsed is not None:
        _ = (
            parsed.architecture,
            parsed.x86_isa_level,
            parsed.has_debug_info,
            parsed.is_shared_object,
            [parsed.offset_of(vaddr) for vaddr, _, _ in parsed.loads],
        )
        try:  # diff's DW_AT_producer reader: hostile DWARF is an ElfError, nothing else
            read_producers(parsed, BytesSource(data))
        except TruewheelError:
            pass
        try:  # versioned dynamic symbols (the unvendor ABI gate)
            ElfFile.dynamic_symbols(BytesSource(data))
        except TruewheelError:
            pass
    chunks = [data[i : i + 97] for i in range(0, len(data), 97)]
    eager, member.EAGER_BYTES = member.EAGER_BYTES, 512
    try:
        streamed = member.analyze_stream(lambda: iter(chunks), len(data), "libfuzz.so", None)
    except TruewheelError:
        streamed = None
    finally:
        member.EAGER_BYTES = eager
    if parsed is not None and (streamed is None or streamed.elf != parsed):
        raise Finding("the streamed facts differ from the whole file's")


def macho(data: bytes) -> None:
    """read_macho from bytes lets only MachOError out; the same file from a stream's kept
    ranges (what slice_ranges names, asked again while it says a header is missing) gives
    the same facts or the same error."""
    _ = is_macho(data[:12])
    try:
        whole: MachOFile | str = read_macho(BytesSource(data, error=MachOError))
    except MachOError as exc:
        whole = str(exc)
    if isinstance(whole, MachOFile):
        _ = [(s.macos_minimum, [b.minos_key for b in s.build_versions]) for s in whole.slices]
        _ = macho_symbols.symbol_ranges(BytesSource(data, error=MachOError))
        _version_symbols(data, whole, ".dylib")
    try:
        streamed: MachOFile | str = _macho_streamed(data)
    except MachOError as exc:
        streamed = str(exc)
    if streamed != whole:
        raise Finding(f"the streamed facts differ from the whole file's: {streamed!r}")


#: One version symbol per kind, as the fixtures' stand-ins (tests/fixtures/csrc/twversion.c)
#: export them, and a file name of the family that reads it.
_VERSION_SYMBOLS = (
    ("__gmp_version", "pointer", "libgmp.10"),
    ("flint_version", "array", "libflint"),
    ("mpfr_get_version", "function", "libmpfr"),
)
_libraries: LibraryTable | None = None


def _version_symbols(data: bytes, image: MachOFile | PEFile, suffix: str) -> None:
    """Each kind of version symbol read from the whole file is a string or None, nothing
    else; inspect's streamed analysis of the same bytes under the family's file name finds
    the same version."""
    global _libraries
    _libraries = _libraries or LibraryTable.load()
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    for symbol, kind, stem in _VERSION_SYMBOLS:
        error = MachOError if isinstance(image, MachOFile) else PEError
        source = BytesSource(data, error=error)
        if isinstance(image, MachOFile):
            value = macho_symbols.exported_string(image, source, symbol, kind)
        else:
            value = pe_symbols.exported_string(source, symbol, kind)
        if value is not None and (not isinstance(value, str) or not value.isprintable()):
            raise Finding(f"{symbol} read as {value!r}")
        try:
            streamed = member.analyze_stream(
                lambda: iter(chunks), len(data), f"x/{stem}{suffix}", _libraries
            )
        except TruewheelError:
            continue  # the stream's own verdict on the file; compared by the callers
        found = [v.version for v in streamed.versions]
        if found != ([value] if value else []):
            raise Finding(f"{symbol}: the stream found {found}, the whole file {value!r}")


def _macho_streamed(data: bytes) -> MachOFile:
    wanted = RangeSet([(0, min(len(data), 64))])
    for _ in range(64):
        source = SparseSource(len(data), wanted, error=MachOError)
        source.feed(0, data)
        try:
            ranges = slice_ranges(source)
        except Unavailable as missing:
            wanted.add(missing.offset, missing.offset + missing.size)
            continue
        kept = RangeSet((offset, offset + size) for offset, size in ranges)
        source = SparseSource(len(data), kept, error=MachOError)
        source.feed(0, data)
        try:
            return read_macho(source)
        except Unavailable as exc:
            raise Finding(f"read_macho needs {exc} beyond what slice_ranges named") from exc
    raise Finding("slice_ranges kept asking for more")


def metadata(data: bytes) -> None:
    """The same text as WHEEL, as METADATA (with its lazy fields) and as RECORD."""
    text = data.decode("utf-8", "replace")
    try:
        info = WheelInfo.parse(text, path=WHEEL_NAME, member="fuzz-1.0.dist-info/WHEEL")
        _ = info.platforms
    except TruewheelError:
        pass
    try:
        core = CoreMetadata.parse(text, path=WHEEL_NAME, member="fuzz-1.0.dist-info/METADATA")
        _ = (
            core.metadata_version,
            core.requires_dist,
            core.license_expression,
            core.unparsed,
            core.matches("fuzz"),
        )
    except TruewheelError:
        pass
    try:
        entries, problems = parse_record(text)
    except TruewheelError:
        return
    if not all(isinstance(p, str) and p for p in problems):
        raise Finding(f"parse_record returned an empty or odd problem: {problems!r}")
    for entry in entries.values():
        if entry.size is not None and entry.size < 0:
            raise Finding(f"negative size in RECORD entry {entry!r}")


_ARCHIVE_MAGIC = (
    (b"PK", ".zip"),
    (b"\x1f\x8b", ".tar.gz"),
    (b"BZh", ".tar.bz2"),
    (b"\xfd7zXZ\x00", ".tar.xz"),
)


def sdist_suffix(data: bytes) -> str:
    """The name an sdist with these bytes would carry; anything unrecognised is a plain tar."""
    return next((suffix for magic, suffix in _ARCHIVE_MAGIC if data.startswith(magic)), ".tar")


def sdist(data: bytes) -> None:
    """prepare_source unpacks into its target and nowhere else, and never alters the input."""
    cwd_before = _listing(Path.cwd())
    with _fresh_dir() as work:
        inbox, outbox = work / "in", work / "out"
        inbox.mkdir()
        outbox.mkdir()
        archive = inbox / f"fuzz-1.0{sdist_suffix(data)}"
        archive.write_bytes(data)
        target = outbox / "src"
        try:
            prepare_source(archive, target)
        except TruewheelError as exc:
            _expect_located(exc, archive)
        if _listing(inbox) != [archive.name] or archive.read_bytes() != data:
            raise Finding(f"the input directory changed: {_listing(inbox)}")
        if _listing(outbox) not in ([], ["src"]):
            raise Finding(f"written beside the target: {_listing(outbox)}")
        if _listing(work) != ["in", "out"]:
            raise Finding(f"written outside the target: {_listing(work)}")
        if target.exists():
            _check_tree(target)
    if _listing(Path.cwd()) != cwd_before:
        raise Finding("written into the current directory")


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _check_tree(root: Path) -> None:
    """No link leads out of ``root``; no hard link is shared with a file outside it."""
    top = root.resolve()
    links: dict[tuple[int, int], tuple[int, int]] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = path.lstat()
            if path.is_symlink():
                if not path.resolve().is_relative_to(top):
                    raise Finding(f"link out of the tree: {path} -> {path.readlink()}")
            elif not stat.S_ISDIR(info.st_mode):
                total += info.st_size
                if info.st_nlink > 1:
                    seen, nlink = links.get((info.st_dev, info.st_ino), (0, info.st_nlink))
                    links[(info.st_dev, info.st_ino)] = (seen + 1, nlink)
    if total > MAX_UNPACKED_BYTES:
        raise Finding(f"unpacked {total} bytes")
    for seen, nlink in links.values():
        if seen < nlink:
            raise Finding("a hard link is shared with a file outside the tree")


HARNESSES: dict[str, Callable[[bytes], None]] = {
    "zip": zip_archive,
    "elf": elf,
    "macho": macho,
    "metadata": metadata,
    "sdist": sdist,
}


# --- PE/COFF (issue 14) ---------------------------------------------------------------------

from truewheel.errors import PEError  # noqa: E402
from truewheel.pe import PEFile, pe_ranges, pe_tables, read_pe  # noqa: E402
from truewheel.pe import symbols as pe_symbols  # noqa: E402

#: More passes than a stream of any well-formed image needs with 512 bytes kept eagerly.
_PE_PASSES = 16


def pe_streamed(data: bytes, eager: int = 512) -> tuple[PEFile | None, int, int]:
    """The facts read as a stream would be (None on PEError), the passes over the bytes it
    took and the bytes kept: each pass keeps the first ``eager`` bytes and the ranges named
    so far (by pe_ranges, pe_tables or an Unavailable), then asks again."""
    wanted = RangeSet([(0, eager)])
    for passes in range(1, _PE_PASSES + 1):
        source = SparseSource(len(data), RangeSet(wanted), error=PEError)
        for at in range(0, len(data), 97):
            source.feed(at, data[at : at + 97])
        try:
            for step in (pe_ranges, pe_tables):
                for start, size in step(source):
                    wanted.add(start, start + size)
            return read_pe(source), passes, source.kept_bytes
        except Unavailable as missing:
            kept = source.wanted.covers(missing.offset, missing.offset + missing.size)
            if missing.size <= 0 or kept:
                raise Finding(
                    f"asked again for kept bytes {missing.offset}+{missing.size}"
                ) from missing
            wanted.add(missing.offset, missing.offset + missing.size)
        except PEError:
            return None, passes, source.kept_bytes
    raise Finding(f"still asking for bytes after {_PE_PASSES} passes")


def pe(data: bytes) -> None:
    """read_pe on the whole file; only PEError may come out.  The same bytes read sparsely
    (pe_ranges, pe_tables, then read_pe, a pass per missing range) give the same facts."""
    try:
        whole: PEFile | None = read_pe(BytesSource(data, error=PEError))
    except PEError:
        whole = None
    if whole is not None:
        _ = whole.pdb_paths
        _ = pe_symbols.symbol_ranges(BytesSource(data, error=PEError))
        _version_symbols(data, whole, ".dll")
    streamed, _, _ = pe_streamed(data)
    if whole is not None and streamed != whole:
        raise Finding("the streamed facts differ from the whole file's")


HARNESSES["pe"] = pe


# --- verify's own parsing of an sdist (issue 15) ---------------------------------------------

import base64  # noqa: E402
import csv  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import tarfile  # noqa: E402
import zipfile  # noqa: E402

from truewheel.verify import verify_wheel  # noqa: E402
from truewheel.verify.buildfiles import BuildFiles  # noqa: E402
from truewheel.verify.generated import generated_reason  # noqa: E402
from truewheel.verify.metadata import compare_metadata  # noqa: E402
from truewheel.verify.packagedirs import read_package_dirs  # noqa: E402
from truewheel.verify.templates import rendered_from  # noqa: E402

#: The texts a ``verify`` input holds, separated by NUL bytes, in this order.
VERIFY_PARTS = (
    "PKG-INFO",
    "METADATA",
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "pkg/meson.build",
    "pkg/config.py.in",
    "pkg/config.py",
)
_TREE_PATHS = ("pkg/config.py", "pkg/sub/mod.py", "mod.py", "a/b/c/d.py")


def verify_texts(data: bytes) -> None:
    """verify's readers of PKG-INFO against METADATA, package_dir (setup.py, setup.cfg,
    pyproject.toml), meson.build and f2py names, templates and version files, each alone and
    then through ``verify_wheel`` on an sdist and a wheel made of the same texts: only
    TruewheelError out, no mapping that leaves the tree, no problem without a reason."""
    parts = dict(zip(VERIFY_PARTS, data.split(b"\x00"), strict=False))
    texts = {name: part.decode("utf-8", "replace") for name, part in parts.items()}
    try:
        compare_metadata(texts.get("PKG-INFO", ""), texts.get("METADATA", ""))
    except TruewheelError:
        pass
    configs: dict[str, bytes] = {
        n: parts[n] for n in ("setup.py", "setup.cfg", "pyproject.toml") if n in parts
    }
    found = read_package_dirs(configs)
    if not all(isinstance(p, str) and p for p in found.problems):
        raise Finding(f"package_dir problem without a reason: {found.problems!r}")
    for package, directory, where in found.mappings:
        if directory.startswith("/") or ".." in directory.split("/") or where not in configs:
            raise Finding(f"package_dir mapping leaves the tree: {package!r} -> {directory!r}")
    for tree_path in _TREE_PATHS:
        for _, path in found.sources(tree_path):
            if path.startswith("/") or ".." in path.split("/"):
                raise Finding(f"package_dir source outside the tree: {path!r}")
    build = BuildFiles()
    build.add("top/pkg/meson.build", parts.get("pkg/meson.build", b""))
    build.add("top/pkg/sig.pyf", parts.get("pkg/config.py.in", b""))
    build.below("top").meson_naming("config.py", ["pkg", ""])
    template, output = parts.get("pkg/config.py.in", b""), parts.get("pkg/config.py", b"")
    for python in (True, False):
        filled = rendered_from(template, output, python=python)
        if filled is not None and (filled < 0 or (template == output and filled != 0)):
            raise Finding(f"rendered_from counted {filled} for {template!r}")
    generated_reason("pkg/_version.py", output, "1.0")
    with _fresh_dir() as work:
        _verify_pair(work, parts)


def _verify_pair(work: Path, parts: dict[str, bytes]) -> None:
    sdist = work / "fuzz-1.0.tar"
    with tarfile.open(sdist, "w") as tar:
        for name in VERIFY_PARTS:
            if name in parts and name not in ("METADATA", "pkg/config.py"):
                info = tarfile.TarInfo(f"fuzz-1.0/{name}")
                info.size = len(parts[name])
                tar.addfile(info, io.BytesIO(parts[name]))
    members = {
        "pkg/config.py": parts.get("pkg/config.py", b""),
        "pkg/__init__.py": b"",
        "fuzz-1.0.dist-info/METADATA": parts.get("METADATA", b""),
        "fuzz-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, body in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
        writer.writerow([name, f"sha256={digest}", len(body)])
    writer.writerow(["fuzz-1.0.dist-info/RECORD", "", ""])
    members["fuzz-1.0.dist-info/RECORD"] = record.getvalue().encode()
    wheel = work / "fuzz-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, body in members.items():
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body)
    try:
        verify_wheel(wheel, sdist)
    except TruewheelError as exc:
        _expect_located(exc, wheel)


HARNESSES["verify"] = verify_texts

"""Property-based fuzzing of the zip and ELF readers: only truewheel's own errors may escape."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truewheel.analysis.inspector import Inspector
from truewheel.analysis.member import analyze_bytes, analyze_stream
from truewheel.elf import ElfFile
from truewheel.errors import TruewheelError
from truewheel.policy.libraries import LibraryTable
from truewheel.wheel import ZipReader

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (offset fraction, replacement bytes) pairs applied to a real file
mutations = st.lists(
    st.tuples(st.floats(min_value=0, max_value=1), st.binary(min_size=1, max_size=8)),
    min_size=1,
    max_size=6,
)


def mutate(data: bytes, changes: list[tuple[float, bytes]], cut: float | None) -> bytes:
    buffer = bytearray(data)
    for where, replacement in changes:
        at = int(where * (len(buffer) - 1))
        buffer[at : at + len(replacement)] = replacement
    if cut is not None:
        del buffer[int(cut * len(buffer)) :]
    return bytes(buffer)


@pytest.fixture(scope="module")
def small_wheel(fixture_wheels: dict[str, Path]) -> bytes:
    return fixture_wheels["internal_rpath"].read_bytes()


@pytest.fixture(scope="module")
def elf_bytes(fixture_wheels: dict[str, Path]) -> bytes:
    with zipfile.ZipFile(fixture_wheels["debug_paths"]) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".so"))
        return archive.read(name)


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    return Inspector(workers=1)


@FUZZ
@given(changes=mutations, cut=st.one_of(st.none(), st.floats(min_value=0, max_value=1)))
def test_zip_reader_and_inspect_only_raise_truewheel_errors(
    small_wheel: bytes, inspector: Inspector, changes: list[tuple[float, bytes]], cut: float | None
) -> None:
    data = mutate(small_wheel, changes, cut)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "twinner-1.0-cp311-cp311-linux_x86_64.whl"
        path.write_bytes(data)
        try:
            with ZipReader(path) as reader:
                for member in reader.members:
                    reader.read(member)
            inspector.inspect(path)
        except TruewheelError as exc:
            assert exc.path and str(exc)


@FUZZ
@given(changes=mutations, cut=st.one_of(st.none(), st.floats(min_value=0, max_value=1)))
def test_elf_reader_only_raises_truewheel_errors(
    elf_bytes: bytes, changes: list[tuple[float, bytes]], cut: float | None
) -> None:
    data = mutate(elf_bytes, changes, cut)
    try:
        ElfFile.parse(data)
    except TruewheelError as exc:
        assert str(exc)
    try:
        whole = analyze_bytes(data, "libfuzz.so", _TABLE)
    except TruewheelError as exc:
        assert str(exc)
        return
    streamed = analyze_stream(
        lambda: (data[i : i + 333] for i in range(0, len(data), 333)),
        len(data),
        "libfuzz.so",
        _TABLE,
    )
    assert streamed.elf == whole.elf and streamed.build_paths == whole.build_paths


_TABLE = LibraryTable.load()


@FUZZ
@given(data=st.binary(max_size=512))
def test_elf_reader_on_arbitrary_bytes(data: bytes) -> None:
    try:
        ElfFile.parse(b"\x7fELF" + data)
    except TruewheelError as exc:
        assert str(exc)


_HEADER_LINES = st.lists(
    st.one_of(
        st.builds(
            "{}:{}{}".format,
            st.sampled_from(["Name", "name", "Version", "Tag", "TAG", "Wheel-Version", "X-Y"]),
            st.sampled_from(["", " ", "  ", "\t"]),
            st.text(alphabet="abc 1.-_:\t", max_size=12),
        ),
        st.builds("{}{}".format, st.sampled_from([" ", "\t"]), st.text("ab c", max_size=6)),
        st.sampled_from(["", "no colon here", "Bad Name: x", "Name : x", ":empty", "  "]),
    ),
    max_size=8,
)


@FUZZ
@given(lines=_HEADER_LINES, ending=st.sampled_from(["\n", "\r\n"]))
def test_headers_read_like_email_compat32(lines: list[str], ending: str) -> None:
    """The small header reader gives what email.parser's compat32 policy gives."""
    import email.parser
    import email.policy

    from truewheel.wheel.metadata import Headers

    text = ending.join(lines) + ending + ending + "Name: in the body\n"
    ours = Headers(text)
    theirs = email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)
    for name in ("Name", "Version", "Tag", "Wheel-Version", "X-Y"):
        expected = [v.replace("\r\n", "\n") for v in theirs.get_all(name) or []]
        assert ours.get_all(name) == expected, (text, name)
        assert ours.get(name) == (expected[0] if expected else None)

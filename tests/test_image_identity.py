"""Which library a dylib or DLL is: names and version texts of libraries/data (libraries.json)
read from real Mach-O (clang + ld64.lld) and PE (mingw-w64) files built under the names the
wheels ship them with (pycurl's nghttp2/nghttp3/ngtcp2, soundfile's libsndfile, sounddevice's
PortAudio), from csrc/twbanner.c."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from conftest import _load_fixture_module
from truewheel.analysis.inspector import Inspector

BARE = "1.70.0"  # nghttp2_version()'s string: a bare number names no library
SNDFILE = "libsndfile-1.2.2"
PORTAUDIO = "PortAudio V19.7.0-devel, revision unknown"
#: file name -> (its text, family, version read)
MAC = {
    "libnghttp2.14.29.5.dylib": (BARE, "nghttp2", None),
    "libnghttp3.9.9.0.dylib": (BARE, "nghttp3", None),
    "libngtcp2.16.11.0.dylib": (BARE, "ngtcp2", None),
    "libngtcp2_crypto_ossl.0.3.1.dylib": (BARE, "ngtcp2", None),
    "libsndfile_arm64.dylib": (SNDFILE, "libsndfile", "1.2.2"),
    "libportaudio.dylib": (PORTAUDIO, "portaudio", "19.7.0"),
}
WIN = {
    "nghttp2-3f72a8e7344d9a491b7eddf9527132f6.dll": (BARE, "nghttp2", None),
    "nghttp3.dll": (BARE, "nghttp3", None),
    "ngtcp2.dll": (BARE, "ngtcp2", None),
    "psl-5-9f70115118a8026e18a740db4b9141cd.dll": (BARE, "libpsl", None),
    "libsndfile_x64.dll": (SNDFILE, "libsndfile", "1.2.2"),
    "libportaudio64bit.dll": (PORTAUDIO, "portaudio", "19.7.0"),
    "libportaudioarm64.dll": (PORTAUDIO, "portaudio", "19.7.0"),
}


def _identities(wheel: Path) -> dict[str, tuple[str, str | None] | None]:
    report = Inspector().inspect(wheel)
    return {
        f.path.rsplit("/", 1)[-1]: (f.identity.family, f.identity.version) if f.identity else None
        for f in report.images
    }


def test_mach_o_libraries_by_name_and_text(
    tmp_path: Path, machobuild: ModuleType, wheelbuild: ModuleType
) -> None:
    tools = machobuild.find_tools(tmp_path / "bin")
    if tools is None:
        pytest.skip("clang, ld64.lld or llvm-lipo missing")
    mb = machobuild.MacBuild(tools, tmp_path)
    contents = wheelbuild._WheelContents("twid", "dylibs known by name and text")
    contents.add_text("twid/__init__.py", "")
    for name, (text, _, _) in MAC.items():
        flags = (f"-DTW_BANNER={_c_string(text)}", f"-Wl,-install_name,@rpath/{name}")
        src = [str(machobuild.CSRC / "twbanner.c")]
        out = mb.link(
            tmp_path / name, src, arch="arm64", macos="11.0", kind="-dynamiclib", flags=flags
        )
        contents.add_bytes(f"twid/.dylibs/{name}", out.read_bytes(), 0o755)
    wheel = contents.write(tmp_path, "py3-none-macosx_11_0_arm64")
    assert _identities(wheel) == {n: (f, v) for n, (_, f, v) in MAC.items()}


def test_windows_libraries_by_name_and_text(tmp_path: Path, wheelbuild: ModuleType) -> None:
    pebuild: ModuleType = _load_fixture_module("pebuild")
    if not pebuild.shutil.which(pebuild.TARGETS["amd64"].gcc):
        pytest.skip("mingw-w64 missing")
    builder = pebuild._Builder(tmp_path)
    contents = wheelbuild._WheelContents("twid", "DLLs known by name and text")
    contents.add_text("twid/__init__.py", "")
    for name, (text, _, _) in WIN.items():
        out = builder.gcc(
            "amd64", tmp_path / name, ["twbanner.c"], [f"-DTW_BANNER={_c_string(text)}"]
        )
        contents.add_bytes(f"twid.libs/{name}", out.read_bytes())
    wheel = contents.write(tmp_path, "py3-none-win_amd64")
    assert _identities(wheel) == {n: (f, v) for n, (_, f, v) in WIN.items()}


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_drive_letter_search_in_chunks_sees_the_byte_before_the_letter() -> None:
    """``qrc:/qt-project.org/...`` (a Qt resource URL) is no path on drive c, wherever the
    stream's chunks are cut; ``"C:/Users/...`` and ``=D:\\a\\...`` are."""
    from truewheel.analysis.image_paths import windows_path_search

    data = (
        b'\x00qrc:/qt-project.org/imports/QtQuick/check.png\x00"C:/Users/a/b/c.c\x00'
        b"=D:\\a\\proj\\src\\x.c\x00"
    )
    whole = windows_path_search()
    whole.feed(0, data, final=True)
    assert [(chr(h.before), h.text[:4]) for h in whole.hits] == [("C", b":/Us"), ("D", b":\\a\\")]
    for cut in range(1, len(data)):
        search = windows_path_search()
        search.overlap = 64  # longer than each path: the search resumes at any byte
        search.feed(0, data[:cut])
        search.feed(cut, data[cut:], final=True)
        assert [h.offset for h in search.hits] == [h.offset for h in whole.hits], cut

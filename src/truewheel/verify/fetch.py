"""The files of one release from a package index, for ``verify NAME==VERSION``.

The index is read through the Simple Repository API, the one pip uses: PEP 691 JSON
when the index offers it, the PEP 503 HTML page otherwise (a ``file://`` index is a
directory of ``index.html`` pages).  Nothing from the sdist is run: ``pip download``
would build the sdist's metadata, which executes its ``setup.py`` or build backend, and a
tool that asks whether an sdist can be trusted must not run it first.  Each download
streams to a temporary directory the caller owns, bounded in size, and is checked
against the sha256 the index lists; a file the index gives no sha256 for is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_wheel_filename,
)

from truewheel.errors import InputError

__all__ = [
    "DEFAULT_INDEX",
    "IndexFile",
    "default_index",
    "download",
    "parse_spec",
    "release_files",
    "sdist_name_version",
]

DEFAULT_INDEX = "https://pypi.org/simple/"
#: No release file is larger (PyPI's own limit is far below); a bound, not a guess.
MAX_DOWNLOAD = 4 << 30
_PAGE_LIMIT = 64 << 20
_TIMEOUT = 60.0
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz")
_SPEC = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*")


@dataclass(frozen=True, slots=True)
class IndexFile:
    """One file of a release as the index lists it."""

    filename: str
    url: str
    sha256: str | None
    sdist: bool


def default_index() -> str:
    """pip's index: ``PIP_INDEX_URL`` if set, else PyPI's Simple API."""
    return os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX


def parse_spec(spec: str) -> tuple[str, str]:
    """``NAME==VERSION`` -> (name, version); anything else is an InputError."""
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise InputError("not NAME==VERSION (one exact release)", path=spec)
    return match[1], match[2]


def sdist_name_version(filename: str) -> tuple[str, str] | None:
    """(canonical name, canonical version) of an sdist file name, None if it is not one."""
    stem = next((filename[: -len(s)] for s in _SDIST_SUFFIXES if filename.endswith(s)), None)
    if stem is None or "-" not in stem:
        return None
    name, _, version = stem.rpartition("-")
    return canonicalize_name(name), canonicalize_version(version)


def release_files(name: str, version: str, index: str) -> list[IndexFile]:
    """The sdists and wheels the index lists for this release (yanked ones included:
    a yanked release is still what its users installed)."""
    spec = f"{name}=={version}"
    want = (canonicalize_name(name), canonicalize_version(version))
    page = urllib.parse.urljoin(index if index.endswith("/") else index + "/", want[0] + "/")
    text, content_type, base = _read_page(page, spec)
    if "json" in content_type:
        try:
            document = json.loads(text)
            entries = [
                (f["filename"], f["url"], f.get("hashes", {}).get("sha256"))
                for f in document["files"]
            ]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"the index's page is not PEP 691 JSON ({exc})", path=page) from exc
    else:
        entries = _anchors(text)
    out: list[IndexFile] = []
    for filename, url, sha256 in entries:
        if not isinstance(filename, str) or not isinstance(url, str):
            continue
        found = _release_of(filename)
        if found is None or found[0] != want:
            continue
        digest = sha256 if isinstance(sha256, str) else None
        out.append(IndexFile(filename, urllib.parse.urljoin(base, url), digest, found[1]))
    if not out:
        raise InputError(f"the index ({index}) lists no file of version {version}", path=spec)
    return sorted(out, key=lambda f: (not f.sdist, f.filename))


def download(file: IndexFile, directory: Path, spec: str) -> Path:
    """Stream ``file`` into ``directory``, checked against the index's sha256."""
    if file.sha256 is None:
        raise InputError(f"the index lists no sha256 for {file.filename}", path=spec)
    if "/" in file.filename or "\\" in file.filename or file.filename.startswith("."):
        raise InputError(f"unsafe file name on the index: {file.filename!r}", path=spec)
    target = directory / file.filename
    digest = hashlib.sha256()
    size = 0
    try:
        with _open(file.url) as response, target.open("xb") as out:
            while chunk := response.read(1 << 20):
                size += len(chunk)
                if size > MAX_DOWNLOAD:
                    raise InputError(f"{file.filename} is larger than 4 GiB", path=file.url)
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise InputError(f"cannot download {file.filename} ({_reason(exc)})", path=spec) from exc
    if digest.hexdigest() != file.sha256.lower():
        raise InputError(f"{file.filename} does not have the sha256 the index lists", path=spec)
    return target


def _release_of(filename: str) -> tuple[tuple[str, str], bool] | None:
    """((canonical name, version), is an sdist) of a release file name."""
    if filename.endswith(".whl"):
        try:
            name, version, _, _ = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return None
        return (str(name), canonicalize_version(version)), False
    found = sdist_name_version(filename)
    return (found, True) if found is not None else None


def _read_page(url: str, spec: str) -> tuple[str, str, str]:
    """The page's text, content type and URL (after redirects)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "file":
        path = Path(urllib.request.url2pathname(parsed.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.exists():
            raise InputError("no such project on the index", path=f"{spec} ({url})")
        url = path.as_uri()
    try:
        with _open(url) as response:
            data = response.read(_PAGE_LIMIT + 1)
            content_type = response.headers.get("Content-Type", "text/html") or "text/html"
            base = response.geturl()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise InputError("no such project on the index", path=f"{spec} ({url})") from exc
        raise InputError(f"the index answered HTTP {exc.code}", path=url) from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the index ({_reason(exc)})", path=url) from exc
    if len(data) > _PAGE_LIMIT:
        raise InputError("the index's page is larger than 64 MiB", path=url)
    return data.decode("utf-8", "replace"), content_type.lower(), base


def _open(url: str) -> urllib.response.addinfourl:
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("https", "http", "file"):
        raise InputError(f"unsupported URL scheme {scheme!r}", path=url)
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT})
    response: urllib.response.addinfourl = urllib.request.urlopen(request, timeout=_TIMEOUT)
    return response


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str | None]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._href is None:
            return
        url, _, fragment = self._href.partition("#")
        sha256 = fragment[len("sha256=") :] if fragment.startswith("sha256=") else None
        name = "".join(self._text).strip() or urllib.parse.unquote(url.rsplit("/", 1)[-1])
        self.found.append((name, url, sha256))
        self._href = None


def _anchors(text: str) -> list[tuple[str, str, str | None]]:
    parser = _Anchors()
    parser.feed(text)
    parser.close()
    return parser.found

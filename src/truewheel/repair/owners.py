"""Find the distribution package (dpkg or rpm) that installed a host library.

The answer is best effort: a host without a package manager, a file no package
owns, a package database that cannot be read or a query that times out all give
``None``.  Nothing here raises for those; the SBOM simply says less.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from truewheel.repair.model import OwnerPackage

__all__ = ["DpkgDatabase", "OwnerLookup", "find_owner", "read_os_release_id"]

DEFAULT_TIMEOUT = 60.0
"""Seconds one ``dpkg-query`` or ``rpm`` call may take before it counts as no answer."""

# Top-level directories that Debian and Fedora "usr-merge" into /usr: the package
# database may record a file under either spelling.
_MERGED_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

_RPM_QUERY_FORMAT = "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH}\\n"


class DpkgDatabase:
    """dpkg's own records, read directly: ``info/<package>.list`` and ``status``.

    Each ``.list`` file names every path its package installed, one per line; ``status``
    holds one stanza per package with its Version and Architecture (dpkg(1), "FILES").
    A library usually belongs to a package named after it (libgmp.so.10 to libgmp10,
    Debian policy 8.1), so those lists are read first and all of them only for what is
    still unknown: ~1 ms where the two ``dpkg-query`` runs this replaces cost ~80 ms,
    with the same answers (the tests compare them).  ``dpkg-query`` stays the fallback
    where the directory is not readable.
    """

    def __init__(self, root: str = "/var/lib/dpkg") -> None:
        self.root = Path(root)
        self._status: str | None = None
        self._lists: list[str] | None = None

    def load(self) -> None:
        """Read the package index and status now (a helper's idle time), not at the question."""
        self._list_names()
        self._status_text()

    def _list_names(self) -> list[str]:
        if self._lists is None:
            with os.scandir(self.root / "info") as entries:
                self._lists = sorted(
                    e.name[: -len(".list")] for e in entries if e.name.endswith(".list")
                )
        return self._lists

    def _status_text(self) -> str:
        if self._status is None:
            try:
                self._status = (self.root / "status").read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._status = ""
        return self._status

    @classmethod
    def open(cls, root: str = "/var/lib/dpkg") -> DpkgDatabase | None:
        """The database at ``root``, or None when it is missing or unreadable."""
        info, status = Path(root) / "info", Path(root) / "status"
        if info.is_dir() and os.access(info, os.R_OK | os.X_OK) and _readable_file(str(status)):
            return cls(root)
        return None

    def owners(self, paths: list[str]) -> dict[str, str]:
        """For each path some package lists, that package (``name`` or ``name:arch``).

        ``paths`` may hold several spellings of one file (usr-merge); the search goes on
        to every list only while none of a file name's spellings is found.
        """
        by_name: dict[bytes, dict[str, bytes]] = {}
        for path in paths:
            line = path.encode("utf-8", "surrogateescape") + b"\n"
            by_name.setdefault(line[line.rfind(b"/") :], {})[path] = line
        lists = self._list_names()
        stems = {_library_stem(name.decode("utf-8", "surrogateescape")) for name in by_name}
        likely = [name for name in lists if _named_after(name, stems)]
        found = self._search(by_name, likely)
        unknown = {
            name: lines for name, lines in by_name.items() if not any(p in found for p in lines)
        }
        if unknown:
            seen = set(likely)
            found.update(self._search(unknown, [name for name in lists if name not in seen]))
        return found

    def _search(self, by_name: dict[bytes, dict[str, bytes]], lists: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for package in lists:
            try:
                data = (self.root / "info" / f"{package}.list").read_bytes()
            except OSError:
                continue
            for name, lines in by_name.items():
                if name not in data:
                    continue
                for path, line in lines.items():
                    at = data.find(line)
                    while at > 0 and data[at - 1] != 0x0A:
                        at = data.find(line, at + 1)
                    if at >= 0:
                        found.setdefault(path, package)  # lists are sorted: the first wins
        return found

    def version(self, package: str) -> tuple[str, str] | None:
        """(Version, Architecture) of an installed package named like a ``.list`` file."""
        name, _, arch = package.partition(":")
        text = self._status_text()
        for match in re.finditer(rf"^Package: {re.escape(name)}$", text, re.MULTILINE):
            end = text.find("\n\n", match.start())
            fields: dict[str, str] = {}
            for line in text[match.start() : end if end >= 0 else None].splitlines():
                key, sep, value = line.partition(": ")
                if sep:
                    fields[key] = value.strip()
            installed = fields.get("Status", "").endswith(" installed")
            right_arch = not arch or fields.get("Architecture") == arch
            if installed and right_arch and "Version" in fields:
                return fields["Version"], fields.get("Architecture", "")
        return None


def _library_stem(file_name: str) -> str:
    """``/libgmp.so.10.4.1`` -> ``libgmp``: what a library package's name starts with."""
    return file_name.lstrip("/").split(".so", 1)[0].lower()


def _named_after(package: str, stems: set[str]) -> bool:
    name = package.partition(":")[0]
    for stem in stems:
        bare = stem[3:] if stem.startswith("lib") else stem
        if name.startswith(stem) or (len(bare) >= 2 and name.startswith(bare)):
            return True
    return False


def read_os_release_id(path: str = "/etc/os-release") -> str | None:
    """The ``ID`` field of an os-release file (e.g. ``debian``), or None if unknown."""
    candidates = [path] if path != "/etc/os-release" else [path, "/usr/lib/os-release"]
    for candidate in candidates:
        try:
            with open(candidate, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        for line in lines:
            key, sep, value = line.strip().partition("=")
            if sep and key == "ID":
                value = value.strip().strip("'\"").strip()
                return value or None
        return None
    return None


def usr_merge_spellings(path: str) -> list[str]:
    """The path and its other usr-merge spelling (/lib/x ⇄ /usr/lib/x), in that order."""
    spellings = [path]
    for top in _MERGED_DIRS:
        if path.startswith(top + "/"):
            spellings.append("/usr" + path)
            break
        if path.startswith("/usr" + top + "/"):
            spellings.append(path[len("/usr") :])
            break
    return spellings


def candidate_paths(path: str) -> list[str]:
    """Spellings a package database may know ``path`` by, most literal first, no duplicates."""
    literal = _absolute(path)
    forms = [literal, str(_resolve(Path(literal).parent) / Path(literal).name)]
    forms.append(str(_resolve(Path(literal))))
    result: list[str] = []
    for form in forms:
        for spelling in usr_merge_spellings(form):
            if spelling not in result:
                result.append(spelling)
    return result


def _absolute(path: str) -> str:
    """``path`` made absolute and normalised lexically (symlinks are kept)."""
    return os.path.normpath(Path(path).absolute())


def _resolve(path: Path) -> Path:
    """Symlinks resolved; ``path`` itself if that fails (a symlink loop, say)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def _readable_file(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.R_OK)


class OwnerLookup:
    """Answers "which package installed this file?", remembering answers for its lifetime.

    One instance is meant to live for one repair run; nothing is cached between
    instances.  ``os_release`` and ``timeout`` exist so tests and unusual hosts can
    point elsewhere.
    """

    def __init__(
        self,
        *,
        os_release: str = "/etc/os-release",
        timeout: float = DEFAULT_TIMEOUT,
        dpkg_root: str = "/var/lib/dpkg",
    ) -> None:
        self.timeout = timeout
        self._dpkg_root = dpkg_root
        self._database: DpkgDatabase | None = None
        self._os_release = os_release
        self._distro_known = False
        self._distro: str | None = None
        self._by_path: dict[str, OwnerPackage | None] = {}
        self._deb_packages: dict[str, OwnerPackage | None] = {}
        self._rpm_licences: dict[str, tuple[str, ...]] = {}
        self._dpkg_paths: dict[str, str | None] = {}
        self._dpkg_query = shutil.which("dpkg-query")
        self._rpm = shutil.which("rpm")

    @property
    def distro(self) -> str | None:
        """The host's os-release ID, read once."""
        if not self._distro_known:
            self._distro = read_os_release_id(self._os_release)
            self._distro_known = True
        return self._distro

    def find(self, path: str) -> OwnerPackage | None:
        """The package that installed ``path``, or None if there is none or it cannot be told."""
        key = _absolute(path)
        if key not in self._by_path:
            self.prefetch([key])  # one way to ask dpkg, whether for one file or many
            self._by_path[key] = self._lookup(key)
        return self._by_path[key]

    def warm(self) -> None:
        """Open dpkg's database and read its index ahead of the questions."""
        if self._dpkg_query is not None and self._database is None:
            self._database = DpkgDatabase.open(self._dpkg_root)
            if self._database is not None:
                self._database.load()

    def prefetch(self, paths: list[str]) -> None:
        """Ask dpkg about many files at once: its database, or two ``dpkg-query`` calls."""
        if self._dpkg_query is None:
            return
        database = self._database or DpkgDatabase.open(self._dpkg_root)
        if database is not None:
            self._prefetch_from(database, paths)
            return
        wanted = sorted(
            {
                c
                for p in paths
                for c in candidate_paths(_absolute(p))
                if not any(ch in c for ch in "*?[\\") and c not in self._dpkg_paths
            }
        )
        if not wanted:
            return
        out = self._run([self._dpkg_query, "-S", *wanted], accept_failure=True) or ""
        for line in out.splitlines():
            owners, sep, listed = line.partition(": ")
            names = sorted(p.strip() for p in owners.split(",") if p.strip())
            if sep and listed in wanted and names and not line.startswith("diversion by "):
                self._dpkg_paths[listed] = names[0]
        for candidate in wanted:
            self._dpkg_paths.setdefault(candidate, None)
        fmt = "${binary:Package} ${Version} ${Architecture}\n"
        packages = sorted({v for v in self._dpkg_paths.values() if v} - set(self._deb_packages))
        if packages:
            listing = self._run([self._dpkg_query, "-W", "-f", fmt, *packages], accept_failure=True)
            for row in (listing or "").splitlines():
                fields = row.split()
                if len(fields) == 3:
                    self._deb_packages[fields[0]] = self._deb_owner(fields[0], fields[1], fields[2])

    def _prefetch_from(self, database: DpkgDatabase, paths: list[str]) -> None:
        wanted = sorted(
            {c for p in paths for c in candidate_paths(_absolute(p)) if c not in self._dpkg_paths}
        )
        owners = database.owners(wanted)
        for candidate in wanted:
            self._dpkg_paths[candidate] = owners.get(candidate)
        for package in sorted({v for v in owners.values()} - set(self._deb_packages)):
            found = database.version(package)
            self._deb_packages[package] = (
                self._deb_owner(package, found[0], found[1]) if found else None
            )

    # -- internals ---------------------------------------------------------------------------

    def _run(self, argv: list[str], *, accept_failure: bool = False) -> str | None:
        """Stdout of a successful query, or None for any failure (missing, error, timeout)."""
        env = dict(os.environ)
        env["LC_ALL"] = "C"
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=env,
                timeout=self.timeout,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if proc.returncode != 0 and not accept_failure:
            return None
        return proc.stdout.decode("utf-8", errors="replace")

    def _lookup(self, path: str) -> OwnerPackage | None:
        candidates = candidate_paths(path)
        if self._dpkg_query is not None:
            for candidate in candidates:
                package = self._dpkg_owner(candidate)
                if package is not None:
                    return self._deb_package(package)
        if self._rpm is not None:
            for candidate in candidates:
                owner = self._rpm_owner(candidate)
                if owner is not None:
                    return owner
        return None

    def _dpkg_owner(self, path: str) -> str | None:
        """The dpkg package name (maybe with ``:arch``) that lists exactly ``path``.

        :meth:`find` asked first (:meth:`prefetch`); paths with glob characters are
        never put to ``dpkg-query -S``, which would read them as patterns.
        """
        return self._dpkg_paths.get(path)

    def _deb_package(self, package: str) -> OwnerPackage | None:
        if package in self._deb_packages:
            return self._deb_packages[package]
        owner: OwnerPackage | None = None
        assert self._dpkg_query is not None
        out = self._run([self._dpkg_query, "-W", "-f", "${Version} ${Architecture}", package])
        fields = out.split() if out else []
        if len(fields) == 2:
            owner = self._deb_owner(package, fields[0], fields[1])
        self._deb_packages[package] = owner
        return owner

    def _deb_owner(self, package: str, version: str, arch: str) -> OwnerPackage:
        name = package.partition(":")[0]
        copyright_file = f"/usr/share/doc/{name}/copyright"
        licences = (copyright_file,) if _readable_file(copyright_file) else ()
        return OwnerPackage(
            manager="deb",
            name=name,
            version=version,
            architecture=arch or None,
            distro=self.distro,
            licence_files=licences,
        )

    def _rpm_owner(self, path: str) -> OwnerPackage | None:
        assert self._rpm is not None
        out = self._run([self._rpm, "-qf", "--qf", _RPM_QUERY_FORMAT, path])
        if out is None:
            return None
        for line in out.splitlines():
            fields = line.split()
            if len(fields) != 3 or line.startswith("file "):
                continue
            name, version, arch = fields
            if arch == "(none)":
                arch = ""
            return OwnerPackage(
                manager="rpm",
                name=name,
                version=version,
                architecture=arch or None,
                distro=self.distro,
                licence_files=self._rpm_licence_files(name, arch),
            )
        return None

    def _rpm_licence_files(self, name: str, arch: str) -> tuple[str, ...]:
        key = f"{name}.{arch}" if arch else name
        if key not in self._rpm_licences:
            assert self._rpm is not None
            found: list[str] = []
            out = self._run([self._rpm, "-qL", key])
            if out is not None:
                found.extend(line.strip() for line in out.splitlines() if line.startswith("/"))
            licence_dir = Path("/usr/share/licenses") / name
            if "/" not in name and name not in (".", ".."):
                found.extend(sorted(str(p) for p in licence_dir.glob("*")))
            unique = dict.fromkeys(p for p in found if _readable_file(p))
            self._rpm_licences[key] = tuple(unique)
        return self._rpm_licences[key]


def find_owner(path: str, *, lookup: OwnerLookup | None = None) -> OwnerPackage | None:
    """Which distro package installed the host file ``path``; None if none or unknown.

    Pass an :class:`OwnerLookup` to share its cache across calls; without one each
    call starts afresh.
    """
    return (lookup or OwnerLookup()).find(path)

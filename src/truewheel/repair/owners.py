"""Find the distribution package (dpkg or rpm) that installed a host library.

The answer is best effort: a host without a package manager, a file no package
owns, a package database that cannot be read or a query that times out all give
``None``.  Nothing here raises for those; the SBOM simply says less.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from truewheel.repair.copyright import debian_licence, strict_spdx
from truewheel.repair.model import OwnerPackage

__all__ = ["OwnerLookup", "find_owner", "read_os_release_id"]

DEFAULT_TIMEOUT = 60.0
"""Seconds one ``dpkg-query`` or ``rpm`` call may take before it counts as no answer."""

# Top-level directories that Debian and Fedora "usr-merge" into /usr: the package
# database may record a file under either spelling.
_MERGED_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

_RPM_QUERY_FORMAT = "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM} %{LICENSE}\\n"
_DPKG_FORMAT = "${binary:Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\n"


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

    On dpkg hosts, :meth:`prefetch` asks about every file of a repair at once: one
    ``dpkg-query -S`` for the owners, one ``dpkg-query -W`` for their versions.  On rpm
    hosts each file is one ``rpm -qf``.  One instance is meant to live for one repair
    run; nothing is cached between instances.  ``os_release`` and ``timeout`` exist so
    tests and unusual hosts can point elsewhere.
    """

    def __init__(
        self, *, os_release: str = "/etc/os-release", timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.timeout = timeout
        self._os_release = os_release
        self._distro_known = False
        self._distro: str | None = None
        self._by_path: dict[str, OwnerPackage | None] = {}
        self._deb_packages: dict[str, OwnerPackage | None] = {}
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
            self.prefetch([key])
            self._by_path[key] = self._lookup(key)
        return self._by_path[key]

    def prefetch(self, paths: list[str]) -> None:
        """Ask dpkg about many files at once (nothing to do on hosts without dpkg)."""
        if self._dpkg_query is None:
            return
        # dpkg-query -S reads its arguments as patterns: a name with glob characters in it
        # could match other files, so such a file is never asked about.
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
        packages = sorted({v for v in self._dpkg_paths.values() if v} - set(self._deb_packages))
        if packages:
            fmt = _DPKG_FORMAT
            listing = self._run([self._dpkg_query, "-W", "-f", fmt, *packages], accept_failure=True)
            for row in (listing or "").splitlines():
                fields = row.split("\t")
                if len(fields) == 4 and fields[0] in packages:
                    self._deb_packages[fields[0]] = self._deb_owner(*fields)
            for package in packages:
                self._deb_packages.setdefault(package, None)

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
        for candidate in candidates:
            package = self._dpkg_paths.get(candidate)
            if package is not None:
                return self._deb_packages.get(package)
        if self._rpm is not None:
            for candidate in candidates:
                owner = self._rpm_owner(candidate)
                if owner is not None:
                    return owner
        return None

    def _deb_owner(self, package: str, version: str, arch: str, source: str) -> OwnerPackage:
        name = package.partition(":")[0]
        copyright_file = f"/usr/share/doc/{name}/copyright"
        readable = _readable_file(copyright_file)
        return OwnerPackage(
            manager="deb",
            name=name,
            version=version,
            architecture=arch or None,
            distro=self.distro,
            licence_files=(copyright_file,) if readable else (),
            source=source or None,
            licence=debian_licence(copyright_file) if readable else None,
        )

    def _rpm_owner(self, path: str) -> OwnerPackage | None:
        assert self._rpm is not None
        out = self._run([self._rpm, "-qf", "--qf", _RPM_QUERY_FORMAT, path])
        if out is None:
            return None
        for line in out.splitlines():
            fields = line.split(" ", 4)  # the License tag, last, may hold spaces
            if len(fields) != 5 or line.startswith("file "):
                continue
            name, version, arch, source_rpm, licence = fields
            arch = "" if arch == "(none)" else arch
            # Fedora (2023 on) writes License tags in SPDX; older ones ("GPLv2+") are not.
            return OwnerPackage(
                manager="rpm",
                name=name,
                version=version,
                architecture=arch or None,
                distro=self.distro,
                licence_files=self._rpm_licence_files(name, arch),
                source=source_rpm.rsplit("-", 2)[0] if source_rpm.endswith(".src.rpm") else None,
                licence=licence.strip() if strict_spdx(licence.strip()) else None,
            )
        return None

    def _rpm_licence_files(self, name: str, arch: str) -> tuple[str, ...]:
        assert self._rpm is not None
        found: list[str] = []
        out = self._run([self._rpm, "-qL", f"{name}.{arch}" if arch else name])
        if out is not None:
            found.extend(line.strip() for line in out.splitlines() if line.startswith("/"))
        licence_dir = Path("/usr/share/licenses") / name
        if "/" not in name and name not in (".", ".."):
            found.extend(sorted(str(p) for p in licence_dir.glob("*")))
        return tuple(dict.fromkeys(p for p in found if _readable_file(p)))


def find_owner(path: str, *, lookup: OwnerLookup | None = None) -> OwnerPackage | None:
    """Which distro package installed the host file ``path``; None if none or unknown.

    Pass an :class:`OwnerLookup` to share its cache across calls; without one each
    call starts afresh.
    """
    return (lookup or OwnerLookup()).find(path)

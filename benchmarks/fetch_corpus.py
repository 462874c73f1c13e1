#!/usr/bin/env python3
"""Download the wheels pinned in benchmarks/corpus.txt into benchmarks/.cache/corpus/.

The corpus (about 1,000 real PyPI wheels, a third of them with native code) is
the input of the `truewheel scan` benchmark. It is too big for the repository,
so only its list is kept, with each wheel's sha256, size and URL; this script
turns the list back into files, the same on every machine.

* A wheel already in the destination with the right size is skipped.
* Downloads run in parallel (``--jobs``, default 6) over https with urllib.
* Each wheel is written to a hidden ``.part`` name and renamed only once its
  size and sha256 match the list; a mismatch is an error and leaves no file.
* When the index cannot be reached at all, it exits 2, or 0 with
  ``offline: skipped`` under ``--allow-offline`` (for CI without network).

Exit status: 0 all wheels present, 1 some failed, 2 bad corpus file or offline.
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CORPUS_TXT = BENCH_DIR / "corpus.txt"
DEFAULT_DEST = BENCH_DIR / ".cache" / "corpus"
USER_AGENT = "truewheel-benchmarks-fetch-corpus/1"
CHUNK = 1 << 20
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Entry:
    """One line of corpus.txt."""

    filename: str
    sha256: str
    size: int
    url: str


@dataclass
class Outcome:
    entry: Entry
    status: str  # present | downloaded | failed
    detail: str = ""
    network_error: bool = False


class Mismatch(Exception):
    """The downloaded bytes are not the ones the corpus pins."""


def parse_corpus(path: Path) -> list[Entry]:
    """Read corpus.txt; raise ValueError naming the first bad line."""
    entries: list[Entry] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            if len(fields) != 4:
                raise ValueError(f"line {lineno}: expected 4 fields, got {len(fields)}")
            filename, sha256, size, url = fields
            if not filename.endswith(".whl") or "/" in filename or filename.startswith("."):
                raise ValueError(f"line {lineno}: bad wheel file name {filename!r}")
            if not _SHA256_RE.match(sha256):
                raise ValueError(f"line {lineno}: bad sha256 {sha256!r}")
            if not size.isdigit():
                raise ValueError(f"line {lineno}: bad size {size!r}")
            if not url.startswith("https://"):
                raise ValueError(f"line {lineno}: not an https URL: {url!r}")
            if filename in seen:
                raise ValueError(f"line {lineno}: {filename} listed twice")
            seen.add(filename)
            entries.append(Entry(filename, sha256, int(size), url))
    return entries


def is_network_error(exc: BaseException) -> bool:
    """True for failures to reach the server at all (not an HTTP error answer)."""
    if isinstance(exc, urllib.error.HTTPError):
        return False
    return isinstance(exc, (urllib.error.URLError, TimeoutError, ConnectionError))


def reachable(url: str, timeout: float) -> bool:
    """Whether the host serving url answers at all (any HTTP status counts)."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def download(entry: Entry, dest: Path, timeout: float, on_bytes: Callable[[int], None]) -> None:
    """Fetch entry into dest, verified; raise Mismatch or an OSError on failure."""
    final = dest / entry.filename
    part = dest / f".{entry.filename}.part"
    request = urllib.request.Request(entry.url, headers={"User-Agent": USER_AGENT})
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(part, "wb") as out:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
                on_bytes(len(chunk))
                if size > entry.size:
                    raise Mismatch(f"more than the expected {entry.size} bytes")
        if size != entry.size:
            raise Mismatch(f"size {size} != expected {entry.size}")
        if digest.hexdigest() != entry.sha256:
            raise Mismatch(f"sha256 {digest.hexdigest()} != expected {entry.sha256}")
        part.replace(final)
    finally:
        part.unlink(missing_ok=True)


def fetch_one(
    entry: Entry,
    dest: Path,
    timeout: float,
    retries: int,
    on_bytes: Callable[[int], None],
) -> Outcome:
    for attempt in range(retries + 1):
        counted = 0

        def count(n: int) -> None:
            nonlocal counted
            counted += n
            on_bytes(n)

        try:
            download(entry, dest, timeout, count)
            return Outcome(entry, "downloaded")
        except Mismatch as exc:
            outcome = Outcome(entry, "failed", f"mismatch: {exc}")
            retry = False
        except urllib.error.HTTPError as exc:
            outcome = Outcome(entry, "failed", f"HTTP {exc.code} {exc.reason}")
            retry = exc.code >= 500
        except OSError as exc:  # URLError, timeouts, connection resets, disk errors
            outcome = Outcome(entry, "failed", str(exc), network_error=is_network_error(exc))
            retry = True
        on_bytes(-counted)  # keep the progress total honest across retries
        if not retry or attempt == retries:
            return outcome
        time.sleep(2.0 * (attempt + 1))
    raise AssertionError("unreachable")


class Progress:
    """One progress line, rewritten in place on a terminal, else printed now and then."""

    def __init__(self, files: int, total_bytes: int) -> None:
        self.files = files
        self.total_bytes = total_bytes
        self.done_files = 0
        self.done_bytes = 0
        self.failed = 0
        self.start = time.monotonic()
        self.last = 0.0
        self.tty = sys.stdout.isatty()
        self.lock = threading.Lock()

    def add_bytes(self, n: int) -> None:
        with self.lock:
            self.done_bytes += n
            self._show(final=False)

    def file_done(self, ok: bool) -> None:
        with self.lock:
            self.done_files += 1
            self.failed += 0 if ok else 1
            self._show(final=self.done_files == self.files)

    def _show(self, *, final: bool) -> None:
        now = time.monotonic()
        if not final and now - self.last < (1.0 if self.tty else 15.0):
            return
        self.last = now
        elapsed = max(now - self.start, 1e-6)
        line = (
            f"downloading: {self.done_files}/{self.files} wheels, "
            f"{self.done_bytes / 1e6:.0f}/{self.total_bytes / 1e6:.0f} MB, "
            f"{self.done_bytes / 1e6 / elapsed:.1f} MB/s, {self.failed} failed"
        )
        if self.tty:
            print("\r" + line, end="\n" if final else "", flush=True)
        else:
            print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS_TXT, help="the list of wheels")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="download directory")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N wheels")
    parser.add_argument("--jobs", type=int, default=6, help="parallel downloads (default 6)")
    parser.add_argument("--timeout", type=float, default=60.0, help="socket timeout in s")
    parser.add_argument("--retries", type=int, default=2, help="retries per wheel (default 2)")
    parser.add_argument(
        "--allow-offline",
        action="store_true",
        help="exit 0 (not 2) when the index cannot be reached",
    )
    args = parser.parse_args(argv)

    try:
        entries = parse_corpus(args.corpus)
    except (OSError, ValueError) as exc:
        print(f"fetch_corpus: cannot read {args.corpus}: {exc}", file=sys.stderr)
        return 2
    if args.limit is not None:
        entries = entries[: max(args.limit, 0)]
    dest: Path = args.dest
    dest.mkdir(parents=True, exist_ok=True)

    present: list[Entry] = []
    missing: list[Entry] = []
    for entry in entries:
        path = dest / entry.filename
        ok = path.is_file() and path.stat().st_size == entry.size
        (present if ok else missing).append(entry)
    total = sum(e.size for e in entries)
    print(
        f"corpus: {len(entries)} wheels ({total / 1e9:.2f} GB) in {dest}: "
        f"{len(present)} present, {len(missing)} to download "
        f"({sum(e.size for e in missing) / 1e9:.2f} GB)"
    )
    if not missing:
        return 0

    if not reachable(missing[0].url, min(args.timeout, 15.0)):
        print(f"offline: skipped (cannot reach {missing[0].url.split('/')[2]})")
        return 0 if args.allow_offline else 2

    progress = Progress(len(missing), sum(e.size for e in missing))
    outcomes: list[Outcome] = []
    jobs = min(max(args.jobs, 1), 16)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(fetch_one, e, dest, args.timeout, args.retries, progress.add_bytes)
            for e in missing
        ]
        for future in as_completed(futures):
            out = future.result()
            outcomes.append(out)
            progress.file_done(out.status != "failed")

    elapsed = time.monotonic() - progress.start
    failed = [o for o in outcomes if o.status == "failed"]
    got = sum(o.entry.size for o in outcomes if o.status == "downloaded")
    print(
        f"done: {len(outcomes) - len(failed)} downloaded ({got / 1e6:.0f} MB in {elapsed:.1f} s, "
        f"{got / 1e6 / max(elapsed, 1e-6):.1f} MB/s), {len(present)} already present, "
        f"{len(failed)} failed"
    )
    for o in sorted(failed, key=lambda o: o.entry.filename):
        print(f"  failed: {o.entry.filename}: {o.detail}")
    if failed and all(o.network_error for o in failed) and len(failed) == len(outcomes):
        print("offline: skipped (every download failed to reach the index)")
        return 0 if args.allow_offline else 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The SBOM of a repair, built in process or by a forked helper on the second core.

A small repair is mostly fixed costs: importing cyclonedx-python-lib (~60 ms) and
asking the package database who owns each graft (~30 ms) would follow the patching
on one core.  The CLI forks :class:`ForkedSbomBuilder` before it imports the rest of
truewheel; the child imports the SBOM library and waits, and each repair sends it
what it grafted as soon as the plan exists, then patches while the child answers.
Where fork is unavailable, the process already has threads, or the helper dies, the
same function runs in process; the output is the same bytes either way.
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from truewheel.errors import InputError
from truewheel.repair.model import ExcludedLibrary, GraftedLibrary, ProvidedLibrary

if TYPE_CHECKING:
    from truewheel.repair.owners import OwnerLookup

__all__ = [
    "SBOM_NAME",
    "ForkedSbomBuilder",
    "InProcessSbomBuilder",
    "SbomBuilder",
    "SbomFiles",
    "SbomRequest",
    "build_sbom_files",
    "start_sbom_builder",
]

SBOM_NAME = "sboms/truewheel.cdx.json"
"""Where the SBOM goes inside ``.dist-info`` (PEP 770)."""


@dataclass(frozen=True)
class SbomRequest:
    dist_info: str
    wheel_name: str
    wheel_version: str
    grafted: tuple[GraftedLibrary, ...]
    excluded: tuple[ExcludedLibrary, ...]
    provided: tuple[ProvidedLibrary, ...]
    tool_version: str


@dataclass(frozen=True)
class SbomFiles:
    files: dict[str, bytes]  # member name -> bytes: the SBOM and the licence files
    grafted: tuple[GraftedLibrary, ...]  # the request's, with their owner packages


class SbomBuilder(Protocol):
    def submit(self, request: SbomRequest) -> Callable[[], SbomFiles]:
        """Start building; the returned function waits for the result."""

    def close(self) -> None: ...


def build_sbom_files(request: SbomRequest, owners: OwnerLookup | None = None) -> SbomFiles:
    from truewheel.repair.owners import OwnerLookup
    from truewheel.repair.sbom import build_sbom, licence_members

    lookup = owners if owners is not None else OwnerLookup()
    lookup.prefetch([g.source_path for g in request.grafted])
    grafted = [replace(g, owner=lookup.find(g.source_path)) for g in request.grafted]
    text = build_sbom(
        wheel_name=request.wheel_name,
        wheel_version=request.wheel_version,
        grafted=grafted,
        excluded=list(request.excluded),
        provided=list(request.provided),
        tool_version=request.tool_version,
        timestamp=None,
    )
    files = {f"{request.dist_info}/{SBOM_NAME}": text.encode()}
    for name, data in licence_members(grafted).items():
        files[f"{request.dist_info}/{name}"] = data
    return SbomFiles(files, tuple(grafted))


class InProcessSbomBuilder:
    """Builds when asked for the result, in this process."""

    def __init__(self, owners: OwnerLookup | None = None) -> None:
        self.owners = owners

    def submit(self, request: SbomRequest) -> Callable[[], SbomFiles]:
        return lambda: build_sbom_files(request, self.owners)

    def close(self) -> None:
        pass


class _Channel:
    """Length-prefixed pickles over a pair of pipes (both ends are this program)."""

    _LENGTH = struct.Struct("<Q")

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd

    def send(self, value: Any) -> None:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(self._LENGTH.pack(len(data)) + data)
        while view:
            view = view[os.write(self.write_fd, view) :]

    def recv(self) -> Any:
        (length,) = self._LENGTH.unpack(self._read(self._LENGTH.size))
        return pickle.loads(self._read(length))

    def _read(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = os.read(self.read_fd, min(size, 1 << 20))
            if not chunk:
                raise EOFError("the other end closed the pipe")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass


class ForkedSbomBuilder:
    """A forked child that answers :class:`SbomRequest` s until its pipe closes."""

    def __init__(self, channel: _Channel, pid: int) -> None:
        self._channel: _Channel | None = channel
        self._pid = pid
        # Answers come back in request order; one a failed repair never asked for is kept
        # under its number, so the next repair does not read it as its own.
        self._sent = 0
        self._received = 0
        self._answers: dict[int, tuple[str, Any]] = {}

    @classmethod
    def start(cls) -> ForkedSbomBuilder | None:
        """Fork the helper, or None where that is not safe (no fork, threads running)."""
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return None
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        gc.freeze()  # what exists now is shared: keep the collector from touching it
        try:
            pid = os.fork()
        except OSError:
            for fd in (to_child, from_parent, to_parent, from_child):
                os.close(fd)
            return None
        if pid == 0:  # pragma: no cover - runs in the child, which leaves by os._exit
            status = 0
            try:
                gc.disable()  # a short life: the cycle collector would only copy shared pages
                os.close(from_parent)
                os.close(to_parent)
                _serve(_Channel(to_child, from_child))
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(to_child)
        os.close(from_child)
        return cls(_Channel(to_parent, from_parent), pid)

    def submit(self, request: SbomRequest) -> Callable[[], SbomFiles]:
        number = self._sent
        if self._channel is not None:
            try:
                self._channel.send(request)
                self._sent += 1
            except OSError:
                self.close()
        return lambda: self._receive(number, request)

    def _receive(self, number: int, request: SbomRequest) -> SbomFiles:
        try:
            while self._channel is not None and self._received <= number:
                self._answers[self._received] = self._channel.recv()
                self._received += 1
        except (EOFError, OSError):
            self.close()
        answer = self._answers.pop(number, None)
        for stale in [n for n in self._answers if n < number]:
            del self._answers[stale]
        if answer is not None:
            kind, value = answer
            if kind == "ok":
                assert isinstance(value, SbomFiles)
                return value
            message, path, member = value
            raise InputError(message, path=path, member=member)
        return build_sbom_files(request)  # the helper is gone: do it here

    def close(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:
                pass


def _serve(channel: _Channel) -> None:  # pragma: no cover - runs in the child
    from truewheel.errors import TruewheelError
    from truewheel.repair.owners import OwnerLookup
    from truewheel.repair.sbom import load_library

    load_library()
    owners = OwnerLookup()
    owners.warm()
    while True:
        try:
            request = channel.recv()
        except EOFError:
            return
        try:
            channel.send(("ok", build_sbom_files(request, owners)))
        except TruewheelError as exc:
            channel.send(("error", (exc.message, exc.path, exc.member)))


def start_sbom_builder() -> SbomBuilder:
    """The forked helper where possible, else the in-process builder."""
    return ForkedSbomBuilder.start() or InProcessSbomBuilder()

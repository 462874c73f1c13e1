"""Where the per-unit work runs: this process, a local process pool, or a Dask cluster.

Each executor takes tasks and yields :class:`UnitFacts` as units finish, in any
order; the caller stores them as they come, so a long scan makes progress in the
catalog and an interrupted one keeps what finished.  :func:`map_local` and
:func:`map_dask` are the same machinery for any module-level function (``verify --index``
runs whole releases on them).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from truewheel.catalog.extract import installed_facts, wheel_facts
from truewheel.catalog.model import UnitFacts, UnitKey
from truewheel.catalog.sources import InstalledDist
from truewheel.errors import InputError

__all__ = [
    "Task",
    "check_dask_address",
    "map_dask",
    "map_local",
    "run_dask",
    "run_local",
    "scan_task",
]

T = TypeVar("T")
R = TypeVar("R")
_PRELOAD = ("truewheel.catalog.executors",)


@dataclass(frozen=True, slots=True)
class Task:
    """One unit to scan: a wheel path, or an installed distribution."""

    wheel: str | None = None
    dist: InstalledDist | None = None
    size: int = 0  # for scheduling: largest first

    @property
    def path(self) -> str:
        if self.wheel is not None:
            return self.wheel
        assert self.dist is not None
        return self.dist.dist_info


def scan_task(task: Task, threads: int | None = 1) -> UnitFacts:
    """The function every executor runs (a module-level function, so it pickles)."""
    if task.wheel is not None:
        return wheel_facts(task.wheel, workers=threads)
    assert task.dist is not None
    return installed_facts(task.dist)


def _ordered(tasks: Sequence[Task]) -> list[Task]:
    return sorted(tasks, key=lambda t: (-t.size, t.path))


def run_local(tasks: Sequence[Task], workers: int) -> Iterator[UnitFacts]:
    """``workers`` processes; 1 means in this process.

    Workers come from a fork server that imported the scanning code once, so each
    starts warm, and none is forked from this (possibly threaded) process.
    """
    ordered = _ordered(tasks)
    if workers <= 1 or len(ordered) <= 1:
        # one unit alone may use every core for its members; -j 1 means one core
        threads = 1 if workers <= 1 else None
        for task in ordered:
            yield scan_task(task, threads=threads)
        return
    yield from map_local(scan_task, ordered, workers, _failed_unit, _PRELOAD)


def map_local(
    function: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    failed: Callable[[T, BaseException], R],
    preload: Sequence[str] = (),
) -> Iterator[R]:
    """``function`` over ``items`` (in their order of submission) on ``workers`` processes
    of a fork server that imported ``preload`` once; results as they finish.

    ``function`` must be a module-level function (it is pickled).  A worker that dies or
    raises something unplanned becomes ``failed(item, exception)``, so one bad item
    never loses the others.  ``verify --index`` runs on this as ``scan`` does.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # Keep a bounded window in flight so results stream back as the largest finish.
        pending: dict[Future[R], T] = {}
        queue = iter(items)
        for item in queue:
            pending[pool.submit(function, item)] = item
            if len(pending) >= workers * 4:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                item = pending.pop(future)
                yield _outcome(future, item, failed)
                following = next(queue, None)
                if following is not None:
                    pending[pool.submit(function, following)] = following


def _need_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise InputError(
            "--dask needs the 'distributed' package: pip install 'truewheel[dask]'"
        ) from exc


def check_dask_address(address: str) -> None:
    """Refuse a malformed scheduler address in one line, before any work is done."""
    _need_distributed()
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address

    try:
        scheme, location = parse_address(address)
        backend = registry.get_backend(scheme)
    except ValueError as exc:
        raise InputError(f"--dask: not a scheduler address ({exc})", path=address) from exc
    try:
        _, port = backend.get_address_host_port(location)  # type: ignore[no-untyped-call]
    except NotImplementedError:
        return  # inproc:// and ucx:// name no host and port
    except (ValueError, TypeError) as exc:
        raise InputError(f"--dask: not a host:port address ({exc})", path=address) from exc
    if not 0 < port < 65536:
        raise InputError(f"--dask: port {port} out of range", path=address)


def run_dask(tasks: Sequence[Task], address: str, timeout: float = 30.0) -> Iterator[UnitFacts]:
    """Run on an existing Dask distributed cluster; workers must see the same paths."""
    yield from map_dask(scan_task, _ordered(tasks), address, _failed_unit, timeout)


def map_dask(
    function: Callable[[T], R],
    items: Sequence[T],
    address: str,
    failed: Callable[[T, BaseException], R],
    timeout: float = 30.0,
) -> Iterator[R]:
    """``function`` over ``items`` on the Dask scheduler at ``address``; results as they
    finish, a lost or broken task as ``failed(item, exception)``."""
    check_dask_address(address)
    from distributed import Client, as_completed

    try:
        client = Client(address, timeout=f"{timeout}s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        # OSError: unreachable within the timeout; TypeError: tls:// without TLS settings
        raise InputError(f"cannot reach the Dask scheduler ({exc})", path=address) from exc
    with client:
        futures = client.map(function, list(items), pure=False)
        by_key = {f.key: item for f, item in zip(futures, items, strict=True)}
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            yield _outcome(future, by_key[future.key], failed)
            future.release()


def _outcome(future: object, item: T, failed: Callable[[T, BaseException], R]) -> R:
    """The result, or ``failed`` if the worker itself broke (a crash, a lost worker)."""
    try:
        return future.result()  # type: ignore[attr-defined, no-any-return]
    except Exception as exc:  # the worker died or raised something unplanned
        return failed(item, exc)


def _failed_unit(task: Task, exc: BaseException) -> UnitFacts:
    kind = "wheel" if task.wheel is not None else "installed"
    env = task.dist.site if task.dist is not None else None
    message = f"{task.path}: worker failed: {type(exc).__name__}: {exc}"
    return UnitFacts(key=UnitKey(kind, task.path, -1, -1, "", env), error=message)

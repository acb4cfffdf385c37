"""The same archive work on a Dask distributed cluster (``--scheduler tcp://HOST:PORT``).

Nothing of our own here: ``distributed.Client`` connects to the scheduler, the job (options
and rules) is scattered to every worker once, ``Client.map`` sends one task per batch of
threads to ``reviewbot.batch.work.run_batch``, and the results are gathered in the order
of the threads. Each worker needs reviewbot installed (the same version) and the archive at
the same path; see docs/scaling.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from reviewbot.errors import InputError, UsageError

if TYPE_CHECKING:
    from reviewbot.batch.work import Job, Outcome
    from reviewbot.ingest.archive import Thread

INSTALL_HINT = "pip install 'reviewbot[dask]'"


def client_for(scheduler: str) -> Any:
    """A ``distributed.Client`` on ``scheduler``; one-line errors when it cannot be had."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(f"--scheduler needs the Dask 'distributed' package: "
                         f"{INSTALL_HINT}") from None
    if "://" not in scheduler:
        raise UsageError(f"--scheduler: expected an address like tcp://HOST:PORT, "
                         f"got {scheduler!r}")
    try:
        return Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"{scheduler}: cannot reach the Dask scheduler: "
                         f"{' '.join(str(exc).split())}") from None


def run_on_cluster(scheduler: str | Any, job: Job, threads: Sequence[Thread],
                   step: Callable[[int], None] | None = None,
                   emit: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """``job`` on every thread, one task a batch, outcomes in thread order (see
    ``reviewbot.batch.work.InOrder`` for ``emit``).

    ``scheduler``: an address, or a ``distributed.Client`` already made (tests, the bench).
    """
    from reviewbot.batch.work import InOrder, batches, failed_batch, run_batch

    own = isinstance(scheduler, str)
    client: Any = client_for(scheduler) if isinstance(scheduler, str) else scheduler
    from distributed import as_completed

    try:
        workers = max(1, sum(client.nthreads().values()))
        parts = batches(threads, workers)
        if not parts:
            return []
        shared = client.scatter(job, broadcast=True)
        futures = client.map(run_batch, parts, job=shared, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        order = InOrder(emit)
        for future in as_completed(futures, loop=client.loop):
            i = index.pop(future.key)
            try:
                order.put(i, future.result())
            except Exception as exc:  # the task failed or its worker died
                order.put(i, failed_batch(parts[i], exc))
            future.release()
            if step:
                step(len(parts[i]))
        return order.kept
    finally:
        if own:
            client.close()

"""Group commit: one writer thread turns many decisions into one database transaction.

SQLite allows one writer at a time and each commit costs an fsync-ordered WAL append; committing
every decision on its own request thread caps throughput at a few hundred per second and makes
writers queue on the lock. One thread fed by a queue takes whatever has accumulated while the
previous commit ran (up to ``max_batch``), commits it once, then acknowledges every item. Nothing
is acknowledged before its commit returns, so an acknowledged decision survives ``kill -9``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pesaguard.errors import StoreError
from pesaguard.store import Store
from pesaguard.store.decisions import write_decisions

log = logging.getLogger("pesaguard.decisions")

Done = Callable[[BaseException | None], None]


@dataclass
class _Item:
    decision: dict[str, Any]
    txn_row: Sequence[Any]
    done: Done


_STOP = object()


class GroupCommitWriter:
    """Commits submitted decisions in batches on one thread; calls each item's ``done`` after commit."""

    def __init__(self, store: Store, max_batch: int = 512,
                 on_commit: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.max_batch = max_batch
        self.on_commit = on_commit
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="pesaguard-writer", daemon=True)
        self._closed = False
        self._thread.start()

    def submit(self, decision: dict[str, Any], txn_row: Sequence[Any], done: Done) -> None:
        if self._closed:
            raise StoreError("the decision writer is shut down", hint="restart the service")
        self._queue.put(_Item(decision, txn_row, done))

    def submit_and_wait(self, decision: dict[str, Any], txn_row: Sequence[Any], timeout: float = 30.0) -> None:
        """Blocking submit for callers outside the event loop (CLI, tests)."""
        event = threading.Event()
        box: list[BaseException | None] = [None]

        def done(err: BaseException | None) -> None:
            box[0] = err
            event.set()

        self.submit(decision, txn_row, done)
        if not event.wait(timeout):
            raise StoreError("the decision was not committed in time", hint="check the database")
        if box[0] is not None:
            raise box[0]

    def qsize(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join(timeout=30)

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is _STOP:
                break
            batch: list[_Item] = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[_Item]) -> None:
        try:
            write_decisions(self.store, [i.decision for i in batch], [i.txn_row for i in batch])
        except Exception as exc:
            if len(batch) == 1:
                log.error("decision %s not committed: %s", batch[0].decision["txn_id"], exc)
                self._ack(batch[0], StoreError(f"decision not stored: {exc}", hint="retry the request"))
                return
            # one bad row must not fail its neighbours: retry them one by one
            for item in batch:
                self._commit([item])
            return
        if self.on_commit is not None:
            self.on_commit(len(batch))
        for item in batch:
            self._ack(item, None)

    @staticmethod
    def _ack(item: _Item, err: BaseException | None) -> None:
        try:
            item.done(err)
        except Exception:  # a caller's callback must not kill the writer
            log.exception("decision acknowledgement failed")

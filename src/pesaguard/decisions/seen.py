"""Which transaction ids may already have a decision: the idempotency check without a database read.

Every ``POST /v1/transactions`` must know whether its ``txn_id`` was decided before, or is stored
as a transaction (ingested from a file) with which a different payload would conflict. Asking the store
each time was the largest single cost on the event loop (the journal's copier commits from another
process, which invalidates the loop connection's page cache, so each lookup re-read its b-tree
pages; figures in ``docs/benchmarks.md``, "Decision service"). Almost every id is new, and a Bloom
filter (rbloom) answers "certainly new" without a read. Only ids it may
have seen (those decided, and ~0.5% of the others) are looked up in the store, which stays the
authority.

The filter holds the transaction ids stored when the service started and every id this process
decides after. A transaction written into the same store by another process meanwhile (a file
ingested while the service runs, the time-travel tool) is not in it until the next start; this is
why ``pesaguard serve`` runs one worker process (see docs/architecture.md, "Failure and attack").
"""

from __future__ import annotations

import logging
import time

from rbloom import Bloom

from pesaguard.store import Store
from pesaguard.store import decision_log as repo

log = logging.getLogger("pesaguard.decisions")

#: False positives per filter; each doubling of the ids seen adds a filter.
ERROR_RATE = 0.005
MIN_CAPACITY = 1 << 20


class SeenIds:
    """A growing set of Bloom filters: no false negatives, ~0.5% false positives per filter."""

    def __init__(self, capacity: int = MIN_CAPACITY, error_rate: float = ERROR_RATE) -> None:
        self.error_rate = error_rate
        self._capacity = max(1024, capacity)
        self._filters = [Bloom(self._capacity, error_rate)]
        self._room = self._capacity
        self.count = 0

    @classmethod
    def from_store(cls, store: Store) -> SeenIds:
        """Every stored ``txn_id``, read in id order from the primary key."""
        t0 = time.perf_counter()
        seen = cls()
        for chunk in repo.iter_known_txn_ids(store):
            seen.update(chunk)
        if seen.count > 100_000:
            log.info("read %d stored transaction ids in %.1f s", seen.count, time.perf_counter() - t0)
        return seen

    def add(self, txn_id: str) -> None:
        if self._room == 0:
            self._capacity *= 2
            self._filters.append(Bloom(self._capacity, self.error_rate))
            self._room = self._capacity
        self._filters[-1].add(txn_id)
        self._room -= 1
        self.count += 1

    def update(self, txn_ids: list[str]) -> None:
        while txn_ids:
            if self._room == 0:
                self.add(txn_ids[0])  # starts the next filter
                txn_ids = txn_ids[1:]
                continue
            part = txn_ids[: self._room]
            self._filters[-1].update(part)  # in Rust: ~0.12 µs an id against ~0.25 through add()
            self._room -= len(part)
            self.count += len(part)
            txn_ids = txn_ids[len(part):]

    def __contains__(self, txn_id: str) -> bool:
        return any(txn_id in f for f in self._filters)

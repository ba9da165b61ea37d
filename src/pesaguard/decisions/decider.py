"""The decision path: validate -> idempotency check -> score -> policy -> durable log -> answer.

Idempotent on ``txn_id``: a repeated request (same canonical payload) gets the stored decision back
without being scored again, so it never counts twice in feature state; the same id with a
different payload is a :class:`ConflictError`, and so is an id the store already holds as a
transaction (ingested from a file) with a different payload. A request whose twin is still being
committed waits for that commit rather than scoring again. Scoring and the feature-state update it
makes are one unit with the durable write: a decision whose write failed is kept, and a retry of
the same request resubmits it instead of scoring (and counting) the transaction again. Event times
outside a window around the server clock are refused before scoring (:class:`EventWindow`).
Scoring runs on the event loop thread, which makes the scorer's feature state single-threaded by
construction; each loop iteration's decisions are appended to the journal in one write
(:mod:`pesaguard.decisions.journal`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from pesaguard.decisions.journal import Journal
from pesaguard.decisions.policy import Policy, Scorer
from pesaguard.decisions.seen import SeenIds
from pesaguard.errors import ConflictError, InputError, StoreError
from pesaguard.schema import TRANSACTION_COLUMNS, Transaction
from pesaguard.store import Store
from pesaguard.store import decision_log as repo

PUBLIC_FIELDS = ("decision_id", "txn_id", "action", "score", "reasons", "rule_hits", "model_version",
                 "policy_version")


def request_hash(txn: Transaction) -> str:
    """The hash of the request's canonical JSON: its fields in the record's order, as pydantic's
    ``model_dump_json`` writes them. orjson writes the same bytes for these plain values (a test
    holds them equal) in a fifth of the time."""
    return hashlib.blake2b(orjson.dumps(txn.__dict__), digest_size=16).hexdigest()


def decision_id(txn_id: str, ts_ms: int) -> str:
    """Deterministic, so a retried commit after a crash produces the same id.

    The transaction time leads (11 hex digits until the year 2527) so that new ids land at the end
    of the decisions table's primary-key b-tree, as appended rows do, instead of on a random page
    each (a page fewer written per decision: ``docs/architecture.md``, "The decision log"). The hash
    of the transaction id keeps ids unique.
    """
    return f"d_{ts_ms:011x}{hashlib.blake2b(txn_id.encode(), digest_size=8).hexdigest()}"


#: Decisions scored whose write failed, kept for a retry of the same request (oldest dropped first).
MAX_FAILED_KEPT = 10_000


@dataclass(frozen=True)
class EventWindow:
    """Event times accepted: from ``age_ms`` before the server clock to ``ahead_ms`` after it.

    Why: feature windows and the start-up warm-up are anchored on event time, so one transaction
    dated far in the future would make every later one look old (and its account's history
    meaningless); one dated in year 1 cannot be a live event either.
    """

    ahead_ms: int = 3_600_000
    age_ms: int = 3650 * 86_400_000

    @classmethod
    def from_settings(cls, settings: Any) -> EventWindow:
        return cls(ahead_ms=int(settings.max_event_ahead_s * 1000), age_ms=int(settings.max_event_age_days * 86_400_000))

    def check(self, ts_ms: int, field: str, now_ms: int | None = None) -> None:
        """:class:`InputError` (422) naming ``field`` when ``ts_ms`` is outside the window."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if now - self.age_ms <= ts_ms <= now + self.ahead_ms:
            return
        ahead = ts_ms > now
        raise InputError(
            f"{field} {ts_ms} ({_iso(ts_ms)}) is {'after' if ahead else 'before'} the accepted window "
            f"({_iso(now - self.age_ms)} to {_iso(now + self.ahead_ms)}, around the server clock)",
            field=field, hint="send UTC epoch milliseconds; the window is set by PESAGUARD_MAX_EVENT_AHEAD_S and "
                              "PESAGUARD_MAX_EVENT_AGE_DAYS")


def _iso(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return "outside the calendar"


class DecisionService:
    """Owns the scorer, the policy and the journal; one per process.

    Without a ``journal`` it only evaluates (:meth:`evaluate`: scoring and policy, no durable write).
    """

    def __init__(self, store: Store, scorer: Scorer, policy: Policy, metrics: Any = None,
                 shadow: Any = None, journal: Journal | None = None, window: EventWindow | None = None) -> None:
        self.store = store
        self.window = window or EventWindow()
        self.scorer = scorer
        # shadow mode (pesaguard.monitoring.shadow.ShadowRecorder): a second model scores each new
        # decision after it is made; it never raises and never changes the decision row
        self.shadow = shadow
        self.policy = policy
        # The policy shows the model's reasons only for scores at or above its review threshold
        # (Policy.decide), so the scorer explains only those: reasons for every allowed score were
        # computed and dropped (see docs/benchmarks.md, "Decision service", for what this saved).
        from pesaguard.models.scorer import Scorer as ModelScorer

        if isinstance(scorer, ModelScorer):
            scorer.explain = "auto"
            scorer.reasons_at = policy.thresholds.review
        self.metrics = metrics
        self._journal = journal
        if journal is not None:
            journal.on_commit = self._observe_commit
        self._pending: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        # ids that may be stored as a transaction or decision (pesaguard.decisions.seen)
        self._seen = SeenIds.from_store(store)
        # txn_id -> (request hash, decision row): scored, feature state updated, write failed
        self._failed: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()
        self._action_counters: dict[str, Any] = {}

    def _observe_commit(self, n: int) -> None:
        if self.metrics is not None:
            self.metrics.commit_batch.observe(n)

    @property
    def writer(self) -> Journal:
        """The durable write path (:class:`pesaguard.decisions.journal.Journal`)."""
        if self._journal is None:
            raise StoreError("this decision service has no journal: it evaluates, it cannot store decisions",
                             hint="give DecisionService a Journal")
        return self._journal

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
        if self.shadow is not None:
            self.shadow.close()

    def _conflict(self, txn_id: str) -> ConflictError:
        return ConflictError(f"transaction {txn_id!r} was already decided with a different payload",
                             field="txn_id", hint="use a new txn_id for a new transaction; "
                             "resend the identical payload to get the stored decision")

    def evaluate(self, txn: Transaction, req_hash: str, result: Any = None) -> dict[str, Any]:
        """Score and apply the policy (updates feature state); returns the decision row to store.
        ``result``: the scorer's result computed elsewhere (a replica of the shared state,
        :mod:`pesaguard.cluster`): the policy is applied to it and nothing is scored here."""
        # a flat frozen record of plain values (extra fields forbidden): a copy of its attribute
        # dict equals model_dump() at a tenth of the cost
        data = dict(txn.__dict__)
        if result is None:
            result = self.scorer.score(data)
        score = float(result.score)
        outcome = self.policy.decide(data, score, [_reason_text(r) for r in result.reasons], dict(result.features))
        if self.metrics is not None:
            counter = self._action_counters.get(outcome.action)
            if counter is None:  # label lookups cost more than the increment: bound once per action
                counter = self._action_counters[outcome.action] = self.metrics.decisions.labels(outcome.action)
            counter.inc()
            for hit in outcome.rule_hits:
                self.metrics.rule_hits.labels(hit["rule"]).inc()
        row = {
            "decision_id": decision_id(txn.txn_id, txn.ts_ms), "txn_id": txn.txn_id, "request_hash": req_hash,
            "ts_ms": txn.ts_ms, "account_id": txn.payer, "amount_minor": txn.amount_minor,
            "action": outcome.action, "score": outcome.score, "reasons": outcome.reasons,
            # the scorer's mapping as is (NaN included): the store encodes it compactly and writes
            # NaN as null (pesaguard.store.decision_record)
            "rule_hits": outcome.rule_hits, "features": result.features,
            "model_version": str(result.model_version), "policy_version": self.policy.version,
            "created_ms": int(time.time() * 1000),
        }
        if self.shadow is not None:
            self.shadow.observe(data, row)
        return row

    async def decide(self, txn: Transaction) -> dict[str, Any]:
        """Decide one transaction; returns only after the decision is durable."""
        req_hash = request_hash(txn)
        pending = self._pending.get(txn.txn_id)
        if pending is not None:
            if pending[0] != req_hash:
                raise self._conflict(txn.txn_id)
            return await asyncio.shield(pending[1])
        recent = self.writer.lookup(txn.txn_id)  # acknowledged, not in the store yet (the journal)
        if recent is not None:
            if recent[0] != req_hash:
                raise self._conflict(txn.txn_id)
            return recent[1]
        failed = self._failed.get(txn.txn_id)
        if failed is not None:
            # scored before and counted in the feature state, but never written: write that decision
            if failed[0] != req_hash:
                raise self._conflict(txn.txn_id)
            self.writer.admit()
            return await self._write(txn, req_hash, failed[1])
        if txn.txn_id in self._seen:
            found = self._stored(txn, req_hash)
            if found is not None:
                return found
        self.window.check(txn.ts_ms, "ts_ms")
        self.writer.admit()
        row = self.evaluate(txn, req_hash)
        self._seen.add(txn.txn_id)
        return await self._write(txn, req_hash, row)

    def _stored(self, txn: Transaction, req_hash: str) -> dict[str, Any] | None:
        """The stored decision for this request, None if the id has none; ConflictError if the
        store holds the id with another payload (a decision, or a transaction ingested from a file)."""
        stored = repo.decision_hash(self.store, txn.txn_id)
        if stored is not None:
            if stored != req_hash:
                raise self._conflict(txn.txn_id)
            found = repo.find_decision(self.store, txn_id=txn.txn_id)
            assert found is not None
            return found
        known = repo.transaction_row(self.store, txn.txn_id)
        if known is not None and list(known) != data_row(txn):
            raise ConflictError(f"transaction {txn.txn_id!r} is already stored with a different payload",
                                field="txn_id", hint="use a new txn_id for a new transaction; the stored one "
                                "came from an ingested file or an earlier request")
        return None

    async def _write(self, txn: Transaction, req_hash: str, row: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending[txn.txn_id] = (req_hash, fut)
        try:
            await self.writer.submit(row, data_row(txn))
            self._failed.pop(txn.txn_id, None)
            fut.set_result(row)
            return row
        except BaseException as exc:
            # the feature state has counted this transaction: keep the decision so that a retry
            # writes it rather than scoring the transaction a second time
            self._failed[txn.txn_id] = (req_hash, row)
            self._failed.move_to_end(txn.txn_id)
            while len(self._failed) > MAX_FAILED_KEPT:
                self._failed.popitem(last=False)
            fut.set_exception(exc)
            fut.exception()  # retrieved: twins waiting on it re-raise it; nobody else must log it
            raise
        finally:
            self._pending.pop(txn.txn_id, None)

    def add_labels(self, labels: Iterable[tuple[str, bool, int]]) -> None:
        """Tell the live feature state about labels (txn_id, is_fraud, known_at_ms) just stored, so
        label-based features see them from now on, as they would after a restart's warm-up."""
        add = getattr(self.scorer, "add_label", None)
        for txn_id, is_fraud, known_at_ms in labels:
            if add is not None:
                add(txn_id, is_fraud, known_at_ms)
            if self.shadow is not None:
                self.shadow.add_label(txn_id, is_fraud, known_at_ms)

    async def decide_many(self, txns: list[Transaction]) -> list[dict[str, Any] | Exception]:
        """Decide a batch in order (feature state sees them in that order); one failure does not
        fail the rest: it is returned in its slot."""
        tasks = [asyncio.ensure_future(self.decide(t)) for t in txns]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return [r if isinstance(r, dict | Exception) else Exception(str(r)) for r in results]


def data_row(txn: Transaction) -> list[Any]:
    return [getattr(txn, c) for c in TRANSACTION_COLUMNS]


def _reason_text(reason: Any) -> str:
    """Reasons may be strings or reason objects with a ``text`` sentence (pesaguard.models)."""
    return reason if isinstance(reason, str) else str(getattr(reason, "text", reason))

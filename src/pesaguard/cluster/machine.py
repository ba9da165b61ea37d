"""The replicated state machine: one feature state, rebuilt identically in every replica.

Every replica applies every message of the input stream, in the stream's order, to its own
scorer (its feature state). The result of applying message ``seq`` depends only on the messages
before it, so every replica computes the same features, score and verdict for it, equal to a
single process reading the same stream. Nothing here reads a clock, a random source or the
network: the event-time window is checked against the time the stream stored the message.

Which replica *answers* for a message (stores and publishes its decision) is decided elsewhere
(:mod:`pesaguard.cluster.consumer`); this module keeps each message's outcome until the owner
takes it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from pesaguard.decisions.decider import EventWindow, request_hash
from pesaguard.errors import PesaguardError
from pesaguard.schema import Label, Transaction

Kind = Literal["scored", "duplicate", "conflict", "label", "dead"]

#: transaction ids remembered to recognise a repeated transaction in the stream
DEDUP_IDS = 2_000_000


@dataclass(frozen=True)
class Outcome:
    """What applying one stream message did, for the replica that answers for it.

    ``scored``: a new transaction, counted in the state; ``result`` is the scorer's result.
    ``duplicate``: the same transaction again (same ``txn_id`` and payload), not counted again; its
    decision is the one made for stream message ``first_seq``. ``conflict``: a ``txn_id`` seen with
    another payload, not counted. ``label``: a label, applied. ``dead``: can never be decided
    (``code``, ``message``, ``field``).
    """

    seq: int
    kind: Kind
    txn: Transaction | None = None
    req_hash: str = ""
    result: Any = None
    label: Label | None = None
    first_seq: int = 0
    code: str = ""
    message: str = ""
    field: str | None = None


def _dead(seq: int, exc: ValidationError | PesaguardError, what: str) -> Outcome:
    if isinstance(exc, PesaguardError):
        return Outcome(seq, "dead", code=exc.code, message=exc.message, field=exc.field)
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return Outcome(seq, "dead", code="malformed_json", message=f"the message is not a JSON object: {first['msg']}")
    field = ".".join(str(p) for p in first["loc"]) or None
    return Outcome(seq, "dead", code=f"invalid_{what}", message=f"{field or what}: {first['msg']}", field=field)


class StateMachine:
    """Applies stream messages in order to ``scorer`` (anything with ``score(dict)`` and
    ``add_label(txn_id, is_fraud, known_at_ms)``, such as :class:`pesaguard.models.scorer.Scorer`).

    Deterministic given the messages and their stored times; repeated transactions (same
    ``txn_id``) among the last ``dedup_ids`` are never counted twice, repeated labels never twice.
    """

    def __init__(self, scorer: Any, window: EventWindow | None = None, dedup_ids: int = DEDUP_IDS) -> None:
        from pesaguard.service.routers.transactions import TransactionIn

        self.scorer = scorer
        self.window = window or EventWindow()
        self.dedup_ids = dedup_ids
        self._parse = TransactionIn.model_validate_json
        self._txns: OrderedDict[str, tuple[str, int]] = OrderedDict()  # txn_id -> (request hash, seq)
        self._labels: set[tuple[str, bool, int, str]] = set()  # as the store's label_id: source included
        self.applied = 0  # the last stream sequence applied

    def apply_transaction(self, seq: int, data: bytes, stored_ms: int) -> Outcome:
        self.applied = seq
        try:
            txn = self._parse(data)
        except ValidationError as exc:
            return _dead(seq, exc, "transaction")
        h = request_hash(txn)
        seen = self._txns.get(txn.txn_id)
        if seen is not None:
            return Outcome(seq, "duplicate" if seen[0] == h else "conflict", txn=txn, req_hash=h, first_seq=seen[1])
        try:
            self.window.check(txn.ts_ms, "ts_ms", now_ms=stored_ms)
        except PesaguardError as exc:
            return _dead(seq, exc, "transaction")
        result = self.scorer.score(dict(txn.__dict__))
        self._txns[txn.txn_id] = (h, seq)
        if len(self._txns) > self.dedup_ids:
            self._txns.popitem(last=False)
        return Outcome(seq, "scored", txn=txn, req_hash=h, result=result)

    def apply_label(self, seq: int, data: bytes) -> Outcome:
        self.applied = seq
        try:
            lab = Label.model_validate_json(data)
        except ValidationError as exc:
            return _dead(seq, exc, "label")
        key = (lab.txn_id, lab.is_fraud, lab.known_at_ms, lab.source)
        if key not in self._labels:
            self._labels.add(key)
            self.scorer.add_label(lab.txn_id, lab.is_fraud, lab.known_at_ms)
        return Outcome(seq, "label", label=lab)

    # -- snapshots ------------------------------------------------------------------------------
    @property
    def can_snapshot(self) -> bool:
        """Whether the scorer's feature state can be saved (a :class:`FeatureEngine` as ``scorer.engine``)."""
        from pesaguard.features.engine import FeatureEngine

        return isinstance(getattr(self.scorer, "engine", None), FeatureEngine)

    def snapshot(self) -> dict[str, Any]:
        """The state after the last message applied: the feature engine's and this machine's own
        (the transaction ids and labels it would not count again), as plain copies.

        The engine's own snapshot restores every value, but not when its next sweep comes: the
        arenas' capacities (a full arena sweeps before growing) and the count towards the periodic
        sweep. A sweep expires windows to the clock, which changes what a transaction dated more
        than a window behind the clock sees; so both are kept too, and a restored replica sweeps
        exactly when the others do.
        """
        engine = self.scorer.engine
        return {"applied": self.applied, "engine": engine.snapshot(), "capacity": engine._s.capacity(),
                "since_sweep": engine._since_sweep, "txns": list(self._txns.items()), "labels": list(self._labels)}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (:meth:`snapshot`): the next message to apply is ``applied + 1``."""
        from pesaguard.features.engine import FeatureEngine

        engine = FeatureEngine.restore(state["engine"])
        engine._s.reserve(state["capacity"])
        engine._since_sweep = int(state["since_sweep"])
        self.scorer.engine = engine
        self._txns = OrderedDict(state["txns"])
        self._labels = set(state["labels"])
        self.applied = int(state["applied"])

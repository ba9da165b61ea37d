"""The replicated state machine: one feature state, rebuilt identically in every replica.

Every replica applies every message of the input stream, in the stream's order, to its own
scorer (its feature state). The result of applying message ``seq`` depends only on the messages
before it, so every replica computes the same features, score and verdict for it, equal to a
single process reading the same stream. Nothing here reads a clock, a random source or the
network: the event-time window is checked against the time the stream stored the message.

Which replica *answers* for a message (stores and publishes its decision) is decided elsewhere
(:mod:`pesaguard.cluster.consumer`); this module keeps each message's outcome until the owner
takes it.

Applying a transaction computes its features and adds it to the state; it does not run the model.
The score is a function of the features alone, so only the replica that answers for the
transaction computes it (:meth:`StateMachine.result`), from the features kept in the outcome: the
same score, reasons and model version as scoring at apply time, without every replica paying for
the model on every message (measured with ``benchmarks/bench_cluster.py``: the model's score and
reasons are about a quarter of the apply).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable
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

    ``scored``: a new transaction, counted in the state; ``features`` are its features from the
    state before it, ``result`` the scorer's result when it was scored at apply time (a scorer that
    cannot score features on their own), else None until :meth:`StateMachine.result` computes it.
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
    features: dict[str, float] | None = None
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


def _feature_scorer(scorer: Any) -> Callable[[dict[str, float]], Any] | None:
    """The scoring half of ``scorer.score`` (features in, the scorer's result out), when the scorer
    has one: ``score_features(feats)``, or for :class:`pesaguard.models.scorer.Scorer` its
    ``_result(feats, explain)`` (what ``Scorer.score`` runs on the engine's features, under the
    scorer's lock). None: the scorer only scores whole transactions."""
    own = getattr(scorer, "score_features", None)
    if callable(own):
        return own
    result = getattr(scorer, "_result", None)
    if callable(result) and hasattr(scorer, "engine"):
        lock = getattr(scorer, "_lock", None) or contextlib.nullcontext()

        def score_features(feats: dict[str, float]) -> Any:
            with lock:
                return result(feats, None)

        return score_features
    return None


class StateMachine:
    """Applies stream messages in order to ``scorer`` (anything with ``score(dict)`` and
    ``add_label(txn_id, is_fraud, known_at_ms)``, such as :class:`pesaguard.models.scorer.Scorer`).
    A scorer with a feature engine (``scorer.engine.score_and_update``) and a way to score features
    on their own (:func:`_feature_scorer`) is applied without its model: see the module.

    Deterministic given the messages and their stored times; repeated transactions (same
    ``txn_id``) among the last ``dedup_ids`` are never counted twice, repeated labels never twice.
    """

    def __init__(self, scorer: Any, window: EventWindow | None = None, dedup_ids: int = DEDUP_IDS) -> None:
        from pesaguard.service.routers.transactions import TransactionIn

        self.scorer = scorer
        self.window = window or EventWindow()
        self.dedup_ids = dedup_ids
        self._parse = TransactionIn.model_validate_json
        self._score_features = _feature_scorer(scorer)
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
        if self._score_features is not None:
            # features only: the engine read at each call (restore() replaces it)
            feats = self.scorer.engine.score_and_update(dict(txn.__dict__))
            outcome = Outcome(seq, "scored", txn=txn, req_hash=h, features=feats)
        else:
            outcome = Outcome(seq, "scored", txn=txn, req_hash=h, result=self.scorer.score(dict(txn.__dict__)))
        self._txns[txn.txn_id] = (h, seq)
        if len(self._txns) > self.dedup_ids:
            self._txns.popitem(last=False)
        return outcome

    def result(self, outcome: Outcome) -> Any:
        """The scorer's result for a ``scored`` outcome: the model's score of the features kept in
        it (equal to what ``scorer.score`` gave at apply time: the model reads nothing but them)."""
        if outcome.result is not None:
            return outcome.result
        assert outcome.features is not None and self._score_features is not None
        return self._score_features(outcome.features)

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

"""The replicated state machine in one process: replicas on the real feature engine, fed the same
stream at their own pace, each message answered by a replica drawn at random once that replica
has applied it, claims on a shared dict. Whatever the interleaving (of transactions, repeats and
label arrivals in the stream, and of the replicas' progress), every transaction gets one decision,
its features equal the single-process replay, and a repeat answered by any replica gets the
original decision back."""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_support import LB, TX, EngineScorer, random_stream, replay, same_features
from pesaguard.cluster.claims import MemoryClaims, NotYet, decode, encode, settle
from pesaguard.cluster.machine import Outcome, StateMachine
from pesaguard.cluster.snapshots import Snapshots
from pesaguard.stream.consumer import Dead
from service_support import DAY_MS

STORED_MS = DAY_MS + 30 * 86_400_000  # when the stream stored the messages (the event window's "now")

op = st.one_of(
    st.tuples(st.just("tx"), st.integers(0, 4), st.integers(0, 4), st.sampled_from([500, 70_000, 900_000]),
              st.integers(-300_000, 3_600_000)),
    st.tuples(st.just("label"), st.integers(0, 10_000), st.booleans(), st.integers(0, 7_200_000)),
    st.tuples(st.just("repeat"), st.integers(0, 10_000)),
)


def build(ops: list[tuple[Any, ...]]) -> list[tuple[str, bytes]]:
    """The stream the ops describe: transactions among five accounts with event times drifting
    forward (some out of order), labels for earlier transactions known some time later, repeats."""
    out: list[tuple[str, bytes]] = []
    sent: list[dict[str, Any]] = []
    t = DAY_MS
    for o in ops:
        if o[0] == "tx":
            t += max(0, o[4])
            payee = o[2] if o[2] != o[1] else (o[1] + 1) % 5
            tx = {"txn_id": f"H{len(sent)}", "ts_ms": t + min(0, o[4]), "payer": f"A{o[1]}", "payee": f"A{payee}",
                  "amount_minor": o[3], "currency": "KES"}
            sent.append(tx)
            out.append((TX, orjson.dumps(tx)))
        elif sent and o[0] == "label":
            target = sent[o[1] % len(sent)]
            out.append((LB, orjson.dumps({"txn_id": target["txn_id"], "is_fraud": o[2],
                                          "known_at_ms": t + o[3], "source": "test"})))
        elif sent:
            out.append((TX, orjson.dumps(sent[o[1] % len(sent)])))
    return out


def apply(machine: StateMachine, seq: int, message: tuple[str, bytes]) -> Outcome:
    subject, data = message
    return machine.apply_label(seq, data) if subject == LB else machine.apply_transaction(seq, data, STORED_MS)


def run_cluster(stream: list[tuple[str, bytes]], replicas: int, rng: random.Random) -> tuple[
        dict[str, dict[str, Any]], list[tuple[int, dict[str, Any]]]]:
    """Replicas advance and answer in an order ``rng`` draws; returns the claims and, for each
    transaction message answered, (stream seq, the row the answer carried)."""
    machines = [StateMachine(EngineScorer()) for _ in range(replicas)]
    held: list[dict[int, Outcome]] = [{} for _ in range(replicas)]
    claims = MemoryClaims()
    work = list(range(1, len(stream) + 1))
    rng.shuffle(work)  # JetStream hands out work in its order; replicas answer in theirs
    answers: list[tuple[int, dict[str, Any]]] = []

    def evaluate(o: Outcome) -> dict[str, Any]:
        assert o.txn is not None
        # through JSON, as the key-value bucket stores it
        return decode(encode({"txn_id": o.txn.txn_id, "request_hash": o.req_hash, "features": o.features,
                              "seq": o.seq}))

    async def answer(seq: int, outcome: Outcome) -> bool:
        if outcome.kind == "label":
            return True
        try:
            row, _ = await settle(outcome, claims, evaluate)
        except NotYet:
            return False  # its original is not claimed yet: comes again later
        answers.append((seq, row))
        return True

    while work:
        r = rng.randrange(replicas)
        m = machines[r]
        if m.applied < len(stream) and rng.random() < 0.6:
            seq = m.applied + 1
            held[r][seq] = apply(m, seq, stream[seq - 1])
            continue
        seq = work[0]
        if seq > m.applied:
            continue  # this replica would wait for its applier
        work.pop(0)
        if not asyncio.run(answer(seq, held[r][seq])):
            work.append(seq)
    return claims.rows, answers


def check(stream: list[tuple[str, bytes]], replicas: int, seed: int) -> None:
    expected = replay(stream)
    rows, answers = run_cluster(stream, replicas, random.Random(seed))
    assert rows.keys() == expected.keys()
    for txn_id, want in expected.items():
        assert same_features(rows[txn_id]["features"], want), txn_id
    n_tx = sum(1 for s, _ in stream if s == TX)
    assert len(answers) == n_tx  # every transaction message answered, repeats included
    for seq, row in answers:  # a repeat gets the claimed row itself, made for the first occurrence
        assert row is rows[row["txn_id"]]
        assert orjson.loads(stream[seq - 1][1])["txn_id"] == row["txn_id"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=40), replicas=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
def test_any_interleaving_of_replicas_and_label_arrivals_matches_the_single_process(
        ops: list[tuple[Any, ...]], replicas: int, seed: int) -> None:
    check(build(ops), replicas, seed)


def test_a_longer_random_stream_on_three_replicas() -> None:
    check(random_stream(seed=3, n=400), 3, seed=3)


def test_the_replay_sees_labels_and_repeats() -> None:
    """Guards the property test's power: a replica that ignored labels, or counted a repeat
    twice, would compute other features than the replay."""
    stream = random_stream(seed=5, n=300, label_share=0.3, repeat_share=0.1)
    expected = replay(stream)
    no_labels = replay([m for m in stream if m[0] != LB])
    assert any(not same_features(expected[t], no_labels[t]) for t in expected)
    counted_twice = EngineScorer()
    feats: dict[str, dict[str, float]] = {}
    for subject, data in stream:
        if subject == TX:
            body = orjson.loads(data)
            feats[body["txn_id"]] = counted_twice.score(body).features
    assert any(not same_features(expected[t], feats[t]) for t in expected)


class MemoryObjects:
    """The calls :class:`Snapshots` makes on a JetStream object store, on a dict."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    async def get_info(self, name: str) -> Any:
        from nats.js.errors import NotFoundError

        if name not in self.objects:
            raise NotFoundError
        return SimpleNamespace(name=name, deleted=False)

    async def put(self, name: str, data: bytes) -> None:
        self.objects[name] = data

    async def get(self, name: str) -> Any:
        return SimpleNamespace(data=self.objects[name])

    async def list(self, ignore_deletes: bool = False) -> list[Any]:
        return [SimpleNamespace(name=n, deleted=False) for n in self.objects]

    async def delete(self, name: str) -> None:
        del self.objects[name]


def test_a_replica_restored_from_a_snapshot_continues_as_if_it_had_applied_everything() -> None:
    # a second stream dated back at the first one's start: transactions far behind the clock
    stream = (random_stream(seed=9, n=300, label_share=0.3, repeat_share=0.1) + random_stream(seed=10, n=300))[:600]
    whole = StateMachine(EngineScorer())
    expected = [apply(whole, i + 1, m) for i, m in enumerate(stream)]
    first = StateMachine(EngineScorer())
    half = len(stream) // 2
    snapshots = Snapshots(MemoryObjects(), keep=4)

    async def write_while_applying() -> None:
        for i in range(len(stream)):
            apply(first, i + 1, stream[i])
            if (i + 1) % 100 == 0:
                snapshots.save_soon(i + 1, first.snapshot())  # written while the next messages apply
            await asyncio.sleep(0)
        await snapshots.wait()

    asyncio.run(write_while_applying())
    assert sorted(snapshots.obs.objects) == [f"state-{n:015d}" for n in (300, 400, 500, 600)]  # the newest kept
    assert asyncio.run(snapshots.latest(at_most=299)) is None
    found = asyncio.run(snapshots.latest(at_most=half + 50))
    assert found is not None
    seq, state = found
    second = StateMachine(EngineScorer())
    second.restore(state)
    assert seq == second.applied == half
    for i in range(half, len(stream)):
        got, want = apply(second, i + 1, stream[i]), expected[i]
        assert (got.kind, got.first_seq) == (want.kind, want.first_seq)  # repeats still known
        if want.kind == "scored":
            assert same_features(got.features, want.features), i


def test_a_snapshot_of_an_older_feature_layout_is_passed_over() -> None:
    """A release that changes the feature engine's state layout must not restore (and fail on) a
    snapshot written by the previous one: the replica takes an older usable one, or replays."""
    m = StateMachine(EngineScorer())
    for i, msg in enumerate(random_stream(seed=11, n=200)):
        apply(m, i + 1, msg)
    snapshots = Snapshots(MemoryObjects(), keep=4)

    async def write() -> None:
        good = m.snapshot()
        snapshots.save_soon(100, good)
        await snapshots.wait()
        old = {**good, "engine": {**good["engine"], "format": good["engine"]["format"] - 1}}
        snapshots.save_soon(200, old)
        await snapshots.wait()

    asyncio.run(write())
    found = asyncio.run(snapshots.latest(at_most=200))
    assert found is not None and found[0] == 100
    StateMachine(EngineScorer()).restore(found[1])


def test_undecidable_messages_are_dead_on_every_replica_alike() -> None:
    m = StateMachine(EngineScorer())
    assert m.apply_transaction(1, b"{not json", STORED_MS).code == "malformed_json"
    bad = m.apply_transaction(2, orjson.dumps({"txn_id": "X"}), STORED_MS)
    assert bad.kind == "dead" and bad.code == "invalid_transaction"
    tx = {"txn_id": "Y", "ts_ms": STORED_MS + 86_400_000, "payer": "A", "payee": "B", "amount_minor": 1,
          "currency": "KES"}
    # the event window is checked against the stream's stored time, not a replica's clock
    late = m.apply_transaction(3, orjson.dumps(tx), STORED_MS)
    assert late.kind == "dead" and late.field == "ts_ms"
    assert m.apply_transaction(4, orjson.dumps(tx), tx["ts_ms"]).kind == "scored"
    assert m.apply_transaction(5, orjson.dumps({**tx, "amount_minor": 2}), STORED_MS).kind == "conflict"
    repeat = m.apply_transaction(6, orjson.dumps(tx), STORED_MS)
    assert repeat.kind == "duplicate" and repeat.first_seq == 4
    assert m.apply_label(7, b'{"txn_id": "Y"}').kind == "dead"


def test_settle_refuses_conflicts_and_waits_for_an_unclaimed_original() -> None:
    m = StateMachine(EngineScorer())
    tx = {"txn_id": "Z", "ts_ms": DAY_MS, "payer": "A", "payee": "B", "amount_minor": 1, "currency": "KES"}
    first = m.apply_transaction(1, orjson.dumps(tx), STORED_MS)
    repeat = m.apply_transaction(2, orjson.dumps(tx), STORED_MS)
    claims = MemoryClaims()

    def evaluate(o: Outcome) -> dict[str, Any]:
        return {"txn_id": "Z", "request_hash": o.req_hash}

    with pytest.raises(NotYet):
        asyncio.run(settle(repeat, claims, evaluate))
    row, made = asyncio.run(settle(first, claims, evaluate))
    assert made and asyncio.run(settle(repeat, claims, evaluate)) == (row, False)
    assert asyncio.run(settle(first, claims, evaluate)) == (row, False)  # a redelivery: not made again
    claims.rows["Z"] = {"txn_id": "Z", "request_hash": "another payload"}
    with pytest.raises(Dead) as err:
        asyncio.run(settle(first, claims, evaluate))
    assert err.value.code == "conflict"


def test_replicas_apply_without_the_model_and_the_decider_scores_as_a_single_process_does() -> None:
    """With the real scorer (a fitted model, path reasons): applying keeps the features and runs no
    model; the score computed from them where the transaction is decided equals, to the bit, the
    score, reasons and model version of ``Scorer.score`` in a single process."""
    from models_synth import small_bundle
    from pesaguard.models.scorer import Scorer

    bundle = small_bundle()
    stream = random_stream(seed=11, n=300, label_share=0.3, repeat_share=0.1)
    single = Scorer(bundle, explain="always")
    lazy_scorer = Scorer(bundle, explain="always")
    machine = StateMachine(lazy_scorer)
    calls = 0
    margin = lazy_scorer._margin

    def counted(row: Any) -> float:
        nonlocal calls
        calls += 1
        return margin(row)

    lazy_scorer._margin = counted  # type: ignore[method-assign]
    outcomes = [apply(machine, i + 1, m) for i, m in enumerate(stream)]
    assert calls == 0  # the apply ran no model
    seen: set[str] = set()
    scored = 0
    for (subject, data), outcome in zip(stream, outcomes, strict=True):
        body = orjson.loads(data)
        if subject == LB:
            single.add_label(body["txn_id"], body["is_fraud"], body["known_at_ms"])
            continue
        if body["txn_id"] in seen:
            assert outcome.kind == "duplicate"
            continue
        seen.add(body["txn_id"])
        want = single.score(body)
        got = machine.result(outcome)
        assert outcome.kind == "scored" and outcome.result is None
        assert (got.score, got.reasons, got.model_version) == (want.score, want.reasons, want.model_version)
        assert same_features(got.features, want.features)
        scored += 1
    assert calls == scored > 250
    assert any(r.reasons for r in [machine.result(o) for o in outcomes if o.kind == "scored"])


@settings(max_examples=300, deadline=None)
@given(seq=st.integers(1, 2**40), ns=st.integers(0, 2**63 - 1), sub_ms=st.sampled_from(
    [None, 0, 1, 999, 1_999, 2_000, 500_000, 997_999, 998_000, 999_999]))
def test_the_stored_time_from_the_reply_subject_is_the_clients_own(seq: int, ns: int, sub_ms: int | None) -> None:
    """Every replica must read a message's stored time alike (it decides the event-window check):
    the fast parse gives what ``msg.metadata`` gives, at the edges of a millisecond too."""
    from nats.aio.msg import Msg

    from pesaguard.cluster.consumer import ack_position

    if sub_ms is not None:
        ns = ns - ns % 1_000_000 + sub_ms
    reply = f"$JS.ACK.PESAGUARD_IN.replica-x.1.{seq}.{seq}.{ns}.0"
    md = Msg.Metadata._from_reply(reply)
    assert ack_position(reply) == (md.sequence.stream, int(md.timestamp.timestamp() * 1000))

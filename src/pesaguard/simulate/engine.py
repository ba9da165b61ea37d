"""``simulate()``: run the world day by day and write its files.

Memory stays bounded by one day of transactions: each day is generated, settled by the ledger and
appended to ``transactions.parquet`` / ``sms.parquet`` as a row group before the next one starts.
Only the small outputs (labels, account events, summary counters) are kept for the whole run.
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pesaguard.simulate.batch import Batch, Keys
from pesaguard.simulate.clock import DayCtx, month_day
from pesaguard.simulate.codes import CHANNELS, KINDS, TYPES
from pesaguard.simulate.config import SimConfig, SimSummary
from pesaguard.simulate.fraud import Fraud
from pesaguard.simulate.ids import date_parts, msisdn_hash, serial_ids, txn_codes
from pesaguard.simulate.labels import SOURCES, label_day
from pesaguard.simulate.ledger import Day, Ledger
from pesaguard.simulate.legit import Legit
from pesaguard.simulate.messages import Inbox, Messenger
from pesaguard.simulate.text.names import REGIONS
from pesaguard.simulate.typologies import TYPOLOGY_NAMES
from pesaguard.simulate.world import INCOME_BANDS, KES, World, build_world, day_start_ms

TXN_SCHEMA = pa.schema([
    ("txn_id", pa.string()), ("ts_ms", pa.int64()), ("payer", pa.string()), ("payee", pa.string()),
    ("amount_minor", pa.int64()), ("currency", pa.string()), ("type", pa.string()), ("channel", pa.string()),
    ("fee_minor", pa.int64()), ("payer_balance_before", pa.int64()), ("payer_balance_after", pa.int64()),
    ("payee_balance_before", pa.int64()), ("payee_balance_after", pa.int64()), ("device_id", pa.string()),
    ("source", pa.string()), ("is_fraud", pa.bool_()), ("typology", pa.string()),
])
SMS_SCHEMA = pa.schema([
    ("msg_id", pa.string()), ("ts_ms", pa.int64()), ("sender", pa.string()), ("recipient", pa.string()),
    ("text", pa.string()), ("lang", pa.string()), ("label", pa.string()), ("scam_type", pa.string()),
    ("kind", pa.string()), ("txn_id", pa.string()),
])
LABEL_SCHEMA = pa.schema([("txn_id", pa.string()), ("is_fraud", pa.bool_()), ("known_at_ms", pa.int64()),
                          ("source", pa.string()), ("typology", pa.string())])
EVENT_SCHEMA = pa.schema([("event_id", pa.string()), ("account_id", pa.string()), ("ts_ms", pa.int64()),
                          ("kind", pa.string())])
FILES = ("transactions.parquet", "labels.parquet", "accounts.parquet", "account_events.parquet", "sms.parquet",
         "summary.json")


def _codes(values: tuple[str | None, ...], codes: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(codes.astype(np.int32)))


def _defaults(cfg: SimConfig) -> tuple[str, str]:
    if cfg.operator_sender_id is not None and cfg.msisdn_salt is not None:
        return cfg.operator_sender_id, cfg.msisdn_salt
    from pesaguard.config import get_settings

    s = get_settings()
    return cfg.operator_sender_id or s.operator_sender_ids[0], cfg.msisdn_salt or s.redaction_salt


def accounts_table(w: World, salt: str) -> pa.Table:
    phones = (w.kind <= 1) & (w.msisdn > 0)  # customers and agents have phone numbers
    hashes = [msisdn_hash(f"254{int(m):09d}", salt) if p else None for m, p in zip(w.msisdn, phones, strict=True)]
    return pa.table({
        "account_id": w.ids, "kind": _codes(KINDS, w.kind), "region": _codes(REGIONS, w.region),
        "income_band": _codes((None, *INCOME_BANDS), w.band.astype(np.int64) + 1), "opened_ms": w.opened_ms,
        "device_id": w.device_str(w.device), "msisdn_hash": pa.array(hashes, pa.string()),
    })


class _Tally:
    """Counters for the summary, updated day by day."""

    def __init__(self, max_kes: int) -> None:
        self.max_kes = max_kes
        # counts of each whole-shilling amount per type: exact quantiles in fixed memory
        self.amounts = np.zeros(len(TYPES) * (max_kes + 1), np.int64)
        self.per_type = np.zeros(len(TYPES), np.int64)
        self.per_typ = np.zeros(len(TYPOLOGY_NAMES) + 1, np.int64)
        self.fraud_amount = np.zeros(len(TYPOLOGY_NAMES) + 1, np.int64)
        self.rejected = 0
        self.first: int | None = None
        self.last: int | None = None
        self.sms: dict[str, dict[str, int]] = {"kind": {}, "lang": {}, "label": {}, "scam_type": {}}
        self.sms_total = 0

    def add(self, d: Day, box: Inbox) -> None:
        r = d.rows
        self.per_type += np.bincount(r.type, minlength=len(TYPES))
        self.per_typ += np.bincount(r.typology, minlength=len(self.per_typ))
        self.fraud_amount += np.bincount(r.typology, weights=r.amount / KES, minlength=len(self.per_typ)).astype(np.int64)
        kes = np.minimum(r.amount // KES, self.max_kes)
        self.amounts += np.bincount(r.type.astype(np.int64) * (self.max_kes + 1) + kes, minlength=len(self.amounts))
        self.rejected += d.rejected
        if len(r):
            self.first = int(r.ts[0]) if self.first is None else self.first
            self.last = int(r.ts[-1])
        self.sms_total += len(box.ts)
        for col, counts in self.sms.items():
            for v in getattr(box, col):
                key = str(v)
                counts[key] = counts.get(key, 0) + 1

    def quantiles(self) -> dict[str, dict[str, float]]:
        """Amount quantiles (KES) per type, exact: every amount is a whole number of shillings."""
        out = {}
        for t, name in enumerate(TYPES):
            counts = self.amounts[t * (self.max_kes + 1):(t + 1) * (self.max_kes + 1)]
            if counts.sum():
                cdf = np.cumsum(counts) / counts.sum()
                out[name] = {f"p{int(q * 100)}": float(np.searchsorted(cdf, q)) for q in (0.1, 0.5, 0.9, 0.99)}
        return out




def simulate(config: SimConfig, out_dir: Path, progress: Callable[[int], None] | None = None) -> SimSummary:
    """Simulate ``config.days`` days of the world and write the run's files into ``out_dir``.

    Deterministic: the same config (and seed) writes byte-identical Parquet files.
    """
    started = _time.perf_counter()
    sender_id, salt = _defaults(config)
    cfg, seed = config, config.seed
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(cfg)
    start = datetime.combine(cfg.start, time(), tzinfo=UTC)
    start_ms, end_ms = day_start_ms(start, 0), day_start_ms(start, cfg.days)
    pq.write_table(accounts_table(world, salt), out_dir / "accounts.parquet")
    keys, legit = Keys(), Legit(len(world.kind))
    typologies = cfg.effective_typologies()
    fraud = Fraud(typologies, len(world.kind))
    ledger = Ledger(world.balance, world.kind, cfg.world.slot_minutes * 60_000, cfg.world.max_amount * KES)
    messenger = Messenger(world, sender_id, seed)
    tally = _Tally(cfg.world.max_amount)
    labels: list[pa.Table] = []
    events: list[tuple[int, int, str]] = []
    pending = Batch.empty()
    n_txn = n_msg = 0
    with pq.ParquetWriter(out_dir / "transactions.parquet", TXN_SCHEMA) as txn_w, \
            pq.ParquetWriter(out_dir / "sms.parquet", SMS_SCHEMA) as sms_w:
        for day in range(cfg.days):
            ctx = DayCtx(cfg=cfg, world=world, keys=keys, day=day, date=month_day(cfg.start, day),
                         t0=day_start_ms(start, day), rng=np.random.default_rng([seed, 2, day]))
            lb = legit.day(ctx)
            cand = Batch.concat([pending, lb, fraud.day(ctx, lb)])
            cand.ts = np.maximum(cand.ts, ctx.t0)
            opened = np.maximum(world.opened_ms[cand.payer], world.opened_ms[cand.payee])
            cand = cand.take(np.flatnonzero(cand.ts >= opened))  # nobody transacts before their account exists
            later = cand.ts >= ctx.t1
            pending, today = cand.take(np.flatnonzero(later)), cand.take(np.flatnonzero(~later))
            d = ledger.run_day(today)
            m = len(d.rows)
            year, month = date_parts(np.array([day]), cfg.start)
            ids = txn_codes(np.arange(n_txn, n_txn + m), np.repeat(year, m), np.repeat(month, m), seed)
            n_txn += m
            id_list = ids.to_pylist()
            decided = _decided(ctx, messenger, today, d, id_list)
            box = messenger.day(ctx, d, id_list, decided)
            txn_w.write_table(_txn_table(world, d, ids))
            sms_tab, n_msg = _sms_table(world, box, seed, n_msg)
            sms_w.write_table(sms_tab)
            lab = label_day(d, typologies, fraud.event_t0, seed)
            labels.append(pa.table({
                "txn_id": ids.take(pa.array(lab["row"])), "is_fraud": pa.array(np.ones(len(lab["row"]), bool)),
                "known_at_ms": lab["known_at_ms"], "source": _codes(SOURCES, lab["source"]),
                "typology": _codes(TYPOLOGY_NAMES, d.rows.typology[lab["row"]].astype(np.int64) - 1),
            }, schema=LABEL_SCHEMA))
            events += ctx.events
            tally.add(d, box)
            if progress is not None:
                progress(1)
    label_tab = pa.concat_tables(labels).sort_by([("known_at_ms", "ascending"), ("txn_id", "ascending")])
    pq.write_table(label_tab, out_dir / "labels.parquet")
    ev_counts = _write_events(world, events, end_ms, seed, out_dir / "account_events.parquet")
    summary = _summary(cfg, world, tally, label_tab, ev_counts, start_ms, end_ms, started, out_dir)
    (out_dir / "summary.json").write_text(json.dumps(summary.model_dump(), indent=2, sort_keys=True) + "\n")
    return summary


def _decided(ctx: DayCtx, messenger: Messenger, today: Batch, d: Day, ids: list[str]) -> dict[int, str | None]:
    """For every candidate an SMS points at and that was settled today: its txn id, or None if rejected."""
    wanted = np.array([s.link_key for s in (*messenger.waiting, *ctx.sms) if s.link_key is not None], dtype=np.int64)
    seen = wanted[np.isin(wanted, today.key)]
    acc_pos = {int(k): i for i, k in enumerate(d.rows.key[np.isin(d.rows.key, seen)].tolist())}
    pos = np.flatnonzero(np.isin(d.rows.key, seen))
    out: dict[int, str | None] = {int(k): None for k in seen.tolist()}
    for k, i in zip(acc_pos, pos.tolist(), strict=True):
        out[k] = ids[i]
    return out


def _txn_table(w: World, d: Day, ids: pa.Array) -> pa.Table:
    r = d.rows
    n = len(r)
    return pa.table({
        "txn_id": ids, "ts_ms": r.ts, "payer": w.ids.take(pa.array(r.payer)), "payee": w.ids.take(pa.array(r.payee)),
        "amount_minor": r.amount, "currency": _codes(("KES",), np.zeros(n, np.int64)), "type": _codes(TYPES, r.type),
        "channel": _codes(CHANNELS, r.channel), "fee_minor": d.fee, "payer_balance_before": d.payer_before,
        "payer_balance_after": d.payer_after, "payee_balance_before": d.payee_before,
        "payee_balance_after": d.payee_after, "device_id": w.device_str(r.device),
        "source": _codes(("simulator",), np.zeros(n, np.int64)), "is_fraud": pa.array(r.typology > 0),
        "typology": _codes((None, *TYPOLOGY_NAMES), r.typology),
    }, schema=TXN_SCHEMA)


def _sms_table(w: World, box: Inbox, seed: int, first: int) -> tuple[pa.Table, int]:
    order = np.argsort(np.array(box.ts, dtype=np.int64), kind="stable")
    n = len(order)
    pick = pa.array(order.astype(np.int64))
    tab = pa.table({
        "msg_id": serial_ids("SM", seed, np.arange(first, first + n)), "ts_ms": pa.array(box.ts, pa.int64()).take(pick),
        "sender": pa.array(box.sender, pa.string()).take(pick),
        "recipient": w.ids.take(pa.array(np.array(box.recipient, dtype=np.int64)[order])),
        "text": pa.array(box.text, pa.string()).take(pick), "lang": pa.array(box.lang, pa.string()).take(pick),
        "label": pa.array(box.label, pa.string()).take(pick), "scam_type": pa.array(box.scam_type, pa.string()).take(pick),
        "kind": pa.array(box.kind, pa.string()).take(pick), "txn_id": pa.array(box.txn_id, pa.string()).take(pick),
    }, schema=SMS_SCHEMA)
    return tab, first + n


def _write_events(w: World, events: list[tuple[int, int, str]], end_ms: int, seed: int, path: Path) -> dict[str, int]:
    ev = sorted((e for e in events if e[1] < end_ms), key=lambda e: (e[1], e[0], e[2]))
    acct = np.array([e[0] for e in ev], dtype=np.int64)
    tab = pa.table({"event_id": serial_ids("EV", seed, np.arange(len(ev))), "account_id": w.ids.take(pa.array(acct)),
                    "ts_ms": pa.array([e[1] for e in ev], pa.int64()), "kind": pa.array([e[2] for e in ev], pa.string())},
                   schema=EVENT_SCHEMA)
    pq.write_table(tab, path)
    counts: dict[str, int] = {}
    for e in ev:
        counts[e[2]] = counts.get(e[2], 0) + 1
    return counts


def _summary(cfg: SimConfig, w: World, t: _Tally, labels: pa.Table, ev_counts: dict[str, int], start_ms: int,
             end_ms: int, started: float, out_dir: Path) -> SimSummary:
    n = int(t.per_type.sum())
    fraud = int(t.per_typ[1:].sum())
    known = labels.column("known_at_ms").to_numpy() if labels.num_rows else np.zeros(0, np.int64)
    sources: dict[str, int] = {}
    for s in labels.column("source").to_pylist():
        sources[s] = sources.get(s, 0) + 1
    sms: dict[str, Any] = {"total": t.sms_total, **{k: dict(sorted(v.items())) for k, v in t.sms.items()}}
    return SimSummary(
        seed=cfg.seed, accounts={k: int(v) for k, v in w.n.items()}, days=cfg.days, start_ms=start_ms, end_ms=end_ms,
        first_ts_ms=t.first, last_ts_ms=t.last, transactions=n,
        per_type={name: int(c) for name, c in zip(TYPES, t.per_type, strict=True)},
        amount_quantiles_kes=t.quantiles(), fraud_transactions=fraud, fraud_rate=fraud / n if n else 0.0,
        per_typology={name: int(c) for name, c in zip(TYPOLOGY_NAMES, t.per_typ[1:], strict=True)},
        fraud_amount_kes={name: float(a) for name, a in zip(TYPOLOGY_NAMES, t.fraud_amount[1:], strict=True)},
        labels=labels.num_rows, label_coverage=labels.num_rows / fraud if fraud else 0.0,
        label_coverage_by_end=float((known < end_ms).sum()) / fraud if fraud else 0.0,
        labels_per_source=dict(sorted(sources.items())), account_events=dict(sorted(ev_counts.items())), sms=sms,
        rejected_for_funds=t.rejected, wall_seconds=round(_time.perf_counter() - started, 3),
        files={f: str(out_dir / f) for f in FILES},
    )

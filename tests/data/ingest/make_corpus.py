"""Write the messy-file corpus of tests/test_ingest_corpus.py: small files as real tools write them,
each with ``NAME.expected.json``, the report it must give. Expectations come from how each file is
built (which rows were made bad, which amounts went through binary floats), never from running
the ingest.

    .venv/bin/python tests/data/ingest/make_corpus.py      # rewrites the files in this directory

Spec keys: ``file``, ``format``, ``map``, ``options`` (IngestOptions), ``expect`` (report fields;
``notes`` are substrings), ``quarantined_rows`` (row numbers), ``values`` (stored columns per
``key`` value), ``error`` (class and message pattern), ``inspect`` (the proposed map and options).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "benchmarks"))

from bench_ingest import HANDBOOK_MAP, handbook_csv, java_double  # noqa: E402

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
HOUR = 3_600_000
SNAP = "float artefact snapped to whole minor units"


def spec(name: str, **body: Any) -> None:
    (HERE / f"{name}.expected.json").write_text(json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                                encoding="utf-8")


def lines(name: str, rows: list[str], encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = HERE / name
    path.write_bytes(newline.join(rows).encode(encoding) + newline.encode())
    return path


def has_artefact(text: str) -> bool:
    """More than two decimals in what pandas wrote: a float artefact, as the value came from cents."""
    return "." in text and len(text.split(".")[1]) > 2


def paysim_sci() -> None:
    """PaySim's public layout, balances written by Java (``1.058888527E7`` from 1e7 up)."""
    rng = np.random.default_rng(3)
    n = 40
    rows = ["step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,newbalanceDest,"
            "isFraud,isFlaggedFraud"]
    values: dict[str, dict[str, int]] = {}
    frauds = 0
    for i in range(n):
        cents = [int(rng.integers(100, 10**6)), int(rng.integers(10**9, 5 * 10**10)),
                 int(rng.integers(10**9, 5 * 10**10)), int(rng.integers(0, 10**6)), int(rng.integers(10**9, 10**11))]
        fraud = int(i % 9 == 4)
        frauds += fraud
        texts = [java_double(c / 100) for c in cents]
        payer = f"C{1000 + i}"
        rows.append(f"{1 + i // 10},TRANSFER,{texts[0]},{payer},{texts[1]},{texts[2]},C{9000 + i},{texts[3]},"
                    f"{texts[4]},{fraud},0")
        values[payer] = {"amount_minor": cents[0], "payer_balance_before": cents[1], "payer_balance_after": cents[2],
                         "payee_balance_before": cents[3], "payee_balance_after": cents[4]}
    lines("paysim_sci.csv", rows)
    sci = sum("E" in r for r in rows[1:])
    assert sci == n  # every row has a balance in scientific notation
    spec("paysim_sci", file="paysim_sci.csv", options={"label_delay_days": 7},
         expect={"read": n, "accepted": n, "quarantined": 0, "frauds": frauds, "quarantined_frauds": 0,
                 "format": "paysim", "labels": frauds},
         values={"key": "payer", "rows": values})


def handbook() -> None:
    """The Handbook's simulated-transactions layout through pandas, from benchmarks/cardsim.py."""
    frame = handbook_csv(HERE / "handbook.csv", customers=40, terminals=400, days=6, seed=5)
    text = (HERE / "handbook.csv").read_text().splitlines()[1:]
    amounts = [row.split(",")[4] for row in text]
    artefacts = sum(has_artefact(a) for a in amounts)
    assert artefacts > 0, "the look-alike must hold float artefacts"
    art_ids = [int(frame["TRANSACTION_ID"].iloc[i]) for i, a in enumerate(amounts) if has_artefact(a)]
    values = {str(t): {"amount_minor": int(frame["cents"].iloc[t])} for t in art_ids}
    values[str(int(frame["TRANSACTION_ID"].iloc[0]))] = {"amount_minor": int(frame["cents"].iloc[0]),
                                                          "ts_ms": int(frame["ts_ms"].iloc[0])}
    fmap = dict(kv.split("=") for kv in HANDBOOK_MAP.split(","))
    n, frauds = len(frame), int(frame["TX_FRAUD"].sum())
    spec("handbook", file="handbook.csv", format="generic", map=fmap, options={"label_delay_days": 7},
         expect={"read": n, "accepted": n, "quarantined": 0, "frauds": frauds, "quarantined_frauds": 0,
                 "labels": frauds, "adjustments": {f"TX_AMOUNT: {SNAP}": artefacts},
                 "label_timing": "known 7 day(s) after the transaction"},
         values={"key": "txn_id", "rows": values},
         inspect={"map": fmap, "options": {}, "command_contains": ["--label-delay-days 7", "--format generic"]})


def pandas_floats() -> None:
    """Amounts computed in floats and written by pandas, plus two genuinely finer amounts."""
    rng = np.random.default_rng(11)
    n = 60
    a = rng.integers(1, 10**6, n)
    b = rng.integers(1, 10**5, n)
    k = rng.integers(2, 6, n)
    cents = np.where(np.arange(n) % 2 == 0, a + b, a * k)
    amount = np.where(np.arange(n) % 2 == 0, a / 100 + b / 100, (a / 100) * k)
    fee = b / 100
    ids = [f"F{i:03d}" for i in range(n)]
    df = pd.DataFrame({"id": ids, "time": [f"2024-01-01T{i % 24:02d}:00:00Z" for i in range(n)],
                       "payer": [f"P{i % 7}" for i in range(n)], "payee": [f"Q{i % 5}" for i in range(n)],
                       "amount": amount, "fee": fee})
    finer = {10: 1.234, 21: 2.0049}
    for i, v in finer.items():
        df.loc[i, "amount"] = v
    df.to_csv(HERE / "pandas_floats.csv", index=False)
    written = (HERE / "pandas_floats.csv").read_text().splitlines()[1:]
    artefacts = sum(has_artefact(r.split(",")[4]) for i, r in enumerate(written) if i not in finer)
    values = {ids[i]: {"amount_minor": int(cents[i])} for i in range(n) if i not in finer}
    common = {"file": "pandas_floats.csv", "map": {"fee": "fee"}}
    spec("pandas_floats", **common,
         expect={"read": n, "accepted": n - 2, "quarantined": 2,
                 "reasons": {"amount has more than 2 decimals": 2},
                 "adjustments": {f"amount: {SNAP}": artefacts} if artefacts else {}},
         quarantined_rows=[11, 22], values={"key": "txn_id", "rows": values},
         inspect={"map": {k: k for k in ("id", "time", "payer", "payee", "amount", "fee")}, "options": {},
                  "command_contains": ["amount=amount"]})  # two finer values must not hide the amount
    rounded = dict(values, **{ids[10]: {"amount_minor": 123}, ids[21]: {"amount_minor": 200}})
    spec("pandas_floats.round", **common, options={"rounding": "half-even"},
         expect={"read": n, "accepted": n, "quarantined": 0,
                 "adjustments": {**({f"amount: {SNAP}": artefacts} if artefacts else {}),
                                 "amount: rounded half-even": 2}},
         values={"key": "txn_id", "rows": rounded})


def currency_thousands() -> None:
    rows = ["id,time,payer,payee,amount"]
    cases = [("KES 1,200.50", 120050), ("Ksh 50", 5000), ("1,200/=", 120000), ("1 200.50", 120050),
             ("  7.00  ", 700), ("12,345,678.90 KES", 1234567890), ("KShs. 3,000", 300000),
             ("USD 5", None), ("1,20.5", None)]
    values = {}
    for i, (text, cents) in enumerate(cases, start=1):
        shown = f'"{text}"' if "," in text else text  # quoted as a CSV writer quotes it
        rows.append(f"C{i},2024-01-01T10:00:00Z,A,B,{shown}")
        if cents is not None:
            values[f"C{i}"] = {"amount_minor": cents}
    lines("currency_thousands.csv", rows)
    spec("currency_thousands", file="currency_thousands.csv",
         expect={"read": len(cases), "accepted": len(values), "quarantined": 2,
                 "reasons": {"amount is in USD but the row's currency is KES": 1, "amount is not a number": 1}},
         quarantined_rows=[8, 9], values={"key": "txn_id", "rows": values})


def decimal_comma() -> None:
    """A European export: semicolons, decimal commas, day-first times in Nairobi."""
    rows = ["ref;when;from;to;amount"]
    cases = [("31/01/2024 10:00", "1.200,50", 120050), ("01/02/2024 00:30", "0,99", 99), ("15/02/2024 23:59", "12", 1200),
             ("29/02/2024 12:00", "1 000 000,00", 100000000)]
    values = {}
    for i, (when, amount, cents) in enumerate(cases, start=1):
        rows.append(f"D{i};{when};A;B;{amount}")
        d, m, rest = when.split("/")
        y, hm = rest.split(" ")
        local = pd.Timestamp(f"{y}-{m}-{d} {hm}", tz="Africa/Nairobi")
        values[f"D{i}"] = {"amount_minor": cents, "ts_ms": int(local.value // 1_000_000)}
    lines("semicolon_decimal_comma.csv", rows)
    fmap = {"id": "ref", "time": "when", "payer": "from", "payee": "to", "amount": "amount"}
    options = {"decimal": ",", "time_format": "%d/%m/%Y %H:%M", "tz": "Africa/Nairobi"}
    spec("semicolon_decimal_comma", file="semicolon_decimal_comma.csv", map=fmap, options=options,
         expect={"read": 4, "accepted": 4, "quarantined": 0, "file": {"delimiter": "semicolon"},
                 "notes": ["delimiter semicolon (sniffed)"]},
         values={"key": "txn_id", "rows": values},
         inspect={"map": fmap, "options": {"decimal": ",", "time_format": "%d/%m/%Y %H:%M"},
                  "command_contains": ["--decimal ,", "--time-format '%d/%m/%Y %H:%M'"]})


def delimiters() -> None:
    for name, delim, label in (("tabs.tsv", "\t", "tab"), ("pipes.psv", "|", "pipe")):
        rows = [delim.join(["id", "time", "payer", "payee", "amount"])]
        for i in range(1, 6):
            rows.append(delim.join([f"X{i}", f"2024-01-01T0{i}:00:00+03:00", "A", "B", f"{i},000.00"]))
        lines(name, rows)
        spec(name.split(".")[0], file=name,
             expect={"read": 5, "accepted": 5, "quarantined": 0, "file": {"delimiter": label}},
             values={"key": "txn_id", "rows": {"X2": {"ts_ms": T0 - HOUR, "amount_minor": 200000}}})


def encodings() -> None:
    names = ["José", "Müller", "Zoë", "François", "Nuñez"]
    rows = ["id,time,payer,payee,amount,note"] + [
        f"E{i},2024-01-01,{n},B,{i}.50,{'€ fee – “paid”' if i == 2 else 'ok'}" for i, n in enumerate(names, start=1)]
    lines("cp1252.csv", rows, encoding="cp1252")
    spec("cp1252", file="cp1252.csv",
         expect={"read": 5, "accepted": 5, "file": {"encoding": "windows-1252"}, "notes": ["read as Windows-1252"]},
         values={"key": "txn_id", "rows": {f"E{i}": {"payer": n} for i, n in enumerate(names, start=1)}})
    rows = ["id,time,payer,payee,amount"] + [f"L{i},2024-01-01,{n},B,1" for i, n in enumerate(names, start=1)]
    lines("latin1.csv", rows, encoding="latin-1")
    spec("latin1", file="latin1.csv",
         expect={"read": 5, "accepted": 5, "file": {"encoding": "latin-1"}, "notes": ["Latin-1"]},
         values={"key": "txn_id", "rows": {"L3": {"payer": "Zoë"}}})
    rows = ["id,time,payer,payee,amount"] + [f"U{i},2024-01-01,{n},Wanjirũ,1" for i, n in enumerate(names, start=1)]
    path = lines("utf8_bom.csv", rows, newline="\r\n")
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    spec("utf8_bom", file="utf8_bom.csv",
         expect={"read": 5, "accepted": 5, "file": {"encoding": "utf-8"}, "notes": ["byte-order mark"]},
         values={"key": "txn_id", "rows": {"U1": {"payer": "José", "payee": "Wanjirũ"}}})
    body = ("id,time,payer,payee,amount\nM1,2024-01-01,Wanjirũ,B,1\nM2,2024-01-01,Jos".encode()
            + b"\xe9,B,1\nM3,2024-01-01,Zo\xc3\xab,B,1\n")
    (HERE / "mixed_encoding.csv").write_bytes(body)
    spec("mixed_encoding", file="mixed_encoding.csv",
         expect={"read": 3, "accepted": 3, "file": {"encoding": "utf-8"},
                 "notes": ["1 row(s) had bytes that are not UTF-8, the first at line 3: read as Windows-1252"]},
         values={"key": "txn_id", "rows": {"M1": {"payer": "Wanjirũ"}, "M2": {"payer": "José"},
                                           "M3": {"payer": "Zoë"}}})


def quoted_newlines() -> None:
    rows = ["id,time,payer,payee,amount,note",
            'N1,2024-01-01,A,B,1,"Paid at the stall,\nnear the market"',
            'N2,2024-01-01,A,B,2,"He said ""send it"""',
            'N3,2024-01-01,A,B,3,"two\nline\nbreaks"',
            "N4,2024-01-01,A,B,4,plain"]
    lines("quoted_newlines.csv", rows)
    spec("quoted_newlines", file="quoted_newlines.csv",
         expect={"read": 4, "accepted": 4, "quarantined": 0, "notes": ["2 row(s) hold a quoted line break"]},
         values={"key": "txn_id", "rows": {"N4": {"amount_minor": 400}}})


def ragged() -> None:
    rows = ["id,time,payer,payee,amount"] + [f"R{i},2024-01-01,A,B,{i}" for i in range(1, 11)]
    rows[3] = "R3,2024-01-01,A,B,3,surplus"
    rows[7] = "R7,2024-01-01,A"
    rows.insert(5, "")
    lines("ragged.csv", rows)
    spec("ragged", file="ragged.csv",
         expect={"read": 10, "accepted": 8, "quarantined": 2,
                 "reasons": {"row has 6 fields, expected 5": 1, "row has 3 fields, expected 5": 1}},
         quarantined_rows=[3, 7])


def unterminated_quote() -> None:
    """The 101-row file that used to lose 50 rows: a quote opened and never closed, twice."""
    rows = ["id,time,payer,payee,amount"] + [f"Q{i},2024-01-01,A,B,1" for i in range(1, 102)]
    rows[50] = 'Q50,2024-01-01,"A,B,1'
    rows[90] = 'Q90,2024-01-01,A,B,"1'
    lines("unterminated_quote.csv", rows)
    spec("unterminated_quote", file="unterminated_quote.csv",
         expect={"read": 101, "accepted": 99, "quarantined": 2, "reasons": {"row has an unterminated quote": 2}},
         quarantined_rows=[50, 90], values={"key": "txn_id", "rows": {"Q51": {"amount_minor": 100},
                                                                      "Q101": {"amount_minor": 100}}})


def empty_and_header_only() -> None:
    (HERE / "empty.csv").write_bytes(b"")
    spec("empty", file="empty.csv", error={"class": "InputError", "match": "empty"})
    lines("header_only.csv", ["id,time,payer,payee,amount"])
    spec("header_only", file="header_only.csv", expect={"read": 0, "accepted": 0, "quarantined": 0})
    (HERE / "zero.parquet").write_bytes(b"")
    spec("zero_parquet", file="zero.parquet", error={"class": "InputError", "match": "empty"})


def compressed() -> None:
    rows = ["id,time,payer,payee,amount"] + [f"Z{i},2024-01-01T00:00:00Z,A,B,{i}.25" for i in range(1, 21)]
    raw = ("\n".join(rows) + "\n").encode()
    (HERE / "clean.csv.gz").write_bytes(gzip.compress(raw, mtime=0))
    with pa.output_stream(str(HERE / "clean.csv.zst"), compression="zstd") as out:
        out.write(raw)
    (HERE / "clean.csv.bz2").write_bytes(bz2.compress(raw))
    for name, comp in (("clean.csv.gz", "gzip"), ("clean.csv.zst", "zstd"), ("clean.csv.bz2", "bz2")):
        spec(name.replace(".", "_"), file=name,
             expect={"read": 20, "accepted": 20, "file": {"compression": comp}},
             values={"key": "txn_id", "rows": {"Z7": {"amount_minor": 725}}})


def parquet() -> None:
    amounts = [9839.64, 0.1 + 0.2, 3.0, 18.08 * 5, 1.0588885270000001e7]
    cents = [983964, 30, 300, 9040, 1058888527]
    table = pa.table({
        "id": [f"P{i}" for i in range(5)],
        "time": pa.array([T0 + i * HOUR for i in range(5)], pa.timestamp("ms", tz="UTC")),
        "payer": ["A"] * 5, "payee": ["B"] * 5, "amount": pa.array(amounts, pa.float64()),
    })
    pq.write_table(table, HERE / "typed.parquet")
    snapped = sum(len(repr(a).split(".")[1]) > 2 for a in amounts)
    spec("typed_parquet", file="typed.parquet",
         expect={"read": 5, "accepted": 5, "file": {"kind": "parquet"}, "adjustments": {f"amount: {SNAP}": snapped}},
         values={"key": "txn_id", "rows": {f"P{i}": {"amount_minor": c, "ts_ms": T0 + i * HOUR}
                                           for i, c in enumerate(cents)}})


def jsonl() -> None:
    body = "\n".join([
        '{"id": "J1", "time": "2024-01-01T00:00:00Z", "payer": "A", "payee": "B", "amount": 90.39999999999999}',
        '{"id": "J2", "time": 1704067200, "payer": "A", "payee": "B", "amount": 1.5e3, "extra": {"k": [1]}}',
        "",
        "{not json",
        '["an", "array"]',
        '{"id": "J3", "time": "2024-01-01T00:00:00Z", "payer": "A", "payee": "B", "amount": "1234567890123456.78"}',
        '{"id": "J4", "time": "2024-01-01T00:00:00Z", "payer": "A", "payee": "B"}',
    ]) + "\n"
    (HERE / "tx.jsonl").write_text(body, encoding="utf-8")
    spec("jsonl", file="tx.jsonl",
         expect={"read": 6, "accepted": 3, "quarantined": 3, "file": {"kind": "jsonl"},
                 "reasons": {"line is not valid JSON": 1, "line is JSON but not an object": 1, "amount is empty": 1},
                 "adjustments": {f"amount: {SNAP}": 1}},
         quarantined_rows=[3, 4, 6],
         values={"key": "txn_id", "rows": {"J1": {"amount_minor": 9040}, "J2": {"amount_minor": 150000},
                                           "J3": {"amount_minor": 123456789012345678}}})


def epochs_and_spaces() -> None:
    rows = ["id,time,payer,payee,amount", "S1,1704067200,A,B,1", "S2,1704067200000,A,B,1",
            "S3,1704067200.5,A,B,1", "S4,1704067200000000,A,B,1"]
    lines("epochs.csv", rows)
    spec("epochs", file="epochs.csv", expect={"read": 4, "accepted": 4},
         values={"key": "txn_id", "rows": {"S1": {"ts_ms": T0}, "S2": {"ts_ms": T0}, "S3": {"ts_ms": T0 + 500},
                                           "S4": {"ts_ms": T0}}})
    rows = ["id,time,payer,payee,amount", "  W1 , 2024-01-01T00:00:00Z ,\tA\t, B ,  12.50  ",
            f"W2,{chr(0xA0)}2024-01-01{chr(0xA0)},A{chr(0xA0)},B, 3 "]
    lines("spaces.csv", rows)
    spec("spaces", file="spaces.csv", expect={"read": 2, "accepted": 2},
         values={"key": "txn_id", "rows": {"W1": {"payer": "A", "amount_minor": 1250, "ts_ms": T0},
                                           "W2": {"payer": "A", "amount_minor": 300, "ts_ms": T0}}})


def times_in_a_zone() -> None:
    """One instant written every way a file writes times, read with --tz Africa/Nairobi: offsets
    win, zone-less times are Nairobi wall-clock, epoch numbers are absolute; and day-first times
    with --time-format, where a value in another layout is quarantined, not guessed."""
    at = pd.Timestamp("2024-03-01 09:00:00Z")
    ms = int(at.value // 10**6)
    local = at.tz_convert("Africa/Nairobi")  # 12:00 wall clock
    cases = [
        ("I1", local.strftime("%Y-%m-%dT%H:%M:%S%z")[:-2] + ":00", ms),  # +03:00
        ("I2", at.strftime("%Y-%m-%dT%H:%M:%SZ"), ms),
        ("I3", local.strftime("%Y-%m-%d %H:%M:%S"), ms),  # no offset: Nairobi
        ("I4", local.strftime("%Y-%m-%dT%H:%M"), ms),
        ("I5", local.strftime("%Y-%m-%dT%H:%M:%S") + ".250", ms + 250),
        ("I6", at.tz_convert("America/New_York").strftime("%Y-%m-%dT%H:%M:%S%z"), ms),  # -0500
        ("I7", "2024-03-02", int(pd.Timestamp("2024-03-02", tz="Africa/Nairobi").value // 10**6)),
        ("I8", str(ms), ms),  # epoch milliseconds: no zone applies
        ("I9", str(ms // 1000), ms),  # epoch seconds
        ("I10", "yesterday", None),
    ]
    lines("times_nairobi.csv", ["id,time,payer,payee,amount"] + [f"{i},{t},A,B,1" for i, t, _ in cases])
    spec("times_nairobi", file="times_nairobi.csv", options={"tz": "Africa/Nairobi"},
         expect={"read": len(cases), "accepted": len(cases) - 1, "quarantined": 1,
                 "reasons": {"time is not a date": 1}},
         quarantined_rows=[len(cases)],
         values={"key": "txn_id", "rows": {i: {"ts_ms": v} for i, _, v in cases if v is not None}},
         inspect={"map": {k: k for k in ("id", "time", "payer", "payee", "amount")}, "options": {},
                  "command_contains": ["time=time", "amount=amount"]})  # one bad time, amounts all 1
    day_first = [("F1", "31/01/2024", "2024-01-31"), ("F2", "01/02/2024", "2024-02-01"),
                 ("F3", "2024-02-01", None), ("F4", "02/31/2024", None)]  # ISO, and month-first: not the format
    lines("day_first.csv", ["id,time,payer,payee,amount"] + [f"{i},{t},A,B,1" for i, t, _ in day_first])
    spec("day_first", file="day_first.csv", options={"time_format": "%d/%m/%Y", "tz": "Africa/Nairobi"},
         expect={"read": 4, "accepted": 2, "quarantined": 2,
                 "reasons": {"time does not match --time-format '%d/%m/%Y'": 2}},
         quarantined_rows=[3, 4],
         values={"key": "txn_id", "rows": {i: {"ts_ms": int(pd.Timestamp(d, tz="Africa/Nairobi").value // 10**6)}
                                           for i, _, d in day_first if d is not None}})


def labels_and_timing() -> None:
    rows = ["id,time,payer,payee,amount,is_fraud,reported_at",
            "K1,2024-01-01T00:00:00Z,A,B,1,1,2024-01-05T00:00:00Z",
            "K2,2024-01-01T00:00:00Z,A,B,1,1,",
            "K3,2024-01-01T00:00:00Z,A,B,1,0,",
            "K4,2024-01-02T00:00:00Z,A,B,1,1,2024-01-03T00:00:00Z"]
    lines("known_at.csv", rows)
    fmap = {"label": "is_fraud", "known_at": "reported_at"}
    spec("known_at", file="known_at.csv", map=fmap,
         expect={"read": 4, "accepted": 3, "quarantined": 1, "frauds": 3, "quarantined_frauds": 1, "labels": 2,
                 "reasons": {"reported_at is empty and no --label-delay-days says when the label became known": 1}},
         quarantined_rows=[2])
    spec("known_at.delay", file="known_at.csv", map=fmap, options={"label_delay_days": 2},
         expect={"read": 4, "accepted": 4, "quarantined": 0, "labels": 3,
                 "label_timing": "known at column 'reported_at' (empty: transaction time + 2 day(s))"})
    spec("known_at.no_timing", file="known_at.csv", map={"label": "is_fraud"},
         error={"class": "UsageError", "match": "--label-delay-days"})
    rows = ["id,time,payer,payee,amount"] + [f"D{i % 3},2024-01-01,A,B,1" for i in range(7)]
    lines("duplicates.csv", rows)
    spec("duplicates", file="duplicates.csv", expect={"read": 7, "accepted": 3, "duplicates": 4, "quarantined": 0})
    rows = ["id,time,payer,payee,amount", "G1,2024-03-31 01:30,A,B,1", "G2,2024-10-27 01:30,A,B,1",
            "G3,2024-06-01 12:00,A,B,1"]
    lines("dst_london.csv", rows)
    spec("dst_london", file="dst_london.csv", options={"tz": "Europe/London"},
         expect={"read": 3, "accepted": 1, "quarantined": 2,
                 "reasons": {"time does not exist or is ambiguous in Europe/London": 2}},
         values={"key": "txn_id", "rows": {"G3": {"ts_ms": int(pd.Timestamp("2024-06-01 11:00Z").value // 10**6)}}})


def main() -> None:
    for old in HERE.glob("*.expected.json"):
        old.unlink()
    for build in (paysim_sci, handbook, pandas_floats, currency_thousands, decimal_comma, delimiters, encodings,
                  quoted_newlines, ragged, unterminated_quote, empty_and_header_only, compressed, parquet, jsonl,
                  epochs_and_spaces, times_in_a_zone, labels_and_timing):
        build()
    total = sum(p.stat().st_size for p in HERE.iterdir() if p.name != Path(__file__).name)
    print(f"{len(list(HERE.glob('*.expected.json')))} specs, {total / 1024:.0f} KiB in {HERE}")


if __name__ == "__main__":
    main()

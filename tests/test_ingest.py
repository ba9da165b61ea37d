"""ingest_file and ingest_labels against SQLite and PostgreSQL: formats, quarantine, counting, idempotency."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pesaguard.errors import InputError, NotFoundError
from pesaguard.ingest import IngestOptions, IngestReport, ingest_file, ingest_labels, quarantine_summary
from pesaguard.ingest.quarantine import export_rows, reingest
from pesaguard.store import Store, core
from pesaguard.store import quarantine as qstore

PAYSIM_HEADER = ("step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,"
                 "newbalanceDest,isFraud,isFlaggedFraud")
PAYSIM_ROWS = [
    "1,PAYMENT,9839.64,C1231006815,170136.0,160296.36,M1979787155,0.0,0.0,0,0",
    "1,TRANSFER,181.0,C1305486145,181.0,0.0,C553264065,0.0,0.0,1,0",
    "1,CASH_OUT,181.0,C840083671,181.0,0.0,C38997010,21182.0,0.0,1,0",
    "2,DEBIT,5337.77,C712410124,41720.0,36382.23,C195600860,41898.0,40348.79,0,0",
    "2,CASH_IN,229133.94,C905080434,15325.0,244458.94,C476402209,5083.0,51513.44,0,0",
    "3,PAYMENT,7107.77,C154988899,183195.0,176087.23,M408069119,0.0,0.0,0,0",
]
T0 = 1_704_067_200_000  # 2024-01-01T00:00Z
HOUR = 3_600_000
WEEK = 7 * 86_400_000
DELAY = IngestOptions(label_delay_days=7)  # PaySim's isFraud needs a label timing


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def paysim(tmp_path: Path, rows: list[str] | None = None, name: str = "paysim.csv") -> Path:
    return write(tmp_path / name, [PAYSIM_HEADER, *(PAYSIM_ROWS if rows is None else rows)])


def balanced(r: IngestReport) -> bool:
    return r.accepted + r.quarantined + r.duplicates == r.read


def test_paysim_sample(store: Store, tmp_path: Path) -> None:
    r = ingest_file(store, paysim(tmp_path), options=DELAY)
    assert (r.format, r.read, r.accepted, r.quarantined, r.duplicates, r.labels) == ("paysim", 6, 6, 0, 0, 2)
    tx = core.load_transactions(store).set_index("payer")
    assert tx.loc["C1231006815", "amount_minor"] == 983964
    assert tx.loc["C1231006815", "ts_ms"] == T0 + HOUR
    assert tx.loc["C1231006815", "payer_balance_before"] == 17013600
    assert tx.loc["C1231006815", "payer_balance_after"] == 16029636
    assert tx.loc["C905080434", "payee_balance_after"] == 5151344
    assert tx.loc["C905080434", "ts_ms"] == T0 + 2 * HOUR
    assert dict(zip(tx["payee"], tx["type"], strict=True))["C553264065"] == "p2p"
    assert sorted(tx["type"]) == sorted(["merchant", "p2p", "cash_out", "debit", "cash_in", "merchant"])
    assert set(tx["currency"]) == {"KES"} and set(tx["source"]) == {"paysim"}
    labels = core.load_labels(store)
    assert sorted(labels["is_fraud"]) == [1, 1] and set(labels["source"]) == {"paysim"}
    by_txn = tx.reset_index().set_index("txn_id")
    assert all(labels["known_at_ms"] == by_txn.loc[labels["txn_id"], "ts_ms"].to_numpy() + WEEK)
    assert (r.frauds, r.quarantined_frauds, r.label_timing) == (2, 0, "known 7 day(s) after the transaction")
    timing = qstore.load_label_timing(store)
    assert timing[["label_source", "timing", "delay_ms"]].values.tolist() == [["paysim", "delay", WEEK]]


def test_paysim_options_start_delay_and_all_labels(store: Store, tmp_path: Path) -> None:
    opts = IngestOptions(start=pd.Timestamp("2024-06-01T00:00Z").to_pydatetime(), label_delay_days=2.5,
                         labels="all", currency="TZS")
    r = ingest_file(store, paysim(tmp_path), "paysim", options=opts)
    assert r.labels == 6
    tx = core.load_transactions(store)
    start = 1_717_200_000_000
    assert set(tx["ts_ms"]) == {start + HOUR, start + 2 * HOUR, start + 3 * HOUR}
    assert set(tx["currency"]) == {"TZS"}
    labels = core.load_labels(store).merge(tx, on="txn_id")
    assert ((labels["known_at_ms"] - labels["ts_ms"]) == int(2.5 * 86_400_000)).all()
    assert sorted(labels["is_fraud"]) == [0, 0, 0, 0, 1, 1]


def test_reingest_is_idempotent_even_under_another_name(store: Store, tmp_path: Path) -> None:
    rows = [*PAYSIM_ROWS, "4,PAYMENT,abc,C1,1.0,1.0,M1,0,0,0,0"]
    first = ingest_file(store, paysim(tmp_path, rows), options=DELAY)
    assert (first.read, first.accepted, first.quarantined, first.duplicates) == (7, 6, 1, 0)
    again = ingest_file(store, paysim(tmp_path, rows), options=DELAY)
    assert (again.read, again.accepted, again.quarantined, again.duplicates) == (7, 0, 1, 6)
    copy = tmp_path / "renamed.csv"
    shutil.copy(tmp_path / "paysim.csv", copy)
    renamed = ingest_file(store, copy, options=DELAY)
    assert (renamed.accepted, renamed.duplicates) == (0, 6)
    assert core.count(store, "transactions") == 6
    assert core.count(store, "labels") == 2
    assert core.count(store, "quarantine") == 1  # same content, same source key: not doubled
    runs = qstore.load_runs(store)
    assert len(runs) == 1 and runs.loc[0, "accepted"] == 0 and runs.loc[0, "finished_ms"] is not None


def test_identical_paysim_rows_are_distinct_transactions(store: Store, tmp_path: Path) -> None:
    row = PAYSIM_ROWS[0]
    opts = IngestOptions(chunk_rows=2, label_delay_days=7)
    r = ingest_file(store, paysim(tmp_path, [row, row, PAYSIM_ROWS[1], row]), options=opts)
    assert (r.accepted, r.duplicates) == (4, 0)
    again = ingest_file(store, paysim(tmp_path, [row, row, PAYSIM_ROWS[1], row]), options=DELAY)
    assert (again.accepted, again.duplicates) == (0, 4)
    assert core.count(store, "transactions") == 4


def test_the_same_data_as_parquet_gets_the_same_ids(store: Store, tmp_path: Path) -> None:
    ingest_file(store, paysim(tmp_path), options=DELAY)
    df = pd.read_csv(tmp_path / "paysim.csv")  # typed: floats, ints
    df.to_parquet(tmp_path / "paysim.parquet")
    r = ingest_file(store, tmp_path / "paysim.parquet", options=DELAY)
    assert (r.format, r.read, r.accepted, r.duplicates) == ("paysim", 6, 0, 6)


def test_generic_with_only_the_required_columns(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "tx.csv", [
        "ref,when,from,to,amt",
        "T1,2024-01-01T00:00:00Z,A,B,100",
        "T2,2024-01-01 01:00:00,A,C,0.5",
        "T3,1704070800,B,C,12.34",
        "T4,2024-01-01T04:00:00+03:00,C,A,7",
    ])
    r = ingest_file(store, path, "auto", {"id": "ref", "time": "when", "payer": "from", "payee": "to", "amount": "amt"})
    assert (r.format, r.read, r.accepted, r.quarantined) == ("generic", 4, 4, 0)
    tx = core.load_transactions(store).set_index("txn_id")
    assert tx.loc["T1", "amount_minor"] == 10000 and tx.loc["T2", "amount_minor"] == 50
    assert tx.loc["T3", "ts_ms"] == T0 + HOUR and tx.loc["T4", "ts_ms"] == T0 + HOUR
    assert tx["type"].isna().all() and tx["fee_minor"].isna().all() and tx["device_id"].isna().all()
    assert set(tx["source"]) == {"tx.csv"}
    assert core.count(store, "labels") == 0


def test_generic_optional_columns_and_labels(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "full.csv", [
        "id,time,payer,payee,amount,label,type,currency,channel,device,fee,label_time",
        "T1,1704067200000,A,B,150,fraud,TRANSFER,tzs,ussd,d1,2,2024-01-03",
        "T2,1704067200000,A,B,250,0,bill,,app,,,",
        "T3,1704067200000,A,B,350,,airtime,,app,,,",
    ])
    r = ingest_file(store, path, "generic", {"device": "device"},
                    IngestOptions(amount_unit="minor", labels="all", time_unit="ms", label_delay_days=1))
    assert (r.accepted, r.labels) == (3, 2)
    tx = core.load_transactions(store).set_index("txn_id")
    assert tx.loc["T1", "type"] == "p2p" and tx.loc["T2", "type"] == "bill"
    assert tx.loc["T1", "currency"] == "TZS" and tx.loc["T2", "currency"] == "KES"
    assert tx.loc["T1", "fee_minor"] == 2 and pd.isna(tx.loc["T2", "fee_minor"])
    assert tx.loc["T1", "channel"] == "ussd" and tx.loc["T1", "device_id"] == "d1"
    labels = core.load_labels(store).set_index("txn_id")
    assert labels.loc["T1", "known_at_ms"] == T0 + 2 * 86_400_000 and labels.loc["T1", "is_fraud"] == 1
    assert labels.loc["T2", "known_at_ms"] == T0 + 86_400_000 and labels.loc["T2", "is_fraud"] == 0
    assert r.label_timing == "known at column 'label_time' (empty: transaction time + 1 day(s))"


def test_each_bad_input_goes_to_quarantine_with_row_and_field(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", [
        "id,time,payer,payee,amount,label",
        "T1,2024-01-01T00:00:00Z,A,B,10,",        # row 1 ok
        "T2,2024-01-01T00:00:00Z,A,B,abc,",       # row 2 amount not a number
        "T3,2024-13-01,A,B,10,",                  # row 3 bad date
        "T4,2024-01-01T00:00:00Z,,B,10,",         # row 4 payer empty
        "T5,2024-01-01T00:00:00Z,A,B,0,",         # row 5 amount must be > 0
        "T6,2024-01-01T00:00:00Z,A,B,-4,",        # row 6 negative
        "T7,2024-01-01T00:00:00Z,A,B,1.234,",     # row 7 too many decimals
        ",2024-01-01T00:00:00Z,A,B,10,",          # row 8 id empty
        "T9,2024-01-01T00:00:00Z,A,B,10,maybe",   # row 9 label
        "T10,,A,B,10,",                           # row 10 time empty
        "T1,2024-01-01T00:00:00Z,A,B,10,",        # row 11 duplicate of row 1
        "T12,2024-01-01T00:00:00Z,A,B,10,1",      # row 12 ok
    ])
    r = ingest_file(store, path, options=IngestOptions(chunk_rows=5, label_delay_days=7))
    assert (r.read, r.accepted, r.quarantined, r.duplicates) == (12, 2, 9, 1)
    assert balanced(r)
    q = qstore.load_quarantine(store, r.source_key).set_index("row_number")
    expected = {
        2: ("amount", "amount 'abc' is not a number"),
        3: ("time", "time '2024-13-01' is not a date"),
        4: ("payer", "payer is empty"),
        5: ("amount", "amount must be > 0"),
        6: ("amount", "amount must be > 0"),
        7: ("amount", "amount '1.234' has more than 2 decimals (a finer amount, not a float artefact: "
                      "--round half-even rounds it)"),
        8: ("id", "id is empty"),
        9: ("label", "label 'maybe' is not one of 1/0/true/false/fraud/legit"),
        10: ("time", "time is empty"),
    }
    assert {n: (q.loc[n, "field"], q.loc[n, "reason"]) for n in q.index} == expected
    assert json.loads(q.loc[2, "raw"]) == {"id": "T2", "time": "2024-01-01T00:00:00Z", "payer": "A", "payee": "B",
                                           "amount": "abc", "label": ""}
    assert r.top_reasons["amount"] == 4
    assert r.reasons["amount must be > 0"] == 2 and r.reasons["amount is not a number"] == 1
    assert [e.row for e in r.examples["amount must be > 0"]] == [5, 6]
    assert set(q["rule"]) >= {"amount must be > 0", "time is not a date", "payer is empty"}


def test_malformed_rows_are_quarantined_and_numbering_stays_right(store: Store, tmp_path: Path) -> None:
    lines = ["id,time,payer,payee,amount"]
    lines += [f"T{i},2024-01-01,A,B,1" for i in range(1, 6)]
    lines += ["T6,2024-01-01,A,B,1,extra", "", "T7,2024-01-01,A,B"]  # rows 6 and 7 malformed; blank not counted
    lines += [f"T{i},2024-01-01,A,B,{'x' if i == 9 else 1}" for i in range(8, 11)]
    r = ingest_file(store, write(tmp_path / "ragged.csv", lines), options=IngestOptions(chunk_rows=3))
    assert (r.read, r.accepted, r.quarantined, r.duplicates) == (10, 7, 3, 0)
    q = qstore.load_quarantine(store, r.source_key)
    assert list(q["row_number"]) == [6, 7, 9]
    assert list(q["field"]) == ["row", "row", "amount"]
    assert q["reason"].iloc[0] == "row has 6 fields, expected 5 (line 7)"
    assert json.loads(q["raw"].iloc[1]) == {"_line": 9, "_raw": "T7,2024-01-01,A,B"}


def test_a_latin1_file_is_detected_and_read(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"id,time,payer,payee,amount\nT1,2024-01-01,A,B,1\nT2,2024-01-01,Jos\xe9,B,1\n")
    r = ingest_file(store, path)
    assert (r.accepted, r.quarantined, r.file["encoding"]) == (2, 0, "latin-1")
    assert "José" in set(core.load_transactions(store)["payer"])


def test_gzip_and_parquet(store: Store, tmp_path: Path) -> None:
    plain = paysim(tmp_path)
    gz = tmp_path / "paysim.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    r = ingest_file(store, gz, options=DELAY)
    assert (r.format, r.accepted) == ("paysim", 6)
    table = pa.table({
        "id": ["P1", "P2"],
        "time": pa.array(pd.to_datetime(["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"])),
        "payer": ["A", "B"], "payee": ["B", "C"], "amount": pa.array([12.5, 0.07]),
    })
    pq.write_table(table, tmp_path / "tx.parquet")
    r2 = ingest_file(store, tmp_path / "tx.parquet")
    assert (r2.format, r2.accepted) == ("generic", 2)
    tx = core.load_transactions(store).set_index("txn_id")
    assert tx.loc["P1", "amount_minor"] == 1250 and tx.loc["P2", "amount_minor"] == 7
    assert tx.loc["P2", "ts_ms"] == T0 + HOUR


def test_missing_column_error_names_file_column_and_fix(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", ["ref,when,from,to", "1,2,3,4"])
    with pytest.raises(InputError) as exc:
        ingest_file(store, path, "generic", {"id": "ref", "time": "when", "payer": "from", "payee": "to",
                                             "amount": "amt"})
    msg = str(exc.value)
    assert "x.csv" in msg and "'amt'" in msg and "ref, when, from, to" in msg
    with pytest.raises(InputError) as exc2:
        ingest_file(store, path)  # auto: not PaySim, no map
    assert "not PaySim" in str(exc2.value) and "--map" in str(exc2.value)
    no_step = write(tmp_path / "p.csv", [PAYSIM_HEADER.replace("step,", "hour,"), "1,PAYMENT,1,C,1,1,M,1,1,0,0"])
    with pytest.raises(InputError, match="'step' is missing"):
        ingest_file(store, no_step, "paysim")
    with pytest.raises(NotFoundError):
        ingest_file(store, tmp_path / "nope.csv")
    assert core.count(store, "transactions") == 0


def test_empty_and_header_only_files(store: Store, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        ingest_file(store, empty)
    r = ingest_file(store, paysim(tmp_path, []), options=DELAY)
    assert (r.read, r.accepted) == (0, 0)


def test_labels_file_later_with_unmatched_and_idempotency(store: Store, tmp_path: Path) -> None:
    ingest_file(store, paysim(tmp_path), options=IngestOptions(labels="none"))
    ids = core.load_transactions(store)["txn_id"].tolist()
    path = write(tmp_path / "labels.csv", [
        "txn_id,label,known_at,source,typology",
        f"{ids[0]},fraud,2024-02-01T00:00:00Z,chargeback,sim_swap",
        f"{ids[1]},legitimate,2024-02-01T00:00:00Z,analyst,",
        "NOT-YET-SEEN,1,2024-02-01T00:00:00Z,victim,",
        f"{ids[2]},maybe,2024-02-01,analyst,",
        ",1,2024-02-01,analyst,",
        f"{ids[0]},fraud,2024-02-01T00:00:00Z,chargeback,sim_swap",
    ])
    r = ingest_labels(store, path)
    assert (r.read, r.accepted, r.quarantined, r.duplicates, r.unmatched) == (6, 3, 2, 1, 1)
    assert r.summary().endswith("unmatched 1")
    q = qstore.load_quarantine(store, r.source_key)
    assert list(q["row_number"]) == [4, 5]
    assert q["reason"].tolist() == ["label 'maybe' is not one of 1/0/true/false/fraud/legit", "txn_id is empty"]
    labels = core.load_labels(store).set_index("txn_id")
    assert labels.loc[ids[0], "typology"] == "sim_swap" and labels.loc[ids[1], "is_fraud"] == 0
    assert labels.loc["NOT-YET-SEEN", "source"] == "victim"
    again = ingest_labels(store, path)
    assert (again.accepted, again.quarantined, again.duplicates) == (0, 2, 4)
    assert core.count(store, "labels") == 3 and core.count(store, "quarantine") == 2
    assert set(qstore.load_label_timing(store)["timing"]) == {"column"}


def test_labels_without_known_at_use_the_file_time(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", ["id,is_fraud", "T1,1", "T2,0"])
    os.utime(path, (1_704_067_200, 1_704_067_200))
    r = ingest_labels(store, path)
    assert (r.accepted, r.unmatched) == (2, 2)
    assert set(core.load_labels(store)["known_at_ms"]) == {T0}
    assert ingest_labels(store, path).duplicates == 2
    with pytest.raises(InputError, match="label"):
        ingest_labels(store, write(tmp_path / "nolabel.csv", ["txn_id,x", "T1,1"]))


def test_a_label_contradicting_one_known_at_the_same_time_is_quarantined(store: Store, tmp_path: Path) -> None:
    """One transaction, one time, two opposite labels: which is right cannot be told, so the later one
    (later in the file, or in a later file) goes to quarantine with the fix; a correction at a later
    known_at is a new label event and is stored."""
    first = write(tmp_path / "a.csv", ["txn_id,label,known_at",
                                       "T1,1,2024-02-01T00:00:00Z",
                                       "T1,0,2024-02-01T00:00:00Z",   # contradicts the row above
                                       "T2,0,2024-02-01T00:00:00Z",
                                       "T1,1,2024-02-01T00:00:00Z"])  # a plain duplicate
    r = ingest_labels(store, first)
    assert (r.read, r.accepted, r.quarantined, r.duplicates) == (4, 2, 1, 1)
    q = qstore.load_quarantine(store, r.source_key)
    assert list(q["row_number"]) == [2] and list(q["field"]) == ["label"]  # data rows count from 1
    assert "contradicts" in q["reason"].iloc[0] and "later known_at" in q["reason"].iloc[0]
    later = write(tmp_path / "b.csv", ["txn_id,label,known_at",
                                       "T2,1,2024-02-01T00:00:00Z",   # contradicts a stored label
                                       "T2,1,2024-02-05T00:00:00Z"])  # a correction, known later
    r2 = ingest_labels(store, later)
    assert (r2.accepted, r2.quarantined) == (1, 1)
    labels = core.load_labels(store)
    assert sorted(labels[labels["txn_id"] == "T2"]["is_fraud"].tolist()) == [0, 1]
    assert len(labels[labels["txn_id"] == "T1"]) == 1
    assert ingest_labels(store, first).accepted == 0  # idempotent: the same file adds nothing


def test_progress_is_called_with_rows(store: Store, tmp_path: Path) -> None:
    seen: list[int] = []
    ingest_file(store, paysim(tmp_path), options=IngestOptions(chunk_rows=4, label_delay_days=7),
                progress=seen.append)
    assert seen == [4, 2]


def test_quarantine_summary_export_and_reingest_on_each_dialect(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "day.csv", [
        "id,time,payer,payee,amount,label",
        *[f"T{i},2024-01-01T00:00:00Z,A,B,{'x' if i < 3 else '1'},{int(i < 4)}" for i in range(100)],
    ])
    r = ingest_file(store, path, options=DELAY)
    assert (r.quarantined, r.frauds, r.quarantined_frauds) == (3, 4, 3)
    summary = quarantine_summary(store)
    assert (summary.rows, summary.quarantined, summary.quarantined_frauds, summary.frauds) == (100, 3, 3, 4)
    assert summary.warning is not None and "75.0% of the files' frauds" in summary.warning
    assert summary.sources[0].rules == {"amount is not a number": 3}
    fix = tmp_path / "fix.csv"
    assert export_rows(store, "day.csv", fix) == 3
    fix.write_text(fix.read_text().replace(",x,", ",2,"))
    report, resolved = reingest(store, fix)
    assert (report.accepted, report.quarantined, resolved) == (3, 0, 3)
    assert reingest(store, fix)[1] == 0
    after = quarantine_summary(store)
    assert (after.quarantined, after.quarantined_frauds, after.warning) == (0, 0, None)
    assert after.rows == 100  # the correction's rows are not counted twice
    assert core.count(store, "transactions") == 100
    assert sorted(core.load_labels(store)["txn_id"]) == ["T0", "T1", "T2", "T3"]

"""`pesaguard ingest` and `ingest-labels` from the command line: output, --json, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pesaguard.cli.main import app
from pesaguard.config import Settings
from pesaguard.store import core, open_store

runner = CliRunner()
HEADER = "id,time,payer,payee,amount"


def _file(tmp_path: Path, *rows: str, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_ingest_prints_counts_and_writes_json(env_home: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, "T1,2024-01-01,A,B,1.00", "T2,2024-01-01,A,B,abc", "T1,2024-01-01,A,B,1.00")
    out = tmp_path / "out" / "report.json"
    result = runner.invoke(app, ["ingest", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "read 3, accepted 1, quarantined 1, duplicates 1" in result.output
    report = json.loads(out.read_text())
    assert {k: report[k] for k in ("read", "accepted", "quarantined", "duplicates")} == {
        "read": 3, "accepted": 1, "quarantined": 1, "duplicates": 1}
    assert report["format"] == "generic" and len(report["source_key"]) == 64
    assert report["elapsed"] >= 0 and "rows_per_s" in report
    again = runner.invoke(app, ["ingest", str(path)])
    assert "read 3, accepted 0, quarantined 1, duplicates 2" in again.output
    with open_store(Settings(home=env_home)) as store:
        assert core.count(store, "transactions") == 1 and core.count(store, "quarantine") == 1


def test_strict_exits_non_zero_on_any_quarantined_row(env_home: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, "T1,2024-01-01,A,B,1.00", "T2,2024-01-01,,B,1")
    result = runner.invoke(app, ["ingest", str(path), "--strict"])
    assert result.exit_code == 65
    assert "read 2, accepted 1, quarantined 1, duplicates 0" in result.output
    assert runner.invoke(app, ["ingest", _file(tmp_path, "T3,2024-01-01,A,B,1", name="ok.csv").as_posix(),
                               "--strict"]).exit_code == 0


def test_missing_column_is_an_input_error_with_the_fix(env_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("ref,when,from,to\n1,2,3,4\n")
    result = runner.invoke(app, ["ingest", str(path), "--map", "id=ref,time=when,payer=from,payee=to,amount=amt"])
    assert result.exit_code == 65
    text = " ".join(result.output.split())
    assert "x.csv" in text and "'amt'" in text and "ref, when, from, to" in text
    bad_key = runner.invoke(app, ["ingest", str(path), "--map", "identifier=ref"])
    assert bad_key.exit_code == 64 and "identifier" in bad_key.output
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 66


def test_a_file_whose_every_row_is_bad_exits_non_zero(env_home: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, "T1,soon,A,B,1", "T2,later,A,B,1")
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 65
    assert "every row (2) was quarantined" in " ".join(result.output.split())


def test_ingest_labels_cli(env_home: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["ingest", str(_file(tmp_path, "T1,2024-01-01,A,B,1"))])
    labels = tmp_path / "labels.csv"
    labels.write_text("ref,verdict\nT1,fraud\nT9,legit\nT2,perhaps\n")
    out = tmp_path / "labels.json"
    result = runner.invoke(app, ["ingest-labels", str(labels), "--map", "txn_id=ref,label=verdict",
                                 "--known-at", "2024-02-01T00:00:00", "--source", "chargeback", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "read 3, accepted 2, quarantined 1, duplicates 0, unmatched 1" in result.output
    assert json.loads(out.read_text())["unmatched"] == 1
    with open_store(Settings(home=env_home)) as store:
        got = core.load_labels(store)
    assert set(got["source"]) == {"chargeback"} and set(got["known_at_ms"]) == {1_706_745_600_000}
    no_map = runner.invoke(app, ["ingest-labels", str(labels)])
    assert no_map.exit_code == 65 and "ref, verdict" in " ".join(no_map.output.split())


def test_help_states_the_row_number_convention() -> None:
    for cmd in ("ingest", "ingest-labels"):
        result = runner.invoke(app, [cmd, "--help"])
        assert result.exit_code == 0
        assert "row 1 is line 2" in " ".join(result.output.split())

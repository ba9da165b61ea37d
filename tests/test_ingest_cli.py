"""`pesaguard ingest` and `ingest-labels` from the command line: output, --json, exit codes, messages."""

from __future__ import annotations

import json
import shlex
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pesaguard.cli.main import app
from pesaguard.config import Settings
from pesaguard.store import core, open_store
from pesaguard.store import quarantine as qstore

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


DATA = Path(__file__).parent / "data" / "ingest"
LABELLED = "id,time,payer,payee,amount,label"


def _labelled(tmp_path: Path, *rows: str, name: str = "labelled.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([LABELLED, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_labelled_file_must_say_when_its_labels_became_known(env_home: Path, tmp_path: Path) -> None:
    path = _labelled(tmp_path, "T1,2024-01-01,A,B,1,1", "T2,2024-01-01,A,B,1,0")
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 64
    text = " ".join(result.output.split())
    assert "'label'" in text and "--label-delay-days 7 as in the Fraud Detection Handbook" in text
    assert "--labels-known-at-transaction" in text and "--map known_at=COLUMN" in text
    zero = runner.invoke(app, ["ingest", str(path), "--label-delay-days", "0"])
    assert zero.exit_code == 64 and "--labels-known-at-transaction" in zero.output
    with open_store(Settings(home=env_home)) as store:
        assert core.count(store, "transactions") == 0
    ok = runner.invoke(app, ["ingest", str(path), "--label-delay-days", "7"])
    assert ok.exit_code == 0, ok.output
    assert "known 7 day(s) after the transaction" in ok.output


def test_labels_known_at_transaction_are_recorded_and_warned_about(env_home: Path, tmp_path: Path) -> None:
    path = _labelled(tmp_path, "T1,2024-01-01,A,B,1,1", "T2,2024-01-01,A,B,1,0")
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["ingest", str(path), "--labels-known-at-transaction", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "no live system can" in " ".join(result.output.split())
    assert json.loads(out.read_text())["warnings"]
    with open_store(Settings(home=env_home)) as store:
        timing = qstore.load_label_timing(store)
        labels = core.load_labels(store)
    assert timing[["label_source", "timing", "delay_ms"]].values.tolist() == [
        ["file-at-transaction", "at_transaction", 0]]
    assert labels[["known_at_ms", "source"]].values.tolist() == [[1_704_067_200_000, "file-at-transaction"]]
    with open_store(Settings(home=env_home)) as store:
        from pesaguard.ingest import labels_known_at_transaction

        assert labels_known_at_transaction(store) == ["file-at-transaction"]
    both = runner.invoke(app, ["ingest", str(path), "--labels-known-at-transaction", "--label-delay-days", "3"])
    assert both.exit_code == 64 and "contradict" in both.output


def test_empty_header_only_zero_byte_parquet_directories_and_json_dirs_are_one_line_errors(
        env_home: Path, tmp_path: Path) -> None:
    zipped, utf16 = tmp_path / "tx.csv.zip", tmp_path / "utf16.csv"
    with zipfile.ZipFile(zipped, "w") as z:
        z.write(DATA / "ragged.csv", "ragged.csv")
    utf16.write_bytes((DATA / "utf8_bom.csv").read_text(encoding="utf-8-sig").encode("utf-16"))
    cases = {
        "empty": (["ingest", str(DATA / "empty.csv")], 65, "the file is empty"),
        "header only": (["ingest", str(DATA / "header_only.csv")], 65, "has a header but no data rows"),
        "zero-byte parquet": (["ingest", str(DATA / "zero.parquet")], 65, "the file is empty (0 bytes)"),
        "a directory": (["ingest", str(tmp_path)], 65, "this is a directory"),
        "--json dir": (["ingest", str(_file(tmp_path, "T1,2024-01-01,A,B,1")), "--json", str(tmp_path)], 64,
                       "is a directory"),
        "labels of an empty file": (["ingest-labels", str(DATA / "empty.csv")], 65, "the file is empty"),
        "inspect a zero-byte parquet": (["inspect", str(DATA / "zero.parquet")], 65, "the file is empty"),
        "inspect a header-only file": (["inspect", str(DATA / "header_only.csv")], 65, "has a header but no data rows"),
        "a zip archive": (["ingest", str(zipped)], 65, "unzip it"),
        "UTF-16 text": (["ingest", str(utf16)], 65, "iconv -f UTF-16 -t UTF-8"),
    }
    for name, (args, code, message) in cases.items():
        result = runner.invoke(app, args)
        assert result.exit_code == code, (name, result.output)
        assert "Traceback" not in result.output and message in " ".join(result.output.split()), name
    with open_store(Settings(home=env_home)) as store:
        assert core.count(store, "transactions") == 0  # the --json check comes before any write


def test_quarantine_that_removes_frauds_speaks_up(env_home: Path, tmp_path: Path) -> None:
    rows = [f"T{i},2024-01-01,A,B,{'abc' if i < 3 else '1'},{1 if i < 5 else 0}" for i in range(200)]
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["ingest", str(_labelled(tmp_path, *rows)), "--label-delay-days", "7",
                                 "--json", str(out)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "quarantined 3 rows (1.5%), of them 3 labelled fraud (60.0% of the file's frauds)" in text
    assert "warning: quarantine removed 60.0% of the file's frauds but only 1.5% of its rows" in text
    report = json.loads(out.read_text())
    assert (report["frauds"], report["quarantined_frauds"]) == (5, 3)
    assert report["reasons"] == {"amount is not a number": 3}
    listed = runner.invoke(app, ["quarantine", "list"])
    assert "3 of the file's 5 frauds" in listed.output and "warning" in listed.output
    with open_store(Settings(home=env_home)) as store:
        from pesaguard.ingest import quarantine_warning

        warning = quarantine_warning(store)
    assert warning is not None and "60.0% of the files' frauds" in warning
    from pesaguard.cli.models import _quarantine_warning  # what `pesaguard evaluate` prints and reports

    assert _quarantine_warning() == warning


def test_inspect_gives_a_command_that_ingests_the_file(env_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "simulated-transactions.csv"
    path.write_bytes((DATA / "handbook.csv").read_bytes())
    result = runner.invoke(app, ["inspect", str(path), "--json", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    command = result.output.split("ingest with:")[1].strip()
    assert command.startswith("pesaguard ingest simulated-transactions.csv --format generic --map ")
    assert "TX_AMOUNT" in result.output and "float artefact snapped" in result.output
    profile = json.loads((tmp_path / "p.json").read_text())
    assert profile["map"]["amount"] == "TX_AMOUNT" and profile["label_counts"]["fraud"] > 0
    args = shlex.split(command)[1:]
    args[1] = str(path)
    ingested = runner.invoke(app, args)
    assert ingested.exit_code == 0, ingested.output
    assert "quarantined 0" in ingested.output
    with open_store(Settings(home=env_home)) as store:
        assert core.count(store, "transactions") == profile["report"]["accepted"]


def test_quarantine_show_export_and_reingest_of_corrected_rows(env_home: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, "T1,2024-01-01,A,B,1", "T2,2024-01-01,A,B,abc", "T3,2024-13-01,A,B,2",
                 "T4,2024-01-01,A,B,3,extra", name="day1.csv")
    assert runner.invoke(app, ["ingest", str(path)]).exit_code == 0
    shown = runner.invoke(app, ["quarantine", "show", "day1.csv"])
    assert shown.exit_code == 0 and "amount 'abc' is not a number" in shown.output
    only = runner.invoke(app, ["quarantine", "show", "day1.csv", "--rule", "time is not a date"])
    assert "2024-13-01" in only.output and "abc" not in only.output
    fix = tmp_path / "fix.csv"
    exported = runner.invoke(app, ["quarantine", "export", "day1.csv", "--out", str(fix)])
    assert exported.exit_code == 0 and "wrote 3 rows" in exported.output
    text = fix.read_text().replace(",abc,", ",4.00,").replace("2024-13-01", "2024-12-01")
    lines = text.splitlines()
    lines[-1] = lines[-1].replace(",,,,,", ",T4,2024-01-01,A,B,3", 1)  # the ragged row, filled in by hand
    fix.write_text("\n".join(lines) + "\n")
    again = runner.invoke(app, ["quarantine", "reingest", str(fix)])
    assert again.exit_code == 0, again.output
    assert "resolved 3 quarantined row(s)" in again.output
    twice = runner.invoke(app, ["quarantine", "reingest", str(fix)])
    assert "resolved 0 quarantined row(s)" in twice.output and "accepted 0" in twice.output
    with open_store(Settings(home=env_home)) as store:
        tx = core.load_transactions(store).set_index("txn_id")
        assert tx.loc["T2", "amount_minor"] == 400 and len(tx) == 4
        assert qstore.load_quarantine(store, include_resolved=False).empty
    listed = runner.invoke(app, ["quarantine", "list"])
    assert "corrects" in listed.output and "3 resolved" in listed.output
    not_export = runner.invoke(app, ["quarantine", "reingest", str(path)])
    assert not_export.exit_code == 64 and "not a quarantine export" in not_export.output


def test_rerunning_with_the_right_option_resolves_the_earlier_quarantine(env_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("id;time;payer;payee;amount\nE1;2024-01-01;A;B;1.200,50\nE2;2024-01-01;A;B;3,10\n")
    first = runner.invoke(app, ["ingest", str(path)])
    assert "quarantined 2" in first.output and "--decimal ," in first.output
    fixed = runner.invoke(app, ["ingest", str(path), "--decimal", ","])
    assert "accepted 2, quarantined 0" in fixed.output
    with open_store(Settings(home=env_home)) as store:
        assert qstore.load_quarantine(store, include_resolved=False).empty
        assert sorted(core.load_transactions(store)["amount_minor"]) == [310, 120050]


#: IngestOptions field -> the ingest command's flag.
FLAGS = {"label_delay_days": "--label-delay-days", "tz": "--tz", "time_format": "--time-format",
         "decimal": "--decimal", "rounding": "--round", "time_unit": "--time-unit", "amount_unit": "--amount-unit"}
OPTION_SPECS = [p for p in sorted(DATA.glob("*.expected.json"))
                if json.loads(p.read_text()).get("options") and "error" not in json.loads(p.read_text())]


@pytest.mark.parametrize("spec_path", OPTION_SPECS, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_corpus_files_read_with_options_give_the_same_report_from_the_command_line(
        spec_path: Path, env_home: Path, tmp_path: Path) -> None:
    # the corpus test calls the library; this runs the same specs through the flags a user types
    spec = json.loads(spec_path.read_text())
    args = ["ingest", str(DATA / spec["file"]), "--json", str(tmp_path / "r.json")]
    if spec.get("format"):
        args += ["--format", spec["format"]]
    if spec.get("map"):
        args += ["--map", ",".join(f"{k}={v}" for k, v in spec["map"].items())]
    for name, value in spec["options"].items():
        args += [FLAGS[name], str(value)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    for key in ("read", "accepted", "quarantined", "reasons", "adjustments"):
        if key in spec["expect"]:
            assert report[key] == spec["expect"][key], key
    if "values" in spec:
        with open_store(Settings(home=env_home)) as store:
            stored = core.load_transactions(store).set_index(spec["values"]["key"])
        for ident, cols in spec["values"]["rows"].items():
            assert {c: int(stored.loc[ident, c]) if c != "payer" else stored.loc[ident, c] for c in cols} == cols


def test_the_handbook_worked_example_in_the_docs_ingests_the_books_layout(env_home: Path, tmp_path: Path) -> None:
    docs = (Path(__file__).parents[1] / "docs" / "ingest.md").read_text(encoding="utf-8")
    example = docs.split("### Worked example: the Fraud Detection Handbook", 1)[1].split("```bash", 1)[1]
    command = example.split("```", 1)[0].split("\npesaguard evaluate", 1)[0].replace("\\\n", " ")
    args = shlex.split(command)
    assert args[:3] == ["pesaguard", "ingest", "simulated-transactions.csv"]
    path = tmp_path / "simulated-transactions.csv"
    path.write_bytes((DATA / "handbook.csv").read_bytes())
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["ingest", str(path), *args[3:], "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    spec = json.loads((DATA / "handbook.expected.json").read_text())["expect"]
    assert {k: report[k] for k in ("read", "quarantined", "adjustments", "label_timing")} == {
        k: spec[k] for k in ("read", "quarantined", "adjustments", "label_timing")}

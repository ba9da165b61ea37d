"""``pesaguard sms``: check a message, scan a file, train the model, evaluate it on a labelled file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from pesaguard.cli.common import console, handle_errors, progress, say, write_json
from pesaguard.config import get_settings
from pesaguard.errors import InputError
from pesaguard.schema import to_ms

app = typer.Typer(help="SMS scam shield: check messages, train and evaluate the model.", no_args_is_help=True)

DATA_HELP = ("Folder with the public corpora (uci_sms_spam_collection.tsv, swahili_bongo_scam.csv) to use instead "
             "of the copies shipped with pesaguard.")


def _parse_time(value: str | None) -> int | None:
    """ISO 8601 (naive means UTC) or epoch milliseconds."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        return to_ms(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise InputError(f"--received-at {value!r} is not a time", field="--received-at",
                         hint="use ISO 8601 such as 2024-03-01T14:15:00+03:00, or epoch milliseconds") from exc


@app.command()
@handle_errors
def check(
    text: str = typer.Argument(..., help="The SMS text."),
    sender: str | None = typer.Option(None, "--sender", help="Sender ID or number the SMS came from."),
    to: str | None = typer.Option(None, "--to", help="Recipient account id: enables the ledger check and saves the result."),
    received_at: str | None = typer.Option(None, "--received-at", help="When it arrived (ISO 8601 or epoch ms)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    save: bool = typer.Option(True, "--save/--no-save", help="Store the redacted message when --to is given."),
) -> None:
    """Say whether an SMS is a scam, suspicious or genuine, what kind of message it is, and why."""
    from pesaguard.sms.formats.fields import format_money
    from pesaguard.sms.shield import get_shield, record
    from pesaguard.store import open_store

    if not text.strip():
        raise InputError("the SMS text is empty", field="TEXT",
                         hint='pass the message in quotes: pesaguard sms check "You have received ..."')
    settings = get_settings()
    shield = get_shield(settings)
    received_ms = _parse_time(received_at)
    store = open_store(settings) if to else None
    try:
        result = shield.check(text, sender=sender, to=to, received_ms=received_ms, store=store)
        if store is not None and save:
            record(store, shield, result, text, sender=sender, to=to, received_ms=received_ms)
    finally:
        if store is not None:
            store.close()
    if as_json:
        console.print_json(result.model_dump_json())
        return
    colour = {"scam": "bold red", "suspicious": "bold yellow", "genuine": "bold green"}[result.verdict]
    kind = f", {result.scam_type}" if result.scam_type else ""
    console.print(f"[{colour}]{result.verdict}[/] (category {result.category}, score {result.score:.2f}{kind})",
                  highlight=False)
    n = result.notification
    if n is not None:
        amount = "" if n.amount_minor is None else " " + format_money(n.amount_minor, n.currency)
        state = "consistent" if n.consistent else "inconsistent"
        console.print(f"  {n.operator_name} {n.kind}{amount}, {state}", highlight=False, markup=False)
    for reason in result.reasons:
        console.print(f"  - {reason}", highlight=False, markup=False)


@app.command()
@handle_errors
def train(
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    sim: Path | None = typer.Option(None, "--sim", help="A simulator run to add (its sms.parquet or --out folder); "
                                                        "the shipped model uses none."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the model card to this file."),
) -> None:
    """Retrain the SMS model (what ships in the package) and save it with its card under HOME/models/sms."""
    from pesaguard.sms.train import model_dir, save_model, train_model

    settings = get_settings()
    with progress("training the SMS model", total=3) as advance:
        def step(msg: str) -> None:
            advance(1)

        model = train_model(data, sim, step=step)
        path = save_model(model, model_dir(settings))
        advance(1)
    if json_out is not None:
        write_json(json_out, model.card)
    table = Table(title=f"SMS model {model.version}: template-disjoint out-of-fold, in-source")
    for col in ("source", "n", "scam F1", "scam MCC", "unwanted F1", "genuine -> scam", "promotion -> scam"):
        table.add_column(col, justify="right" if col != "source" else "left")
    for name, m in model.card["metrics_oof"].items():
        table.add_row(name, str(m["n"]), _num(m["scam"]["f1"]), _num(m["scam"]["mcc"]), _num(m["unwanted"]["f1"]),
                      _pct(m["genuine_flagged_scam"]), _pct(m["promotion_flagged_scam"]))
    say(table)
    say(f"saved {path} in {model.card['train_seconds']} s (checks now use it instead of the shipped model)")


def _num(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.3f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


@app.command()
@handle_errors
def evaluate(
    file: Path = typer.Argument(..., help="A labelled CSV, TSV (no header: use integer columns) or Parquet file."),
    text_col: str = typer.Option(..., "--text-col", help="Text column name, or 0-based position."),
    label_col: str = typer.Option(..., "--label-col", help="Label column name, or 0-based position."),
    positive: str = typer.Option(..., "--positive", help="Label value(s) meaning scam, comma-separated."),
    promotion: str = typer.Option("", "--promotion",
                                  help="Label value(s) meaning promotion (marketing, subscriptions), comma-separated; "
                                       "every other label is genuine."),
    shield: bool = typer.Option(False, "--shield", help="Score the full decision (text model, operator formats, cues, "
                                                        "sender) instead of the text model alone."),
    sender_col: str | None = typer.Option(None, "--sender-col", help="Sender column (name or position), used with --shield."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the metrics to this JSON file."),
    dedupe: bool = typer.Option(False, "--dedupe", help="Drop texts identical after normalisation first."),
) -> None:
    """Scam and unwanted (scam or promotion) precision, recall, F1, MCC; three-way confusion matrix."""
    from pesaguard.sms.evaluate import column_ref, evaluate_file
    from pesaguard.sms.shield import get_shield
    from pesaguard.sms.train import load_text_model

    settings = get_settings()
    model = load_text_model(settings)
    metrics = evaluate_file(model, file, column_ref(text_col), column_ref(label_col), positive.split(","),
                            [p for p in promotion.split(",") if p.strip()], dedupe,
                            shield=get_shield(settings) if shield else None,
                            sender_col=column_ref(sender_col) if sender_col is not None else None)
    if json_out is not None:
        write_json(json_out, metrics)
    per = metrics["per_category"]
    table = Table(title=f"{file.name}: {metrics['n']} messages ({per['scam']} scam, {per['promotion']} promotion, "
                        f"{per['genuine']} genuine); {metrics['decision']}")
    table.add_column("metric")
    table.add_column("scam vs rest", justify="right")
    table.add_column("unwanted vs genuine", justify="right")
    for key in ("precision", "recall", "f1", "mcc", "pr_auc", "recall_at_1pct_fpr"):
        if key in metrics["scam"]:
            table.add_row(key, *(_num(metrics[block].get(key)) for block in ("scam", "unwanted")))
    say(table)
    rates = [f"{label} flagged as scam: {_pct(metrics[key])}" for key, label in
             (("genuine_flagged_scam", "genuine"), ("promotion_flagged_scam", "promotions")) if metrics[key] is not None]
    if rates:
        say("; ".join(rates))
    matrix = Table(title="true (rows) x predicted category (columns)")
    matrix.add_column("")
    for c in ("genuine", "promotion", "scam"):
        matrix.add_column(c, justify="right")
    for t, row in metrics["confusion"].items():
        matrix.add_row(t, *(str(row[c]) for c in ("genuine", "promotion", "scam")))
    say(matrix)


@app.command()
@handle_errors
def scan(
    file: Path = typer.Argument(..., help="A simulator run's --out folder or sms.parquet, or a CSV with msg_id, "
                                          "ts_ms, text (sender, recipient, label optional)."),
) -> None:
    """Check every message of a file and store the redacted results (scam messages become account features)."""
    from pesaguard.sms.scan import scan_file
    from pesaguard.sms.shield import get_shield
    from pesaguard.store import open_store

    settings = get_settings()
    shield = get_shield(settings)
    with open_store(settings) as store, progress("checking messages") as advance:
        counts = scan_file(shield, store, file, progress=advance)
    verdicts = ", ".join(f"{k} {counts[k]:,}" for k in ("messages", "new", "scam", "suspicious", "genuine"))
    kinds = ", ".join(f"{k} {counts['category_' + k]:,}" for k in ("scam", "promotion", "genuine"))
    say(f"{verdicts}; categories: {kinds}")

"""``pesaguard sms``: check a message, train the model, evaluate it on a labelled file."""

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

DATA_HELP = "Folder with the training corpora (uci_sms_spam_collection.tsv, swahili_bongo_scam.csv)."


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
    """Say whether an SMS is a scam, suspicious or genuine, and why."""
    from pesaguard.sms.shield import get_shield, record
    from pesaguard.store import open_store

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
    console.print(f"[{colour}]{result.verdict}[/] (score {result.score:.2f}{kind})", highlight=False)
    for reason in result.reasons:
        console.print(f"  - {reason}", highlight=False, markup=False)


@app.command()
@handle_errors
def train(
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP + " Default: ../shared/data/sms."),
    sim: Path | None = typer.Option(None, "--sim", help="A simulator run to add (its sms.parquet or --out folder)."),
    simulate: bool = typer.Option(True, "--simulate/--no-simulate",
                                  help="Without --sim, run a small simulation (1.5 s) and add its SMS."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the model card to this file."),
) -> None:
    """Train the SMS model and save it with its model card under HOME/models/sms."""
    from pesaguard.sms.data import default_data_dir
    from pesaguard.sms.train import model_dir, save_model, train_model

    settings = get_settings()
    with progress("training the SMS model", total=4) as advance:
        def step(msg: str) -> None:
            advance(1)

        model = train_model(data or default_data_dir(), sim, simulate=simulate, step=step)
        path = save_model(model, model_dir(settings))
        advance(1)
    if json_out is not None:
        write_json(json_out, model.card)
    table = Table(title=f"SMS model {model.version} (template-disjoint out-of-fold)")
    for col in ("data", "n", "precision", "recall", "F1", "MCC", "PR-AUC", "recall@1%FPR"):
        table.add_column(col, justify="right" if col != "data" else "left")
    for name, m in model.card["metrics_oof"].items():
        table.add_row(name, str(m["n"]), *(f"{m[k]:.3f}" for k in
                      ("precision", "recall", "f1", "mcc", "pr_auc", "recall_at_1pct_fpr")))
    say(table)
    params = model.card["params"]
    say(f"recipe chosen by template-disjoint cross-validation: augmentation={params['augmentation']}, C={params['C']:g}")
    say(f"saved {path} in {model.card['train_seconds']} s")


@app.command()
@handle_errors
def evaluate(
    file: Path = typer.Argument(..., help="A labelled CSV, TSV (no header: use integer columns) or Parquet file."),
    text_col: str = typer.Option(..., "--text-col", help="Text column name, or 0-based position."),
    label_col: str = typer.Option(..., "--label-col", help="Label column name, or 0-based position."),
    positive: str = typer.Option(..., "--positive", help="Label value(s) meaning scam, comma-separated."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the metrics to this JSON file."),
    dedupe: bool = typer.Option(False, "--dedupe", help="Drop texts identical after normalisation first."),
) -> None:
    """Scam-class precision, recall, F1, MCC, PR-AUC and recall at 1% FPR on a labelled file."""
    from pesaguard.sms.evaluate import column_ref, evaluate_file
    from pesaguard.sms.train import load_text_model

    model = load_text_model(get_settings())
    metrics = evaluate_file(model, file, column_ref(text_col), column_ref(label_col), positive.split(","), dedupe)
    if json_out is not None:
        write_json(json_out, metrics)
    table = Table(title=f"{file.name}: {metrics['n']} messages, {metrics['positives']} scams")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("precision", "recall", "f1", "mcc", "pr_auc", "recall_at_1pct_fpr"):
        table.add_row(key, "n/a (one class only)" if metrics[key] is None else f"{metrics[key]:.4f}")
    say(table)


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
    say(", ".join(f"{k} {v:,}" for k, v in counts.items()))

"""Entry point: ``pesaguard --help`` lists every command."""

from __future__ import annotations

import typer

from pesaguard import __version__
from pesaguard.cli import (
    assistant,
    consume,
    db,
    demo,
    ingest,
    keys,
    models,
    monitor,
    quarantine,
    rules,
    serve,
    simulate,
    sms,
)
from pesaguard.cli.common import QuietAnywhereGroup, set_quiet

app = typer.Typer(
    name="pesaguard",
    help="Fraud defence for mobile money: ingest, simulate, score, check SMS, serve, monitor.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=QuietAnywhereGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pesaguard {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only results and errors; no progress bars "
                               "(before or after the command)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """pesaguard: fraud defence for mobile money."""
    set_quiet(quiet)


app.add_typer(db.app, name="db")
app.command("ask")(assistant.ask)
app.add_typer(assistant.kb_app, name="kb")
app.command("triage")(assistant.triage)
app.add_typer(sms.app, name="sms")
app.command("ingest")(ingest.ingest_cmd)
app.command("ingest-labels")(ingest.ingest_labels_cmd)
app.command("inspect")(ingest.inspect_cmd)
app.add_typer(quarantine.app, name="quarantine")
app.command("demo")(demo.demo_cmd)
app.command("simulate")(simulate.simulate_cmd)
app.add_typer(keys.app, name="keys")
app.add_typer(keys.users_app, name="users")
app.add_typer(rules.app, name="rules")
app.command("serve")(serve.serve)
app.command("consume")(consume.consume)

app.command("train")(models.train_cmd)
app.command("evaluate")(models.evaluate_cmd)
app.command("score")(models.score_cmd)
app.add_typer(models.app, name="models")
app.add_typer(monitor.app, name="monitor")
app.command("retrain")(monitor.retrain_cmd)

if __name__ == "__main__":  # pragma: no cover
    app()

"""``pesaguard ask``, ``pesaguard kb add|list|rebuild`` and ``pesaguard triage``: the assistant."""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from pesaguard.cli.common import console, handle_errors, progress, say
from pesaguard.config import get_settings
from pesaguard.errors import UsageError

kb_app = typer.Typer(help="The assistant's knowledge base: shipped articles plus your own documents.",
                     no_args_is_help=True)


def _print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


@handle_errors
def ask(
    question: str = typer.Argument(..., help="The question, in English or Swahili."),
    lang: str = typer.Option("auto", "--lang", help="auto (detect), en or sw."),
    audience: str = typer.Option("customer", "--audience", help="customer or analyst (analysts also see playbooks)."),
    sms: str | None = typer.Option(None, "--sms", help="An SMS to run the scam check on."),
    account: str | None = typer.Option(None, "--account", help="Analysts: show this account's recent activity."),
    generator: str | None = typer.Option(None, "--generator",
                                         help="extractive or llm (default: llm when PESAGUARD_ASSISTANT_LLM_URL is set)."),
    fmt: str = typer.Option("text", "--format", help="text, or sms: the answer in 1-3 SMS parts of <= 160 characters."),
    conversation: str | None = typer.Option(None, "--conversation",
                                            help="A conversation id: a follow-up is read with the previous question."),
    customer_account: str | None = typer.Option(None, "--customer-account",
                                                help="The logged-in customer's account: checks 'did I receive ...?' "
                                                     "against the ledger."),
    message_id: str | None = typer.Option(None, "--message-id", help="A message id: an urgent question opens a case."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole answer as JSON."),
) -> None:
    """Answer a fraud-help question with cited sources, or say it does not know and offer a person."""
    from pesaguard.assistant import answer
    from pesaguard.assistant.conversation import previous_turn, remember
    from pesaguard.store import open_store

    if lang not in ("auto", "en", "sw"):
        raise UsageError(f"--lang {lang!r} is not auto, en or sw", hint="use --lang auto, en or sw")
    if audience not in ("customer", "analyst"):
        raise UsageError(f"--audience {audience!r} is not customer or analyst", hint="use customer or analyst")
    if fmt not in ("text", "sms"):
        raise UsageError(f"--format {fmt!r} is not text or sms", hint="use --format text or sms")
    settings = get_settings()
    _ensure_index(settings)
    needs_store = bool(conversation or customer_account or message_id or account or sms)
    with (open_store(settings) if needs_store else nullcontext()) as store:  # a plain question needs no database
        previous = previous_turn(store, conversation) if conversation else None
        result = answer(question, lang=lang, audience=audience, settings=settings, message=sms, account_id=account,
                        generator=generator, store=store, previous=previous, customer_account=customer_account,
                        message_id=message_id, fmt=fmt)
        if conversation:
            remember(store, conversation, result)
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    if fmt == "sms" and result.sms is not None:
        for part in result.sms:
            typer.echo(part)
        return
    console.print(result.text, highlight=False, soft_wrap=True)
    if result.citations:
        console.print()
        for c in result.citations:
            console.print(f"  {c}", highlight=False, soft_wrap=True)
    for t in result.tools:
        console.print(f"\n[bold]{t.tool}[/]: {t.summary}", highlight=False, soft_wrap=True)
    if result.unsupported:
        console.print(f"\n[dim]{len(result.unsupported)} drafted sentence(s) removed: not supported by a source[/]")


def _ensure_index(settings: Any) -> None:
    """Build the index with a progress bar the first time (later opens reuse it)."""
    from pesaguard.assistant.index import KnowledgeIndex, kb_root, open_index

    if not (kb_root(settings) / "manifest.json").exists():
        with progress("indexing the knowledge base") as advance:
            index = KnowledgeIndex(kb_root(settings).resolve())
            index.update(progress=advance)
    open_index(settings)


@kb_app.command("add")
@handle_errors
def kb_add(
    path: Path = typer.Argument(..., help="A directory (or file) of .md, .html, .pdf or .txt documents."),
    audience: str = typer.Option("customer", "--audience",
                                 help="Who may read these documents when front matter does not say: customer or analyst."),
) -> None:
    """Index your own documents; run again after editing them, or use `kb rebuild`."""
    from pesaguard.assistant.index import open_index

    index = open_index(get_settings())
    with progress(f"indexing {path}") as advance:
        stats = index.add_source(path, audience=audience, progress=advance)
    say(f"{stats.documents} documents, {stats.chunks} chunks: {stats.embedded} embedded, {stats.reused} unchanged, "
        f"{stats.removed} removed")


@kb_app.command("list")
@handle_errors
def kb_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the indexed documents and the registered sources."""
    from pesaguard.assistant.index import open_index

    index = open_index(get_settings())
    docs = [{"doc_id": k, **{f: v[f] for f in ("path", "title", "lang", "audience", "chunks")}}
            for k, v in sorted(index.manifest["docs"].items())]
    if as_json:
        _print_json({"sources": index.sources, "documents": docs})
        return
    table = Table("document", "title", "lang", "audience", "chunks",
                  title=f"{len(docs)} documents, {len(index.chunks)} chunks")
    for d in docs:
        table.add_row(("" if d["doc_id"].startswith("builtin:") else "+ ") + d["path"], d["title"], d["lang"],
                      d["audience"], str(d["chunks"]))
    console.print(table)
    for s in index.sources:
        say(f"source: {s['path']} (default audience {s['audience']})")


@kb_app.command("menu")
@handle_errors
def kb_menu(
    lang: str = typer.Option("en", "--lang", help="en or sw."),
    chain: str | None = typer.Option(None, "--screen",
                                     help="Show the USSD screen for this input chain (e.g. '1*2') instead of the tree."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The USSD menu generated from the answer blocks that have a menu path (POST /v1/assistant/ussd)."""
    from pesaguard.assistant.index import open_index
    from pesaguard.assistant.ussd import menu_outline, screen

    if lang not in ("en", "sw"):
        raise UsageError(f"--lang {lang!r} is not en or sw", hint="use --lang en or sw")
    index = open_index(get_settings())
    if chain is not None:
        typer.echo(screen(index, chain, lang).text)
        return
    tree = menu_outline(index, lang)
    if as_json:
        _print_json(tree)
        return

    def show(nodes: list[dict[str, Any]], prefix: str) -> None:
        for i, n in enumerate(nodes, 1):
            ref = f"  [{n['ref']}{', records a report' if n.get('report') else ''}]" if "ref" in n else ""
            console.print(f"{prefix}{i}. {n['label']}{ref}", highlight=False)
            show(n.get("children", []), prefix + "   ")

    show(tree, "")


@kb_app.command("rebuild")
@handle_errors
def kb_rebuild(full: bool = typer.Option(False, "--full", help="Re-read and re-embed everything.")) -> None:
    """Re-scan every source: changed files are re-read, only new or changed chunks are embedded,
    deleted files drop their chunks."""
    from pesaguard.assistant.index import open_index

    index = open_index(get_settings(), refresh=False)
    with progress("updating the knowledge index") as advance:
        stats = index.update(full=full, progress=advance)
    say(f"{stats.documents} documents, {stats.chunks} chunks: {stats.embedded} embedded, {stats.reused} unchanged, "
        f"{stats.removed} removed")


@handle_errors
def triage(
    text: str = typer.Argument(..., help="The customer's message."),
    message_id: str | None = typer.Option(None, "--id", help="The message's id (default: a hash of the text)."),
    account: str | None = typer.Option(None, "--account", help="The sender's account id, stored with a case."),
    channel: str | None = typer.Option(None, "--channel", help="Where the message came from (sms, app, ...)."),
    no_case: bool = typer.Option(False, "--no-case", help="Classify only; do not open a case."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Classify a customer message by urgency and sentiment; an urgent one opens a case."""
    from pesaguard.assistant import triage as run

    mid = message_id or "msg-" + hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
    result = run(text, message_id=mid, settings=get_settings(), account_id=account, channel=channel,
                 open_case=not no_case)
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    colour = {"urgent": "bold red", "normal": "yellow", "low": "green"}[result.urgency]
    console.print(f"[{colour}]{result.urgency}[/] (p(urgent) {result.urgent_probability:.2f}), "
                  f"sentiment {result.sentiment}, language {result.lang}", highlight=False)
    if result.cues:
        console.print(f"cues: {', '.join(result.cues)}", highlight=False)
    if result.case_opened:
        console.print(f"case opened for message {mid} (status open)", highlight=False)
    elif result.urgency == "urgent" and not no_case:
        console.print(f"message {mid} already has an open case", highlight=False)

"""What every CLI command shares: the console, quiet mode, progress bars, error handling."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from pesaguard.errors import PesaguardError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


class _State:
    quiet: bool = False


state = _State()

QUIET_FLAGS = ("-q", "--quiet")


def set_quiet(quiet: bool) -> None:
    """Quiet mode: results and errors only. Libraries that narrate their work are told to stop too
    (MLflow reads its log level when first imported, so this must run before that)."""
    state.quiet = quiet
    if quiet:
        os.environ["MLFLOW_LOGGING_LEVEL"] = "WARNING"
        if "mlflow.utils.logging_utils" in sys.modules:
            quiet_mlflow()


def quiet_mlflow() -> None:
    """With ``--quiet``, also silence MLflow's own prints (``Successfully registered model ...``), which
    bypass its log level. Imports MLflow: call it only where MLflow is about to be used."""
    if state.quiet:
        from mlflow.utils import logging_utils

        # disable_logging() is not enough: MLflow re-enables its stream when some of its own internal
        # context managers exit (seen: "Successfully registered model" printed after it), so its
        # stream writes nothing for the rest of this process
        logging_utils.disable_logging()
        stream: Any = logging_utils.MLFLOW_LOGGING_STREAM
        stream.write = lambda text: None
        stream.flush = lambda: None


def quiet_anywhere(args: list[str]) -> list[str]:
    """``-q``/``--quiet`` moved in front of the command, wherever it was given (up to a ``--``), so
    ``pesaguard retrain -q`` and ``pesaguard -q retrain`` mean the same.

    >>> quiet_anywhere(["models", "list", "-q"]), quiet_anywhere(["ask", "--", "-q"])
    (['-q', 'models', 'list'], ['ask', '--', '-q'])
    """
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if a in QUIET_FLAGS]
    return flags[:1] + [a for a in args[:end] if a not in QUIET_FLAGS] + args[end:]


class QuietAnywhereGroup(TyperGroup):
    """The top-level command group: accepts ``--quiet`` before or after the command (:func:`quiet_anywhere`)."""

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        return super().main(quiet_anywhere(argv), *rest, **kwargs)


def say(*objects: Any, **kwargs: Any) -> None:
    """Print unless ``--quiet``: narration and progress."""
    if not state.quiet:
        console.print(*objects, **kwargs)


def result(*objects: Any, **kwargs: Any) -> None:
    """Print always, ``--quiet`` or not: what the command was run for (a verdict, a table, a path)."""
    console.print(*objects, **kwargs)


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Callable[[float], None]]:
    """A rich progress bar; yields ``advance(n)``. Silent with ``--quiet`` or when not a terminal."""
    disabled = state.quiet or not sys.stderr.isatty()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=disabled,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: float = 1) -> None:
            bar.advance(task, n)

        yield advance


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`PesaguardError` into a one-line message and its exit code; a file-system error
    nothing else explained (a read-only or full PESAGUARD_HOME, a directory given as a file) becomes
    one line naming the path, exit code 74 (EX_IOERR)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except PesaguardError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            err_console.print(f"[bold red]error:[/] {where}{exc.strerror or exc} (fix: check the path and its "
                              "permissions; PESAGUARD_HOME must be a writable directory)", highlight=False,
                              soft_wrap=True)
            raise typer.Exit(74) from None

    return wrapper


def write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")

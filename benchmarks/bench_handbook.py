"""pesaguard on the card-payment proxy by the Fraud Detection Handbook's protocol, on several seeds and
test weeks, next to a peer measured in the same run. Prints the markdown tables of ``docs/benchmarks.md``
(## Scoring models, "The published card-fraud protocol").

    .venv/bin/python benchmarks/bench_handbook.py [--seeds 0,1] [--test-days 129] [--trials 30 --minutes 10]
    .venv/bin/python benchmarks/bench_handbook.py --ablation [--seeds 0,1,2] [--folds 4] [--cache DIR]

Data: ``benchmarks/cardsim.py`` (the book's generator rewritten: 183 days from 2018-04-01), labels known
7 days after each transaction. Protocol: eight weeks of training ending a week before the test week,
test week starting ``--test-days`` days after 2018-04-01 (day 129 = 2018-08-08, the book's test
week); model chosen by pesaguard's prequential folds and search (``pesaguard evaluate``'s defaults
unless ``--trials``/``--minutes`` say otherwise), payee ids separate, the default feature groups plus
``--extra-features`` (default ``lagged``, what the folds keep on this data). Figures: ROC AUC,
average precision and card precision@100 on the book's test set (payers with a fraud known before the
day left out), the best card precision@100 any ranking could reach, and pesaguard's own AP on every
test transaction. The peer, in the same process: the book's own 15 features with LightGBM chosen by the
same search on the same folds and budget. Nothing is tuned to a test week: the same command runs for
every seed and week.

``--ablation`` compares feature sets (the default groups, each optional group added) and two small
ensembles on the prequential validation folds before the test week only: one fixed LightGBM setting
(31 leaves, 200 trees, learning rate 0.05; ``--genuine-rows`` genuine training rows), the book's AP /
card precision@100 / ROC AUC and pesaguard's AP per validation week, means per seed and over all folds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from cardsim import DAY_MS, START_MS, generate
from pesaguard.features import GROUPS, FeatureConfig
from pesaguard.features.config import DEFAULT_GROUPS, feature_names
from pesaguard.models.data import Dataset
from pesaguard.models.estimators import LightGBMModel, pick
from pesaguard.models.evaluate import evaluate
from pesaguard.models.protocol import Window
from pesaguard.models.search import SearchSettings
from pesaguard.models.train import N_FOLDS, Fold, Matrix


def window(test_day: int, train_weeks: int = 8, delay_days: int = 7) -> Window:
    test_start = START_MS + test_day * DAY_MS
    train_end = test_start - delay_days * DAY_MS
    return Window(train_end - train_weeks * 7 * DAY_MS, train_end, test_start, test_start + 7 * DAY_MS)


def run(seed: int, test_day: int, search: SearchSettings, candidates: str | None, groups: tuple[str, ...],
        peer: bool) -> dict[str, Any]:
    """pesaguard's ``evaluate`` on one seed and test week, and the peer (the book's features, LightGBM
    chosen by the same search on the same folds) in the same run."""
    tx, labels = generate(seed=seed)
    t0 = time.perf_counter()
    cfg = FeatureConfig(payee_id_space="separate", groups=groups)
    say = lambda m: print(f"  {m}", file=sys.stderr, flush=True)  # noqa: E731
    ds = Dataset(tx, labels)
    ev = evaluate(ds, window(test_day), cfg=cfg, grid=pick(candidates), search=search, say=say)
    s = ev.summary
    out = {"seed": seed, "test_day": test_day, "seconds": time.perf_counter() - t0, "model": s["model"],
           "hb": s["handbook"], "own_ap": s["average_precision"], "base": s["baseline"],
           "search": s.get("search"), "params": s["model_params"], "folds": s["validation"].get("folds")}
    if peer:
        t0 = time.perf_counter()
        out["peer"] = peer_run(ds.until(window(test_day).test_end), test_day, search, say)
        out["peer_seconds"] = time.perf_counter() - t0
    return out


def book_features(tx: Any) -> tuple[np.ndarray, list[str]]:
    """The book's 15 features (chapter 3.4), computed as its code does with pandas rolling windows: amount,
    weekend, night (hour <= 6); the customer's count and mean amount over the last 1, 7, 30 days (the
    transaction included); the terminal's count and fraud share over 1, 7, 30 days ending 7 days ago
    (labels known 7 days late). ``tx`` is time-ordered with ``is_fraud``."""
    import pandas as pd

    df = pd.DataFrame({"dt": pd.to_datetime(tx["ts_ms"].to_numpy(), unit="ms"), "payer": tx["payer"].to_numpy(),
                       "payee": tx["payee"].to_numpy(), "amount": tx["amount_minor"].to_numpy() / 100.0,
                       "fraud": tx["is_fraud"].to_numpy(dtype=float)})
    cols = {"amount": df["amount"].to_numpy(), "weekend": (df["dt"].dt.weekday >= 5).to_numpy(float),
            "night": (df["dt"].dt.hour <= 6).to_numpy(float)}

    def rolling(key: str, value: str, days: int) -> tuple[np.ndarray, np.ndarray]:
        r = df.groupby(key, sort=False).rolling(f"{days}D", on="dt")[value]
        count = r.count().reset_index(level=0, drop=True).sort_index().to_numpy()
        total = r.sum().reset_index(level=0, drop=True).sort_index().to_numpy()
        return count, total

    for w in (1, 7, 30):
        n, total = rolling("payer", "amount", w)
        cols[f"customer_nb_tx_{w}d"], cols[f"customer_avg_amount_{w}d"] = n, total / n
    n_delay, f_delay = rolling("payee", "fraud", 7)
    for w in (1, 7, 30):
        n, f = rolling("payee", "fraud", 7 + w)
        n, f = n - n_delay, f - f_delay
        cols[f"terminal_nb_tx_{w}d"] = n
        cols[f"terminal_risk_{w}d"] = np.where(n > 0, f / np.maximum(n, 1), 0.0)
    return np.column_stack(list(cols.values())).astype(np.float64), list(cols)


def peer_run(ds: Dataset, test_day: int, search: SearchSettings, say: Any) -> dict[str, Any]:
    """The peer: the book's features, LightGBM settings from pesaguard's search on the same prequential
    folds (same budget, same labels known at each fold's cutoff), fitted on the same eight weeks."""
    from pesaguard.models.estimators import default_grid
    from pesaguard.models.handbook import handbook_metrics, known_fraud_payers
    from pesaguard.models.search import FoldData, search_lightgbm
    from pesaguard.models.train import fit_final, usable_folds

    x, names = book_features(ds.transactions)
    m = Matrix(ds.transactions, x, names, ds.labels)
    w = window(test_day)
    folds = usable_folds(m, w, N_FOLDS, w.test_start)
    say(f"peer (book's features): search over {len(folds)} folds")
    start = [c for c in default_grid() if c.kind == "lightgbm"]
    result = search_lightgbm([FoldData(m.x[f.train], f.y_train, m.x[f.test], f.y_test) for f in folds],
                             start, search, say)
    fitted = fit_final(m, w, result.candidate)
    te = m.rows(w.test_start, w.test_end)
    test = m.txns.loc[te, ["ts_ms", "payer"]].assign(is_fraud=ds.truth()[te])
    hb = handbook_metrics(test, fitted.predict(m.x[te]), known_fraud_payers(m.txns, m.labels, w.train_start))
    return {"hb": hb, "search": result.summary(), "params": {**result.candidate.params,
                                                             "imbalance": result.candidate.imbalance}}


def matrix(seed: int, cache: Path | None) -> Matrix:
    """Every feature group of cardsim ``seed`` up to day 136 (the end of the book's test week), as float32;
    cached under ``cache`` when given (the features depend on the seed only)."""
    import pandas as pd

    from pesaguard.models.data import build_matrix

    d = cache / f"seed{seed}" if cache else None
    if d is not None and (d / "x.npy").exists():
        return Matrix(pd.read_parquet(d / "txns.parquet"), np.load(d / "x.npy"),
                      (d / "names.txt").read_text().split("\n"), pd.read_parquet(d / "labels.parquet"))
    tx, labels = generate(seed=seed)
    ds = Dataset(tx, labels).until(START_MS + 136 * DAY_MS)
    m = build_matrix(ds, FeatureConfig(payee_id_space="separate", groups=GROUPS))
    m.x = m.x.astype(np.float32)
    if d is not None:
        d.mkdir(parents=True, exist_ok=True)
        np.save(d / "x.npy", m.x)
        m.txns.to_parquet(d / "txns.parquet")
        m.labels.to_parquet(d / "labels.parquet")
        (d / "names.txt").write_text("\n".join(m.feature_names))
    return m


def columns(m: Matrix, groups: tuple[str, ...]) -> np.ndarray:
    """Column indices of ``m`` that a configuration with ``groups`` computes."""
    names = feature_names(FeatureConfig(payee_id_space="separate", groups=groups))
    pos = {n: i for i, n in enumerate(m.feature_names)}
    return np.asarray([pos[n] for n in names])


#: Feature sets the ablation compares: the default groups, each optional group added, and parts of one.
VARIANTS: dict[str, tuple[str, ...]] = {
    "default groups": DEFAULT_GROUPS,
    "+ lagged": (*DEFAULT_GROUPS, "lagged"),
    "+ profile": (*DEFAULT_GROUPS, "profile"),
    "+ lagged + profile": (*DEFAULT_GROUPS, "lagged", "profile"),
    "+ lagged + spree": (*DEFAULT_GROUPS, "lagged", "spree"),
    "+ lagged + recovery": (*DEFAULT_GROUPS, "lagged", "recovery"),
    "+ lagged + spree + recovery": (*DEFAULT_GROUPS, "lagged", "spree", "recovery"),
}
#: The fixed LightGBM setting of the ablation (the grid's lgbm_31 with 200 trees).
ABLATION_PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 50,
                   "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0,
                   "n_estimators": 200}


def fold_scores(m: Matrix, fold: Fold, truth: np.ndarray, scores: np.ndarray) -> tuple[float, float, float, float]:
    """(book's AP, card precision@100, ROC AUC, pesaguard's AP on every row) of one validation block."""
    from pesaguard.models.handbook import handbook_metrics, known_fraud_payers
    from pesaguard.models.metrics import ranking_metrics

    test = m.txns.loc[fold.test, ["ts_ms", "payer"]].assign(is_fraud=truth[fold.test])
    hb = handbook_metrics(test, scores, known_fraud_payers(m.txns, m.labels, fold.window.train_start))
    own = ranking_metrics(truth[fold.test], scores)["average_precision"]
    return hb["average_precision"], hb["card_precision_at_100"], hb["roc_auc"], float(own or 0.0)


def folds_of(m: Matrix, test_day: int, n_folds: int, genuine: int) -> list[Fold]:
    """pesaguard's prequential validation folds before the test week, genuine rows thinned to ``genuine``."""
    from pesaguard.models.train import usable_folds

    w = window(test_day)
    return usable_folds(m, w, n_folds, w.test_start, genuine)


def ablation(seeds: list[int], test_day: int, n_folds: int, cache: Path | None, genuine: int,
             variants: list[str] | None = None, ensembles: bool = True) -> None:
    """Each feature set of ``VARIANTS`` (or the named ones) and, with ``ensembles``, two small ensembles,
    fitted with one fixed setting on every prequential validation fold before the test week; nothing here
    looks at the test week."""
    import pandas as pd

    from pesaguard.models.estimators import Candidate, fit_candidate

    rows = []
    for seed in seeds:
        m = matrix(seed, cache)
        truth = m.txns["is_fraud"].to_numpy(dtype=int)
        folds = folds_of(m, test_day, n_folds, genuine)
        for f in folds:
            y_valid = truth[f.test]
            for name, groups in VARIANTS.items():
                if variants and name not in variants:
                    continue
                cols = columns(m, groups)
                x_tr = m.x[np.ix_(f.train, cols)].astype(np.float64)
                x_te = m.x[np.ix_(np.flatnonzero(f.test), cols)].astype(np.float64)
                names = [m.feature_names[i] for i in cols]
                t0 = time.perf_counter()
                model = fit_candidate(x_tr, f.y_train, names, Candidate("fixed", "lightgbm", ABLATION_PARAMS))
                s = model.margin(x_te)
                rows.append({"seed": seed, "fold": f.index, "variant": name, "n": len(cols),
                             "frauds": int(y_valid.sum()), **dict(zip(("ap", "cp100", "auc", "own_ap"),
                                                                        fold_scores(m, f, truth, s), strict=True))})
                print(f"seed {seed} fold {f.index} {name}: {rows[-1]} {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)
                if name != ENSEMBLE_BASE or not ensembles:
                    continue
                # Small ensembles on the same columns: LightGBM bagged over three seeds, and LightGBM with
                # the logistic model, by rank average.
                from scipy.stats import rankdata

                bag = [s] + [LightGBMModel.fit(x_tr, f.y_train, names, Candidate("fixed", "lightgbm", ABLATION_PARAMS),
                                               seed=k).margin(x_te) for k in (11, 23)]
                lr = fit_candidate(x_tr, f.y_train, names, Candidate("logreg", "logreg", {"C": 1.0}))
                for ens, score in (("ensemble: LightGBM x3 seeds (mean margin)", np.mean(bag, axis=0)),
                                   ("ensemble: LightGBM + logistic (rank average)",
                                    rankdata(s) + rankdata(lr.margin(x_te))),
                                   ("logistic alone", lr.margin(x_te))):
                    rows.append({"seed": seed, "fold": f.index, "variant": ens, "n": len(cols),
                                 "frauds": int(y_valid.sum()),
                                 **dict(zip(("ap", "cp100", "auc", "own_ap"), fold_scores(m, f, truth, score),
                                            strict=True))})
                    print(f"seed {seed} fold {f.index} {ens}: {rows[-1]}", file=sys.stderr, flush=True)
        del m
    df = pd.DataFrame(rows)
    df.to_csv(sys.stderr)
    n = df.groupby("seed")["fold"].nunique().to_dict()
    print(f"\n{sum(n.values())} validation folds (folds per seed: {n}), test week day {test_day} untouched\n")
    per_seed = df.pivot_table(index="variant", columns="seed", values="ap", aggfunc="mean", sort=False)
    mean = df.groupby("variant", sort=False)[["n", "ap", "cp100", "auc", "own_ap"]].mean()
    ref = "default groups" if "default groups" in mean.index else str(mean.index[0])
    base = mean.loc[ref, "ap"]
    wins = df.pivot_table(index=["seed", "fold"], columns="variant", values="ap")
    cp_wins = df.pivot_table(index=["seed", "fold"], columns="variant", values="cp100")
    by_seed: dict[Any, dict[Any, float]] = per_seed.to_dict()
    head = " | ".join(f"AP seed {s}" for s in by_seed)
    print(f"| features | columns | book's AP | change vs {ref} | {head} | folds better than {ref} "
          f"| card precision@100 | folds with higher CP@100 | ROC AUC | AP, every row |\n|---|---|---|---|"
          + "---|" * len(per_seed.columns) + "---|---|---|---|---|")
    for v, r in mean.iterrows():
        better = int((wins[v] > wins[ref]).sum())
        cp_better = int((cp_wins[v] > cp_wins[ref]).sum())
        seeds_ap = " | ".join(f"{by_seed[s][v]:.4f}" for s in by_seed)
        print(f"| {v} | {int(r['n'])} | {r['ap']:.4f} | {r['ap'] - base:+.4f} | {seeds_ap} | {better}/{len(wins)} | "
              f"{r['cp100']:.4f} | {cp_better}/{len(wins)} | {r['auc']:.4f} | {r['own_ap']:.4f} |")


#: The feature set the ensembles are built on.
ENSEMBLE_BASE = "+ lagged"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--test-days", default="129", help="Comma-separated; each is used with every seed.")
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--candidates", default=None, help="As pesaguard evaluate --candidates.")
    ap.add_argument("--extra-features", default="lagged",
                    help="Optional feature groups added to the defaults (comma-separated; '' for none).")
    ap.add_argument("--no-peer", action="store_true", help="Skip the peer (the book's features, same search).")
    ap.add_argument("--ablation", action="store_true",
                    help="Compare feature sets and small ensembles on the validation folds instead.")
    ap.add_argument("--folds", type=int, default=N_FOLDS, help="Validation folds of the ablation.")
    ap.add_argument("--genuine-rows", type=int, default=50_000,
                    help="Genuine training rows kept per ablation fit (every fraud is kept).")
    ap.add_argument("--cache", type=Path, default=None, help="Keep the seeds' feature matrices here.")
    ap.add_argument("--variants", default=None,
                    help="Ablation: comma-separated names of VARIANTS to compare (default: all).")
    ap.add_argument("--no-ensembles", action="store_true", help="Ablation: skip the two small ensembles.")
    args = ap.parse_args()
    if args.ablation:
        ablation([int(s) for s in args.seeds.split(",")], int(args.test_days.split(",")[0]), args.folds,
                 args.cache, args.genuine_rows, args.variants.split(",") if args.variants else None,
                 not args.no_ensembles)
        return
    search = SearchSettings(trials=args.trials, seconds=args.minutes * 60)
    groups = tuple(dict.fromkeys((*DEFAULT_GROUPS, *(g for g in args.extra_features.split(",") if g))))
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for day in (int(d) for d in args.test_days.split(",")):
            r = run(seed, day, search, args.candidates, groups, not args.no_peer)
            rows.append(r)
            print(f"seed {seed} day {day}: {r}", flush=True)
    print(f"\nfeature groups {groups}; search budget {args.trials} trials or {args.minutes} min\n")
    print("| seed, test week (day) | model | ROC AUC | AP | card precision@100 (ceiling) | AP, every test "
          "transaction | folds | search trials run (stopped by) | run time |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        hb, b = r["hb"], r["base"]["handbook"]
        srch = r["search"] or {}
        print(f"| {r['seed']}, {r['test_day']} | pesaguard `{r['model']}` ({r['params'].get('n_estimators')} trees, "
              f"weighting {r['params'].get('imbalance')}) | {hb['roc_auc']:.3f} | {hb['average_precision']:.3f} | "
              f"{hb['card_precision_at_100']:.3f} ({hb['card_precision_at_100_ceiling']:.3f}) | {r['own_ap']:.3f} | "
              f"{r['folds']} | {srch.get('trials_run', '-')} ({srch.get('stopped_by', '-')}) | {r['seconds']:.0f} s |")
        print(f"| {r['seed']}, {r['test_day']} | pesaguard's logistic baseline | {b['roc_auc']:.3f} | "
              f"{b['average_precision']:.3f} | {b['card_precision_at_100']:.3f} | | | | |")
        if "peer" in r:
            p, ps = r["peer"]["hb"], r["peer"]["search"]
            print(f"| {r['seed']}, {r['test_day']} | peer: book's 15 features, LightGBM from the same search "
                  f"({r['peer']['params'].get('n_estimators')} trees, weighting {r['peer']['params'].get('imbalance')}) | "
                  f"{p['roc_auc']:.3f} | {p['average_precision']:.3f} | {p['card_precision_at_100']:.3f} | | | "
                  f"{ps['trials_run']} ({ps['stopped_by']}) | {r['peer_seconds']:.0f} s |")
    for who, get in (("pesaguard", lambda r: r["hb"]), ("peer", lambda r: r.get("peer", {}).get("hb"))):
        hbs = [get(r) for r in rows if get(r)]
        if hbs:
            mean = {k: float(np.mean([h[k] for h in hbs])) for k in ("roc_auc", "average_precision",
                                                                    "card_precision_at_100")}
            print(f"| mean | {who} | {mean['roc_auc']:.3f} | {mean['average_precision']:.3f} | "
                  f"{mean['card_precision_at_100']:.3f} | | | | |")


if __name__ == "__main__":
    main()

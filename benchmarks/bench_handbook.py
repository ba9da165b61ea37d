"""pesaguard on the card-payment proxy by the Fraud Detection Handbook's protocol, on several seeds and
test weeks, next to the book's published figures. Prints the markdown table of ``docs/benchmarks.md``
(## Scoring models, "The published card-fraud protocol").

    .venv/bin/python benchmarks/bench_handbook.py [--seeds 0,1,2] [--test-days 129] [--trials 30 --minutes 15]

Data: ``benchmarks/cardsim.py`` (the book's generator rewritten: 183 days from 2018-04-01), labels known
7 days after each transaction. Protocol: eight weeks of training ending a week before the test week,
test week starting ``--test-days`` days after 2018-04-01 (day 129 = 2018-08-08, the book's test
week); model chosen by pesaguard's prequential folds and search (``pesaguard evaluate``'s defaults
unless ``--trials``/``--minutes`` say otherwise), payee ids separate and the lagged features on
(``--payee-ids separate --extra-features lagged``, as for card data). Figures: ROC AUC,
average precision and card precision@100 on the book's test set (payers with a fraud known before the
day left out), the best card precision@100 any ranking could reach, and pesaguard's own AP on every
test transaction. Nothing is tuned to a test week: the same command runs for every seed and week.

``--ablation`` instead measures each group of features by leaving it out: one fixed LightGBM setting
(31 leaves, 200 trees, learning rate 0.05; a tenth of the genuine training rows), the same protocol,
every seed and test week given, book's AP / card precision@100 / ROC AUC with and without the group.
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
from pesaguard.features.config import DEFAULT_GROUPS
from pesaguard.models.data import Dataset
from pesaguard.models.estimators import pick
from pesaguard.models.evaluate import evaluate
from pesaguard.models.protocol import Window
from pesaguard.models.search import SearchSettings


def window(test_day: int, train_weeks: int = 8, delay_days: int = 7) -> Window:
    test_start = START_MS + test_day * DAY_MS
    train_end = test_start - delay_days * DAY_MS
    return Window(train_end - train_weeks * 7 * DAY_MS, train_end, test_start, test_start + 7 * DAY_MS)


def run(seed: int, test_day: int, search: SearchSettings, candidates: str | None) -> dict[str, Any]:
    tx, labels = generate(seed=seed)
    t0 = time.perf_counter()
    cfg = FeatureConfig(payee_id_space="separate", groups=(*DEFAULT_GROUPS, "lagged"))  # as the worked example
    ev = evaluate(Dataset(tx, labels), window(test_day), cfg=cfg,
                  grid=pick(candidates), search=search, say=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    s = ev.summary
    return {"seed": seed, "test_day": test_day, "seconds": time.perf_counter() - t0, "model": s["model"],
            "hb": s["handbook"], "own_ap": s["average_precision"], "base": s["baseline"],
            "search": s.get("search"), "params": s["model_params"]}


#: Feature groups the ablation leaves out, one at a time.
ABLATION: dict[str, Any] = {
    "lagged payee risk (*_lag7d)": lambda c: "_lag" in c,
    "fraud recency (secs since first/last fraud)": lambda c: c.endswith("_fraud") and "_secs_since_" in c,
    "payee new-payer share": lambda c: c.startswith("payee_new_payer_share"),
    "payer time since first payment": lambda c: c == "payer_secs_since_first",
    "amount ratio at windows other than 30d": lambda c: c.startswith("amount_ratio_") and c != "amount_ratio_30d",
    "label counts by when known (payee/payer_fraud_count, payee_fraud_rate)":
        lambda c: "_lag" not in c and c.split("_")[-1] in ("24h", "7d", "30d") and ("fraud_count" in c or
                                                                               "fraud_rate" in c),
}


def ablation(seeds: list[int], days: list[int]) -> None:
    import lightgbm as lgb

    from pesaguard.models.data import build_matrix
    from pesaguard.models.estimators import THREADS
    from pesaguard.models.handbook import handbook_metrics, known_fraud_payers
    from pesaguard.models.protocol import targets

    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 50,
              "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8, "lambda_l2": 1.0,
              "verbosity": -1, "num_threads": THREADS, "seed": 7, "deterministic": True, "force_col_wise": True}
    results: dict[str, list[tuple[float, float, float]]] = {}
    for seed in seeds:
        tx, labels = generate(seed=seed)
        m = build_matrix(Dataset(tx, labels), FeatureConfig(payee_id_space="separate", groups=GROUPS))
        for day in days:
            w = window(day)
            tr = np.flatnonzero(m.rows(w.train_start, w.train_end))
            te = m.rows(w.test_start, w.test_end)
            y = targets(m.txns["txn_id"].iloc[tr], m.labels, w.test_start)
            keep = (y == 1) | (np.random.default_rng(7).random(len(y)) < 0.1)
            tr, y = tr[keep], y[keep]
            test = m.txns.loc[te, ["ts_ms", "payer"]].assign(is_fraud=tx["is_fraud"].to_numpy()[te])
            known = known_fraud_payers(m.txns, m.labels, w.train_start)
            for name, drop in [("all features", lambda c: False), *ABLATION.items()]:
                cols = [i for i, c in enumerate(m.feature_names) if not drop(c)]
                booster = lgb.train(params, lgb.Dataset(m.x[np.ix_(tr, cols)], label=y), num_boost_round=200)
                hb = handbook_metrics(test, np.asarray(booster.predict(m.x[te][:, cols], raw_score=True)), known)
                results.setdefault(name, []).append((hb["average_precision"], hb["card_precision_at_100"],
                                                     hb["roc_auc"]))
                print(f"seed {seed} day {day} {name}: {results[name][-1]}", file=sys.stderr, flush=True)
    base = np.mean(results["all features"], axis=0)
    print(f"\n{len(seeds) * len(days)} test weeks (seeds {seeds}, days {days})\n")
    print("| left out | features | AP | change | card precision@100 | ROC AUC |\n|---|---|---|---|---|---|")
    for name, vals in results.items():
        v = np.mean(vals, axis=0)
        print(f"| {name} | | {v[0]:.4f} | {v[0] - base[0]:+.4f} | {v[1]:.4f} | {v[2]:.4f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--test-days", default="129", help="Comma-separated; each is used with every seed.")
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--candidates", default=None, help="As pesaguard evaluate --candidates.")
    ap.add_argument("--ablation", action="store_true", help="Leave each new feature group out instead.")
    args = ap.parse_args()
    if args.ablation:
        ablation([int(s) for s in args.seeds.split(",")], [int(d) for d in args.test_days.split(",")])
        return
    search = SearchSettings(trials=args.trials, seconds=args.minutes * 60)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for day in (int(d) for d in args.test_days.split(",")):
            r = run(seed, day, search, args.candidates)
            rows.append(r)
            hb, b = r["hb"], r["base"]
            print(f"seed {seed} day {day}: {r['model']} AUC {hb['roc_auc']:.3f} AP {hb['average_precision']:.3f} "
                  f"CP@100 {hb['card_precision_at_100']:.3f} (ceiling {hb['card_precision_at_100_ceiling']:.3f}); "
                  f"own AP {r['own_ap']:.3f}; baseline {b['candidate']} AP {b['handbook']['average_precision']:.3f}; "
                  f"{r['seconds']:.0f} s; search {r['search']}; params {r['params']}", flush=True)
    print("\n| seed | test week (day) | model | ROC AUC | AP | card precision@100 (ceiling) | AP, every test "
          "transaction | baseline (logistic) AP / CP@100 | run time |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        hb, b = r["hb"], r["base"]["handbook"]
        print(f"| {r['seed']} | {r['test_day']} | {r['model']} | {hb['roc_auc']:.3f} | {hb['average_precision']:.3f} | "
              f"{hb['card_precision_at_100']:.3f} ({hb['card_precision_at_100_ceiling']:.3f}) | {r['own_ap']:.3f} | "
              f"{b['average_precision']:.3f} / {b['card_precision_at_100']:.3f} | {r['seconds']:.0f} s |")
    mean = {k: float(np.mean([r["hb"][k] for r in rows])) for k in ("roc_auc", "average_precision",
                                                                    "card_precision_at_100",
                                                                    "card_precision_at_100_ceiling")}
    print(f"| mean | | | {mean['roc_auc']:.3f} | {mean['average_precision']:.3f} | "
          f"{mean['card_precision_at_100']:.3f} ({mean['card_precision_at_100_ceiling']:.3f}) | | | |")


if __name__ == "__main__":
    main()

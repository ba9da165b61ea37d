"""Assistant figures for docs/benchmarks.md (## Assistant).

1. Retrieval on the shipped question set: recall@5, MRR, nDCG@10 for BM25 alone, dense alone and
   their reciprocal-rank fusion (hybrid), overall and per language.
2. Abstention: the confidence model refitted on in-scope vs out-of-scope questions, with its
   leave-one-out answer/abstain rates, and the rates of the constants shipped in answer.py.
3. Latency of the extractive path with a warm index: p50/p95 over every question, 3 rounds.
4. Triage on the held-out set: the model against keywords alone and embeddings alone; the
   hyper-parameter grid by grouped cross-validation on the training set.

Run: ``python benchmarks/bench_assistant.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.model_selection import GroupKFold, LeaveOneOut, cross_val_predict

from pesaguard.assistant import answering as ans
from pesaguard.assistant import triage_model as tm
from pesaguard.assistant.embed import default_embedder
from pesaguard.assistant.evaluation import evaluate_retrieval, load_jsonl
from pesaguard.assistant.index import KnowledgeIndex
from pesaguard.config import Settings


def retrieval(index: KnowledgeIndex) -> None:
    reports = evaluate_retrieval(index)
    qs = load_jsonl("retrieval.jsonl")
    n_sw = sum(q["lang"] == "sw" for q in qs)
    print(f"\n### Retrieval ({len(qs)} questions: {len(qs) - n_sw} English, {n_sw} Swahili; "
          f"{len(index.chunks)} chunks)\n")
    print("| mode | recall@5 | MRR | nDCG@10 | recall@5 en | recall@5 sw | MRR en | MRR sw |")
    print("|---|---|---|---|---|---|---|---|")
    for mode, r in reports.items():
        en, sw = r.by_lang["en"], r.by_lang["sw"]
        print(f"| {mode} | {r.recall_at_5:.3f} | {r.mrr:.3f} | {r.ndcg_at_10:.3f} | {en['recall_at_5']:.3f} | "
              f"{sw['recall_at_5']:.3f} | {en['mrr']:.3f} | {sw['mrr']:.3f} |")


def abstention(index: KnowledgeIndex) -> None:
    def feats(q: str, audience: str, lang: str) -> np.ndarray:
        hits = index.search(q, k=10, audience=audience, lang=lang)
        return ans.confidence_features(q, hits)

    ins = load_jsonl("retrieval.jsonl")
    oos = load_jsonl("out_of_scope.jsonl")
    x = np.vstack([feats(q["question"], q["audience"], q["lang"]) for q in ins]
                  + [feats(q["question"], "customer", q["lang"]) for q in oos])
    y = np.r_[np.ones(len(ins)), np.zeros(len(oos))]
    lr = LogisticRegression(C=10, class_weight="balanced", max_iter=1000)
    loo = cross_val_predict(lr, x, y, cv=LeaveOneOut(), method="predict_proba")[:, 1]
    lr.fit(x, y)
    shipped = 1 / (1 + np.exp(-(x @ np.array(ans.CONFIDENCE_COEF) + ans.CONFIDENCE_BIAS)))
    print(f"\n### Abstention ({len(ins)} in-scope, {len(oos)} out-of-scope questions)\n")
    print("| confidence model | in-scope answered | out-of-scope abstained |")
    print("|---|---|---|")
    print(f"| leave-one-out refit (threshold {ans.CONFIDENCE_MIN}) | {(loo[y == 1] >= ans.CONFIDENCE_MIN).mean():.3f} | "
          f"{(loo[y == 0] < ans.CONFIDENCE_MIN).mean():.3f} |")
    print(f"| shipped constants, in sample | {(shipped[y == 1] >= ans.CONFIDENCE_MIN).mean():.3f} | "
          f"{(shipped[y == 0] < ans.CONFIDENCE_MIN).mean():.3f} |")
    dense_only = x[:, 0]
    best = max(((t, ((dense_only[y == 1] >= t).mean() + (dense_only[y == 0] < t).mean()) / 2)
                for t in np.arange(0.70, 0.90, 0.0025)), key=lambda p: p[1])
    t = best[0]
    print(f"| peer: best single threshold on top cosine ({t:.3f}), in sample | {(dense_only[y == 1] >= t).mean():.3f} | "
          f"{(dense_only[y == 0] < t).mean():.3f} |")
    print(f"\nrefit coefficients (dense, log1p bm25, coverage): {np.round(lr.coef_[0], 3).tolist()}, "
          f"bias {lr.intercept_[0]:.3f}")


def latency(settings: Settings, index: KnowledgeIndex) -> None:
    a = ans.Assistant(settings, index=index)
    qs = [(q["question"], q["audience"]) for q in load_jsonl("retrieval.jsonl")]
    qs += [(q["question"], "customer") for q in load_jsonl("out_of_scope.jsonl")]
    gold_cited = all_gold = answered = 0
    for q in load_jsonl("retrieval.jsonl"):
        r = a.ask(q["question"], audience=q["audience"], generator="extractive")
        if r.abstained:
            continue
        gold = {(g["path"], g["heading"]) for g in q["gold"]}
        cited = [(c.path, c.heading) for c in r.citations]
        answered += 1
        gold_cited += any(c in gold for c in cited)
        all_gold += all(c in gold for c in cited)
    print(f"\n### Extractive answers ({answered} answered in-scope questions)\n")
    print(f"- cite at least one gold passage: {gold_cited / answered:.3f}")
    print(f"- cite only gold passages: {all_gold / answered:.3f}")
    totals, embeds = [], []
    for _ in range(3):
        for q, aud in qs:
            t0 = time.perf_counter()
            r = a.ask(q, audience=aud, generator="extractive")
            totals.append((time.perf_counter() - t0) * 1e3)
            embeds.append(r.timings_ms["embed"])
    tot, emb = np.array(totals), np.array(embeds)
    print(f"\n### Latency, extractive path, warm index ({len(tot)} answers; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")
    print("| part | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    print(f"| whole answer | {np.percentile(tot, 50):.1f} | {np.percentile(tot, 95):.1f} | {tot.max():.1f} |")
    print(f"| of which question embedding | {np.percentile(emb, 50):.1f} | {np.percentile(emb, 95):.1f} | "
          f"{emb.max():.1f} |")


def _scores(y_u: list[str], p_u: list[str], y_s: list[str], p_s: list[str]) -> str:
    return (f"{accuracy_score(y_u, p_u):.3f} | {f1_score(y_u, p_u, average='macro'):.3f} | "
            f"{recall_score(y_u, p_u, labels=['urgent'], average='macro'):.3f} | "
            f"{accuracy_score(y_s, p_s):.3f} | {f1_score(y_s, p_s, average='macro'):.3f}")


def triage() -> None:
    emb = default_embedder()
    train = tm.load_labelled(tm.TRAIN_FILE)
    test = load_jsonl("triage.jsonl")
    texts = [r["text"] for r in test]
    yu, ys = [r["urgency"] for r in test], [r["sentiment"] for r in test]
    vecs = emb.passages(texts)
    print(f"\n### Triage (held-out set: {len(test)} messages, {sum(r['lang'] == 'sw' for r in test)} Swahili; "
          f"training set: {len(train)})\n")
    print("| model | urgency accuracy | urgency macro-F1 | urgent recall | sentiment accuracy | sentiment macro-F1 |")
    print("|---|---|---|---|---|---|")
    kw = [tm.keyword_baseline(t) for t in texts]
    print(f"| keywords alone (cue lexicons, rules) | {_scores(yu, [k[0] for k in kw], ys, [k[1] for k in kw])} |")
    weight = tm.CUE_WEIGHT
    for label, w in (("embeddings alone (e5 + logistic regression)", 0.0), ("embeddings + cues (shipped)", weight)):
        tm.CUE_WEIGHT = w
        pred = tm.train(emb).predict(texts, vecs)
        print(f"| {label} | {_scores(yu, [p.urgency for p in pred], ys, [p.sentiment for p in pred])} |")
        if w == weight:
            for lang in ("en", "sw"):
                idx = [i for i, r in enumerate(test) if r["lang"] == lang]
                print(f"| ... {lang} only | {_scores([yu[i] for i in idx], [pred[i].urgency for i in idx], [ys[i] for i in idx], [pred[i].sentiment for i in idx])} |")
    tm.CUE_WEIGHT = weight
    # the hyper-parameters, chosen on the training set only (folds keep translation pairs together)
    tx = [r["text"] for r in train]
    tv = emb.passages(tx)
    tu, tsent = np.array([r["urgency"] for r in train]), np.array([r["sentiment"] for r in train])
    groups = np.arange(len(train)) % (len(train) // 2)
    print("\ngrouped 5-fold CV on the training set (urgency macro-F1 / sentiment macro-F1):")
    for w in (0.0, 0.25, 0.5, 1.0):
        row = []
        for c in (1.0, 4.0, 16.0):
            tm.CUE_WEIGHT, tm.C = w, c
            pu = np.empty(len(tx), dtype=object)
            ps = np.empty(len(tx), dtype=object)
            for a, b in GroupKFold(5).split(tx, tu, groups=groups):
                m = tm.TriageModel(emb).fit([tx[i] for i in a], tu[a], tsent[a], tv[a])
                res = m.predict([tx[i] for i in b], tv[b])
                pu[b], ps[b] = [r.urgency for r in res], [r.sentiment for r in res]
            row.append(f"C={c:g}: {f1_score(tu, pu.astype(str), average='macro'):.3f}/"
                       f"{f1_score(tsent, ps.astype(str), average='macro'):.3f}")
        print(f"  cue weight {w}: " + ", ".join(row))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home")
        t0 = time.perf_counter()
        index = KnowledgeIndex(settings.home / "kb")
        stats = index.update()
        print(f"index built in {time.perf_counter() - t0:.1f} s from the shipped seed: {stats}")
        retrieval(index)
        abstention(index)
        latency(settings, index)
        triage()


if __name__ == "__main__":
    main()

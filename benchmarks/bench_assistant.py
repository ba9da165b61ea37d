"""Assistant figures for docs/benchmarks.md (## Assistant).

1. Retrieval on the shipped question set: recall@5, MRR, nDCG@10 for BM25 alone, dense alone and
   their reciprocal-rank fusion (hybrid), overall and per language (articles' sections).
2. Abstention: the confidence model fitted on the fitting split only (retrieval questions, the dev
   split of the answer set, the dev out-of-scope questions), its leave-one-out rates there, and the
   shipped constants on the held-out splits, which no fitted number has seen.
3. Answers: must-have-fact recall per split and language, out-of-scope abstention, SMS lengths;
   the peer is the same pipeline without answer blocks (prose sentences only).
4. Latency of the extractive path with a warm index: p50/p95 over every question, 3 rounds.
5. Triage on the held-out set: the model against keywords alone and embeddings alone; the
   hyper-parameter grid by grouped cross-validation on the training set.

Run: ``python benchmarks/bench_assistant.py`` (a few minutes on 2 cores);
``python benchmarks/bench_assistant.py --fit`` prints only the refitted abstention constants.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.model_selection import GroupKFold, LeaveOneOut, cross_val_predict

from pesaguard.assistant import answering as ans
from pesaguard.assistant import triage_model as tm
from pesaguard.assistant.domain import domain_model, out_of_fold_probs
from pesaguard.assistant.embed import default_embedder
from pesaguard.assistant.evaluation import evaluate_answers, evaluate_retrieval, load_jsonl
from pesaguard.assistant.generate import ExtractiveGenerator
from pesaguard.assistant.index import Hit, KnowledgeIndex
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


def fitting_sets() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(question, audience, lang) of the fitting split: in-scope and out-of-scope."""
    ins = [(q["question"], q["audience"], q["lang"]) for q in load_jsonl("retrieval.jsonl")]
    ins += [(q["question"], q["audience"], q["lang"]) for q in load_jsonl("answers.jsonl")
            if q["split"] == "dev" and not q.get("previous")]
    oos = [(q["question"], "customer", q["lang"]) for q in load_jsonl("out_of_scope.jsonl") if q["split"] == "dev"]
    return ins, oos


def heldout_sets() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    ins = [(q["question"], q["audience"], q["lang"]) for q in load_jsonl("answers.jsonl")
           if q["split"] == "heldout" and not q.get("previous")]
    oos = [(q["question"], "customer", q["lang"]) for q in load_jsonl("out_of_scope.jsonl") if q["split"] == "heldout"]
    return ins, oos


def test_sets() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """The test split: never fitted or tuned on (``in_scope.jsonl``, ``out_of_scope.jsonl`` split test)."""
    ins = [(q["question"], q["audience"], q["lang"]) for q in load_jsonl("in_scope.jsonl")]
    oos = [(q["question"], "customer", q["lang"]) for q in load_jsonl("out_of_scope.jsonl") if q["split"] == "test"]
    return ins, oos


def features(index: KnowledgeIndex, rows: list[tuple[str, str, str]],
             in_domain: np.ndarray | None = None) -> np.ndarray:
    """Confidence features of each question; ``in_domain`` replaces the domain model's probabilities
    (the fitting split's own, out of fold)."""
    domain = domain_model(index)
    out = []
    for i, (q, audience, lang) in enumerate(rows):
        qvec = index.embedder.query(q)
        hits = index.search(q, qvec, k=ans.SEARCH_K, audience=audience, lang=lang)
        out.append(ans.confidence_features(q, hits, domain.prob(qvec) if in_domain is None else float(in_domain[i])))
    return np.vstack(out)


def fit_abstention(index: KnowledgeIndex, verbose: bool = True) -> LogisticRegression:
    ins, oos = fitting_sets()
    p_in, p_out = out_of_fold_probs(index)
    x = np.vstack([features(index, ins, p_in), features(index, oos, p_out)])
    y = np.r_[np.ones(len(ins)), np.zeros(len(oos))]
    lr = LogisticRegression(C=10, class_weight="balanced", max_iter=1000)
    loo = cross_val_predict(lr, x, y, cv=LeaveOneOut(), method="predict_proba")[:, 1]
    lr.fit(x, y)
    if verbose:
        print(f"\n### Abstention: fit ({len(ins)} in-scope, {len(oos)} out-of-scope questions of the fitting split)\n")
        print("| confidence model | in-scope answered | out-of-scope abstained |")
        print("|---|---|---|")
        for t in sorted({0.5, ans.CONFIDENCE_MIN}):
            print(f"| leave-one-out refit (threshold {t}) | {(loo[y == 1] >= t).mean():.3f} | {(loo[y == 0] < t).mean():.3f} |")
        p_oos = loo[y == 0]
        threshold = max(0.5, round(float(p_oos.max()) + 0.05, 2))
        print(f"\nrefit: CONFIDENCE_COEF = {tuple(round(float(c), 3) for c in lr.coef_[0])}, "
              f"CONFIDENCE_BIAS = {lr.intercept_[0]:.3f}, CONFIDENCE_MIN = {threshold} (the most confident "
              f"out-of-scope question of the fitting split when left out of the fit, {p_oos.max():.3f}, plus 0.05)")
    return lr


def abstention(index: KnowledgeIndex) -> None:
    fit_abstention(index)

    def shipped(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(x @ np.array(ans.CONFIDENCE_COEF) + ans.CONFIDENCE_BIAS)))

    fi, fo = fitting_sets()
    xfi, xfo = features(index, fi), features(index, fo)
    # peer: one threshold on the top dense score, chosen on the fitting split
    dense_fit = np.r_[xfi[:, 0], xfo[:, 0]]
    y = np.r_[np.ones(len(xfi)), np.zeros(len(xfo))]
    t = max(np.arange(0.70, 0.95, 0.0025), key=lambda t: ((dense_fit[y == 1] >= t).mean() + (dense_fit[y == 0] < t).mean()))
    print("\n### Abstention: shipped constants\n")
    print(f"| split | in-scope answered | out-of-scope abstained | peer: top dense score >= {t:.3f}, answered / abstained |")
    print("|---|---|---|---|")
    print(f"| fitting (in sample: {len(fi)} in-scope, {len(fo)} out-of-scope) | {(shipped(xfi) >= ans.CONFIDENCE_MIN).mean():.3f} | "
          f"{(shipped(xfo) < ans.CONFIDENCE_MIN).mean():.3f} | {(xfi[:, 0] >= t).mean():.3f} / {(xfo[:, 0] < t).mean():.3f} |")
    for name, (ins, oos) in (("held out", heldout_sets()), ("test", test_sets())):
        xi, xo = features(index, ins), features(index, oos)
        ci, co = shipped(xi), shipped(xo)
        print(f"| {name} ({len(ins)} in-scope, {len(oos)} out-of-scope) | {(ci >= ans.CONFIDENCE_MIN).mean():.3f} "
              f"({int((ci >= ans.CONFIDENCE_MIN).sum())}) | {(co < ans.CONFIDENCE_MIN).mean():.3f} "
              f"({int((co < ans.CONFIDENCE_MIN).sum())}) | {(xi[:, 0] >= t).mean():.3f} / {(xo[:, 0] < t).mean():.3f} |")
        for lang in ("en", "sw"):
            li = [i for i, r in enumerate(ins) if r[2] == lang]
            lo = [i for i, r in enumerate(oos) if r[2] == lang]
            print(f"|   ... {lang} | {(ci[li] >= ans.CONFIDENCE_MIN).mean():.3f} | {(co[lo] < ans.CONFIDENCE_MIN).mean():.3f} | |")
        print(f"\n{name}: out-of-scope answered: {[oos[i][0] for i in np.flatnonzero(co >= ans.CONFIDENCE_MIN)]}; "
              f"in-scope abstained: {[ins[i][0] for i in np.flatnonzero(ci < ans.CONFIDENCE_MIN)]}\n")


def test_split(settings: Settings, index: KnowledgeIndex) -> None:
    """The test split end to end (``Assistant.ask``): abstention on its out-of-scope questions, and
    its in-scope questions answered citing one of the articles they belong to."""
    a = ans.Assistant(settings, index=index)
    ins, oos = load_jsonl("in_scope.jsonl"), [q for q in load_jsonl("out_of_scope.jsonl") if q["split"] == "test"]
    print(f"\n### Test split end to end ({len(ins)} in-scope, {len(oos)} out-of-scope; never fitted or tuned on)\n")
    print("| lang | out-of-scope abstained | in-scope answered | ... citing a listed article |")
    print("|---|---|---|---|")
    rows = []
    for lang in ("en", "sw", "all"):
        o = [q for q in oos if lang in ("all", q["lang"])]
        i = [q for q in ins if lang in ("all", q["lang"])]
        ab = sum(a.ask(q["question"]).abstained for q in o)
        answered = cited = 0
        for q in i:
            r = a.ask(q["question"], audience=q["audience"])
            answered += not r.abstained
            cited += (not r.abstained) and any(c.ref.rstrip("0123456789") in q["refs"] for c in r.citations if c.ref)
        rows.append(f"| {lang} | {ab}/{len(o)} | {answered}/{len(i)} | {cited}/{len(i)} |")
    print("\n".join(rows))


class ProseOnly(ExtractiveGenerator):
    """The peer: the same extractive generator without answer blocks (prose sentences only)."""

    name = "extractive-prose"

    def generate(self, question: str, lang: str, hits: list[Hit], qvec: np.ndarray,
                 index: KnowledgeIndex) -> list[Any]:
        prose = [h for h in hits if h.chunk.kind == "section"]
        return self.from_prose(question, lang, prose, qvec, index) if prose else []


def answers(settings: Settings, index: KnowledgeIndex) -> None:
    a = ans.Assistant(settings, index=index)
    peer = ans.Assistant(settings, index=index, generator=ProseOnly())
    rows = load_jsonl("answers.jsonl")
    print(f"\n### Answers: must-have facts ({len(rows)} questions: "
          f"{sum(r['lang'] == 'en' for r in rows)} English, {sum(r['lang'] == 'sw' for r in rows)} Swahili; "
          f"{sum(r['split'] == 'heldout' for r in rows)} held out)\n")
    print("| answers from | split | recall en | recall sw | recall all | out-of-scope abstained en | ... sw |")
    print("|---|---|---|---|---|---|---|")
    failures = []
    for label, assistant, gen in (("answer blocks first (shipped)", a, "extractive"),
                                  ("peer: prose sentences only", peer, None)):
        for split in ("dev", "heldout"):
            r = evaluate_answers(assistant, rows, split=split, generator=gen or "extractive") if gen else \
                evaluate_answers(_Forced(assistant), rows, split=split)
            print(f"| {label} | {split} ({r.questions}) | {r.by_lang['en']['recall']:.3f} | {r.by_lang['sw']['recall']:.3f} | "
                  f"{r.recall:.3f} | {r.oos_by_lang['en']['abstained']:.3f} | {r.oos_by_lang['sw']['abstained']:.3f} |")
            if gen and split == "heldout":
                failures = [(x.id, x.missing, x.abstained) for x in r.results if not x.passed]
                failures += [(q, ("answered",), False) for q in r.oos_answered]
    print(f"\nheld-out misses of the shipped path: {failures}")
    lengths: list[int] = []
    parts: list[int] = []
    for row in rows:
        out = a.ask(row["question"], audience=row["audience"], fmt="sms")
        assert out.sms is not None
        parts.append(len(out.sms))
        lengths.extend(len(p) for p in out.sms)
    print(f"\nSMS format on every question: {np.mean(np.array(parts) == 1):.3f} fit one SMS, max parts {max(parts)}, "
          f"longest part {max(lengths)} characters")


class _Forced:
    """Calls an assistant whose generator is fixed (the peer) without naming one per question."""

    def __init__(self, assistant: ans.Assistant) -> None:
        self.assistant = assistant

    def ask(self, question: str, **kw: Any) -> ans.Answer:
        kw.pop("generator", None)
        return self.assistant.ask(question, **kw)


def latency(settings: Settings, index: KnowledgeIndex) -> None:
    a = ans.Assistant(settings, index=index)
    qs = [(q["question"], q["audience"]) for q in load_jsonl("retrieval.jsonl")]
    qs += [(q["question"], q["audience"]) for q in load_jsonl("answers.jsonl")]
    qs += [(q["question"], "customer") for q in load_jsonl("out_of_scope.jsonl")]
    gold_article = answered = 0
    for q in load_jsonl("retrieval.jsonl"):
        r = a.ask(q["question"], audience=q["audience"], generator="extractive")
        if r.abstained:
            continue
        answered += 1
        gold_article += any(c.path in {g["path"] for g in q["gold"]} for c in r.citations)
    print(f"\n### Extractive answers on the retrieval set ({answered} answered in-scope questions)\n")
    print(f"- cite a gold article: {gold_article / answered:.3f}")
    inner = getattr(a.embedder, "inner", a.embedder)
    a.embedder = inner  # the model itself: the evaluation questions' vectors are in the shipped seed
    clear = getattr(inner, "clear_cache", lambda: None)
    # wall time, its embedding part, and the process's CPU time (all threads): the CPU time is what an
    # answer costs whatever else the machine runs; the wall time on a shared machine is mostly waiting
    rows: dict[str, tuple[list[float], list[float], list[float]]] = {
        "new question (forward pass)": ([], [], []), "repeated question (remembered vector)": ([], [], [])}
    load = [os.getloadavg()[0]]
    for _ in range(3):  # each question asked new, then again at once
        for q, aud in qs:
            clear()
            for label in rows:
                t0, c0 = time.perf_counter(), time.process_time()
                r = a.ask(q, audience=aud, generator="extractive")
                rows[label][0].append((time.perf_counter() - t0) * 1e3)
                rows[label][1].append(r.timings_ms["embed"])
                rows[label][2].append((time.process_time() - c0) * 1e3)
        load.append(os.getloadavg()[0])
    print(f"\n### Latency, extractive path, warm index ({len(qs) * 3} questions, each new then repeated; load "
          f"average {min(load):.1f}-{max(load):.1f} on {os.cpu_count()} cores)\n")
    print("| question | whole answer p50 ms | p95 ms | max ms | of which embedding p50 ms | p95 ms | "
          "CPU time p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for label, (totals, embeds, cpu) in rows.items():
        tot, emb, c = np.array(totals), np.array(embeds), np.array(cpu)
        print(f"| {label} | {np.percentile(tot, 50):.1f} | {np.percentile(tot, 95):.1f} | {tot.max():.1f} | "
              f"{np.percentile(emb, 50):.1f} | {np.percentile(emb, 95):.1f} | {np.percentile(c, 50):.1f} | "
              f"{np.percentile(c, 95):.1f} |")


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="only refit the abstention constants and print them")
    parser.add_argument("--home", type=Path, help="keep the index in this PESAGUARD_HOME (default: a temporary one)")
    parser.add_argument("--only", choices=("retrieval", "abstention", "test", "answers", "latency", "triage"),
                        help="run one part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=args.home or Path(tmp) / "home")
        t0 = time.perf_counter()
        index = KnowledgeIndex(settings.home / "kb")
        stats = index.update()
        print(f"index built in {time.perf_counter() - t0:.1f} s from the shipped seed: {stats}")
        if args.fit:
            fit_abstention(index)
            return
        parts = {"retrieval": lambda: retrieval(index), "abstention": lambda: abstention(index),
                 "test": lambda: test_split(settings, index),
                 "answers": lambda: answers(settings, index), "latency": lambda: latency(settings, index),
                 "triage": triage}
        for name, run in parts.items():
            if args.only in (None, name):
                run()


if __name__ == "__main__":
    main()

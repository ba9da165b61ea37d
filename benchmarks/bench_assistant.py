"""Assistant figures for docs/benchmarks.md (## Assistant).

1. Retrieval on the shipped question set: recall@5, MRR, nDCG@10 for BM25 alone, dense alone and
   their reciprocal-rank fusion (hybrid), overall and per language (articles' sections).
2. Abstention: the shipped constants on every split (``--fit`` refits them on the fitting data
   only, pesaguard.assistant.fitting, and prints their rates with each topic left out); the test
   split end to end (``--only test``).
3. Answers: must-have-fact recall per split and language, out-of-scope abstention, SMS lengths;
   the peer is the same pipeline without answer blocks (prose sentences only).
4. Blind sets (``--only blind``, ``--only blind2``): ``eval/blind.jsonl`` and ``eval/blind2.jsonl``
   end to end, recall and abstention.
5. Latency of the extractive path with a warm index: p50/p95 over every question, 3 rounds.
6. Triage on the held-out set: the model against keywords alone and embeddings alone; the
   hyper-parameter grid by grouped cross-validation on the training set.

Run: ``python benchmarks/bench_assistant.py`` (a few minutes on 2 cores);
``python benchmarks/bench_assistant.py --fit`` prints only the refitted abstention constants (a few
minutes: 155 refits of the domain model).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.model_selection import GroupKFold

from pesaguard.assistant import answering as ans
from pesaguard.assistant import fitting
from pesaguard.assistant import triage_model as tm
from pesaguard.assistant.embed import default_embedder
from pesaguard.assistant.evaluation import evaluate_answers, evaluate_retrieval, load_jsonl
from pesaguard.assistant.generate import ExtractiveGenerator
from pesaguard.assistant.index import Hit, KnowledgeIndex
from pesaguard.config import Settings

Row = tuple[str, str, str]


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


def heldout_sets() -> tuple[list[Row], list[Row]]:
    ins = [(q["question"], q["audience"], q["lang"]) for q in load_jsonl("answers.jsonl")
           if q["split"] == "heldout" and not q.get("previous")]
    oos = [(q["question"], "customer", q["lang"]) for q in load_jsonl("out_of_scope.jsonl") if q["split"] == "heldout"]
    return ins, oos


def test_sets() -> tuple[list[Row], list[Row]]:
    """The test split: never fitted or tuned on (``in_scope.jsonl``, ``out_of_scope.jsonl`` split test)."""
    ins = [(q["question"], q["audience"], q["lang"]) for q in load_jsonl("in_scope.jsonl")]
    oos = [(q["question"], "customer", q["lang"]) for q in load_jsonl("out_of_scope.jsonl") if q["split"] == "test"]
    return ins, oos


def fit_abstention(index: KnowledgeIndex) -> None:
    """Refit the confidence model and its threshold (pesaguard.assistant.fitting) and print them."""
    t0 = time.perf_counter()
    f = fitting.fit(index)
    print(f"\n### Abstention: fit ({f.n_in} in-scope, {f.n_out} out-of-scope fitting questions; "
          f"{fitting.TOPICS} topics left out in turn, {len(fitting.SEEDS)} groupings; {time.perf_counter() - t0:.0f} s)\n")
    print("| threshold | in-scope answered (topic left out) | out-of-scope abstained (topic left out) |")
    print("|---|---|---|")
    for t in sorted({0.5, f.threshold, 0.8, 0.9}):
        answered, abstained = f.rates(t)
        print(f"| {t:.2f}{' (chosen)' if t == f.threshold else ''} | {answered:.3f} | {abstained:.3f} |")
    m = f.topic_out.mean(0)
    leaks = [f.questions[i][0] for i in np.argsort(-m) if f.y[i] == 0 and m[i] >= f.threshold]
    print(f"\nout-of-scope questions answered on average when their topic is left out: {leaks}")
    print(f"\nrefit: CONFIDENCE_COEF = {tuple(round(c, 3) for c in f.coef)}, CONFIDENCE_BIAS = {f.bias:.3f}, "
          f"CONFIDENCE_MIN = {f.threshold}")
    shipped = (tuple(round(c, 3) for c in f.coef), round(f.bias, 3), f.threshold)
    if shipped != (ans.CONFIDENCE_COEF, ans.CONFIDENCE_BIAS, ans.CONFIDENCE_MIN):
        print("(differs from the shipped constants in pesaguard/assistant/answering.py)")


def abstention(index: KnowledgeIndex) -> None:
    """The shipped constants on every split (confidence only, no answer drafted), and the peer: one
    threshold on the top dense score chosen on the fitting data."""

    def shipped(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(x @ np.array(ans.CONFIDENCE_COEF) + ans.CONFIDENCE_BIAS)))

    fi, fo = fitting.fitting_sets()
    xfi, xfo = fitting.features(index, fi), fitting.features(index, fo)
    dense_fit = np.r_[xfi[:, 0], xfo[:, 0]]
    y = np.r_[np.ones(len(xfi)), np.zeros(len(xfo))]
    t = max(np.arange(0.70, 0.95, 0.0025), key=lambda t: ((dense_fit[y == 1] >= t).mean() + (dense_fit[y == 0] < t).mean()))
    print(f"\n### Abstention: shipped constants (threshold {ans.CONFIDENCE_MIN})\n")
    print(f"| split | in-scope answered | out-of-scope abstained | peer: top dense score >= {t:.3f}, answered / abstained |")
    print("|---|---|---|---|")
    print(f"| fitting (in sample: {len(fi)} in-scope, {len(fo)} out-of-scope) | {(shipped(xfi) >= ans.CONFIDENCE_MIN).mean():.3f} | "
          f"{(shipped(xfo) < ans.CONFIDENCE_MIN).mean():.3f} | {(xfi[:, 0] >= t).mean():.3f} / {(xfo[:, 0] < t).mean():.3f} |")
    for name, (ins, oos) in (("held out", heldout_sets()), ("test", test_sets())):
        xi, xo = fitting.features(index, ins), fitting.features(index, oos)
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


def blind(settings: Settings, index: KnowledgeIndex, name: str = "blind.jsonl") -> None:
    """A blind set (``eval/blind.jsonl``, ``eval/blind2.jsonl``) end to end through ``Assistant.ask``:
    written and committed before any run on it, never read by any fitting code; its figures are
    reported as they come."""
    a = ans.Assistant(settings, index=index)
    rows = load_jsonl(name)
    ins = [r for r in rows if r["scope"] == "in"]
    oos = [r for r in rows if r["scope"] == "out"]
    r = evaluate_answers(a, ins, oos)
    print(f"\n### Blind set {name} end to end ({len(ins)} in-scope, {len(oos)} out-of-scope)\n")
    print("| questions | n | must-have-fact recall (answered, cited, every fact) | answered |")
    print("|---|---|---|---|")
    groups = {"customer, English": lambda q: q["audience"] == "customer" and q["lang"] == "en",
              "customer, Swahili and Sheng": lambda q: q["audience"] == "customer" and q["lang"] == "sw",
              "analyst (English)": lambda q: q["audience"] == "analyst",
              "English (customer and analyst)": lambda q: q["lang"] == "en",
              "all in-scope": lambda q: True}
    by_id = {x.id: x for x in r.results}
    for label, keep in groups.items():
        sub = [by_id[q["id"]] for q in ins if keep(q)]
        print(f"| {label} | {len(sub)} | {np.mean([x.passed for x in sub]):.3f} ({sum(x.passed for x in sub)}) | "
              f"{np.mean([not x.abstained for x in sub]):.3f} |")
    for lang in ("en", "sw"):
        n = sum(q["lang"] == lang for q in oos)
        answered = [q for q in oos if q["lang"] == lang and q["id"] in r.oos_answered]
        print(f"| out of scope, {lang} | {n} | abstained {1 - len(answered) / n:.3f} ({n - len(answered)}) | |")
    print(f"\nout-of-scope answered: {[(q['id'], q['question']) for q in oos if q['id'] in r.oos_answered]}")
    print(f"in-scope misses: {[(x.id, x.missing, 'abstained' if x.abstained else '') for x in r.results if not x.passed]}")


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
    parser.add_argument("--only", choices=("retrieval", "abstention", "test", "answers", "blind", "blind2", "latency",
                                             "triage"),
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
                 "answers": lambda: answers(settings, index), "blind": lambda: blind(settings, index),
                 "blind2": lambda: blind(settings, index, "blind2.jsonl"),
                 "latency": lambda: latency(settings, index),
                 "triage": triage}
        for name, run in parts.items():
            if args.only in (None, name):
                run()


if __name__ == "__main__":
    main()

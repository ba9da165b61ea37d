"""Triage of incoming customer messages: urgency (urgent | normal | low) and sentiment
(negative | neutral | positive), in English and Swahili; urgent messages open a case.

The model is two multinomial logistic regressions over the multilingual-e5 embedding of the
message concatenated with cue-lexicon counts (money lost, PIN shared, account blocked, SIM
lost, "right now"/"sasa hivi"/"haraka", unauthorised activity, thanks, complaint). The embedding
carries meaning across phrasing and language; the cues make the few decisive facts explicit, so
"nimetapeliwa, elfu ishirini zimeenda!" is urgent even though no training message says exactly that.
It is trained on ``triage_data/train.jsonl`` (written for this purpose) and evaluated on
``eval/triage.jsonl``, a separate set written independently (see docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from pesaguard.assistant.embed import Embedder, default_embedder
from pesaguard.assistant.text import detect_language, normalise
from pesaguard.config import Settings, get_settings
from pesaguard.errors import InputError

URGENCY = ("urgent", "normal", "low")
SENTIMENT = ("negative", "neutral", "positive")
TRAIN_FILE = Path(__file__).resolve().parent / "triage_data" / "train.jsonl"
# Both chosen by 5-fold cross-validation on the training set alone, folds grouped so that a message
# and its translation never sit on both sides (benchmarks/bench_assistant.py prints the grid).
CUE_WEIGHT = 0.25  # cue counts scaled to the spread of embedding coordinates
C = 16.0  # inverse L2 regularisation of both heads

CUES: dict[str, re.Pattern[str]] = {name: re.compile(p, re.I) for name, p in {
    "money_lost": r"\b(lost|gone|stolen|stole|taken|took|emptied|drained|disappear\w*|missing|conned|scam+ed|tricked|"
                  r"cheated|defrauded|robbed|hacked|hijacked|hayupo|nimetapeliwa|wametapeli|wamemtapeli|"
                  r"\w*tapeliwa|zimeenda|imeenda|\w*ibiwa|wameiba|zimepotea|nimepoteza|nimedanganywa|amenidanganya|"
                  r"wamechukua|amechukua|\w*malizwa|amemaliza|zimehamishwa|zimetolewa|imedukuliwa|sifuri|tupu|"
                  r"zero|empty|victim|mwathirika|vanish\w*|\w*toweka)\b",
    "pin_shared": r"(\b(gave|give|shared|told|tell|read)\b.{0,40}\b(pin|code|otp)\b|\b(knows?|has|got)\b.{0,10}\bmy pin\b|"
                  r"\b(nilimpa|nimempa|nilimwambia|nilimsomea|nilitoa)\b.{0,40}\b(pin|namba|otp)\b|"
                  r"\b(ana|anajua|amepata)\b.{0,5}\bpin\b|\bpin yangu inajulikana\b)",
    "account_blocked": r"\b(blocked|locked|suspended|frozen|limited|cannot log in|locked out|imefungwa|imesimamishwa|"
                       r"siwezi kuingia|imewekewa kikomo)\b",
    "sim_lost": r"(\bsim\b.{0,20}\b(swap\w*|replaced|changed)\b|\bswapped\b|\bno (network|service)\b|"
                r"\blaini yangu\b.{0,15}\b(imebadilishwa|imechukuliwa|haifanyi)\b|\b(sina|haina) mtandao\b|"
                r"\b(phone|simu)\b.{0,25}\b(stolen|imeibiwa|nimeibiwa)\b|\bnimeibiwa simu\b)",
    "right_now": r"\b(now|right now|right away|immediately|urgent\w*|asap|emergency|just now|as we speak|"
                 r"minutes? ago|this minute|at this moment|sasa hivi|sasa|haraka|mara moja|dharura|muda huu|"
                 r"dakika \w+ zilizopita|iliyopita)\b",
    "unauthorised": r"\b(did not make|never made|i did not|i never|without my|not (request|recogni[sz])\w*|"
                    r"unauthori[sz]ed|not authori[sz]e|using my (account|number|line|wallet)|"
                    r"anatumia (akaunti|namba|laini) yangu|by itself|sikufanya|sikuufanya|sizijui|sijui|bila (idhini|ruhusa|ridhaa)|"
                    r"bila mimi|yenyewe)\b",
    "help": r"\b(help|please|nisaidieni|nisaidie|tafadhali|msaada|jamani|stop (it|them))\b",
    "thanks": r"\b(thank\w*|asante\w*|nashukuru|appreciate|bless|hongera\w*|great|excellent|best|bora|awabariki|"
              r"love|napenda)\b",
    "complaint": r"\b(annoy\w*|tired|terrible|ugly|hate|don'?t like|sipendi|inakera|nimechoka|mbaya|nimekasirika|"
                 r"angry|worried|scared|wasiwasi|anaogopa|out of hand|imezidi)\b",
    "question": r"(\?|^\s*(how|what|where|when|which|can|do|is|are)\b|\b(nitawezaje|gani|wapi|lini|je|vipi|"
                r"nitajuaje|nifanyeje)\b)",
}.items()}
_AMOUNT = re.compile(r"\b\d[\d,]{2,}\b|\b\d+k\b|\b(elfu|laki|thousand)\b", re.I)


def cue_names(text: str) -> list[str]:
    """The cues present in ``text``.

    >>> cue_names("nimetapeliwa, elfu ishirini zimeenda!")
    ['money_lost', 'amount']
    """
    t = normalise(text)
    found = [name for name, pat in CUES.items() if pat.search(t)]
    if _AMOUNT.search(t):
        found.append("amount")
    return found


def cue_features(text: str) -> np.ndarray:
    t = normalise(text)
    counts = [min(len(p.findall(t)), 2) for p in CUES.values()]
    counts.append(min(len(_AMOUNT.findall(t)), 2))
    counts.append(min(t.count("!"), 3))
    return np.asarray(counts, dtype=np.float32) * CUE_WEIGHT


def keyword_baseline(text: str) -> tuple[str, str]:
    """The peer the model is measured against: (urgency, sentiment) from the cue lexicons alone."""
    cues = set(cue_names(text))
    if cues & {"money_lost", "pin_shared", "sim_lost", "unauthorised"}:
        urgency = "urgent"
    elif cues & {"question", "complaint", "account_blocked", "amount", "help"}:
        urgency = "normal"
    else:
        urgency = "low"
    if cues & {"money_lost", "pin_shared", "sim_lost", "complaint", "account_blocked"} or "!" in text:
        sentiment = "negative"
    elif "thanks" in cues:
        sentiment = "positive"
    else:
        sentiment = "neutral"
    return urgency, sentiment


class TriageResult(BaseModel):
    """The triage of one message; ``case_opened`` is True when this call recorded an urgent case."""

    message_id: str | None = None
    lang: str
    urgency: str
    sentiment: str
    urgent_probability: float
    probabilities: dict[str, dict[str, float]] = Field(description="per-label probabilities of both heads")
    cues: list[str]
    case_opened: bool = False


class TriageModel:
    """Embedding + cue features -> urgency and sentiment (two logistic regressions)."""

    def __init__(self, embedder: Embedder) -> None:
        from sklearn.linear_model import LogisticRegression  # heavy import, only when triage is used

        self.embedder = embedder
        self.urgency = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
        self.sentiment = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")

    def features(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        vecs = self.embedder.passages(list(texts)) if vectors is None else vectors
        return np.hstack([vecs, np.vstack([cue_features(t) for t in texts])])

    def fit(self, texts: Sequence[str], urgency: Sequence[str], sentiment: Sequence[str],
            vectors: np.ndarray | None = None) -> TriageModel:
        x = self.features(texts, vectors)
        self.urgency.fit(x, list(urgency))
        self.sentiment.fit(x, list(sentiment))
        return self

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[TriageResult]:
        x = self.features(texts, vectors)
        pu, ps = self.urgency.predict_proba(x), self.sentiment.predict_proba(x)
        out = []
        for t, u, s in zip(texts, pu, ps, strict=True):
            probs_u = {str(c): float(p) for c, p in zip(self.urgency.classes_, u, strict=True)}
            probs_s = {str(c): float(p) for c, p in zip(self.sentiment.classes_, s, strict=True)}
            out.append(TriageResult(lang=detect_language(t), urgency=max(probs_u, key=probs_u.__getitem__),
                                    sentiment=max(probs_s, key=probs_s.__getitem__),
                                    urgent_probability=probs_u["urgent"],
                                    probabilities={"urgency": probs_u, "sentiment": probs_s}, cues=cue_names(t)))
        return out


def load_labelled(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for i, r in enumerate(rows, 1):
        if r.get("urgency") not in URGENCY or r.get("sentiment") not in SENTIMENT or not r.get("text"):
            raise InputError("each line needs text, urgency (urgent|normal|low) and sentiment "
                             "(negative|neutral|positive)", file=path, row=i)
    return rows


def _cached_vectors(texts: list[str], embedder: Embedder, cache_dir: Path | None) -> np.ndarray:
    """Training-set vectors, cached on disk by content so a process starts in milliseconds."""
    key = hashlib.blake2b(("\n".join(texts) + embedder.name).encode(), digest_size=10).hexdigest()
    path = cache_dir / f"triage-train-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        return np.load(path)
    vecs = embedder.passages(texts)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            np.save(f, vecs)
        tmp.replace(path)
    return vecs


def train(embedder: Embedder | None = None, cache_dir: Path | None = None,
          rows: list[dict[str, Any]] | None = None) -> TriageModel:
    """Fit the triage model on the shipped training set (or ``rows``)."""
    embedder = embedder or default_embedder()
    rows = rows if rows is not None else load_labelled(TRAIN_FILE)
    texts = [r["text"] for r in rows]
    vecs = _cached_vectors(texts, embedder, cache_dir)
    return TriageModel(embedder).fit(texts, [r["urgency"] for r in rows], [r["sentiment"] for r in rows], vecs)


_models: dict[str, TriageModel] = {}
_lock = threading.Lock()


def get_model(settings: Settings | None = None) -> TriageModel:
    settings = settings or get_settings()
    key = str(settings.home.resolve())
    with _lock:
        if key not in _models:
            _models[key] = train(cache_dir=settings.home / "kb")
        return _models[key]


def triage(text: str, *, message_id: str | None = None, settings: Settings | None = None,
           account_id: str | None = None, channel: str | None = None, received_ms: int | None = None,
           open_case: bool = True, store: Any = None) -> TriageResult:
    """Classify one message; an urgent one with a ``message_id`` is written to ``triage_messages``
    with status 'open' (once per message id) unless ``open_case`` is False. ``store`` defaults to
    the configured one."""
    text = " ".join(text.split())
    if not text:
        raise InputError("the message is empty", field="text")
    settings = settings or get_settings()
    result = get_model(settings).predict([text])[0]
    result.message_id = message_id
    if open_case and message_id and result.urgency == "urgent":
        from pesaguard.store import open_store
        from pesaguard.store.assistant import open_triage_case

        own = store is None
        store = open_store(settings) if own else store
        try:
            from pesaguard.sms.redact import redact  # stored like an SMS: no phone, ID, PIN or card numbers

            result.case_opened = open_triage_case(
                store, message_id=message_id, received_ms=received_ms or int(time.time() * 1000), text=redact(text),
                lang=result.lang, urgency=result.urgency, sentiment=result.sentiment,
                urgent_prob=result.urgent_probability, cues=result.cues, account_id=account_id, channel=channel)
        finally:
            if own:
                store.close()
    return result

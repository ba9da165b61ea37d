"""The SMS scam shield: text model + cues + ledger claim check -> verdict, score, type and reasons.

How a verdict is reached, in order:

1. The calibrated text model gives ``score`` (probability of a scam): ``scam`` at or above the
   model's scam threshold, ``suspicious`` at or above its suspicious threshold, else ``genuine``.
2. A money-received notification that does not come from one of ``settings.operator_sender_ids``
   is at least ``suspicious``.
3. A money-received notification that also asks for the money back is a ``scam`` (``reversal``).
   When the recipient account is known and a store is at hand, the claim is checked against the
   ledger: no such incoming transaction makes it a ``scam`` (type ``reversal``: the fake notice
   precedes "I sent it by mistake, send it back"); a match from an operator sender makes it
   ``genuine``.
4. Cues (:mod:`pesaguard.sms.cues`) name the scam type and add readable reasons for flagged texts.

Raw text never reaches the logs: log lines carry the salted text hash only.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pesaguard.config import Settings
from pesaguard.sms.claims import ClaimCheck, check_claim, load_formats, parse_claim, sender_is_operator
from pesaguard.sms.cues import find_cues, scam_type_of
from pesaguard.sms.model import TextModel
from pesaguard.sms.normalize import PLACEHOLDERS, normalize
from pesaguard.sms.redact import redact, salted_hash, text_hash

log = logging.getLogger(__name__)

Verdict = Literal["scam", "suspicious", "genuine"]
_RANK = {"genuine": 0, "suspicious": 1, "scam": 2}
_PLACEHOLDER_NAMES = {p[1:-1].upper(): p for p in PLACEHOLDERS}


class ClaimCheckOut(BaseModel):
    """What the ledger says about a money-received notification."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["not_a_claim", "not_checked", "verified", "no_match"]
    format: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    code: str | None = None
    claimed_ms: int | None = None
    sender_is_operator: bool | None = None
    matched_txn_id: str | None = None
    reasons: list[str] = Field(default_factory=list)


class SmsCheckResult(BaseModel):
    """The shield's answer for one message."""

    model_config = ConfigDict(extra="forbid")

    msg_id: str = Field(description="the message id given, or a salted hash of sender, recipient, time and text")
    verdict: Verdict
    score: float = Field(ge=0, le=1, description="probability that the message is a scam")
    scam_type: str | None = Field(description="reversal, prize, impersonation, pin_phishing, job_loan or other")
    reasons: list[str]
    claim_check: ClaimCheckOut
    model_version: str


def _max_verdict(a: Verdict, b: Verdict) -> Verdict:
    return a if _RANK[a] >= _RANK[b] else b


def _term(name: str) -> str:
    """A model feature as a reader sees it: ``PHONE jina`` -> ``<phone> jina``."""
    return " ".join(_PLACEHOLDER_NAMES.get(w, w) for w in name.split())


def message_id(settings: Settings, text: str, sender: str | None, to: str | None, received_ms: int | None) -> str:
    """A stable id for a message that came without one (keyed by the redaction salt)."""
    key = "\x1f".join([sender or "", to or "", str(received_ms or ""), text])
    return "sms-" + salted_hash(key, settings.redaction_salt, size=12)


class Shield:
    """Checks messages with one loaded model; thread-safe (no mutable state)."""

    def __init__(self, model: TextModel, settings: Settings) -> None:
        self.model = model
        self.settings = settings
        self.formats = load_formats(settings.home / "sms_claim_formats.yaml")

    def check(self, text: str, *, sender: str | None = None, to: str | None = None,
              received_ms: int | None = None, store: Any = None, msg_id: str | None = None) -> SmsCheckResult:
        """Check one message. ``store`` enables the ledger check (with ``to``, the recipient account)."""
        norm = normalize(text)
        return self._decide(text, norm, float(self.model.score([norm])[0]), sender, to, received_ms, store, msg_id)

    def check_many(self, texts: list[str], *, senders: list[str | None], tos: list[str | None],
                   received_ms: list[int | None], msg_ids: list[str | None], store: Any = None) -> list[SmsCheckResult]:
        """Check a batch: one vectorised model call, then the per-message rules."""
        norms = [normalize(t) for t in texts]
        scores = self.model.score(norms) if norms else np.zeros(0)
        return [self._decide(t, n, float(sc), se, to, r, store, m)
                for t, n, sc, se, to, r, m in zip(texts, norms, scores, senders, tos, received_ms, msg_ids, strict=True)]

    def _decide(self, text: str, norm: str, score: float, sender: str | None, to: str | None,
                received_ms: int | None, store: Any, msg_id: str | None) -> SmsCheckResult:
        verdict: Verdict = ("scam" if score >= self.model.scam_threshold
                            else "suspicious" if score >= self.model.suspicious_threshold else "genuine")
        claim_out = self._claim(text, sender, to, received_ms, store)
        forced_type: str | None = None
        if claim_out.status != "not_a_claim" and claim_out.sender_is_operator is False:
            verdict = _max_verdict(verdict, "suspicious")
        cues = find_cues(norm)
        if claim_out.status != "not_a_claim" and any(c.scam_type == "reversal" for c in cues):
            # An operator's notice never asks for the money back (none of 963 genuine notices in the
            # training corpora does): this is the fake-notice-then-"reverse it" scam.
            verdict, score, forced_type = "scam", max(score, self.model.scam_threshold), "reversal"
        if claim_out.status == "no_match":
            verdict, score, forced_type = "scam", max(score, 0.99), "reversal"
        elif claim_out.status == "verified" and claim_out.sender_is_operator is not False and forced_type is None:
            verdict, score = "genuine", min(score, 0.01)
        reasons: list[str] = []
        scam_type: str | None = None
        if verdict != "genuine":
            scam_type = forced_type or scam_type_of(cues)
            reasons.extend(dict.fromkeys(c.reason for c in cues))
            if score >= self.model.suspicious_threshold:
                terms = [_term(t) for t in self.model.top_terms(normalize(redact(text)))]
                wording = f"wording resembles known scam messages (score {score:.2f}"
                reasons.append(wording + (f"; words: {', '.join(terms)})" if terms else ")"))
        else:
            reasons.append(f"wording resembles genuine messages (score {score:.2f})")
        reasons.extend(claim_out.reasons)
        result = SmsCheckResult(
            msg_id=msg_id or message_id(self.settings, text, sender, to, received_ms),
            verdict=verdict, score=round(score, 4), scam_type=scam_type, reasons=reasons,
            claim_check=claim_out, model_version=self.model.version,
        )
        if log.isEnabledFor(logging.INFO):
            log.info("sms checked hash=%s verdict=%s score=%.3f type=%s claim=%s",
                     text_hash(text, self.settings.redaction_salt)[:12], verdict, score, scam_type, claim_out.status)
        return result

    def _claim(self, text: str, sender: str | None, to: str | None, received_ms: int | None,
               store: Any) -> ClaimCheckOut:
        claim = parse_claim(text, self.formats, self.settings.currency)
        if claim is None:
            return ClaimCheckOut(status="not_a_claim")
        op = sender_is_operator(sender, self.settings.operator_sender_ids)
        check = ClaimCheck(status="not_checked", claim=claim, sender_is_operator=op)
        if op is False:
            check.reasons.append("looks like a money-received notification but does not come from the "
                                 "operator's sender ID")
        if to and store is not None:
            check.status, check.matched_txn_id, found = check_claim(
                store, claim, to, received_ms if received_ms is not None else int(time.time() * 1000))
            check.reasons.extend(found)
        else:
            check.reasons.append("claim not checked against the ledger (no recipient account given)")
        return ClaimCheckOut(**check.to_dict())

    def redacted(self, text: str) -> tuple[str, str]:
        """(redacted text, salted text hash) for storage."""
        return redact(text), text_hash(text, self.settings.redaction_salt)


def get_shield(settings: Settings) -> Shield:
    """A shield over the saved model (:class:`ModelNotReadyError` when there is none)."""
    from pesaguard.sms.train import load_text_model

    model = load_text_model(settings)
    key = (id(model), id(settings))
    shield = _SHIELDS.get(key)
    if shield is None:
        _SHIELDS.clear()
        shield = _SHIELDS[key] = Shield(model, settings)
    return shield


_SHIELDS: dict[tuple[int, int], Shield] = {}


def stored_rows(shield: Shield, result: SmsCheckResult, text: str, *, sender: str | None, to: str | None,
                received_ms: int | None, label: str | None = None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The ``sms_messages`` and ``sms_checks`` rows of a checked message: redacted and hashed."""
    import json

    redacted, digest = shield.redacted(text)
    now = int(time.time() * 1000)
    sms_row = (result.msg_id, received_ms if received_ms is not None else now,
               redact(sender) if sender else "unknown", to, redacted, digest, label, result.scam_type,
               result.verdict, float(result.score))
    check_row = (result.msg_id, now, result.model_version, json.dumps(result.reasons, ensure_ascii=False),
                 result.claim_check.status, result.claim_check.matched_txn_id)
    return sms_row, check_row


def record(store: Any, shield: Shield, result: SmsCheckResult, text: str, *, sender: str | None,
           to: str | None, received_ms: int | None) -> bool:
    """Save a checked message, redacted and hashed; idempotent on ``msg_id``."""
    from pesaguard.store.sms import save_checked_sms_many

    sms_row, check_row = stored_rows(shield, result, text, sender=sender, to=to, received_ms=received_ms)
    return save_checked_sms_many(store, [sms_row], [check_row]) > 0

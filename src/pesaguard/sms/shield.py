"""The SMS scam shield: text model + operator formats + cues + ledger -> verdict, category, score, reasons.

``verdict`` is the protective decision (scam, suspicious, genuine); ``category`` says what kind of
message it is (scam, promotion, genuine). How they are reached, in order:

1. The calibrated text model gives the probabilities of genuine, promotion and scam. ``score`` is
   P(scam): ``scam`` at or above the model's scam threshold, ``suspicious`` at or above its
   suspicious threshold, else ``genuine``; the category is scam when the verdict is, else the
   likelier of promotion and genuine.
2. The operator formats (:mod:`pesaguard.sms.formats`): a known notification format with nothing
   out of place is genuine whatever the sender field says; one that imitates a format and breaks it
   (a personal number to call, "send it back", a balance that does not add up, an id of the wrong
   shape, a look-alike sender ID) is a scam, with the reasons. A notification from a personal phone
   number is at least suspicious (operators send from sender IDs).
3. A money-in notice that also asks for the money back is a scam (``reversal``). With a recipient
   account and a store, the claim is checked against the ledger: no such incoming transaction makes
   it a scam; a match from an operator sender makes it genuine.
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
from pesaguard.sms.cues import Cue, cue_vector_of, find_cues, scam_type_of
from pesaguard.sms.formats import FormatCheck, inspect
from pesaguard.sms.model import CATEGORIES, GENUINE, PROMOTION, SCAM, TextModel
from pesaguard.sms.normalize import PLACEHOLDERS, normalize
from pesaguard.sms.redact import redact, salted_hash, text_hash

log = logging.getLogger(__name__)

Verdict = Literal["scam", "suspicious", "genuine"]
Category = Literal["scam", "promotion", "genuine"]
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


class NotificationOut(BaseModel):
    """The operator notification format a message matched, its fields, and whether they hold together."""

    model_config = ConfigDict(extra="forbid")

    format: str
    operator: str = Field(description="operator key, e.g. mpesa_ke, mtn_ug, airtel_tz")
    operator_name: str
    country: str
    lang: str
    kind: str = Field(description="received, sent, payment, bill, withdrawn, deposit, airtime, bundle, reversal, "
                                  "balance, loan, savings, approval or refund")
    amount_minor: int | None = None
    currency: str | None = None
    counterparty: str | None = None
    counterparty_phone: str | None = None
    balance_minor: int | None = None
    fee_minor: int | None = None
    tax_minor: int | None = None
    txn_id: str | None = None
    when_ms: int | None = None
    consistent: bool
    problems: list[str] = Field(default_factory=list, description="why it is not consistent")


class SmsCheckResult(BaseModel):
    """The shield's answer for one message."""

    model_config = ConfigDict(extra="forbid")

    msg_id: str = Field(description="the message id given, or a salted hash of sender, recipient, time and text")
    verdict: Verdict = Field(description="the protective decision")
    category: Category = Field(description="what kind of message it is: scam, promotion (bulk marketing, "
                                           "subscriptions) or genuine (personal, transactional)")
    score: float = Field(ge=0, le=1, description="probability that the message is a scam")
    category_scores: dict[str, float] = Field(description="the text model's probability of each category")
    scam_type: str | None = Field(description="reversal, prize, impersonation, pin_phishing, job_loan or other")
    reasons: list[str]
    notification: NotificationOut | None = Field(description="the operator notification format it matched, if any")
    claim_check: ClaimCheckOut
    model_version: str


def _max_verdict(a: Verdict, b: Verdict) -> Verdict:
    return a if _RANK[a] >= _RANK[b] else b


def _term(name: str) -> str:
    """A model feature as a reader sees it: ``PHONE jina`` -> ``<phone> jina``."""
    return " ".join(_PLACEHOLDER_NAMES.get(w, w) for w in name.split())


def message_id(salt: str, text: str, sender: str | None, to: str | None, received_ms: int | None) -> str:
    """A stable id for a message that came without one (keyed by the redaction salt)."""
    key = "\x1f".join([sender or "", to or "", str(received_ms or ""), text])
    return "sms-" + salted_hash(key, salt, size=12)


class Shield:
    """Checks messages with one loaded model; thread-safe (no mutable state)."""

    def __init__(self, model: TextModel, settings: Settings) -> None:
        self.model = model
        self.settings = settings
        self.formats = load_formats(settings.home / "sms_claim_formats.yaml")
        self._salt: str | None = None

    @property
    def salt(self) -> str:
        """The redaction salt, read once (the setting may read a file in HOME)."""
        if self._salt is None:
            self._salt = self.settings.redaction_salt
        return self._salt

    def check(self, text: str, *, sender: str | None = None, to: str | None = None,
              received_ms: int | None = None, store: Any = None, msg_id: str | None = None) -> SmsCheckResult:
        """Check one message. ``store`` enables the ledger check (with ``to``, the recipient account)."""
        norm = normalize(text)
        cues = find_cues(norm)
        proba = self.model.proba([norm], cue_vector_of(cues)[None, :])[0]
        return self._decide(text, norm, proba, sender, to, received_ms, store, msg_id, cues)

    def check_many(self, texts: list[str], *, senders: list[str | None], tos: list[str | None],
                   received_ms: list[int | None], msg_ids: list[str | None], store: Any = None) -> list[SmsCheckResult]:
        """Check a batch: one vectorised model call, then the per-message rules."""
        norms = [normalize(t) for t in texts]
        proba = self.model.proba(norms) if norms else np.zeros((0, 3))
        return [self._decide(t, n, p, se, to, r, store, m)
                for t, n, p, se, to, r, m in zip(texts, norms, proba, senders, tos, received_ms, msg_ids, strict=True)]

    def _decide(self, text: str, norm: str, proba: np.ndarray, sender: str | None, to: str | None,
                received_ms: int | None, store: Any, msg_id: str | None,
                cues: list[Cue] | None = None) -> SmsCheckResult:
        m = self.model
        score = float(proba[SCAM])
        verdict: Verdict = ("scam" if score >= m.scam_threshold
                            else "suspicious" if score >= m.suspicious_threshold else "genuine")
        category: Category = "scam" if verdict == "scam" else (
            "promotion" if proba[PROMOTION] > proba[GENUINE] else "genuine")
        fmt = inspect(text, sender, self.settings.operator_sender_ids)
        claim_out = self._claim(text, fmt, sender, to, received_ms, store)
        cues = find_cues(norm) if cues is None else cues
        forced_type: str | None = None
        evidence: list[str] = []
        if fmt.status == "consistent":
            verdict, category, score = "genuine", "genuine", min(score, 0.02)
        elif fmt.status == "inconsistent":
            verdict, category, score = "scam", "scam", max(score, 0.98)
            forced_type = _type_of_imitation(fmt)
            evidence.extend(fmt.reasons)
        if fmt.notification is not None and fmt.sender == "phone":
            verdict = _max_verdict(verdict, "suspicious")
            evidence.append("looks like an operator notification but comes from a personal phone number: operators "
                            "send from sender IDs")
        if claim_out.status != "not_a_claim" and any(c.scam_type == "reversal" for c in cues) and verdict != "scam":
            # An operator's notice never asks for the money back: the fake-notice-then-"reverse it" scam.
            verdict, category, score, forced_type = "scam", "scam", max(score, m.scam_threshold), "reversal"
        if claim_out.status == "no_match":
            verdict, category, score, forced_type = "scam", "scam", max(score, 0.99), "reversal"
        elif (claim_out.status == "verified" and claim_out.sender_is_operator is not False and forced_type is None
              and fmt.status != "inconsistent"):
            verdict, category, score = "genuine", "genuine", min(score, 0.01)
        scam_type, reasons = self._explain(text, proba, fmt, cues, verdict, category, score, forced_type, evidence)
        reasons.extend(claim_out.reasons)
        result = SmsCheckResult(
            msg_id=msg_id or message_id(self.salt, text, sender, to, received_ms),
            verdict=verdict, category=category, score=round(score, 4),
            category_scores={c: round(float(p), 4) for c, p in zip(CATEGORIES, proba, strict=True)},
            scam_type=scam_type, reasons=reasons, notification=_notification_out(fmt), claim_check=claim_out,
            model_version=m.version,
        )
        if log.isEnabledFor(logging.INFO):
            log.info("sms checked hash=%s verdict=%s category=%s score=%.3f type=%s format=%s claim=%s",
                     text_hash(text, self.salt)[:12], verdict, category, score, scam_type,
                     fmt.status, claim_out.status)
        return result

    def _explain(self, text: str, proba: np.ndarray, fmt: FormatCheck, cues: list[Cue], verdict: Verdict,
                 category: Category, score: float, forced_type: str | None,
                 evidence: list[str]) -> tuple[str | None, list[str]]:
        """The scam type (None for a genuine message) and the reasons behind the verdict."""
        m = self.model
        reasons: list[str] = []
        scam_type: str | None = None
        if verdict != "genuine":
            scam_type = forced_type or scam_type_of(cues)
            reasons.extend(evidence)
            reasons.extend(dict.fromkeys(c.reason for c in cues))
            if proba[SCAM] >= m.suspicious_threshold:
                terms = [_term(t) for t in m.top_terms(normalize(redact(text)))]
                wording = f"wording resembles known scam messages (model score {proba[SCAM]:.2f}"
                reasons.append(wording + (f"; words: {', '.join(terms)})" if terms else ")"))
        elif fmt.status == "consistent" and fmt.notification is not None:
            n = fmt.notification
            reasons.append(f"matches the {n.operator_name} notification format ({n.kind}) and its fields are "
                           "consistent")
        else:
            reasons.append(f"wording resembles {'promotions' if category == 'promotion' else 'genuine messages'} "
                           f"(scam score {score:.2f})")
        return scam_type, reasons

    def _claim(self, text: str, fmt: FormatCheck, sender: str | None, to: str | None, received_ms: int | None,
               store: Any) -> ClaimCheckOut:
        claim = parse_claim(text, self.formats, self.settings.currency, fmt.notification)
        if claim is None:
            return ClaimCheckOut(status="not_a_claim")
        op: bool | None = None
        if sender:  # an operator's sender ID, from the settings or from the known operators' list
            op = bool(sender_is_operator(sender, self.settings.operator_sender_ids)) or fmt.sender == "operator"
        check = ClaimCheck(status="not_checked", claim=claim, sender_is_operator=op)
        if to and store is not None:
            check.status, check.matched_txn_id, found = check_claim(
                store, claim, to, received_ms if received_ms is not None else int(time.time() * 1000))
            check.reasons.extend(found)
        else:
            check.reasons.append("claim not checked against the ledger (no recipient account given)")
        return ClaimCheckOut(**check.to_dict())

    def redacted(self, text: str) -> tuple[str, str]:
        """(redacted text, salted text hash) for storage."""
        return redact(text), text_hash(text, self.salt)


def _type_of_imitation(fmt: FormatCheck) -> str:
    codes = {p.code for p in fmt.problems}
    if "secret_request" in codes:
        return "pin_phishing"
    if "lookalike_sender" in codes and fmt.notification is not None and fmt.notification.kind not in ("received",):
        return "impersonation"
    return "reversal"


def _notification_out(fmt: FormatCheck) -> NotificationOut | None:
    n = fmt.notification
    if n is None:
        return None
    return NotificationOut(**n.to_dict(), consistent=fmt.status == "consistent", problems=fmt.reasons)


def get_shield(settings: Settings) -> Shield:
    """A shield over the model in HOME, or the shipped one (:class:`ModelNotReadyError` when neither loads)."""
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
               result.verdict, float(result.score), result.category)
    check_row = (result.msg_id, now, result.model_version, json.dumps(result.reasons, ensure_ascii=False),
                 result.claim_check.status, result.claim_check.matched_txn_id)
    return sms_row, check_row


def record(store: Any, shield: Shield, result: SmsCheckResult, text: str, *, sender: str | None,
           to: str | None, received_ms: int | None) -> bool:
    """Save a checked message, redacted and hashed; idempotent on ``msg_id``."""
    from pesaguard.store.sms import save_checked_sms_many

    sms_row, check_row = stored_rows(shield, result, text, sender=sender, to=to, received_ms=received_ms)
    return save_checked_sms_many(store, [sms_row], [check_row]) > 0

"""The case summary's phrases in English and Swahili (:mod:`pesaguard.decisions.summary`).

Counts lead their noun ("Flagged transactions: 3"), so no phrase needs a plural form. Rule and
model reasons are quoted as the policy wrote them (English).
"""

from __future__ import annotations

_SYSTEM = ("You write case summaries for fraud analysts at a mobile-money operator. Rewrite the facts you are "
           "given as one short paragraph of at most five sentences in {language}. Use only those facts: copy "
           "every number, amount, date, account, rule name and SMS sender exactly as written, write numbers as "
           "digits, and add nothing else: no guesses, no advice, no new numbers.")

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "head": "Account {account}, case {case} ({state}; highest risk {risk}).",
        "open": "open",
        "resolved": "resolved as {}",
        "fraud": "fraud",
        "legitimate": "legitimate",
        "flagged": ("Flagged transactions: {n}, {window} UTC ({blocked} blocked, {review} sent to review), {total} in "
                    "all, the largest {largest}."),
        "window": "from {first} to {last}",
        "moment": "at {first}",
        "parties": "Counterparties: {list}{more}.",
        "party": "{name} ({n} flagged, {total})",
        "more": "; and {n} more",
        "rules": "Typology rules that fired: {list}.",
        "rule": '{rule}: "{reason}" (on {n} flagged)',
        "reasons": "Model reasons: {list}.",
        "reason": '"{text}" (on {n} flagged)',
        "history": "Transactions in the account's stored timeline: {n}.",
        "no_sms": "No SMS is stored for this account.",
        "sms": "SMS received by the account: {n}, flagged as scam or suspicious: {flagged}.",
        "sms_one": 'From {sender} at {at} UTC ({verdict}): "{text}"',
        "scam": "scam",
        "suspicious": "suspicious",
        "genuine": "genuine",
        "system": _SYSTEM.format(language="English"),
    },
    "sw": {
        "head": "Akaunti {account}, kesi {case} ({state}; hatari ya juu zaidi {risk}).",
        "open": "iko wazi",
        "resolved": "imefungwa kama {}",
        "fraud": "ulaghai",
        "legitimate": "halali",
        "flagged": ("Miamala iliyotiliwa shaka: {n}, {window} UTC ({blocked} imezuiwa, {review} inasubiri ukaguzi), "
                    "jumla {total}, mkubwa zaidi {largest}."),
        "window": "kuanzia {first} hadi {last}",
        "moment": "tarehe {first}",
        "parties": "Wahusika wengine: {list}{more}.",
        "party": "{name} (miamala {n} iliyotiliwa shaka, {total})",
        "more": "; na wengine {n}",
        "rules": "Kanuni za aina za ulaghai zilizotimia (sababu kwa Kiingereza): {list}.",
        "rule": '{rule}: "{reason}" (kwenye miamala {n})',
        "reasons": "Sababu za modeli (kwa Kiingereza): {list}.",
        "reason": '"{text}" (kwenye miamala {n})',
        "history": "Miamala katika historia ya akaunti iliyohifadhiwa: {n}.",
        "no_sms": "Hakuna SMS iliyohifadhiwa kwa akaunti hii.",
        "sms": "SMS zilizopokelewa na akaunti: {n}, zilizoalamishwa kama ulaghai au za kutiliwa shaka: {flagged}.",
        "sms_one": 'Kutoka {sender} tarehe {at} UTC ({verdict}): "{text}"',
        "scam": "ulaghai",
        "suspicious": "ya kutiliwa shaka",
        "genuine": "halali",
        "system": _SYSTEM.format(language="Swahili"),
    },
}

"""Transparent cue lists (English and Swahili) that name the kind of scam and explain a verdict.

Cues never make a verdict on their own (a genuine "nimefika kazini" contains "kazi"): they are features
of the text model (:func:`cue_vector`), which learns how much each one counts, and they give the scam
type and the human-readable reasons once a text has been flagged.
Each cue is a regex over the *normalised* text (case-folded, look-alikes mapped, placeholders in), and
may also need a second regex to match elsewhere in the text (the scam's shape: a job offer that asks
for a fee, not the word "salary"). Placeholders are matched as upper-case words (``<amount>`` is
``AMOUNT`` in both the pattern and the text searched), so ``\b`` works next to them: ``<`` and ``>``
are not word characters, and ``\b<amount>\b`` could never match.

>>> [c.reason for c in find_cues("nimekosea kutuma pesa, tafadhali nirudishie")]
['says money was sent to you by mistake', 'asks you to send money back (reversal)']
>>> scam_type_of(find_cues("congratulations! you have won <amount> in our promo"))
'prize'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pesaguard.sms.normalize import PLACEHOLDERS

SCAM_TYPES: tuple[str, ...] = ("reversal", "prize", "impersonation", "pin_phishing", "job_loan", "other")

@dataclass(frozen=True)
class Cue:
    scam_type: str
    pattern: re.Pattern[str]
    reason: str
    weight: float = 1.0
    needs: re.Pattern[str] | None = None  # must also match somewhere in the text

    @property
    def source(self) -> str:
        """The regex text of the cue (pattern and requirement), for versioning the model that uses it."""
        return self.pattern.pattern if self.needs is None else f"{self.pattern.pattern} & {self.needs.pattern}"

    def found_in(self, searched: str) -> bool:
        """Whether the cue fires on a text prepared by :func:`searchable`."""
        return self.pattern.search(searched) is not None and (self.needs is None or
                                                               self.needs.search(searched) is not None)


_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


def _as_word(m: re.Match[str]) -> str:
    return m.group()[1:-1].upper()


def searchable(norm: str) -> str:
    """The normalised text as cues search it: each placeholder an upper-case word (``<phone>`` -> ``PHONE``).

    >>> searchable("earn <amount> today")
    'earn AMOUNT today'
    """
    return _PLACEHOLDER_RE.sub(_as_word, norm) if "<" in norm else norm


def _cue(scam_type: str, pattern: str, reason: str, weight: float = 1.0, needs: str | None = None) -> Cue:
    return Cue(scam_type, re.compile(_PLACEHOLDER_RE.sub(_as_word, pattern)), reason, weight,
               None if needs is None else re.compile(_PLACEHOLDER_RE.sub(_as_word, needs)))


_SEND = r"(?:send|sent|transfer(?:red)?|tuma|tumia|tumiwa|nimetuma|nimekutumia|nimekutumia|ametuma)"
_SECRET = (r"(?:pin|otp|one[- ]time (?:password|code)|password|namba (?:yako )?ya siri|nambari (?:yako )?ya siri|nenosiri|nywila"
           r"|verification code|msimbo(?: wa siri)?|secret code|code ya siri|m-?pin)")
_ASK = (r"(?:send|share|give|tell|enter|confirm|verify|reply with|provide|update|tuma|nitumie|nipe|tupe"
        r"|ingiza|thibitisha|taja|weka|toa|tutumie|niambie)")
_OPERATOR = r"(?:safaricom|vodacom|m-?pesa|mpesa|airtel|tigo|halotel|mtn|momo|customer care|huduma kwa wateja)"

CUES: tuple[Cue, ...] = (
    # reversal or wrong number
    # "Sorry, wrong number" / "samahani, nimekosea namba" alone is a genuine reply: money must be in the sentence.
    _cue("reversal", r"\b(?:kimakosa|nimekosea kutuma|(?:tuma|tumia|tumiwa|pesa|hela|ela|sent|send|money)\b"
                     r".{0,30}\b(?:kwa makosa|kwa bahati mbaya|by mistake|wrongly|in error)"
                     r"|(?:sent|send|money|pesa|hela|doh|transfer\w*|<amount>)\b.{0,40}\bwrong (?:number|account|person|line)"
                     r"|nimekosea namba\b.{0,40}\b(?:pesa|hela|doh|<amount>|tuma|nirudishie|rudisha))\b",
         "says money was sent to you by mistake", 2.0),
    _cue("reversal", r"\b(?:rudisha|nirudishie|nirejeshee|rejesha|kurudisha|irudishe|urudishe|yarudishe"
                     r"|send (?:it|them|the money|my money)? ?back|return (?:it|the money|my money)|refund me"
                     r"|reverse (?:it|the|my)|reversal)\b",
         "asks you to send money back (reversal)", 2.0),
    _cue("reversal", r"\b(?:umetumiwa|umepokea|you have received|you've received)\b.*\b(?:mistake|makosa|kimakosa"
                     r"|rudisha|back)\b",
         "pairs a money-received notice with a request to return it", 1.0),
    # prize or lottery
    _cue("prize", r"\b(?:umeshinda|umejishindia|imejishindia|imeshinda|umechaguliwa|ameshinda|bahati nasibu|droo"
                  r"|(?:umepata|kupata|kupokea|kushinda|kuchukua|kudai) zawadi|zawadi (?:ya|yako) (?:sh|<amount>|pesa|fedha)"
                  r"|you (?:have |'ve )?won|(?:has|have) won|winner|won (?:a|an|the)|prize|lottery|jackpot|lucky draw"
                  r"|(?:number|line) (?:has |was )?(?:won|picked|selected)|imeshinda|umeshinda|umejishindia"
                  r"|claim your|cash award|you have been selected|promo(?:tion)? (?:winner|draw))\b",
         "announces a prize, lottery or winnings", 2.0),
    # staff or agent impersonation
    _cue("impersonation", rf"\b(?:mimi ni|i am|i'm|this is|it is|we are|ni)\b.{{0,25}}\b(?:wakala|agent|staff"
                          rf"|mfanyakazi|from {_OPERATOR}|wa {_OPERATOR}|{_OPERATOR})\b",
         "claims to be operator staff or an agent", 2.0),
    _cue("impersonation", rf"\b{_OPERATOR}\b.{{0,30}}\b(?:staff|team|office|ofisi|department|idara|security"
                          rf"|usalama|care)\b",
         "uses an operator's name to sound official", 1.0),
    _cue("impersonation", r"\b(?:mwenye nyumba|landlord|namba yangu mpya|namba mpya|new number|my new line"
                          r"|laini (?:yangu )?mpya|nimeazima simu|borrowed (?:a )?phone|hii (?:ni )?namba yangu (?:mpya|ya)"
                          r"|changed my (?:number|line)|nimebadilisha namba)\b",
         "says the sender is someone you know writing from a new number", 1.5),
    _cue("impersonation", r"\b(?:account|akaunti|line|laini|sim(?:card)?)\b.{0,30}\b(?:blocked|suspended|closed"
                          r"|deactivated|itafungwa|imefungwa|imesimamishwa|itazimwa|will be (?:blocked|closed))\b",
         "threatens to block your account or line", 1.5),
    # PIN or OTP phishing
    _cue("pin_phishing", rf"\b{_ASK}\b.{{0,30}}\b{_SECRET}\b|\b{_SECRET}\b.{{0,20}}\b(?:yako|your)\b.{{0,20}}"
                         rf"\b(?:tuma|nitumie|send|reply|share|tupe|nipe)\b",
         "asks for your PIN, password or one-time code", 4.0),
    _cue("pin_phishing", r"\b(?:click|bofya|fungua|open|tap|visit|login|log in|ingia)\b.{0,30}<url>",
         "asks you to open a link", 1.0),
    # fake job or loan
    _cue("job_loan", r"\b(?:mkopo|mikopo|loan|loans|credit limit|fuliza limit|okoa jahazi|mtaji|capital"
                     r"|utapewa mtaji|boost your limit)\b",
         "offers a loan or capital", 1.5),
    # A salary-credit notice names the salary too: the scam is the offer together with a fee or payment asked.
    _cue("job_loan", r"\b(?:ajira|job|jobs|vacancy|vacancies|employment|recruit\w*|hiring|nafasi za kazi"
                     r"|kazi (?:ya|za) (?:mshahara|kulipwa)|salary|mshahara|your cv|cv has passed|earn <amount>)\b",
         "offers a job or pay and asks for a fee or registration", 1.5,
         needs=r"\b(?:fee|fees|ada|registration|register|usajili|jisajili|kujisajili|activation)\b"
               r"|\b(?:pay|lipa|tuma|send|deposit)\b.{0,30}<amount>|<amount>.{0,20}\b(?:ya|for|kwa) (?:fomu|form)\b"),
    _cue("job_loan", r"\b(?:processing fee|registration fee|application fee|ada ya (?:usajili|maombi|fomu|mkopo)"
                     r"|lipa ada|pay a fee|clearance fee|gharama za usajili)\b",
         "asks for an upfront fee", 2.0),
    # other scam signals
    _cue("other", r"\b(?:tiba asili|freemason|friimason|mganga|utajiri|nyota|pete ya|majini|jiunge na(?:matajiri"
                  r"| matajiri)|illuminati)\b",
         "promises riches or magic (witch-doctor or secret-society scam)", 1.5),
    _cue("other", r"\b(?:itume|tuma|nitumie|unitumie|utanitumia|tumia namba hii|kutuma)\b.{0,60}(?:<phone>|namba hii)"
                  r"|\bjina (?:litakuja|lije|litoke|litaonyesha|italeta)\b|\bname (?:will|should) (?:show|appear|come)"
                  r"|\bsend (?:it|the money|money) to (?:this|my new|my other) (?:number|line)",
         "asks you to send money to a number or name you may not know", 2.0),
    _cue("other", r"\b(?:unixaidie|nisaidie|unisaidie|nitakurefund|nitakurudishia|nikopeshe|lend me|help me with"
                  r" <amount>|nakuomba (?:unisaidie|unitumie))\b",
         "asks you for money as a favour", 1.0),
    _cue("other", r"\b(?:haraka|urgent(?:ly)?|immediately|sasa hivi|within 24 ?(?:hours|hrs)|leo tu|act now"
                  r"|expires? (?:today|soon))\b",
         "creates urgency", 0.5),
)

_NEGATED_SECRET = re.compile(
    rf"\b(?:never|do not|don't|usi\w*|hatutakuomba|hatuwezi kukuomba|we will not)\b.{{0,30}}\b{_SECRET}\b"
)


def find_cues(norm: str) -> list[Cue]:
    """The cues a normalised text contains, in list order, one per reason."""
    searched = searchable(norm)
    hits = [c for c in CUES if c.found_in(searched)]
    if _NEGATED_SECRET.search(searched):  # "never share your PIN" is advice, not phishing
        hits = [c for c in hits if c.reason != "asks for your PIN, password or one-time code"]
    return hits


def cue_vector(norm: str) -> np.ndarray:
    """1.0 for each cue of :data:`CUES` (in order) the normalised text contains, else 0.0 (model features)."""
    return cue_vector_of(find_cues(norm))


def cue_vector_of(found: list[Cue]) -> np.ndarray:
    """:func:`cue_vector` from cues already found."""
    present = set(map(id, found))
    return np.array([1.0 if id(c) in present else 0.0 for c in CUES])


def scam_type_of(cues: list[Cue]) -> str:
    """The type with the heaviest cues; ``other`` when no typed cue fired."""
    totals: dict[str, float] = {}
    for c in cues:
        if c.scam_type != "other":
            totals[c.scam_type] = totals.get(c.scam_type, 0.0) + c.weight
    if not totals:
        return "other"
    return max(SCAM_TYPES, key=lambda t: (totals.get(t, 0.0), -SCAM_TYPES.index(t)))

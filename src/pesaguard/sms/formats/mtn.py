"""MTN Mobile Money (MoMo) notifications: Uganda, Rwanda, Ghana, Zambia (English), Rwanda (Kinyarwanda)
and Cameroon (French).

Written from MTN's public descriptions of its MoMo messages: "You have received / sent / withdrawn /
bought ...", the other party with its number in brackets, the date as ``YYYY-MM-DD HH:MM[:SS]`` (or
the local day-first form), the fee and tax, the new balance, and a numeric "Financial Transaction
Id" / "Trans ID" / "FT Id". Uganda also sends the "Dial *165# ... My Approvals" prompt for a payment
a merchant requested. In patterns a space means optional whitespace and ``~`` any run of separators.
"""

from __future__ import annotations

from pesaguard.sms.formats.spec import NotificationFormat, Operator, op_formats

_NUMERIC_ID = (r"\d{8,14}",)
MTN_UG = Operator("mtn_ug", "MTN MoMo Uganda", "UG", "UGX", _NUMERIC_ID,
                  senders=("MTN", "MTNMoMo", "MTN MoMo", "MobileMoney", "MoMo", "MTNUganda", "165"),
                  domains=("mtn.co.ug", "mtn.com", "momo.mtn.com"))
MTN_RW = Operator("mtn_rw", "MTN MoMo Rwanda", "RW", "RWF", _NUMERIC_ID,
                  senders=("MTN", "MoMo", "M-Money", "MTN MoMo", "MobileMoney"),
                  domains=("mtn.co.rw", "mtn.com"), utc_offset_hours=2.0)
MTN_GH = Operator("mtn_gh", "MTN MoMo Ghana", "GH", "GHS", _NUMERIC_ID,
                  senders=("MobileMoney", "MTN", "MTN MoMo", "MoMo"), domains=("mtn.com.gh", "mtn.com"),
                  utc_offset_hours=0.0)
MTN_ZM = Operator("mtn_zm", "MTN MoMo Zambia", "ZM", "ZMW", _NUMERIC_ID,
                  senders=("MTN", "MoMo", "MTN MoMo", "MobileMoney"), domains=("mtn.zm", "mtn.com"),
                  utc_offset_hours=2.0)
MTN_CM = Operator("mtn_cm", "MTN MoMo Cameroun", "CM", "XAF", _NUMERIC_ID,
                  senders=("MTN", "MoMo", "MTN MoMo", "MobileMoney"), domains=("mtn.cm", "mtn.com"),
                  utc_offset_hours=1.0)

_YELLO = r"(?:Y'?ello[.!,]? ?)?"
_PARTY = r"{cp} ?[(,]? ?(?:{phone})? ?\)?"
_AT = r"(?:on|at) {date},? {time}"
_REASON = r"(?:(?:Message from sender|Message|Reason|Ref(?:erence)?|Note) ?:? ?[^.]{0,80}~ ?)?"
_FEES = r"(?:Fee(?: was| charged| is)? ?:? ?{fee}~ ?)?(?:(?:Tax|E-?Levy|Levy)(?: was| is)? ?:? ?{tax}~ ?)?"
_NEWBAL = r"(?:Your )?(?:new |current |available )?(?:balance|Bal)(?: is)? ?:? ?{bal}"
_TID = r"(?:~ ?(?:Financial |External )?(?:Trans(?:action)?\.? ?(?:ID|Id)|TID|FT ?Id|Txn ?Id) ?:? ?{id})?"

#: The English shapes every MTN country uses.
_EN = [
    ("received", _YELLO + r"You have received {amt} from " + _PARTY + r" ?(?:on your mobile money account )?(?:" + _AT
     + r")?~ ?" + _REASON + _NEWBAL + r"(?:~ ?Fee was {fee})?" + _TID),
    ("sent", _YELLO + r"You have (?:sent|transferred) {amt} to " + _PARTY + r" ?(?:" + _AT + r")?~ ?" + _REASON + _FEES
     + _NEWBAL + _TID),
    ("withdrawn", _YELLO + r"You have withdrawn {amt} (?:from|at|with) (?:agent )?{cp}? ?\(?(?:Agent ID ?:? ?{agent})?\)?~ ?"
     + r"(?:" + _AT + r"~ ?)?" + _FEES + _NEWBAL + _TID),
    ("airtime", _YELLO + r"You have bought {amt} (?:of )?airtime(?: for {phone})?~ ?(?:" + _AT + r"~ ?)?" + _FEES
     + _NEWBAL + _TID),
    ("airtime", _YELLO + r"You have bought airtime (?:worth |of )?{amt}(?: for {phone})?~ ?(?:" + _AT + r"~ ?)?" + _FEES
     + _NEWBAL + _TID),
    ("bundle", _YELLO + r"You have (?:bought|purchased) (?:a |an )?[^.]{0,40}?bundle[^.]{0,40}? (?:at|for|worth) {amt}~ ?"
     + r"(?:" + _AT + r"~ ?)?" + _NEWBAL + _TID),
    ("payment", _YELLO + r"You have paid {amt} to {cp}(?: for (?:account|acc|ref(?:erence)?|meter) ?:? ?{acct})?~ ?"
     + r"(?:" + _AT + r"~ ?)?" + _REASON + _FEES + _NEWBAL + _TID),
]
#: Uganda's own: agent deposits, bills and the approval prompt.
_UG = [
    ("deposit", r"Cash deposit of {amt} (?:with|from|at) Agent(?: ID)? ?:? ?{agent} ?\(?(?:{cp})?\)?~ ?(?:" + _AT
     + r"~ ?)?(?:was )?(?:successful~ ?)?" + _NEWBAL + _TID),
    ("bill", r"(?:Your )?Payment of {amt} to {cp} for (?:account|acc|meter|ref(?:erence)?) (?:no\.? )?:? ?{acct} "
     r"(?:was|is|has been) (?:successful|completed)~ ?(?:" + _AT + r"~ ?)?" + _FEES + _NEWBAL + _TID),
    ("approval", r"Dial \*165# and select My Approvals to (?:allow|approve|confirm) (?:the )?payment of {amt} to {cp}"
     r"(?:\.(?:\s|$)|$| Request| within| expires)"),
]
_RW_EN = [
    ("sent", r"(?:\*16[45]\*S\*)?{amt} (?:transferred|sent) to " + _PARTY + r" ?" + _AT + r"~ ?" + _REASON + _FEES
     + r"(?:New |Your new )?balance ?:? ?{bal}(?:~ ?Fee was ?:? ?{fee2})?" + _TID),
    ("payment", r"(?:\*16[45]\*S\*)?Your payment of {amt} to {cp} (?:has been completed|was successful) ?(?:" + _AT
     + r")?~ ?" + _REASON + _FEES + r"(?:New |Your new )?balance ?:? ?{bal}(?:~ ?Fee was ?:? ?{fee2})?" + _TID),
]
# Kinyarwanda: "wakiriye" you received, "wohereje" you sent, "wabikuje" you withdrew, "amafaranga
# asigaye" the balance left, "ikiguzi" the fee, "nimero y'igikorwa" the transaction number.
_RW_RW = [
    ("received", r"Wakiriye {amt} (?:uvuye|kuva) (?:kuri )?" + _PARTY + r" ?(?:ku (?:wa )?|kuwa )?{date},? {time}~ ?"
     r"(?:Ubutumwa ?:? ?[^.]{0,80}?~ ?)?(?:Amafaranga )?(?:asigaye|Asigaye kuri konti)(?: ni)? ?:? ?{bal}"
     r"(?:~ ?(?:Nimero y'igikorwa|FT ?Id|Transaction Id) ?:? ?{id})?"),
    ("sent", r"Wohereje {amt} (?:kuri|ku) " + _PARTY + r" ?(?:ku (?:wa )?|kuwa )?{date},? {time}~ ?"
     r"(?:(?:Amafaranga y'i)?[Ii]kiguzi ?:? ?{fee}~ ?)?(?:Amafaranga )?(?:asigaye|Asigaye kuri konti)(?: ni)? ?:? ?{bal}"
     r"(?:~ ?(?:Nimero y'igikorwa|FT ?Id|Transaction Id) ?:? ?{id})?"),
    ("withdrawn", r"Wabikuje {amt} (?:ku|kuri) (?:mukozi|agent) {cp} ?(?:ku (?:wa )?|kuwa )?{date},? {time}~ ?"
     r"(?:(?:Amafaranga y'i)?[Ii]kiguzi ?:? ?{fee}~ ?)?(?:Amafaranga )?(?:asigaye|Asigaye kuri konti)(?: ni)? ?:? ?{bal}"
     r"(?:~ ?(?:Nimero y'igikorwa|FT ?Id|Transaction Id) ?:? ?{id})?"),
]
_GH = [
    ("received", r"Payment received for {amt} from {cp}~ ?Current Balance ?:? ?{bal}~ ?(?:Available Balance ?:? ?{limit}~ ?)?"
     + _REASON + r"(?:Transaction ID ?:? ?{id})?(?:~ ?(?:TRANSACTION )?FEE ?:? ?{fee})?"),
    ("sent", r"Your payment of {amt} to {cp} has been completed ?(?:" + _AT + r")?~ ?" + _REASON + _NEWBAL + r"~ ?"
     r"(?:Fee was ?:? ?{fee}~ ?)?(?:(?:Tax|E-?levy) was ?:? ?{tax}~ ?)?" + _TID),
    ("withdrawn", r"Cash Out made for {amt} to {cp}~ ?Current Balance ?:? ?{bal}~ ?(?:Available Balance ?:? ?{limit}~ ?)?"
     r"(?:Financial )?(?:Transaction ID ?:? ?{id})?(?:~ ?Fee charged ?:? ?{fee})?"),
    ("deposit", r"Cash In received for {amt} from {cp}~ ?Current Balance ?:? ?{bal}"),
]
_CM_ID = r"(?:~ ?(?:ID de (?:la )?transaction|ID transaction|Transaction Id|Id de transaction financi[eè]re) ?:? ?{id})?"
_CM_BAL = r"(?:Votre )?(?:nouveau )?solde(?: est(?: de)?| actuel)? ?:? ?{bal}"
_CM_FEE = r"(?:Frais ?:? ?{fee}~ ?)?(?:(?:Taxe|TVA) ?:? ?{tax}~ ?)?"
_CM = [
    ("received", r"Vous avez re[çc]u {amt} (?:de|du) " + _PARTY + r" ?(?:le|à|a) {date},? (?:à )?{time}~ ?"
     r"(?:(?:Message de l'exp[ée]diteur|Motif|Message) ?:? ?[^.]{0,80}?~ ?)?" + _CM_BAL + _CM_ID),
    ("sent", r"Vous avez (?:transf[ée]r[ée]|envoy[ée]) {amt} (?:à|a) " + _PARTY + r" ?(?:le|à|a) {date},? (?:à )?{time}~ ?"
     + _CM_FEE + _CM_BAL + _CM_ID),
    ("withdrawn", r"(?:Votre )?[Rr]etrait de {amt} (?:effectu[ée]|r[ée]ussi)(?: aupr[eè]s de| chez| avec)? ?(?:{cp})? ?"
     r"(?:le {date},? (?:à )?{time})?~ ?" + _CM_FEE + _CM_BAL + _CM_ID),
    ("payment", r"(?:Votre )?[Pp]aiement de {amt} (?:à|a) {cp} (?:a [ée]t[ée] |est )?(?:effectu[ée]|r[ée]ussi)~ ?"
     r"(?:le {date},? (?:à )?{time}~ ?)?" + _CM_FEE + _CM_BAL + _CM_ID),
    ("deposit", r"(?:Vous avez re[çc]u un )?[Dd][ée]p[ôo]t de {amt} (?:de|par|aupr[eè]s de) {cp}~ ?(?:le {date},? (?:à )?{time}~ ?)?"
     + _CM_BAL + _CM_ID),
]

FORMATS: list[NotificationFormat] = [
    *op_formats(MTN_UG, "en", _UG + _EN), *op_formats(MTN_RW, "en", _RW_EN + _EN), *op_formats(MTN_RW, "rw", _RW_RW),
    *op_formats(MTN_GH, "en", _GH + _EN), *op_formats(MTN_ZM, "en", _EN), *op_formats(MTN_CM, "fr", _CM),
]
OPERATORS = (MTN_UG, MTN_RW, MTN_GH, MTN_ZM, MTN_CM)

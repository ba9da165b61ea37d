"""M-Pesa notifications: Safaricom (Kenya) and Vodacom (Tanzania), English and Swahili.

Written from the operators' public descriptions of their confirmation messages: a 10-character
upper-case transaction id first, then "Confirmed" / "Imethibitishwa", the amount, the other party,
the local date and time, the new balance, and for outgoing money the transaction cost (Tanzania also
prints the government levy). Promotional tails after the balance vary and are not part of a format.
In patterns a space means optional whitespace and ``~`` any run of separators (``.,;:-`` and spaces).
"""

from __future__ import annotations

from pesaguard.sms.formats.spec import NotificationFormat, Operator, op_formats

MPESA_KE = Operator(
    "mpesa_ke", "M-Pesa Kenya", "KE", "KES",
    id_shapes=(r"(?=[A-Z0-9]*\d)[A-Z][A-Z0-9]{9}", r"(?=[A-Z0-9]*\d)[A-Z][A-Z0-9]{8}"),
    senders=("MPESA", "M-PESA", "Safaricom", "SAFARICOM", "Fuliza", "M-Shwari", "MSHWARI"),
    official_numbers=("0722000000", "0722002222", "0722002100"),
    domains=("safaricom.co.ke", "safaricom.com", "m-pesa.com"),
    daily_limit_minor=500_000 * 100,
)
MPESA_TZ = Operator(
    "mpesa_tz", "M-Pesa Tanzania", "TZ", "TZS",
    id_shapes=(r"(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,12}",),
    senders=("M-PESA", "MPESA", "Vodacom", "VODACOM", "M-Pesa"),
    official_numbers=("0754100100",),
    domains=("vodacom.co.tz",),
)

_BAL_KE = r"New M-?PESA balance is {bal}"
_COST_KE = r"(?:~ ?Transaction cost,? {fee})?(?:~ ?Amount you can transact within the day is {num})?"
_BAL_SW = r"Salio (?:lako )?(?:jipya )?(?:la |kwenye )?(?:M-?PESA )?(?:ni |lako ni )?{bal}"
_WHEN_EN = r"on {date} at {time}"
_WHEN_SW = r"(?:mnamo|tarehe|siku) {date} (?:saa|at) {time}"

_KE_EN = [
    ("received", r"{id} ~Confirmed~ ?You have received {amt} from {cp}(?: {phone})? ~" + _WHEN_EN
     + r"~ ?" + _BAL_KE),
    ("bill", r"{id} ~Confirmed~ ?{amt} sent to {cp} for account {acct} ~" + _WHEN_EN + r"~ ?" + _BAL_KE + _COST_KE),
    ("sent", r"{id} ~Confirmed~ ?{amt} sent to {cp}(?: {phone})? ~" + _WHEN_EN + r"~ ?" + _BAL_KE + _COST_KE),
    ("payment", r"{id} ~Confirmed~ ?{amt} paid to {cp}~ ?" + _WHEN_EN + r"~ ?" + _BAL_KE + _COST_KE),
    ("withdrawn", r"{id} ~Confirmed~ ?on {date} at {time} ?Withdraw {amt} from {cp}~ ?" + _BAL_KE + _COST_KE),
    ("deposit", r"{id} ~Confirmed~ ?On {date} at {time} ?Give {amt} cash to {cp}~ ?" + _BAL_KE),
    ("airtime", r"{id} ~confirmed~ ?You bought {amt} of airtime(?: for {phone})? ~" + _WHEN_EN + r"~ ?" + _BAL_KE
     + _COST_KE),
    ("balance", r"{id} ~Confirmed~ ?Your (?:M-?PESA )?(?:account )?balance (?:was|is)~ ?(?:M-?PESA Account ?:? ?)?{bal}"),
    ("reversal", r"{id} ~Confirmed~ ?Transaction {acct} has been reversed~ ?Your account balance is now {bal}"),
    ("loan", r"{id} ~Confirmed~ ?Fuliza M-?PESA amount is {amt}~ ?(?:Access|Interest|Daily) (?:Fee|charge)s? charged {fee}"),
    ("loan", r"{id} ~Confirmed~ ?{amt} from your M-?PESA has been used to (?:fully|partially) pay your outstanding Fuliza"),
    ("savings", r"{id} ~Confirmed~ ?{amt} transferred to (?:your )?M-?Shwari (?:savings )?account ~" + _WHEN_EN
     + r"~ ?M-?PESA balance is {bal}"),
    ("savings", r"{id} ~Confirmed~ ?You have transferred {amt} from your M-?Shwari (?:savings )?account ~" + _WHEN_EN),
    ("received", r"{id} ~Confirmed~ ?on {date} at {time} ?{amt} received from {phone} {cp}~ ?New Account balance is {bal}"),
]
_KE_SW = [
    ("received", r"{id} ~Imethibitishwa~ ?Umepokea {amt} kutoka (?:kwa )?{cp}(?: {phone})? ~" + _WHEN_SW + r"~ ?" + _BAL_SW),
    ("bill", r"{id} ~Imethibitishwa~ ?{amt} (?:imetumwa|zimetumwa) kwa {cp} (?:kwa|ya) akaunti (?:nambari )?{acct} ~"
     + _WHEN_SW + r"~ ?" + _BAL_SW),
    ("sent", r"{id} ~Imethibitishwa~ ?{amt} (?:imetumwa|zimetumwa) kwa {cp}(?: {phone})? ~" + _WHEN_SW + r"~ ?"
     + _BAL_SW + r"(?:~ ?Gharama ya (?:kutuma|muamala) (?:ni )?{fee})?"),
    ("payment", r"{id} ~Imethibitishwa~ ?{amt} (?:imelipwa|zimelipwa) kwa {cp}~ ?" + _WHEN_SW + r"~ ?" + _BAL_SW),
    ("withdrawn", r"{id} ~Imethibitishwa~ ?(?:Mnamo|Tarehe) {date} saa {time} ?(?:Toa|Umetoa) {amt} kutoka (?:kwa )?{cp}~ ?"
     + _BAL_SW),
    ("airtime", r"{id} ~Imethibitishwa~ ?Umenunua {amt} (?:ya|za) (?:muda wa maongezi|airtime|salio)(?: kwa {phone})? ~"
     + _WHEN_SW + r"~ ?" + _BAL_SW),
]

_BAL_TZ_EN = r"New M-?Pesa balance is {bal}"
_LEVY_SW = (r"(?:~ ?(?:Ada|Gharama)(?: ya (?:huduma|muamala|kutuma))? (?:ni )?{fee})?"
            r"(?:~ ?(?:Tozo|Kodi)(?: ya serikali)? (?:ni )?{tax})?")
_LEVY_EN = r"(?:~ ?(?:Transaction cost|Fee|Charges),? {fee})?(?:~ ?(?:Government levy|Levy|Tax),? {tax})?"
_TZ_EN = [
    ("received", r"{id} ~Confirmed~ ?You have received {amt} from {phone} ?-? ?{cp} ~" + _WHEN_EN + r"~ ?" + _BAL_TZ_EN),
    ("received", r"{id} ~Confirmed~ ?You have received {amt} from {cp} ~" + _WHEN_EN + r"~ ?" + _BAL_TZ_EN),
    ("sent", r"{id} ~Confirmed~ ?{amt} sent to {cp}(?: {phone})? ~" + _WHEN_EN + r"~ ?" + _BAL_TZ_EN + _LEVY_EN),
    ("bill", r"{id} ~Confirmed~ ?{amt} sent to (?:business )?{cp} for account {acct} ~" + _WHEN_EN + r"~ ?" + _BAL_TZ_EN
     + _LEVY_EN),
    ("airtime", r"{id} ~confirmed~ ?You bought {amt} of airtime(?: for {phone})? ~" + _WHEN_EN + r"~ ?" + _BAL_TZ_EN),
    ("deposit", r"{id} ~Confirmed~ ?on {date} at {time} ?Give {amt} cash to {cp}~ ?" + _BAL_TZ_EN),
    ("withdrawn", r"{id} ~Confirmed~ ?on {date} at {time} ?Withdraw {amt} from {cp}~ ?" + _BAL_TZ_EN + _LEVY_EN),
    ("balance", r"{id} ~Confirmed~ ?Your M-?Pesa balance was {bal}"),
]
_BAL_TZ_SW = r"Salio (?:lako )?(?:jipya )?(?:la M-?Pesa )?(?:ni )?{bal}"
_TZ_SW = [
    ("received", r"{id} ~Imethibitishwa~ ?(?:Umepokea|Umetumiwa) {amt} kutoka (?:kwa )?{phone} ?-? ?{cp} ~"
     r"(?:(?:mnamo|tarehe|siku) )?{date} (?:saa )?{time}~ ?" + _BAL_TZ_SW),
    ("received", r"{id} ~Imethibitishwa~ ?(?:Umepokea|Umetumiwa) {amt} kutoka (?:kwa )?{cp} ~"
     r"(?:(?:mnamo|tarehe|siku) )?{date} (?:saa )?{time}~ ?" + _BAL_TZ_SW),
    ("sent", r"{id} ~Imethibitishwa~ ?{amt} (?:imetumwa|zimetumwa|imetumwa kwa) (?:kwa )?{cp}(?: {phone})? ~"
     r"(?:(?:mnamo|tarehe|siku) )?{date} (?:saa )?{time}~ ?" + _BAL_TZ_SW + _LEVY_SW),
    ("sent", r"{id} ~Imethibitishwa~ ?Umetuma {amt} kwa {cp}(?: {phone})? ~"
     r"(?:(?:mnamo|tarehe|siku) )?{date} (?:saa )?{time}~ ?" + _BAL_TZ_SW + _LEVY_SW),
    ("bill", r"{id} ~Imethibitishwa~ ?(?:Umelipa )?{amt} (?:imelipwa )?(?:kwa|kwenda) {cp} (?:kwa )?(?:akaunti|kumbukumbu)"
     r" (?:namba )?{acct} ~(?:(?:mnamo|tarehe|siku) )?{date} (?:saa )?{time}~ ?" + _BAL_TZ_SW + _LEVY_SW),
    ("withdrawn", r"{id} ~Imethibitishwa~ ?(?:Umetoa|Umepewa) {amt} (?:kutoka|kwa) (?:wakala )?{cp} ~"
     r"(?:(?:mnamo|tarehe|siku) )?{date} (?:saa )?{time}~ ?" + _BAL_TZ_SW + _LEVY_SW),
    ("deposit", r"{id} ~Imethibitishwa~ ?(?:Umeweka|Umepokea amana ya) {amt} (?:kutoka|kwa) (?:wakala )?{cp} ~"
     r"(?:(?:mnamo|tarehe|siku) )?{date} (?:saa )?{time}~ ?" + _BAL_TZ_SW),
    ("airtime", r"{id} ~Imethibitishwa~ ?Umenunua (?:salio la |muda wa maongezi wa )?{amt}(?: (?:ya|wa) (?:muda wa maongezi|salio))?"
     r"(?: kwa {phone})? ~(?:(?:mnamo|tarehe|siku) )?{date} (?:saa )?{time}~ ?" + _BAL_TZ_SW),
]

FORMATS: list[NotificationFormat] = [
    *op_formats(MPESA_KE, "en", _KE_EN), *op_formats(MPESA_KE, "sw", _KE_SW),
    *op_formats(MPESA_TZ, "en", _TZ_EN), *op_formats(MPESA_TZ, "sw", _TZ_SW),
]
OPERATORS = (MPESA_KE, MPESA_TZ)

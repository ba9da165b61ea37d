"""Tigo Pesa / Mixx by Yas and HaloPesa (Tanzania), and T-Kash (Telkom Kenya).

Written from the operators' public descriptions. Tigo Pesa (renamed Mixx by Yas) prints the new
balance first in its older English messages and a ``XX######.####.X#####`` id ("TxnId"); its Swahili
messages read "Umepokea ... kutoka kwa ... Salio jipya ... Muamala ...". HaloPesa uses Swahili with a
numeric reference ("Kumbukumbu"). T-Kash follows the Kenyan "ID Confirmed. You have received ..."
shape with "New T-Kash balance". In patterns a space means optional whitespace and ``~`` any run of
separators.
"""

from __future__ import annotations

from pesaguard.sms.formats.spec import NotificationFormat, Operator, op_formats

TIGO_TZ = Operator(
    "tigopesa_tz", "Tigo Pesa / Mixx by Yas", "TZ", "TZS",
    id_shapes=(r"[A-Z]{2}\d{6}\.\d{4}\.[A-Z]\d{5}", r"\d{8,14}", r"(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,14}"),
    senders=("TigoPesa", "Tigo Pesa", "TIGOPESA", "Tigo", "Mixx by Yas", "MixxByYas", "Mixx", "Yas"),
    domains=("tigo.co.tz", "yas.co.tz", "mixx.co.tz"),
)
HALOPESA_TZ = Operator(
    "halopesa_tz", "HaloPesa", "TZ", "TZS",
    id_shapes=(r"\d{8,14}", r"(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,14}"),
    senders=("HaloPesa", "HALOPESA", "Halotel", "HALOTEL"), domains=("halotel.co.tz",),
)
TKASH_KE = Operator(
    "tkash_ke", "T-Kash Kenya", "KE", "KES",
    id_shapes=(r"(?=[A-Z0-9]*\d)[A-Z][A-Z0-9]{7,11}",),
    senders=("T-Kash", "TKASH", "T-KASH", "Telkom", "TELKOM"), domains=("telkom.co.ke",),
)

_TXN = r"(?:with )?(?:TxnI[Dd]|Txn ?ID|Trans(?:action)? ?ID|Muamala(?: No\.?| namba)?|Kumbukumbu(?: No\.?| namba)?) ?:? ?"
_SW_BAL = r"Salio (?:lako )?(?:jipya )?(?:la (?:Tigo ?Pesa|Mixx) )?(?:ni )?{bal}"
_SW_FEES = r"(?:(?:Ada|Gharama|Makato)(?: ya muamala)? ?:? ?{fee}~ ?)?(?:(?:Tozo|Kodi)(?: ya serikali)? ?:? ?{tax}~ ?)?"
_PARTY = r"{cp}(?: ?[,(]? ?{phone} ?\)?)?"
_TIGO_EN = [
    ("received", r"New balance is {bal}~ ?You have received {amt} from " + _PARTY + r"~ ?(?:{date} {time}~ ?)?" + _TXN + r"{id}"),
    ("sent", r"New balance is {bal}~ ?Money sent successfully to " + _PARTY + r"~ ?Amount ?:? ?{amt}~ ?(?:Fee ?:? ?{fee}~ ?)?"
     r"(?:(?:Tax|Levy) ?:? ?{tax}~ ?)?" + _TXN + r"{id}"),
    ("airtime", r"New balance is {bal}~ ?Your recharge request is successful for amount {amt}~ ?" + _TXN + r"{id}"),
    ("deposit", r"New balance is {bal}~ ?Cash-?In of {amt} successful~ ?Agent {cp}~ ?" + _TXN + r"{id}"),
    ("withdrawn", r"New balance is {bal}~ ?Cash-?Out to {cp} was successful~ ?Amount {amt}~ ?(?:Charges {fee}~ ?)?"
     r"(?:(?:Tax|Levy) {tax}~ ?)?" + _TXN + r"{id}"),
    ("bill", r"Bill Transaction has been sent to {cp}~ ?Please wait for confirmation~ ?" + _TXN + r"{id}~ ?Bill Number ?:? ?"
     r"{acct}~ ?transaction amount ?:? ?{amt}~ ?new balance ?:? ?{bal}"),
]
_TIGO_SW = [
    ("received", r"(?:" + _TXN + r"{id}~ ?)?Umepokea {amt} kutoka (?:kwa )?" + _PARTY + r"~ ?(?:(?:tarehe )?{date} {time}~ ?)?"
     + _SW_BAL + r"(?:~ ?" + _TXN + r"{id2})?"),
    ("sent", r"(?:" + _TXN + r"{id}~ ?)?Umetuma {amt} kwa " + _PARTY + r"~ ?(?:(?:tarehe )?{date} {time}~ ?)?" + _SW_FEES
     + _SW_BAL + r"(?:~ ?" + _TXN + r"{id2})?"),
    ("withdrawn", r"(?:" + _TXN + r"{id}~ ?)?Umetoa {amt} (?:kwa|kutoka kwa) wakala {cp}~ ?" + _SW_FEES + _SW_BAL
     + r"(?:~ ?" + _TXN + r"{id2})?"),
    ("deposit", r"(?:" + _TXN + r"{id}~ ?)?Umeweka {amt} (?:kupitia|kwa) wakala {cp}~ ?" + _SW_BAL + r"(?:~ ?" + _TXN + r"{id2})?"),
    ("payment", r"(?:" + _TXN + r"{id}~ ?)?Umelipa {amt} kwa {cp}~ ?" + _SW_FEES + _SW_BAL + r"(?:~ ?" + _TXN + r"{id2})?"),
    ("airtime", r"(?:" + _TXN + r"{id}~ ?)?Umenunua (?:muda wa maongezi|salio|vifurushi) (?:wa |la |vya )?{amt}(?: kwa {phone})?~ ?"
     + _SW_BAL + r"(?:~ ?" + _TXN + r"{id2})?"),
]
_HALO_SW = [
    ("received", r"Umepokea {amt} kutoka (?:kwa )?" + _PARTY + r"~ ?" + r"Salio (?:lako )?(?:jipya )?(?:ni )?{bal}~ ?"
     + _TXN + r"{id}(?:~ ?Tarehe ?:? ?{date}(?: {time})?)?"),
    ("sent", r"Umetuma {amt} kwa " + _PARTY + r"~ ?" + _SW_FEES + r"Salio (?:lako )?(?:jipya )?(?:ni )?{bal}~ ?" + _TXN
     + r"{id}(?:~ ?Tarehe ?:? ?{date}(?: {time})?)?"),
    ("withdrawn", r"Umetoa {amt} kwa wakala {cp}~ ?" + _SW_FEES + r"Salio (?:lako )?(?:jipya )?(?:ni )?{bal}~ ?" + _TXN + r"{id}"),
    ("airtime", r"Umenunua (?:muda wa maongezi|salio|bando) (?:wa |la )?{amt}(?: kwa {phone})?~ ?Salio (?:lako )?(?:jipya )?"
     r"(?:ni )?{bal}~ ?" + _TXN + r"{id}"),
]
_TKASH_BAL = r"New T-?Kash balance is {bal}"
_TKASH_EN = [
    ("received", r"{id} ~Confirmed~ ?You have received {amt} from {cp}(?: {phone})? ~on {date} at {time}~ ?" + _TKASH_BAL),
    ("sent", r"{id} ~Confirmed~ ?{amt} sent to {cp}(?: {phone})? ~on {date} at {time}~ ?" + _TKASH_BAL
     + r"(?:~ ?Transaction cost,? ?:? ?{fee})?"),
    ("withdrawn", r"{id} ~Confirmed~ ?On {date} at {time} ?Withdraw {amt} from {cp}~ ?" + _TKASH_BAL
     + r"(?:~ ?Transaction cost,? ?:? ?{fee})?"),
    ("payment", r"{id} ~Confirmed~ ?{amt} paid to {cp}~ ?on {date} at {time}~ ?" + _TKASH_BAL
     + r"(?:~ ?Transaction cost,? ?:? ?{fee})?"),
    ("airtime", r"{id} ~Confirmed~ ?You bought {amt} of airtime(?: for {phone})? ~on {date} at {time}~ ?" + _TKASH_BAL),
]

FORMATS: list[NotificationFormat] = [
    *op_formats(TIGO_TZ, "en", _TIGO_EN), *op_formats(TIGO_TZ, "sw", _TIGO_SW),
    *op_formats(HALOPESA_TZ, "sw", _HALO_SW), *op_formats(TKASH_KE, "en", _TKASH_EN),
]
OPERATORS = (TIGO_TZ, HALOPESA_TZ, TKASH_KE)

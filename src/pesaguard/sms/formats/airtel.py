"""Airtel Money notifications: Kenya, Uganda, Tanzania, Zambia, Malawi and Rwanda.

Written from Airtel's public descriptions of its Airtel Money messages. Most countries share one
English shape ("Trans ID: ... You have received / sent ... Your (available) balance is ...", the id
first or last); Uganda also uses compact upper-case forms ("SENT. TID ... UGX ... to ... Fee ... Bal
..."), Tanzania Swahili ("Umepokea ... kutoka kwa ... Salio jipya ... Muamala ...") and Rwanda
Kinyarwanda. Ids are numeric (older), or ``XX######.####.X#####``. In patterns a space means
optional whitespace and ``~`` any run of separators.
"""

from __future__ import annotations

from pesaguard.sms.formats.spec import NotificationFormat, Operator, op_formats

_IDS = (r"\d{9,15}", r"[A-Z]{2}\d{6}\.\d{4}\.[A-Z]\d{5}", r"(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,14}")
_SENDERS = ("AirtelMoney", "Airtel Money", "AIRTELMONEY", "Airtel", "AIRTEL")


def _airtel(country: str, name: str, currency: str, tz: float = 3.0, domain: str = "") -> Operator:
    return Operator(f"airtel_{country.lower()}", f"Airtel Money {name}", country, currency, _IDS, _SENDERS,
                    domains=(domain, "airtel.africa") if domain else ("airtel.africa",), utc_offset_hours=tz)


AIRTEL_KE = _airtel("KE", "Kenya", "KES", domain="airtel.co.ke")
AIRTEL_UG = _airtel("UG", "Uganda", "UGX", domain="airtel.co.ug")
AIRTEL_TZ = _airtel("TZ", "Tanzania", "TZS", domain="airtel.co.tz")
AIRTEL_ZM = _airtel("ZM", "Zambia", "ZMW", 2.0, "airtel.co.zm")
AIRTEL_MW = _airtel("MW", "Malawi", "MWK", 2.0, "airtel.mw")
AIRTEL_RW = _airtel("RW", "Rwanda", "RWF", 2.0, "airtel.co.rw")

_TIDL = r"(?:Trans(?:action)?\.? ?ID|TID|Txn ?ID|Ref(?:erence)?)"
_LEAD = r"(?:" + _TIDL + r" ?:? ?{id}~ ?)?"
_TRAIL = r"(?:~ ?" + _TIDL + r" ?:? ?{id2})?"
_WHEN = r"(?: ?(?:on|at) {date}(?:,? (?:at )?{time})?)?"
_BAL = r"(?:Your )?(?:new |available |current )?(?:balance|bal\.?)(?: is)? ?:? ?{bal}"
_FEES = r"(?:(?:Fee|Charges?|Cost)(?: is| was)? ?:? ?{fee}~ ?)?(?:(?:Tax|Levy|Excise duty)(?: is| was)? ?:? ?{tax}~ ?)?"
_PARTY = r"{cp}(?: ?[,(]? ?{phone} ?\)?)?"
_PARTY_PHONE_FIRST = r"{phone} ?[-,]? ?{cp}"

_EN = [
    ("received", _LEAD + r"You have received {amt} from " + _PARTY + _WHEN + r"~ ?" + _BAL + _TRAIL),
    ("received", _LEAD + r"You have received {amt} from " + _PARTY_PHONE_FIRST + _WHEN + r"~ ?" + _BAL + _TRAIL),
    ("sent", _LEAD + r"You have sent {amt} to " + _PARTY + _WHEN + r"~ ?" + _FEES + _BAL + _TRAIL),
    ("sent", _LEAD + r"You have sent {amt} to " + _PARTY_PHONE_FIRST + _WHEN + r"~ ?" + _FEES + _BAL + _TRAIL),
    ("bill", _LEAD + r"You have (?:sent|paid) {amt} to {cp} (?:in reference to|for (?:account|acc|ref(?:erence)?)|ref) "
     r"?:? ?{acct}" + _WHEN + r"~ ?" + _FEES + _BAL + _TRAIL),
    ("payment", _LEAD + r"(?:Transaction successful, )?[Yy]ou have paid {amt} to {cp}" + _WHEN + r"~ ?" + _FEES + _BAL
     + _TRAIL),
    ("withdrawn", _LEAD + r"You have withdrawn {amt} (?:from|at|with) (?:agent )?{cp}" + _WHEN + r"~ ?" + _FEES + _BAL
     + _TRAIL),
    ("deposit", _LEAD + r"(?:You have (?:deposited|received a deposit of)|Cash (?:deposit|in) of) {amt} (?:from|at|with|by) "
     r"(?:agent )?{cp}" + _WHEN + r"~ ?" + _BAL + _TRAIL),
    ("airtime", _LEAD + r"You have (?:received|bought) Airtime of {amt} (?:from your OWN account|for {phone})" + _WHEN
     + r"(?:~ ?" + _BAL + r")?" + _TRAIL),
    ("airtime", _LEAD + r"You have bought (?:airtime of )?{amt}(?: of)? airtime(?: for {phone})?" + _WHEN + r"~ ?"
     + _BAL + _TRAIL),
]
_UG_COMPACT = [
    ("sent", r"SENT~ ?(?:TID|Trans(?:action)? ?ID) ?:? ?{id}~ ?{amt} to " + _PARTY + r"~ ?" + _FEES + _BAL
     + r"(?:~ ?(?:Date ?:? ?)?{date}(?: {time})?)?"),
    ("sent", r"SENT {amt} to " + _PARTY + r"~ ?" + _FEES + _BAL + r"~ ?(?:Trans(?:action)? ?ID|TID) ?:? ?{id}"),
    ("received", r"RECEIVED~ ?(?:TID|Trans(?:action)? ?ID) ?:? ?{id}~ ?{amt} from " + _PARTY + r"~ ?" + _BAL
     + r"(?:~ ?(?:Date ?:? ?)?{date}(?: {time})?)?"),
    ("received", r"RECEIVED {amt} from " + _PARTY + r"~ ?" + _BAL + r"~ ?(?:Trans(?:action)? ?ID|TID) ?:? ?{id}"),
    ("withdrawn", r"WITHDRAWN~ ?(?:TID|Trans(?:action)? ?ID) ?:? ?{id}~ ?{amt} (?:with|at|from) (?:Agent(?: ID)? ?:? ?)?"
     r"{agent}?~ ?(?:{cp}~ ?)?" + _FEES + _BAL),
    ("deposit", r"CASH DEPOSIT (?:of )?{amt} (?:from|by|at) (?:AGENT ?:? ?)?{cp}~ ?" + _BAL
     + r"(?:~ ?(?:TID|Trans(?:action)? ?ID) ?:? ?{id})?"),
    ("payment", r"PAID~ ?(?:TID|Trans(?:action)? ?ID) ?:? ?{id}~ ?{amt} to {cp}~ ?" + _FEES + _BAL),
    ("airtime", r"(?:AIRTIME|TOP ?UP)~ ?(?:TID|Trans(?:action)? ?ID) ?:? ?{id}~ ?{amt}(?: for {phone})?~ ?" + _BAL),
]
_TZ_SW_ID = r"(?:~ ?(?:Muamala|Kumbukumbu|TID|Trans ?ID)(?: No\.?| namba| ID)? ?:? ?{id2})?"
_TZ_SW_LEAD = r"(?:(?:Muamala|Kumbukumbu|TID|Trans ?ID)(?: No\.?| namba| ID)? ?:? ?{id}~ ?)?"
_TZ_SW_BAL = r"Salio (?:lako )?(?:jipya )?(?:ni )?{bal}"
_TZ_SW_FEES = r"(?:(?:Ada|Gharama|Makato)(?: ya muamala)? ?:? ?{fee}~ ?)?(?:(?:Tozo|Kodi)(?: ya serikali)? ?:? ?{tax}~ ?)?"
_TZ_SW = [
    ("received", _TZ_SW_LEAD + r"Umepokea {amt} kutoka (?:kwa )?" + _PARTY + r"(?: ?(?:tarehe )?{date}(?: {time})?)?~ ?"
     + _TZ_SW_BAL + _TZ_SW_ID),
    ("sent", _TZ_SW_LEAD + r"Umetuma {amt} kwa " + _PARTY + r"(?: ?(?:tarehe )?{date}(?: {time})?)?~ ?" + _TZ_SW_FEES
     + _TZ_SW_BAL + _TZ_SW_ID),
    ("withdrawn", _TZ_SW_LEAD + r"Umetoa {amt} (?:kwa|kutoka kwa) wakala {cp}~ ?" + _TZ_SW_FEES + _TZ_SW_BAL + _TZ_SW_ID),
    ("airtime", _TZ_SW_LEAD + r"Umenunua (?:muda wa maongezi|salio) (?:wa |la )?{amt}(?: kwa {phone})?~ ?" + _TZ_SW_BAL
     + _TZ_SW_ID),
    ("payment", _TZ_SW_LEAD + r"Umelipa {amt} kwa {cp}~ ?" + _TZ_SW_FEES + _TZ_SW_BAL + _TZ_SW_ID),
]
_RW_RW = [
    ("received", _LEAD + r"Wakiriye {amt} (?:uvuye|kuva) (?:kuri )?" + _PARTY + r"~ ?(?:Amafaranga )?(?:asigaye|Asigaye kuri konti)"
     r"(?: ni)? ?:? ?{bal}" + _TRAIL),
    ("sent", _LEAD + r"Wohereje {amt} (?:kuri|ku) " + _PARTY + r"~ ?(?:(?:Amafaranga y'i)?[Ii]kiguzi ?:? ?{fee}~ ?)?"
     r"(?:Amafaranga )?(?:asigaye|Asigaye kuri konti)(?: ni)? ?:? ?{bal}" + _TRAIL),
]

FORMATS: list[NotificationFormat] = [
    *op_formats(AIRTEL_UG, "en", _UG_COMPACT + _EN),
    *(f for op in (AIRTEL_KE, AIRTEL_TZ, AIRTEL_ZM, AIRTEL_MW, AIRTEL_RW) for f in op_formats(op, "en", _EN)),
    *op_formats(AIRTEL_TZ, "sw", _TZ_SW), *op_formats(AIRTEL_RW, "rw", _RW_RW),
]
OPERATORS = (AIRTEL_KE, AIRTEL_UG, AIRTEL_TZ, AIRTEL_ZM, AIRTEL_MW, AIRTEL_RW)

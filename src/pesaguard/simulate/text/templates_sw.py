"""Swahili SMS templates (written for pesaguard), with the Sheng and English mixing people use."""

from __future__ import annotations

NOTIFY: dict[str, tuple[str, ...]] = {
    "received": (
        "{code} Imethibitishwa. Umepokea {amt} kutoka kwa {cp} {cp_phone} tarehe {date} saa {time}. Salio lako jipya la {brand} ni {bal}.",
        "{code} Imethibitishwa. Umepokea {amt} kutoka kwa {cp} {cp_phone} tarehe {date} saa {time}. Salio jipya la {brand} ni {bal}. Lipa bili na ununue bidhaa kwa {brand} bila gharama ya ziada.",
    ),
    "received_bank": (
        "{code} Imethibitishwa. Umepokea {amt} kutoka kwa {cp} tarehe {date} saa {time}. Salio lako jipya la {brand} ni {bal}.",
    ),
    "sent": (
        "{code} Imethibitishwa. {amt} imetumwa kwa {cp} {cp_phone} tarehe {date} saa {time}. Salio jipya la {brand} ni {bal}. Gharama ya muamala ni {fee}. Kiasi unachoweza kutuma leo ni {limit}.",
    ),
    "paid": (
        "{code} Imethibitishwa. {amt} imelipwa kwa {cp} tarehe {date} saa {time}. Salio jipya la {brand} ni {bal}. Gharama ya muamala ni {fee}.",
    ),
    "bill": (
        "{code} Imethibitishwa. {amt} imetumwa kwa {cp} kwa akaunti {acct} tarehe {date} saa {time}. Salio jipya la {brand} ni {bal}. Gharama ya muamala ni {fee}.",
    ),
    "bank_out": (
        "{code} Imethibitishwa. {amt} imetumwa kwa {cp} kwa akaunti {acct} tarehe {date} saa {time}. Salio jipya la {brand} ni {bal}. Gharama ya muamala ni {fee}.",
    ),
    "withdraw": (
        "{code} Imethibitishwa. Tarehe {date} saa {time} umetoa {amt} kutoka kwa wakala {agent_no} - {cp}. Salio jipya la {brand} ni {bal}. Gharama ya muamala ni {fee}.",
    ),
    "deposit": (
        "{code} Imethibitishwa. Tarehe {date} saa {time} umeweka {amt} kwa wakala {agent_no} - {cp}. Salio jipya la {brand} ni {bal}.",
    ),
    "airtime": (
        "{code} Imethibitishwa. Umenunua muda wa maongezi wa {amt} tarehe {date} saa {time}. Salio jipya la {brand} ni {bal}. Gharama ya muamala ni {fee}.",
    ),
}

SERVICE: tuple[str, ...] = (
    "Mpendwa mteja, PIN yako ya {brand} imebadilishwa tarehe {date} saa {time}. Kama si wewe, piga {care} mara moja.",
    "{bank}: Nambari yako ya siri ya muda ni {otp}. Itaisha baada ya dakika 5. Usimpe mtu yeyote nambari hii.",
    "Kumbusho: malipo ya mkopo wako wa {bank} ya {amt} yanatakiwa tarehe {date}. Lipa kupitia paybill {paybill}, akaunti {acct}.",
    "Kifurushi chako cha data cha 1GB kitaisha kesho saa sita usiku. Piga *544# kununua kingine.",
    "Mpendwa mteja, huduma za {brand} hazitapatikana usiku wa leo kuanzia saa 5:45 hadi saa 6:30 kwa ajili ya matengenezo. Samahani kwa usumbufu.",
    "{operator} Zawadi: una pointi {points}. Zibadilishe kwa muda wa maongezi au data kwenye app.",
    "Salio lako la muda wa maongezi ni dogo. Jiunge na vifurushi kupitia *544#.",
    "{bank}: {amt} imewekwa kwenye akaunti yako inayoishia {last4} tarehe {date}. Asante kwa kuchagua benki yetu.",
    "{operator} haitakuuliza PIN yako kamwe. Ripoti jumbe za kutiliwa shaka kwa kuzituma kwa 333.",
)

PERSONAL: tuple[str, ...] = (
    "Niaje {first}, bado tunakutana {place} saa {hour}?",
    "Nimekutumia {amt} ya rent, niambie ukipata",
    "Tafadhali nitumie {amt} ya fare, nitakurudishia {day}",
    "Nipigie ukipata time",
    "Mama anakusalimia. Tumefika nyumbani salama",
    "Heri ya siku ya kuzaliwa {first}! Mungu akubariki",
    "Hii ndio namba yangu mpya, isave. Ni mimi {first}",
    "Nipigie kwa {phone}, laini yangu ingine imezima",
    "Ulipata ile {amt} nilikutumia jana?",
    "Niko kwa jam {place}, nitachelewa kidogo",
    "Ukikuja {day} ulete mtungi wa gas",
    "Mkutano wa chama ni {day} saa {hour}. Mchango ni {amt}, tuma kwa mweka hazina {phone}",
    "Asante sana kwa ile {amt}, Mungu akubariki",
    "Mkumbushe {first} alipe karo kabla ya {day}",
    "Fundi anataka {amt} ya kurekebisha bomba, nimlipe?",
    "Nichukue {place} saa {hour}",
    "Tuma picha kwa WhatsApp, bundle yangu ya sms imeisha",
    "Niko {place}, uko wapi?",
    "{item} inauzwa {amt}. Nikununulie?",
    "Usiku mwema {first}, lala salama",
    "Tafadhali lipa stima, token inaisha",
    "Utakuja harambee {day}? Kila mtu anachanga {amt}",
    "Mkutano umesongezwa hadi {day}. Waambie wengine",
    "Samahani sikushika simu, nilikuwa kanisani",
    "Simu yangu iliibiwa, ni mimi {first}. Tumia hii namba {phone} kuanzia sasa",
    "Daktari amesema ataruhusiwa {day}. Bili ya hospitali ni {amt}",
    "Nikopeshe {amt} hadi mwisho wa mwezi, nitakulipa mshahara ukiingia",
    "Sasa msee, mambo? Tukutane kesho kwa base",
    "Sawa",
    "Mwambie {first} nimemtumia {amt} ya shopping",
)

MISTAKEN: tuple[str, ...] = (
    "Habari, nimekutumia {amt} kimakosa, ilikuwa ya {relation} yangu. Tafadhali nirudishie kwa namba hii. Asante",
    "Samahani kwa usumbufu, nimetuma {amt} kwa namba yako bila kujua. Tafadhali nisaidie kurudisha, nitalipa gharama",
    "Mambo, nilikosea namba nikakutumia {amt}. Naomba urudishe ukipata nafasi. Mungu akubariki",
    "Habari ya mchana. Nimekosea kutuma {amt} kwako dakika chache zilizopita. Naomba unirudishie tafadhali",
)

SCAM: dict[str, tuple[str, ...]] = {
    "reversal_fake": (
        "{code} Imethibitishwa. Umepokea {amt} kutoka kwa {NAME} {phone} tarehe {date} saa {time}. Salio lako jipya la {brand} ni {bal}.",
        "{code} imethibitishwa.umepokea {amt} kutoka {NAME} {phone} tarehe {date} saa {time} salio jipya la {brand} ni {bal}",
        "{code} Confirmed. Umepokea {amt} kutoka kwa {NAME} {date} saa {time}. Salio jipya {bal}.",
        "Imethibitishwa {code}. Umepokea {amt} toka {NAME} {phone}. Salio lako ni {bal}.",
        "{code} Imethibitishwa. Umepokea {amt} kutoka kwa {NAME} {phone} mnamo {date} saa {time}.Salio jipya la {brand} ni {bal}.Lipa bili kwa {brand}.",
    ),
    "reversal_plea": (
        "Habari, nimekutumia {amt} kimakosa. Tafadhali nirudishie kwa {phone}, ni pesa ya karo. Mungu akubariki",
        "Ndugu yangu nimetuma {amt} kwa namba yako kimakosa, naomba urudishe haraka tafadhali",
        "Samahani, zile {amt} nimekutumia zilikuwa za {relation} yangu hospitalini. Naomba unirudishie, nakuomba sana",
        "Boss nimekutumia {amt} bila kujua. Rudisha kwa hii namba {phone} kabla nireport kwa {operator}",
        "Angalia {brand} yako, nimetuma {amt} kimakosa. Rudisha {amt} kwa {phone} ubaki na charges. Asante",
    ),
    "prize": (
        "Hongera! Namba yako imeshinda {prize} kwenye droo ya {promo} ya {operator}. Ili kupokea zawadi tuma ada ya usajili {fee} kwa {payto}. Piga {phone} kwa maelezo.",
        "{operator} {promo}: Wewe ni mshindi wa {prize} na {item}. Dai sasa kwa kulipa ada ya {fee} kupitia {payto}.",
        "Mpendwa mteja umechaguliwa kupokea {prize} kwenye droo ya {promo}. Tuma ada ya {fee} kwa {payto} kabla ya saa kumi na moja leo.",
        "HONGERA! laini yako imeshinda {prize}. Piga {phone} kudai zawadi. Kumbukumbu {code}",
        "Umeshinda {item} mpya kabisa! Ada ya kusafirisha ni {fee}. Lipa kwa {payto} na utume mahali ulipo kwa {phone}.",
        "Namba yako ya {brand} imeshinda {prize} kwenye jackpot ya wiki. Washa ushindi wako kwa kutuma {fee} kwa {payto}. Mwisho ni leo.",
    ),
    "job_loan": (
        "Pata mkopo wa hadi {loan} bila dhamana. Lipa ada ya usajili {fee} kwa {payto} upokee mkopo ndani ya dakika 10.",
        "NAFASI ZA KAZI: {company} inaajiri madereva, walinzi na wasafishaji. Mshahara {salary} kwa mwezi. Tuma ada ya maombi {fee} kwa {payto}. Piga {phone}.",
        "Mkopo wako wa {loan} umeidhinishwa! Ili kuupokea, lipa bima ya {fee} kwa {payto} ndani ya masaa 2.",
        "Haraka: vibarua wanahitajika Dubai na Qatar. Mshahara {salary}. Ada ya matibabu na visa ni {fee}. Wasiliana {phone}.",
        "Unahitaji doh haraka? Mkopo wa {loan} bila riba. Jisajili {link} kisha tuma {fee} kwa {payto} kuthibitisha akaunti.",
    ),
    "impersonation": (
        "Mpendwa mteja, akaunti yako ya {brand} itafungwa ndani ya masaa 24 kwa sababu ya usajili usiokamilika. Tuma {amt} kwa {phone} kuifungua upya.",
        "Huduma kwa wateja {operator}: tumeona hitilafu kwenye laini yako. Piga {phone} sasa usipoteze akaunti yako ya {brand}.",
        "Hii ni idara ya ulaghai ya {bank}. Akaunti yako imefungwa. Tuma kiasi cha uthibitisho {amt} kwa {phone} kuifungua.",
        "Habari {first}, napiga kutoka ofisi kuu ya {operator}. Usajili wa laini yako umeisha. Lipa {amt} ya kusajili upya kwa {payto}.",
        "Mpendwa mteja, taarifa ya {brand} yako inaonyesha matumizi yasiyoidhinishwa. Hamisha {amt} kwa akaunti salama {phone}.",
    ),
    "impersonation_agent": (
        "Habari, mimi ni wakala wa {brand} {place}. Nimeweka {amt} kwa namba yako kimakosa. Tafadhali rudisha kwa {phone}, laini ya wakala.",
        "Boss, hii ni duka la agent karibu na {place}. Nimekosea deposit ya {amt} kwako. Reverse kwa {phone} haraka tafadhali",
        "Wakala {agent_no}: amana ya {amt} iliwekwa kwa akaunti yako kimakosa. Irudishe kwa {phone} laini yako isifungwe.",
    ),
    "phishing": (
        "{operator}: Akaunti yako ya {brand} itasitishwa. Jibu na PIN yako na namba ya kitambulisho ili iendelee kufanya kazi.",
        "Mpendwa mteja, tunaboresha laini yako kuwa 5G. Utapokea nambari ya siri, itume kwa {phone} kukamilisha.",
        "Nambari yako ya siri ni {otp}. Wakala wa {operator} atakupigia kuithibitisha. Msomee ili laini yako isifungwe.",
        "Thibitisha akaunti yako ya {brand} sasa kwenye {link} isifungwe. Weka PIN yako kuthibitisha.",
        "{bank}: Kadi yako ya ATM imefungwa. Piga {phone} na utoe namba ya kadi na PIN kuifungua.",
    ),
    "other": (
        "Wekeza {amt} leo upate mara tatu ndani ya siku 7. Nafasi ni chache! Tuma kwa {payto} sasa.",
        "Daktari {name}, mganga maarufu. Anatibu mapenzi, bahati ya biashara na kesi mahakamani. Piga {phone}.",
        "Tunauza {item} mpya kwa {amt} tu, bei ya kufunga duka. Lipa kwa {payto} upelekewe leo.",
        "Biashara ya forex yenye faida ya asilimia 30 kila wiki. Jiunge na kundi letu: {link}",
        "Habari mpendwa, mimi ni {name}, nesi kutoka Uingereza. Nataka kukutumia zawadi. Lipa ada ya forodha {amt} kwa {payto}.",
    ),
}

WORDS: dict[str, tuple[str, ...]] = {
    "day": ("Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi", "Jumapili", "kesho", "wiki ijayo"),
    "hour": ("saa mbili", "saa nne", "saa saba", "saa nane unusu", "saa kumi", "saa kumi na moja", "saa sita", "lunch"),
    "relation": ("dada", "kaka", "mama", "baba", "bibi", "mzee", "binamu", "landlord", "mtoto"),
    "item": ("TV", "simu ya smartphone", "laptop", "friji", "sofa", "pikipiki", "jiko la gas", "tanki la maji"),
    "promo": ("Shinda Mamilioni", "Mega Jackpot", "Bonanza ya Mwaka", "Namba ya Bahati", "Shukrani kwa Wateja"),
    "company": ("Tusker Logistics", "Kenya Ports Services", "Savanna Security Ltd", "Pwani Hotels", "Mashamba Bora Ltd"),
    "payto": ("till namba {till}", "Till No. {till}", "lipa na till {till}"),
}

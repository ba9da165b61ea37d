"""Promotion and subscription templates: bulk marketing that is not fraud (written for pesaguard).

Operator and shop offers, adverts of licensed betting firms and lenders, subscription content (daily
verses and quotes, news, ringback tunes, "reply STOP"), events and insurance. What separates them
from scams: they name a USSD code, short code, app or shop, never a personal number to pay, and
never ask for a fee to release a prize. Family ``a`` trains; family ``b`` (different wording,
products and brands of the same kinds) is held out for evaluation.
"""

from __future__ import annotations

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "a": {
        "en": (
            "{brand}: Get {gb} data valid 24hrs at {cur} {price}. Dial {ussd} to buy now.",
            "Enjoy {pct}% bonus on every airtime top up above {cur} {price} this weekend. Offer ends Sunday. T&Cs apply.",
            "Dear customer, you have {points} Bonga Points. Redeem them for data, minutes or SMS on {ussd}.",
            "{shop}: Back to school offer! Get {pct}% off school shoes and bags this week at our {town} branch.",
            "{shop} wishes you a happy holiday! Enjoy discounts on selected items until Monday. Terms apply.",
            "Bet on today's matches with {betco}! 100% bonus on your first deposit. Paybill {paybill}. 18+ Bet responsibly. SMS STOP to {shortcode}",
            "{betco} Mega Jackpot this weekend is {big}! Place your bet via {ussd}. 18+ only. T&Cs apply.",
            "Need cash? Borrow up to {loan} on the {lender} app and repay in 30 days. T&Cs apply. Reply STOP to opt out.",
            "Daily Verse: \"{verse}\" ({ref}). Have a blessed day. To unsubscribe reply STOP.",
            "Quote of the day: {quote}. SMS STOP to {shortcode} to unsubscribe. {cur} 5/sms.",
            "Caller Tunes: set \"{song}\" by {artist} as your caller tune at {cur} {price}/week. Dial {ussd} or reply 1.",
            "Stay informed! Get breaking news on your phone for {cur} {price} a day. Reply YES to subscribe.",
            "Join us for the {church} crusade this Sunday at {town} grounds from 2pm. All are welcome. Admission free.",
            "{insurer}: protect your family with funeral cover from {cur} {price} a week. Dial {ussd} to join.",
            "Stand a chance to win {big} in the {brand} {promo}! Buy any bundle to enter. T&Cs apply. SMS STOP to {shortcode}.",
            "Y'ello! Buy {gb} for {cur} {price} on {ussd} and browse all day. Valid 24 hours.",
            "{brand}: Call any network for {mins} minutes at {cur} {price}. Dial {ussd}. Offer valid today only.",
            "Your {lender} loan limit has been increased to {loan}. Apply anytime on the app. To opt out SMS STOP to {shortcode}.",
            "Hi {first}, {shop} is giving double loyalty points this weekend. Show this SMS at the till.",
            "Save with {insurer} and earn {pct}% interest per year. Visit {site} or dial {ussd}.",
            "Get the {brand} app and enjoy free transfers to your bank. Download from Play Store today.",
            "New arrivals at {shop}! Ladies dresses from {cur} {price}0. Visit us at {town}. Tel {shortcode}.",
            "{brand} Music: Listen to {artist}'s new hit \"{song}\" free for 7 days. Dial {ussd}.",
            "Reminder: {church} fundraising is this Saturday. Contribute through Paybill {paybill}, account Building.",
            "You have been subscribed to Daily Jokes at {cur} {price}/day. To unsubscribe send STOP to {shortcode}.",
            "Holiday deal! Fly to {town} from {cur} {price}00 with SkyJet. Book on the app. Terms apply.",
            "Plots for sale in {town} from {cur} {price}0,000 with ready title deeds. Site visit every Saturday. Call {phone}.",
            "{company} College: enrol now for the May intake in ICT, nursing and business courses. Call {shortcode}.",
            "Live band and nyama choma this Friday at {shop}, {town}. Entry free before 8pm.",
            "Vote for good leadership! Meet your candidate at {town} market on {day} at 2pm.",
            "Okoa Jahazi: borrow airtime now and pay later. Dial {ussd}.",
            "Tunukiwa with {gb} at {cur} {price} today only! Dial {ussd}.",
            "Get your Christmas goat from {shop} at {cur} {price}00. Delivery available. Order on {shortcode}.",
        ),
        "sw": (
            "Ofa maalum leo: Dakika {mins} kwa {cur} {price}. Piga {ussd} sasa.",
            "{brand}: Jishindie hadi {big} kwenye promosheni ya {promo}. Nunua kifurushi chochote kushiriki. Vigezo na masharti kuzingatiwa.",
            "Neno la leo: \"{verse}\" ({ref}). Kujiondoa tuma STOP kwenda {shortcode}.",
            "Karibu {shop}! Punguzo la {pct}% kwa bidhaa zote wiki hii tu. Tunapatikana {town}.",
            "Weka dau kwenye mechi za leo na {betco}. Bonasi 100% kwa amana ya kwanza. 18+ Cheza kwa uwajibikaji.",
            "Pata mkopo hadi {loan} kupitia {lender}. Piga {ussd}. Vigezo na masharti kuzingatiwa.",
            "Tunukiwa! Ofa yako ya leo: {gb} + dakika {mins} kwa {cur} {price}. Piga {ussd}.",
            "Skiza Tune: wapigaji wako watasikia \"{song}\" kwa {cur} {price} kwa siku. Kujiondoa tuma STOP kwa {shortcode}.",
            "Ndugu mteja, una pointi {points}. Zitumie kununua vifurushi kupitia {ussd}.",
            "Mkutano wa injili {church} utafanyika Jumapili uwanja wa {town} kuanzia saa nane mchana. Wote mnakaribishwa.",
            "Bima ya afya kutoka {insurer} kuanzia {cur} {price} kwa wiki. Piga {ussd} kujiunga.",
            "Usikose! Bei mpya za vifurushi vya intaneti: {gb} kwa {cur} {price}. Piga {ussd}.",
        ),
        "sheng": (
            "Niaje! Data ni fiti leo: {gb} kwa bob {price} on {ussd}. Usiachwe nyuma!",
            "Weekend ni yako! Bet na {betco}, odds kubwa na bonus ya first deposit. 18+ Paybill {paybill}.",
            "Mambo! {shop} wako na offer kali: {pct}% off kila kitu leo. Pita {town}.",
        ),
        "lg": (
            "{brand}: Gula {gb} ku {cur} {price} okumala essaawa 24. Kuba {ussd}.",
            "Weebale okukozesa {brand}. Funa bonus ya {pct}% ku airtime leero. Kuba {ussd}.",
        ),
        "fr": (
            "{brand}: Profitez de {gb} à {cur} {price} valable 24h. Composez {ussd}.",
            "Promo {shop}: -{pct}% sur tous les articles ce week-end à {town}.",
        ),
        "rw": (
            "{brand}: Gura {gb} ku {cur} {price}. Kanda {ussd}.",
        ),
    },
    "b": {
        "en": (
            "Special for you today: {mins} mins to all networks + {gb} at only {cur} {price}. Dial {ussd}. Valid till midnight.",
            "{shop} Weekend Madness: up to {pct}% off electronics and groceries. While stocks last.",
            "Your daily inspiration: \"{quote}\". Reply STOP to end this service, {cur} 3/day.",
            "{betco}: Place a multibet of 5+ games today and get a {pct}% win boost. 18+. Gambling can be addictive. STOP {shortcode}",
            "Get a business loan of up to {loan} from {lender}, no collateral needed. Apply on the app. Licensed lender. STOP to {shortcode}",
            "Word for today from {ref}: \"{verse}\". Blessings. Send STOP to {shortcode} to unsubscribe.",
            "Make your callers dance! Get \"{song}\" as your ringback tune for {cur} {price} weekly. Dial {ussd}.",
            "Top up {cur} {price} or more and get free WhatsApp for 3 days. {brand}, the best network.",
            "You are invited to {church}'s annual thanksgiving service on Sunday 10am at {town}. Come with a friend.",
            "{insurer}: Hospital cash cover for the whole family at {cur} {price} per month. Call {shortcode} for details.",
            "Win a brand new {item} in the {shop} shopping promotion! Shop for {cur} {price}00 and above to enter. T&C apply.",
            "Football fans! Watch all matches live on our TV packages from {cur} {price}0 a month. Dial {ussd}.",
            "Enjoy unlimited YouTube for {cur} {price} a day with {brand}. Dial {ussd}. Fair usage applies.",
            "Dear customer, earn {points} bonus points when you pay with {wallet} at {shop} this month.",
            "Farmers! Get certified maize seed and fertilizer at subsidised prices at {shop}, {town}.",
            "Back to school: laptops from {cur} {price}000 on easy payment at {shop}. Visit {site}.",
            "Thank you for choosing {brand}. Rate our service today and stand a chance to get {gb} free.",
            "Horoscope: Today brings new chances at work. For your full reading reply 1, {cur} 10/SMS. STOP {shortcode}",
            "Affordable houses in {town}: 2 bedroom from {cur} {price}00,000, pay in instalments. Call our sales team on {phone}.",
            "Join {company} Driving School this month and get {pct}% off. Visit our {town} branch.",
            "Gospel concert at {town} stadium on {day}, tickets {cur} {price}0 at {shop}. Come and praise!",
            "Dear customer, your loyalty pays! Enjoy {pct}% off your next purchase at {shop} with code SAVE{num}.",
        ),
        "sw": (
            "Ofa ya wikendi: {gb} kwa {cur} {price} tu! Piga {ussd} sasa, ofa inaisha Jumapili.",
            "Ujumbe wa leo: \"{verse}\". Mungu akubariki. Kusitisha huduma tuma STOP {shortcode}.",
            "Shinda {item} jipya ukinunua bidhaa za {cur} {price}00 au zaidi {shop}. Vigezo kuzingatiwa.",
            "{lender}: Mkopo wa biashara hadi {loan} bila dhamana. Pakua app yetu. Tuma STOP kwa {shortcode} kujiondoa.",
            "Wapenzi wa soka! Tazama mechi zote mubashara kwa {cur} {price}0 kwa mwezi. Piga {ussd}.",
            "Asante kwa kuchagua {brand}. Nunua kifurushi cha {gb} kwa {cur} {price} leo pekee.",
            "{betco}: Beti mechi 5 au zaidi upate ongezeko la {pct}% la ushindi. 18+ STOP {shortcode}",
        ),
        "sheng": (
            "Bazu! Unlimited data ya usiku kwa bob {price} pekee. Dial {ussd} uende mbele.",
            "Form ni gani weekend? {shop} iko na offer: nunua mbili, pata moja free!",
        ),
        "lg": (
            "Ebirungi bingi ku {shop}! Funa ku {pct}% ku bintu byonna wiiki eno.",
            "{brand}: Yogera ku mitimbagano gyonna edakiika {mins} ku {cur} {price}. Kuba {ussd}.",
        ),
        "fr": (
            "{brand}: Rechargez {cur} {price}0 et recevez {pct}% de bonus. Offre valable aujourd'hui.",
        ),
        "rw": (
            "{brand}: Bona iminota {mins} ku {cur} {price}. Kanda {ussd} uyu munsi.",
        ),
    },
}

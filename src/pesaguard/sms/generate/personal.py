"""Genuine messages that are not operator notifications (written for pesaguard).

``PERSONAL``: people writing to people, in English, Swahili, Sheng and Luganda, including the money
talk that makes a naive model nervous (fares, rent, school fees, chama contributions, "call me on
..."). ``SERVICE``: transactional messages from banks, utilities, lenders, betting firms, schools and
clinics (alerts, tokens, one-time codes the customer asked for, reminders, bet confirmations).
Family ``a`` trains; family ``b`` (different templates of the same kinds) is held out.
"""

from __future__ import annotations

PERSONAL: dict[str, dict[str, tuple[str, ...]]] = {
    "a": {
        "en": (
            "Hi {first}, are we still meeting at {town} at {hour}?", "I've sent you {amt} for the rent, confirm when you get it",
            "Please send me {small} for fare, I'll refund you on {day}", "Call me when you're free",
            "Mum says hi. We reached home safely", "Happy birthday {first}! Have a blessed day",
            "This is my new number, save it. {first}", "Can you call me on {phone}? My other line is off",
            "Did you get the {amt} I sent yesterday?", "Running late, traffic is bad", "Bring the gas cylinder when you come on {day}",
            "Chama meeting is on {day} at {hour}. Contribution is {amt}, send to the treasurer {phone}",
            "Thank you for the {amt}, God bless you", "Kindly remind {first} to pay school fees before {day}",
            "The fundi wants {amt} for the plumbing, should I pay him?", "Pick me up at the stage at {hour}",
            "I'm at the market, where are you?", "Goodnight {first}, sleep well", "Sorry I missed your call, I was in church",
            "Are you coming for the harambee on {day}? We are contributing {amt} each", "Meeting postponed to {day}. Pass the message",
            "Doctor said he'll be discharged on {day}. The hospital bill is {amt}", "OK", "Sawa, tutaonana", "Noted, thanks",
            "Lend me {amt} till end month please, I'll pay back on salary day", "Send the photos on WhatsApp, my bundle is almost over",
            "How is the baby doing?", "We have arrived in {town}. The bus was late", "Please buy bread and milk on your way home",
            "Happy anniversary my love", "I have paid the electricity, the token is on my phone", "Can you send me airtime of {small}? Mine is over",
            "I sent it to the wrong number, let me resend", "Dad, the school has sent the fees balance, it's {amt}",
            "Good morning, kindly confirm if the order is ready", "The landlord came for rent today, I told him {day}",
            "Congratulations on your graduation {first}! Proud of you", "Did you reach home safely?",
            "Buy me lunch today, I forgot my wallet", "Please call the mechanic, the car is making noise again",
        ),
        "sw": (
            "Habari {first}, tutaonana {day} saa {hour}?", "Nimekutumia {amt} ya kodi, nijulishe ukipokea",
            "Tafadhali nitumie {small} ya nauli, nitakurudishia {day}", "Nipigie ukipata nafasi",
            "Mama anakusalimu. Tumefika nyumbani salama", "Heri ya siku ya kuzaliwa {first}! Mungu akubariki",
            "Hii ndio namba yangu mpya, ihifadhi. {first}", "Umepata ile {amt} nilikutumia jana?",
            "Nimechelewa kidogo, foleni ni kubwa", "Kikao cha chama ni {day} saa {hour}. Mchango ni {amt}, tuma kwa mweka hazina {phone}",
            "Asante kwa {amt}, Mungu akubariki", "Fundi anataka {amt} kwa kazi ya bomba, nimlipe?", "Niko sokoni, uko wapi?",
            "Usiku mwema {first}", "Samahani sikupokea simu, nilikuwa kanisani", "Mkutano umeahirishwa hadi {day}. Wajulishe wengine",
            "Mgonjwa ataruhusiwa {day}. Bili ya hospitali ni {amt}", "Sawa", "Asante sana, nimepokea", "Mtoto anaendeleaje?",
            "Tumefika {town} salama, basi lilichelewa", "Tafadhali nunua mkate na maziwa ukirudi", "Nitumie vocha ya {small}, yangu imeisha",
            "Baba, shule imetuma salio la ada, ni {amt}", "Mwenye nyumba amekuja kudai kodi leo, nimemwambia {day}",
            "Hongera kwa kuhitimu {first}! Tunajivunia wewe", "Umefika nyumbani salama?", "Kesho asubuhi tutaenda shambani, uje mapema",
            "Nimelipa umeme, token iko kwa simu yangu", "Naomba unikopeshe {amt} hadi mwisho wa mwezi, nitalipa nikipata mshahara",
        ),
        "sheng": (
            "Niaje msee, tunaonana stage {hour}?", "Buda nitumie {small} ya fare, nitakurudishia {day}", "Uko wapi? Niko tao",
            "Sasa boss, ile doh ya chama utatuma lini?", "Nimefika keja salama", "Poa poa, tutaongea baadaye",
            "Form ni gani weekend?", "Manze nimeishiwa na bundles, nitumie airtime kiasi", "Mathe anasema urudi mapema leo",
            "Nipigie kwa hii namba {phone}, ile ingine imezima", "Sherehe ni {day} kwa {first}, usikose",
        ),
        "lg": (
            "Oli otya {first}? Tunaalaba ku {day}", "Nsindikira {small} ya transport, nja kukuzaako ku {day}",
            "Webale nnyo olw'obuyambi", "Ndi mu kkubo, njija", "Maama akulamusizza, twatuuse bulungi",
            "Kale, tunaayogera oluvannyuma", "Ojja ddi eka?", "Nkusaba ongulire omugaati ng'odda",
        ),
    },
    "b": {
        "en": (
            "Hey {first}, the match starts at {hour}, are you coming?", "Bro I've deposited {amt} in your account for the stock",
            "Could you spare {small} for lunch? Will pay on {day}", "Missed call from you, what's up?",
            "Grandma is feeling better today, thanks for asking", "Wishing you many happy returns {first}!",
            "My old line got lost, reach me here from now. {first}", "Did the {amt} for the groceries come through?",
            "Stuck in a meeting, I'll call back", "Remember the wedding committee meets on {day} at {hour}, bring your pledge of {amt}",
            "Received, thank you so much", "Tell {first} the car is ready for pick up", "Where did you keep the house keys?",
            "Let's have supper at my place on {day}", "Our chama account number is with the chairman, call him on {phone}",
            "Baby's clinic is on {day}, please come with the card", "Sorry for your loss, we are with you in prayer",
            "Exam results are out, she passed very well!", "I'll pay the internet bill, you pay water this month",
            "Kindly send me the class notes for {day}", "Good luck in your interview {first}!",
            "Can you pick the children from school at {hour}?", "The mechanic says the part costs {amt}",
            "Confirm you got the parcel I sent by bus", "Dinner is ready, come home",
        ),
        "sw": (
            "Mambo {first}, mechi inaanza saa {hour}, unakuja?", "Nimeweka {amt} kwenye akaunti yako kwa ajili ya mzigo",
            "Naomba {small} ya chakula cha mchana, nitarudisha {day}", "Bibi anaendelea vizuri leo, asante kwa kuuliza",
            "Laini yangu ya zamani imepotea, nipate hapa. {first}", "Umepokea ile {amt} ya vyakula?", "Niko kikaoni, nitakupigia baadaye",
            "Kamati ya harusi itakutana {day} saa {hour}, leta ahadi yako ya {amt}", "Nimepokea, asante sana",
            "Funguo za nyumba uliziweka wapi?", "Pole sana kwa msiba, tuko pamoja nawe katika maombi", "Matokeo yametoka, amefaulu vizuri!",
            "Nitalipa bili ya maji, wewe lipa umeme mwezi huu", "Kila la heri kwenye usaili {first}!", "Chakula kiko tayari, rudi nyumbani",
        ),
        "sheng": (
            "Wozza {first}, tukutane base {hour}", "Msee tuma {small} ya lunch, nitakurefundia {day}", "Nimechoka na hii job manze",
            "Tuko na plot weekend, ni wewe tu", "Rada ni gani? Pigia nikipata doh nitakutumia",
        ),
        "lg": (
            "Ssebo, ensimbi z'essomero ziri {amt}", "Twalabaganye ku {town} ku ssaawa {hour}", "Webale kusiiba, ofunye ekiwummulo",
            "Omwana alwadde, nja kumutwala mu ddwaliro enkya",
        ),
    },
}

SERVICE: dict[str, dict[str, tuple[str, ...]]] = {
    "a": {
        "en": (
            "{bank}: Your account XXXX{last4} has been credited with {money} on {date}. Ref {ref_no}. Available balance {bal}.",
            "{bank}: {money} withdrawn from A/C ending {last4} at ATM {town} on {date}. Bal {bal}. Not you? Call {shortcode}.",
            "Your verification code is {otp}. It expires in 10 minutes. Do not share it with anyone.",
            "{otp} is your {bank} one-time PIN for your online banking login. Never share it.",
            "Token: {token} Units: {units} Amount: {money} Meter: {meter}. Thank you for buying electricity.",
            "Reminder: your {lender} loan of {money} is due on {date}. Pay via Paybill {paybill}, account {acct}.",
            "Dear {first}, your {lender} loan of {money} has been repaid in full. Thank you.",
            "Bet ID {ref_no} confirmed. Stake {money}, possible win {bal}. Good luck! {betco}",
            "Congratulations! Your bet {ref_no} has WON {bal}. Your {betco} balance is {bal}.",
            "Dear parent, school opens on {date}. Fees balance for {first} is {money}. Pay to Paybill {paybill}, account {acct}.",
            "Your parcel {ref_no} has arrived at our {town} office. Collect it with your ID.",
            "Reminder: your appointment at {town} Medical Centre is on {date} at {hour}.",
            "Your {brand} PIN was changed on {date}. If you did not do this, call customer care on 100.",
            "Your data bundle has been used up. Dial {ussd} to buy more.",
            "{brand}: You have {gb} and {mins} minutes left. Valid until {date}.",
            "Dear customer, {brand} services will be unavailable tonight from 1am to 3am for maintenance.",
            "Your {gov} application {ref_no} has been approved. Check your e-mail for details.",
            "Welcome to {bank} mobile banking. Your account is now active.",
            "Your order {ref_no} from {shop} has been dispatched and will arrive on {day}.",
            "Payment of {money} received by {shop}. Receipt {ref_no}. Thank you.",
            "Your water bill for account {acct} is {money}, due on {date}.",
            "{brand} will never ask for your PIN. Report suspicious messages to 333.",
            "Your Fuliza M-PESA limit is {money}. Use it to complete your payments when short.",
            "Your Okoa Jahazi credit of {money} has been deducted from your airtime top up.",
            "Your NSSF contribution of {money} for {date} has been received. Thank you.",
        ),
        "sw": (
            "{bank}: Akaunti yako XXXX{last4} imewekewa {money} tarehe {date}. Salio {bal}.",
            "Namba yako ya uthibitisho ni {otp}. Usimpe mtu yeyote.",
            "Token: {token} Kiasi: {money} Units: {units} Mita: {meter}. Asante kwa kununua umeme.",
            "Kumbusho: mkopo wako wa {money} kutoka {lender} unatakiwa kulipwa tarehe {date}.",
            "Mzazi, shule itafunguliwa tarehe {date}. Salio la ada ya {first} ni {money}.",
            "Kifurushi chako kimefika ofisi yetu ya {town}. Kichukue ukiwa na kitambulisho.",
            "Huduma za {brand} hazitapatikana usiku wa leo kuanzia saa saba hadi saa tisa kwa matengenezo.",
            "Ombi lako la {gov} namba {ref_no} limekubaliwa.",
        ),
    },
    "b": {
        "en": (
            "{bank} alert: Debit of {money} on card ending {last4} at {shop} on {date}. Avl bal {bal}.",
            "Use {otp} to complete your purchase at {shop}. The code is valid for 5 minutes.",
            "Prepaid token {token} for meter {meter}: {units} kWh for {money}.",
            "Hi {first}, your loan instalment of {money} to {lender} is due in 3 days. Pay on time to grow your limit.",
            "Receipt {ref_no}: school fees of {money} received for {first}. Balance {bal}.",
            "Your booking {ref_no} is confirmed for {date} at {hour}. Reply C to cancel.",
            "Your {gov} tax return for {date} has been filed successfully. Ack no. {ref_no}.",
            "Salary of {money} has been credited to your account {acct}. {bank}.",
            "Win confirmed! Ticket {ref_no} returned {bal} to your {betco} wallet.",
            "Your monthly statement for account ending {last4} is ready on the {bank} app.",
            "Dear customer, your insurance premium of {money} to {insurer} has been received.",
            "Reminder: Sunday service starts at {hour}. Choir practice on {day}. {church}",
        ),
        "sw": (
            "{bank}: Umetoa {money} kwenye ATM {town} tarehe {date}. Salio {bal}.",
            "Tumia {otp} kukamilisha malipo yako. Namba hii ni ya siri, usimpe mtu.",
            "Mshahara wa {money} umewekwa kwenye akaunti yako. {bank}",
            "Risiti {ref_no}: ada ya shule {money} imepokelewa kwa {first}. Salio {bal}.",
        ),
    },
}

"""Scam templates in the shapes East-African scams take (written for pesaguard), by family.

Fake money-received notices and "sent to you by mistake, send it back" pleas, "send it to this
number", a landlord or relative on a new number, fake prizes and operator promotions that ask for a
fee, fake customer care threatening to block a line, PIN and one-time-code phishing, SIM-swap
pretexts, fake loans and jobs with an upfront fee, betting "fixed matches", investment schemes,
witch doctors and secret societies, romance, fake government refunds with links. English, Swahili,
Sheng, and some Luganda and French. Family ``a`` trains; family ``b`` (different wording of the same
kinds) is held out. Each template's scam type comes from its key.
"""

from __future__ import annotations

SCAMS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "a": {
        "reversal": {
            "en": (
                "Hello, I have sent you {amt} by mistake. Please send it back to {phone}, it is my school fees. God bless you",
                "Hi dear, I mistakenly sent {amt} to your number. Kindly reverse it to this number. Thank you",
                "Sorry, the {amt} I sent you was a mistake, it was meant for my {relation} in hospital. Please return it",
                "Hello, my salary of {amt} went to your number by mistake. Please refund it to {phone}, I have no other money",
                "Check your {wallet}, I sent {amt} by error. Send back {amt} to {phone} and keep the charges",
                "{code} Confirmed. You have received {amt} from {NAME} {phone} on {date} at 10:15 AM. New {wallet} balance is {money}. Kindly send it back, I sent to the wrong number",
                "Confirmed. You have received {amt} from {NAME}. New balance {money}. Please reverse it to {phone} urgently",
                "Hello I am the {wallet} agent at {town}, I deposited {amt} to your line by mistake. Return it to {phone}",
            ),
            "sw": (
                "Samahani nimekosea kutuma pesa kwenye namba yako, tafadhali nirudishie {amt} kwa {phone}",
                "Habari, nimekutumia {amt} kimakosa, ni ada ya mtoto. Naomba unirudishie tafadhali",
                "Ndugu yangu nimetuma {amt} kwa makosa kwenye namba yako, tafadhali irudishe kwa {phone}",
                "{code} Imethibitishwa. Umepokea {amt} kutoka {NAME} {phone}. Salio jipya ni {money}. Nimekosea namba, nirudishie tafadhali",
                "Ile pesa nimekutumia kimakosa tafadhali nitumie kwa hii namba {phone} jina litakuja {NAME}",
                "Mimi ni wakala wa {wallet} {town}, nimeweka {amt} kwako kwa makosa. Rudisha kwa {phone} haraka",
            ),
            "sheng": (
                "Msee nimekusendia {amt} kimakosa, tafadhali nirudishie hiyo doh kwa {phone}",
                "Boss ile doh imeingia kwako ni yangu, nilikosea namba. Reverse kwa {phone} please",
            ),
            "lg": (
                "Nkusaba onzizaayo {amt} ze nkusindikidde mu nsobi, ku {phone}",
            ),
        },
        "send_here": {
            "en": (
                "Send the money to this number {phone}, name will show {NAME}. My other line has a problem",
                "Hi, don't send to my usual number, use {phone} instead. The name is {NAME}",
                "That money you were to send me, send it to this number {phone} {NAME}",
            ),
            "sw": (
                "Naomba unitumie iyo hela kwenye namba hii {phone} jina litakuja {NAME}",
                "Ile pesa tuma kwa hii namba {phone} jina ni {NAME}, ile yangu imefungwa",
                "Usitume kwa namba ya zamani, tuma kwenye {phone} jina {NAME}",
                "Tuma kwenye namba hii ya {wallet} {phone} jina litasoma {NAME}",
            ),
            "sheng": (
                "Ile doh ya kodi itume kwa hii namba {phone}, jina ni {NAME}",
            ),
        },
        "new_number": {
            "en": (
                "Hello, this is your landlord. This is my new number. Send this month's rent to {phone}",
                "Mum this is my new number, my phone fell in water. Please send me {amt} urgently to this number",
                "Hi, it's your pastor. I have changed my line, please send your tithe of {amt} to {phone}",
            ),
            "sw": (
                "Habari, mimi ni mwenye nyumba wako. Hii ni namba yangu mpya. Kodi ya mwezi huu tuma kwa {phone}",
                "Mama ni mimi, simu yangu imeibiwa. Hii ni namba mpya, nitumie {amt} haraka",
                "Ni mimi mjomba wako, nimeazima simu. Nitumie {amt} kwa namba hii nina shida",
            ),
        },
        "prize": {
            "en": (
                "Congratulations! Your number has won {prize} in the {brand} {promo}. To receive it send a registration fee of {fee} to {phone}",
                "{brand} {promo}: You are our lucky winner of {prize} and a {item}. Claim now by paying a processing fee of {fee} to till {till}",
                "Dear customer you have been selected to receive {prize} from the {promo} draw. Send {fee} clearance fee to {phone} before 5pm today",
                "CONGRATS! your line won {prize} in our anniversary draw. Call {phone} to claim. Ref no {code}",
                "You have WON a brand new {item}! Delivery fee is {fee}. Pay to {phone} and send your location",
                "Your {wallet} number has won {prize} cash in the weekly jackpot. Activate your winnings by sending {fee} to {phone}",
            ),
            "sw": (
                "Hongera! Namba yako imeshinda {prize} kwenye promosheni ya {brand}. Piga {phone} kupokea zawadi yako",
                "Umeshinda {prize} na {item} kwenye droo ya {promo}. Tuma ada ya usajili {fee} kwa {phone} kupokea zawadi",
                "Mteja wetu umechaguliwa kupokea {prize} kutoka {brand}. Lipa {fee} ya kuthibitisha kwa {phone}",
                "Zawadi yako ya {prize} ipo tayari. Tuma {fee} gharama ya usafirishaji kwa namba {phone}",
            ),
            "sheng": (
                "Manze umeshinda {prize} kwa {promo}! Tuma {fee} ya processing kwa {phone} upokee doh yako leo",
            ),
        },
        "customer_care": {
            "en": (
                "Dear customer, your {wallet} account will be suspended within 24 hours due to incomplete registration. Call {phone} to reactivate",
                "{brand} Customer Care: we noticed an error on your line. Call {phone} now to avoid losing your {wallet} account",
                "This is the {bank} fraud department. Your account has been blocked. Call {phone} to unlock it",
                "Your {wallet} has been temporarily blocked due to suspicious activity. Contact our officer on {phone} to restore it",
            ),
            "sw": (
                "Mpendwa mteja akaunti yako ya {wallet} itafungwa leo. Piga {phone} kuepuka kufungiwa",
                "Huduma kwa wateja {brand}: laini yako imesimamishwa. Wasiliana na afisa wetu {phone} haraka",
                "Mimi ni mfanyakazi wa {brand}. Tumegundua tatizo kwenye akaunti yako, nipigie {phone}",
            ),
        },
        "pin_phishing": {
            "en": (
                "{brand}: Your {wallet} account will be deactivated. Reply with your PIN and ID number to keep it active",
                "Dear customer, we are upgrading your line to 5G. You will receive a code, send it to {phone} to complete the upgrade",
                "Your OTP is {otp}. A {brand} agent will call you to confirm it. Read it to them to avoid suspension",
                "Verify your {wallet} account now at {link} to avoid suspension. Enter your PIN to confirm",
                "{bank}: Your ATM card has been blocked. Call {phone} and give your card number and PIN to unblock it",
                "Your {brand} points worth {money} expire today. Redeem them now at {link} and enter your PIN to confirm",
            ),
            "sw": (
                "Tuma namba yako ya siri ya {wallet} kwa {phone} ili tuthibitishe akaunti yako",
                "Ndugu mteja, utapokea ujumbe wenye namba. Nitumie hiyo namba ili tukuboreshee laini yako",
                "Akaunti yako ya {wallet} inahitaji uhakiki. Ingia {link} uweke PIN yako",
                "Pointi zako za {brand} zenye thamani ya {money} zinaisha leo. Zikomboe {link} kwa kuweka PIN yako",
            ),
        },
        "loan": {
            "en": (
                "Get an instant loan of up to {loan} without security. Pay a registration fee of {fee} to {phone} and receive your loan in 10 minutes",
                "Your loan of {loan} has been approved! To disburse, pay an insurance fee of {fee} to till {till} within 2 hours",
                "Need cash fast? {loan} loan at 0% interest, no CRB check. Apply at {link} then send {fee} to verify your account",
                "Boost your {wallet} overdraft limit to {loan} today! Send {fee} activation fee to {phone}",
            ),
            "sw": (
                "Mkopo wa haraka bila dhamana! Tuma ada ya usajili {fee} kwa {phone} upate mkopo wa {loan}",
                "Umepata mkopo wa {loan}. Lipa ada ya bima {fee} kwa {phone} ili upokee pesa leo",
                "Ongeza kikomo chako cha mkopo hadi {loan}. Tuma {fee} kwa {phone} kuwezesha",
            ),
            "sheng": (
                "Unataka loan ya {loan} bila CRB? Tuma {fee} ya registration kwa {phone} upate doh chap chap",
            ),
        },
        "job": {
            "en": (
                "JOB VACANCY: {company} is hiring drivers, cleaners and guards. Salary {salary} per month. Send application fee {fee} to {phone}",
                "Urgent: casual workers needed in Dubai and Qatar. Salary {salary}. Medical and visa fee {fee}. Contact {phone}",
                "Congratulations, your CV has been shortlisted at {company}. Pay {fee} for the interview booking to {phone}",
            ),
            "sw": (
                "Nafasi za kazi {company}: madereva, walinzi na wahudumu. Mshahara {salary}. Tuma ada ya fomu {fee} kwa {phone}",
                "Kazi za ndani Dubai mshahara {salary}. Lipa {fee} kwa ajili ya viza kwa {phone}",
            ),
        },
        "betting": {
            "en": (
                "Sure fixed matches today, odds 50+. Pay {fee} to {phone} and get the games before kickoff. 100% guaranteed",
                "Win {prize} this weekend with our VIP jackpot predictions. Subscribe by sending {fee} to {phone}",
            ),
            "sw": (
                "Mechi za uhakika leo odds 30+. Tuma {fee} kwa {phone} upate mikeka ya VIP. Hakuna kupoteza",
            ),
            "sheng": (
                "Fixed games za leo ziko tayari buda, tuma {fee} kwa {phone} ushinde jackpot",
            ),
        },
        "investment": {
            "en": (
                "Invest {money} today and get triple returns in 7 days. Limited slots! Send to {phone} now",
                "Forex trading with guaranteed profit of 30% weekly. Join our group: {link}",
                "Earn {amt} daily from home by liking videos. Register with {fee} at {link}",
            ),
            "sw": (
                "Wekeza {money} upate faida mara tatu ndani ya wiki moja. Nafasi chache! Tuma kwa {phone}",
                "Jiunge na kikundi cha crypto upate faida kila siku. Usajili {fee}. Ingia {link}",
            ),
        },
        "magic": {
            "en": (
                "Dr {NAME}, powerful healer. Solves love problems, business luck and court cases. Call {phone}",
                "Join the illuminati and become rich. Call {phone} for membership",
            ),
            "sw": (
                "Karibu Freemason utimize ndoto katika biashara na kilimo. Kujiunga piga {phone}",
                "Mganga wa tiba asili, mvuto wa mapenzi, kurudisha mpenzi na utajiri. Piga {phone}",
                "Pete ya bahati na utajiri wa haraka. Wasiliana na Babu {phone}",
            ),
        },
        "romance": {
            "en": (
                "Hi dear, I am {name}, a nurse from the UK. I want to send you a gift parcel. Pay clearance of {fee} to {phone}",
                "Rich sugar mummy looking for a young man. Registration {fee} to {phone}",
            ),
            "sw": (
                "Sugar mummy anatafuta kijana wa kumpenda. Tuma {fee} ya usajili kwa {phone}",
            ),
        },
        "parcel": {
            "en": (
                "Your parcel from abroad is held at the customs office. Pay a clearance fee of {fee} to {phone} to release it",
                "DHL: your package could not be delivered. Pay {fee} redelivery fee at {link}",
            ),
            "sw": (
                "Mzigo wako umezuiliwa forodha. Lipa ada ya kuutoa {fee} kwa {phone} upokee leo",
            ),
        },
        "gov_refund": {
            "en": (
                "{gov}: You have a tax refund of {money}. Claim it at {link} before {date}",
                "{gov} notice: your account has a pending payment of {money}. Update your details at {link}",
            ),
            "sw": (
                "{gov}: Una marejesho ya {money}. Bofya {link} kupokea kabla ya {date}",
            ),
        },
    },
    "b": {
        "reversal": {
            "en": (
                "Good afternoon, I wrongly transferred {amt} to your line a few minutes ago. Please help me return it to {phone}, I will cover the charges",
                "Please I beg you, I deposited {amt} into your account by mistake. Refund me on {phone}, it's for rent",
                "{code} confirmed. You have received {amt} from {NAME}. Your balance is {money}. Sorry it was a wrong number, send back to {phone}",
                "Hello, my son sent {amt} to you wrongly. Kindly send it back to me on this number. Thanks and God bless",
                "Dear customer, an erroneous transfer of {amt} was made to your account. Send it back to {phone} to avoid account suspension",
            ),
            "sw": (
                "Mpendwa nimetuma {amt} kwenye namba yako kwa bahati mbaya, naomba uyarudishe kwa {phone}",
                "Kaka samahani, pesa {amt} nimeituma kwako bila kujua, nirejeshee tafadhali ni ya matibabu",
                "Imethibitishwa umepokea {amt} kutoka {NAME}. Nilikosea kutuma, tafadhali nirudishie kwa {phone}",
                "Habari dada, kuna {amt} imeingia kwako kimakosa kutoka kwangu. Nirudishie kwa namba hii {phone}",
            ),
            "sheng": (
                "Niaje, nimekusendia {amt} bila kujua, manze ni rent yangu, nirudishie please kwa {phone}",
            ),
            "lg": (
                "Nsobezza ne nkusindikira {amt}, nkwegayiridde ozziddeyo ku {phone}",
            ),
        },
        "send_here": {
            "en": (
                "Please don't use my old line for the payment. Send to {phone}, it will read {NAME}",
                "When you send the school fees, use this number {phone} {NAME}, the other one is blocked",
            ),
            "sw": (
                "Pesa ya mzigo itume kwenye namba hii {phone} itakuja kwa jina la {NAME}",
                "Usitumie namba ya zamani, tuma hela kwenye {phone} jina {NAME} ndio laini yangu mpya",
            ),
            "sheng": (
                "Ile doh ya mzigo itume kwa hii {phone}, itasoma {NAME}",
            ),
        },
        "new_number": {
            "en": (
                "Dear tenant, I have a new number. All rent payments go to {phone} from today. Landlord",
                "Dad it's me, I lost my phone. I'm in trouble at the police station, send {amt} to this number now",
            ),
            "sw": (
                "Mpangaji, hii ndiyo namba yangu mpya ya kupokea kodi: {phone}. Mwenye nyumba",
                "Ni mimi mwanao, niko polisi nahitaji {amt} ya dhamana, tuma kwa namba hii haraka",
            ),
        },
        "prize": {
            "en": (
                "{brand} anniversary: you are among the 10 winners of {prize}! Pay the tax of {fee} to {phone} to release your money",
                "Your phone number was picked in the {promo}. Prize: {item} plus {prize}. Send {fee} for delivery to {phone}",
                "WINNER! Claim {prize} from the {brand} customer appreciation promo. Call our promotions manager on {phone}",
                "Final notice: your unclaimed prize of {prize} will expire today. Send {fee} activation to till {till}",
            ),
            "sw": (
                "Hongera mteja! Umejishindia {prize} kwenye bahati nasibu ya {brand}. Lipia kodi {fee} kwa {phone} upokee pesa",
                "Namba yako imechaguliwa kushinda {item}. Tuma {fee} ya usafiri kwa {phone} ili tukuletee",
                "Zawadi ya {prize} kutoka {promo} inakusubiri. Piga meneja wa promosheni {phone}",
            ),
            "sheng": (
                "Congrats buda! Line yako imewin {prize} kwa {promo}. Piga {phone} uclaim",
            ),
        },
        "customer_care": {
            "en": (
                "{wallet} ALERT: your line will be disconnected tonight due to an unverified SIM. Call the verification desk on {phone}",
                "Dear customer your {bank} account has been frozen. Contact our help desk on {phone} to update your details",
                "Attention: your {wallet} account is under investigation. To avoid closure call our agent {phone}",
            ),
            "sw": (
                "TAARIFA: laini yako itazimwa usiku wa leo kwa kukosa usajili. Piga dawati la uhakiki {phone}",
                "Akaunti yako ya {bank} imesimamishwa. Wasiliana na huduma kwa wateja kupitia {phone}",
            ),
        },
        "pin_phishing": {
            "en": (
                "To complete your SIM upgrade reply with the 6-digit code we just sent you. {brand} Support",
                "Security check: confirm your {wallet} PIN by replying to this message to avoid account closure",
                "Your {bank} online banking is locked. Log in at {link} with your password to unlock",
            ),
            "sw": (
                "Thibitisha PIN yako ya {wallet} kwa kujibu ujumbe huu ili akaunti isifungwe",
                "Umepokea namba ya siri kwa SMS. Nitumie hiyo namba nikamilishe usajili wa laini yako",
            ),
        },
        "loan": {
            "en": (
                "{lender}: Congratulations, you qualify for a loan of {loan}. Send a processing fee of {fee} to {phone} to receive it today",
                "No guarantor, no CRB! Get {loan} now. Pay {fee} insurance to till {till} and the money is yours",
            ),
            "sw": (
                "{lender}: Umeidhinishwa mkopo wa {loan}. Tuma ada ya kushughulikia {fee} kwa {phone} upokee leo",
                "Mkopo wa {loan} bila mdhamini. Lipa bima {fee} kwa {phone} pesa iingie sasa hivi",
            ),
        },
        "job": {
            "en": (
                "{company} recruitment: 50 vacancies for general workers, salary {salary}. Pay {fee} for your uniform and ID to {phone}",
                "You have been selected for a job in Saudi Arabia. Salary {salary}. Send {fee} for medical tests to {phone}",
            ),
            "sw": (
                "{company} inaajiri wafanyakazi 50, mshahara {salary}. Tuma {fee} ya sare na kitambulisho kwa {phone}",
            ),
        },
        "betting": {
            "en": (
                "VIP tips: 10 games of 100+ odds confirmed. Pay {fee} to {phone} and win big this weekend. No loss",
            ),
            "sw": (
                "Mikeka ya uhakika ya VIP leo! Lipa {fee} kwa {phone} upate ushindi wa jackpot",
            ),
        },
        "investment": {
            "en": (
                "Double your money in 48 hours with our crypto bot. Minimum {money}. Send to {phone} to start",
                "Earn {amt} every day by rating products online. Activate your account with {fee} at {link}",
            ),
            "sw": (
                "Zidisha pesa yako mara mbili ndani ya saa 48. Kiwango cha chini {money}. Tuma kwa {phone}",
            ),
        },
        "magic": {
            "en": (
                "Powerful spiritual doctor from the coast: brings back lost lovers, protects your business, wins court cases. Call {phone}",
            ),
            "sw": (
                "Jiunge na matajiri wa dunia, utajiri wa haraka bila kafara. Piga {phone}",
                "Babu wa tiba asili anatibu magonjwa sugu na kuleta bahati. Wasiliana {phone}",
            ),
        },
        "romance": {
            "en": (
                "Hello handsome, I am a lonely widow with money. Send {fee} for my transport to meet you. {phone}",
            ),
            "sw": (
                "Mama mwenye pesa anatafuta mpenzi, tuma {fee} ya usajili kwa {phone}",
            ),
        },
        "parcel": {
            "en": (
                "Customs notice: a parcel in your name attracts duty of {fee}. Send to our clearing agent {phone} today",
                "Your courier delivery is on hold. Confirm your address and pay {fee} at {link}",
            ),
            "sw": (
                "Kifurushi chako kiko bandarini, lipia ushuru {fee} kwa wakala {phone} ili kitolewe",
            ),
        },
        "police": {
            "en": (
                "This is the police cybercrime unit. Your number has been used in fraud. Pay a fine of {fee} to {phone} to avoid arrest",
            ),
            "sw": (
                "Polisi: namba yako imetumika kwenye uhalifu. Lipa faini ya {fee} kwa {phone} kuepuka kukamatwa",
            ),
        },
        "gov_refund": {
            "en": (
                "{gov}: Your payment of {money} is ready. Verify your identity at {link} to receive it",
                "Government relief fund: you are eligible for {money}. Register at {link} today",
            ),
            "sw": (
                "{gov}: Malipo yako ya {money} yako tayari. Thibitisha taarifa zako {link}",
            ),
        },
    },
}

#: The scam type each template key reports (``pesaguard.sms.cues.SCAM_TYPES``).
SCAM_TYPE = {"reversal": "reversal", "send_here": "other", "new_number": "impersonation", "prize": "prize",
             "customer_care": "impersonation", "pin_phishing": "pin_phishing", "loan": "job_loan", "job": "job_loan",
             "betting": "other", "investment": "other", "magic": "other", "romance": "other", "gov_refund": "pin_phishing",
             "parcel": "other", "police": "impersonation"}

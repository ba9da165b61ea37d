"""English SMS templates (written for pesaguard). Slots in braces are filled by :mod:`.render`."""

from __future__ import annotations

#: The operator's notifications for real transactions, by what the recipient did.
NOTIFY: dict[str, tuple[str, ...]] = {
    "received": (
        "{code} Confirmed. You have received {amt} from {cp} {cp_phone} on {date} at {time}. New {brand} balance is {bal}.",
        "{code} Confirmed. You have received {amt} from {cp} {cp_phone} on {date} at {time}. New {brand} balance is {bal}. Pay bills and buy goods with {brand} at no extra cost.",
    ),
    "received_bank": (
        "{code} Confirmed. You have received {amt} from {cp} on {date} at {time}. New {brand} balance is {bal}.",
    ),
    "sent": (
        "{code} Confirmed. {amt} sent to {cp} {cp_phone} on {date} at {time}. New {brand} balance is {bal}. Transaction cost, {fee}. Amount you can transact within the day is {limit}.",
    ),
    "paid": (
        "{code} Confirmed. {amt} paid to {cp}. on {date} at {time}. New {brand} balance is {bal}. Transaction cost, {fee}. Amount you can transact within the day is {limit}.",
    ),
    "bill": (
        "{code} Confirmed. {amt} sent to {cp} for account {acct} on {date} at {time}. New {brand} balance is {bal}. Transaction cost, {fee}.",
    ),
    "bank_out": (
        "{code} Confirmed. {amt} sent to {cp} for account {acct} on {date} at {time}. New {brand} balance is {bal}. Transaction cost, {fee}.",
    ),
    "withdraw": (
        "{code} Confirmed. On {date} at {time} Withdraw {amt} from {agent_no} - {cp}. New {brand} balance is {bal}. Transaction cost, {fee}.",
    ),
    "deposit": (
        "{code} Confirmed. On {date} at {time} you deposited {amt} at {agent_no} - {cp}. New {brand} balance is {bal}.",
    ),
    "airtime": (
        "{code} Confirmed. You bought {amt} of airtime on {date} at {time}. New {brand} balance is {bal}. Transaction cost, {fee}.",
    ),
}

#: Genuine service messages from the operator or a bank (no transaction).
SERVICE: tuple[str, ...] = (
    "Dear Customer, your {brand} PIN was changed on {date} at {time}. If you did not make this change, call {care} immediately.",
    "Your {bank} one-time password is {otp}. It expires in 5 minutes. Do not share this code with anyone.",
    "Reminder: your {bank} loan instalment of {amt} is due on {date}. Pay via paybill {paybill}, account {acct}.",
    "Your 1GB data bundle expires tomorrow at midnight. Dial *544# to renew.",
    "Dear customer, {brand} services will be briefly unavailable tonight from 11:45 PM to 12:30 AM for maintenance. We apologise for any inconvenience.",
    "{operator} Rewards: you have {points} points. Redeem them for airtime or data on the app.",
    "Your airtime balance is low. Dial *544# for bundles that suit you.",
    "{bank}: {amt} has been credited to your account ending {last4} on {date}. Thank you for banking with us.",
    "{operator} will never ask for your PIN. Report suspicious messages by forwarding them to 333.",
)

#: Everyday messages between people.
PERSONAL: tuple[str, ...] = (
    "Hi {first}, are we still meeting at {place} at {hour}?",
    "I've sent you {amt} for the rent, confirm when you get it",
    "Please send me {amt} for fare, I'll refund you on {day}",
    "Call me when you're free",
    "Mum says hi. We reached home safely",
    "Happy birthday {first}! Have a blessed day",
    "This is my new number, save it. {first}",
    "Can you call me on {phone}? My other line is off",
    "Did you get the {amt} I sent yesterday?",
    "Running late, traffic at {place} is bad",
    "Bring the gas cylinder when you come on {day}",
    "Chama meeting is on {day} at {hour}. Contribution is {amt}, send to the treasurer {phone}",
    "Thank you for the {amt}, God bless you",
    "Kindly remind {first} to pay school fees before {day}",
    "The fundi wants {amt} for the plumbing, should I pay him?",
    "Pick me up at {place} at {hour}",
    "Send the photos on WhatsApp, my SMS bundle is almost finished",
    "I'm at {place}, where are you?",
    "The {item} costs {amt}. Do you want me to buy it?",
    "Goodnight {first}, sleep well",
    "Kindly pay the electricity bill, the token is almost over",
    "Are you coming for the harambee on {day}? We are contributing {amt} each",
    "Meeting postponed to {day}. Pass the message",
    "Sorry I missed your call, I was in church",
    "My phone was stolen, this is {first}. Use this number {phone} from now",
    "Doctor said he'll be discharged on {day}. The hospital bill is {amt}",
    "Lend me {amt} till end month please, I'll pay back on salary day",
    "Here is the link for the wedding committee group {link}",
    "OK",
    "Tell {first} I have sent her {amt} for shopping",
)

#: Genuine pleas after a real mistaken transfer (the money did arrive).
MISTAKEN: tuple[str, ...] = (
    "Hello, I sent you {amt} by mistake, it was meant for my {relation}. Kindly send it back to this number. Thank you",
    "Good afternoon. I wrongly sent {amt} to your number a few minutes ago. Please reverse it, I will cover the charges",
    "Hi, sorry to bother you, I mistakenly sent you {amt}. Please help me send it back, it's for my {relation}'s hospital bill",
    "Hi, I sent {amt} to you in error. Please return it when you can. God bless.",
)

#: Scam messages by family; the family decides the scam type.
SCAM: dict[str, tuple[str, ...]] = {
    "reversal_fake": (
        "{code} Confirmed. You have received {amt} from {NAME} {phone} on {date} at {time}. New {brand} balance is {bal}.",
        "{code} Confirmed.you have received {amt} from {NAME} {phone} on {date} at {time} New {brand} balance is {bal}",
        "{code} confirmed. You have received {amt} from {NAME} {phone} on {date} at {time}.New {brand} balance is {bal}.Pay bills via {brand}.",
        "{code} Confirmed. You have recieved {amt} from {NAME} on {date} at {time}. New {brand} balance is {bal}.",
        "Confirmed {code}. Received {amt} from {NAME} {phone} {date} {time}. Your balance is {bal}.",
    ),
    "reversal_plea": (
        "Hello, I have sent you {amt} by mistake. Please send it back to {phone}, it is my school fees. God bless you",
        "Hi dear, I mistakenly sent {amt} to your number. Kindly reverse it to this number. Thank you",
        "Sorry, the {amt} I sent you was a mistake, it was meant for my {relation} in hospital. Please return it, I am begging",
        "Ndugu I have sent you {amt} by mistake. Please return it quickly before I report to {operator}",
        "Hello, check your {brand}, I sent {amt} by error. Send back {amt} to {phone} and keep the charges. Thanks",
    ),
    "prize": (
        "Congratulations! Your number has won {prize} in the {operator} {promo} promotion. To receive your prize send a registration fee of {fee} to {payto}. Call {phone} for details.",
        "{operator} {promo}: You are our lucky winner of {prize} and a {item}. Claim now by paying a processing fee of {fee} via {payto}.",
        "Dear customer you have been selected to receive {prize} from the {promo} draw. Send {fee} clearance fee to {payto} before 5pm today or the prize goes to the next winner.",
        "CONGRATS! your line won {prize} in our anniversary draw. Call {phone} to claim. Ref no {code}",
        "You have WON a brand new {item}! Delivery fee is {fee}. Pay to {payto} and send your location to {phone}.",
        "Your {brand} number has won {prize} cash in the weekly jackpot. Activate your winnings by sending {fee} to {payto}. Offer ends today.",
    ),
    "job_loan": (
        "Get an instant loan of up to {loan} without security. Pay a registration fee of {fee} to {payto} and receive your loan in 10 minutes.",
        "JOB VACANCY: {company} is hiring drivers, cleaners and guards. Salary {salary} per month. Send application fee {fee} to {payto}. Call {phone}.",
        "Your loan of {loan} has been approved! To disburse, pay an insurance fee of {fee} to {payto} within 2 hours.",
        "Urgent: casual workers needed in Dubai and Qatar. Salary {salary}. Medical and visa processing fee {fee}. Contact {phone}.",
        "Need cash fast? {loan} loan at 0% interest. Apply at {link} then send {fee} to {payto} to verify your account.",
    ),
    "impersonation": (
        "Dear customer, your {brand} account will be suspended within 24 hours due to incomplete registration. To reactivate, send {amt} to {phone} and call our customer care.",
        "{operator} Customer Care: we noticed an error on your line. Call {phone} now to avoid losing your {brand} account.",
        "This is the {bank} fraud department. Your account has been blocked. Send a verification amount of {amt} to {phone} to unlock it.",
        "Hello {first}, I am calling from {operator} head office. Your SIM card registration has expired. Pay {amt} renewal to {payto}.",
        "Dear customer, your {brand} statement shows unauthorised activity. To secure your money transfer {amt} to the safe account {phone}.",
    ),
    "impersonation_agent": (
        "Hello, I am the {brand} agent at {place}. I mistakenly deposited {amt} to your number. Kindly send it back to {phone}, the agent line.",
        "Boss, this is the agent shop near {place}. I made a wrong deposit of {amt} to you. Please reverse to {phone} urgently",
        "Agent {agent_no}: an error deposit of {amt} was made to your account. Return it to {phone} to avoid your line being blocked.",
    ),
    "phishing": (
        "{operator}: Your {brand} account will be deactivated. Reply with your PIN and ID number to keep it active.",
        "Dear customer, we are upgrading your line to 5G. You will receive a code, send it to {phone} to complete the upgrade.",
        "Your OTP is {otp}. A {operator} agent will call you to confirm it. Please read it out to them to avoid suspension of your line.",
        "Verify your {brand} account now at {link} to avoid suspension. Enter your PIN to confirm.",
        "{bank}: Your ATM card has been blocked. Call {phone} and provide your card number and PIN to unblock it.",
    ),
    "other": (
        "Invest {amt} today and get triple returns in 7 days. Limited slots! Send to {payto} now.",
        "Dr {name}, powerful healer. Solves love problems, business luck and court cases. Call {phone}.",
        "Selling a brand new {item} at {amt} only, clearance sale. Pay to {payto} for delivery today.",
        "Forex trading with guaranteed profit of 30% weekly. Join our group: {link}",
        "Hi dear, I am {name}, a nurse from the UK. I want to send you a gift parcel. Pay clearance of {amt} to {payto}.",
    ),
}

WORDS: dict[str, tuple[str, ...]] = {
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "tomorrow", "next week"),
    "hour": ("8am", "10 am", "1pm", "2:30", "4pm", "5 pm", "6:30pm", "7", "noon", "lunch time"),
    "relation": ("sister", "brother", "mum", "dad", "wife", "husband", "cousin", "landlord", "son"),
    "item": ("TV", "smartphone", "laptop", "fridge", "sofa set", "motorbike", "gas cooker", "water tank"),
    "promo": ("Shinda Mamilioni", "Mega Jackpot", "Anniversary Bonanza", "Lucky Number", "Customer Appreciation"),
    "company": ("Tusker Logistics", "Kenya Ports Services", "Savanna Security Ltd", "Coastline Hotels", "Green Farms Ltd"),
    "payto": ("till number {till}", "Till No. {till}", "buy goods till {till}"),
}

"""Name pools for people, places and businesses in the simulated world (invented, generic)."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "John", "Mary", "Peter", "Grace", "James", "Faith", "Joseph", "Mercy", "David", "Esther", "Daniel",
    "Ann", "Samuel", "Jane", "Paul", "Lucy", "Stephen", "Caroline", "Brian", "Purity", "Kevin", "Joy",
    "Dennis", "Sharon", "Collins", "Winnie", "Felix", "Beatrice", "George", "Rose", "Moses", "Agnes",
    "Francis", "Nancy", "Patrick", "Eunice", "Victor", "Diana", "Geoffrey", "Irene", "Wanjiru", "Kamau",
    "Njeri", "Otieno", "Achieng", "Kiprono", "Chebet", "Wafula", "Nafula", "Mutua", "Mwende", "Omondi",
    "Akinyi", "Kipchoge", "Jepkoech", "Barasa", "Nekesa", "Mwangi", "Wambui", "Ouma", "Atieno", "Kibet",
    "Wanjiku", "Njoroge", "Adhiambo", "Cherono", "Mutiso", "Zawadi", "Baraka", "Amani", "Halima", "Hassan",
    "Fatuma", "Ali", "Mohamed", "Amina", "Abdi", "Salma", "Juma", "Rehema", "Bakari", "Neema", "Imani",
)
LAST_NAMES: tuple[str, ...] = (
    "Kamau", "Wanjiku", "Otieno", "Mwangi", "Njoroge", "Ochieng", "Kiprotich", "Wafula", "Mutua", "Omondi",
    "Kariuki", "Onyango", "Chege", "Kimani", "Maina", "Odhiambo", "Kipkemboi", "Barasa", "Wekesa", "Musyoka",
    "Nyaga", "Ndungu", "Kiplagat", "Rotich", "Korir", "Juma", "Hassan", "Abdi", "Mohamed", "Said", "Mwakio",
    "Mbugua", "Gitau", "Karanja", "Muthoni", "Owino", "Okoth", "Achieng", "Simiyu", "Nyambura", "Kilonzo",
    "Mutiso", "Koech", "Langat", "Cheruiyot", "Macharia", "Waweru", "Githinji", "Ndirangu", "Obuya",
)
REGIONS: tuple[str, ...] = (
    "Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret", "Thika", "Nyeri", "Machakos", "Kakamega", "Garissa",
)
REGION_WEIGHTS: tuple[float, ...] = (0.30, 0.12, 0.09, 0.09, 0.08, 0.07, 0.07, 0.07, 0.07, 0.04)
PLACES: tuple[str, ...] = (
    "town", "stage", "the market", "church", "Gikomba", "Westlands", "CBD", "Kencom", "the office", "home",
    "shags", "mtaani", "Rongai", "Kasarani", "Umoja", "Kibera", "Githurai", "Ruiru", "Kitengela", "Ngong",
)
SHOP_WORDS: tuple[str, ...] = (
    "Baraka", "Neema", "Sunrise", "Greenleaf", "Jamii", "Upendo", "Tumaini", "Highway", "Faraja", "Bahati",
    "Amani", "Mwangaza", "Valley", "Summit", "Lakeview", "Kilele", "Riverside", "Uhuru", "Pamoja", "Zawadi",
)
SHOP_KINDS: tuple[str, ...] = (
    "Supermarket", "Hardware", "Chemist", "Butchery", "Wines", "Hotel", "Salon", "Electronics", "Boutique",
    "Mini Mart", "Petrol Station", "Bakery", "Cyber", "Agrovet", "Restaurant", "Shoe Store",
)
AGENT_KINDS: tuple[str, ...] = ("Agencies", "Communications", "Enterprises", "Shop", "Ventures", "Traders")
#: (name, median bill KES, sigma, fixed prices or ()) for each biller; the first sells airtime.
BILLERS: tuple[tuple[str, float, float, tuple[int, ...]], ...] = (
    ("AIRTIME", 100, 0.9, ()),
    ("POWER PREPAID", 900, 0.8, ()),
    ("POWER POSTPAID", 1_800, 0.7, ()),
    ("CITY WATER", 800, 0.6, ()),
    ("STARVIEW TV", 1_500, 0.0, (700, 1_050, 1_700, 2_500, 3_400)),
    ("HOMENET FIBRE", 3_000, 0.0, (2_999, 4_100, 6_299)),
    ("SCHOOL FEES", 12_000, 0.9, ()),
    ("HEALTH COVER", 500, 0.0, (500, 1_500)),
    ("LUCKYSTAKE BET", 120, 1.1, ()),
    ("SACCO LOANS", 4_000, 0.8, ()),
    ("GAS REFILL", 1_200, 0.2, ()),
    ("COUNTY PARKING", 200, 0.4, ()),
)
BANK_NAMES: tuple[str, ...] = (
    "Kilima Bank", "Savanna Bank", "Pwani Trust Bank", "Jumuia Bank", "Meridian Bank", "Tausi Bank",
    "Umoja Cooperative Bank", "Rift Bank", "Nyota Microfinance", "Highland Bank", "Bonde Bank", "Mto Bank",
)

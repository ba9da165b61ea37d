"""Invented name, place and business pools for generated SMS, by country.

Common given names and surnames of the region combined at random, generic business names; no
person, number or business taken from a real message.
"""

from __future__ import annotations

FIRST: dict[str, tuple[str, ...]] = {
    "KE": ("John", "Mary", "Peter", "Grace", "James", "Faith", "Joseph", "Mercy", "Brian", "Purity", "Kevin", "Joy",
           "Dennis", "Sharon", "Collins", "Winnie", "Wanjiru", "Kamau", "Njeri", "Otieno", "Achieng", "Kiprono",
           "Chebet", "Wafula", "Nafula", "Mutua", "Mwende", "Omondi", "Akinyi", "Mwangi", "Wambui", "Kibet", "Halima",
           "Hassan", "Fatuma", "Amina", "Abdi", "Stella", "Eunice", "Victor", "Caroline", "Felix", "Nelly"),
    "UG": ("Moses", "Sarah", "Ronald", "Esther", "Isaac", "Florence", "Denis", "Harriet", "Ivan", "Brenda", "Joel",
           "Patience", "Godfrey", "Agnes", "Samuel", "Prossy", "Emmanuel", "Rebecca", "Ssemakula", "Nakato", "Mukasa",
           "Nansubuga", "Okello", "Akello", "Kato", "Babirye", "Wasswa", "Namusoke", "Tumusiime", "Kyomuhendo",
           "Opio", "Auma", "Byaruhanga", "Nakimera", "Musoke", "Nalwanga"),
    "TZ": ("Juma", "Rehema", "Bakari", "Neema", "Imani", "Zawadi", "Baraka", "Amani", "Salma", "Said", "Mwanaidi",
           "Hamisi", "Upendo", "Faraji", "Tumaini", "Mussa", "Asha", "Rajabu", "Mwajuma", "Emmanuel", "Elia",
           "Happiness", "Godlisten", "Anna", "Joseph", "Khadija", "Ramadhani", "Saida", "Athumani", "Pendo"),
    "RW": ("Jean", "Claudine", "Eric", "Aline", "Patrick", "Diane", "Innocent", "Josiane", "Emmanuel", "Olivier",
           "Chantal", "Fabrice", "Yvonne", "Gilbert", "Solange", "Theoneste", "Vestine", "Jean Paul", "Divine"),
    "GH": ("Kwame", "Ama", "Kofi", "Akosua", "Yaw", "Abena", "Kwabena", "Efua", "Kojo", "Adwoa", "Emmanuel", "Grace",
           "Samuel", "Mercy", "Isaac", "Priscilla", "Daniel", "Gifty"),
    "ZM": ("Mwila", "Chanda", "Bwalya", "Mutale", "Mulenga", "Natasha", "Chilufya", "Mwansa", "Joseph", "Memory",
           "Kelvin", "Precious", "Brian", "Esther", "Lweendo", "Musonda"),
    "MW": ("Chikondi", "Kondwani", "Thokozani", "Limbani", "Tiwonge", "Chisomo", "Madalitso", "Yamikani", "Grace",
           "James", "Mphatso", "Chimwemwe", "Dalitso", "Lusungu"),
    "CM": ("Jean", "Marie", "Paul", "Sandrine", "Blaise", "Clarisse", "Hervé", "Mireille", "Serge", "Brigitte",
           "Alain", "Nadège", "Rodrigue", "Estelle", "Franck", "Carine"),
}
LAST: dict[str, tuple[str, ...]] = {
    "KE": ("Kamau", "Otieno", "Mwangi", "Njoroge", "Ochieng", "Kiprotich", "Wafula", "Mutua", "Omondi", "Kariuki",
           "Onyango", "Chege", "Kimani", "Maina", "Odhiambo", "Barasa", "Wekesa", "Musyoka", "Ndungu", "Rotich",
           "Korir", "Hassan", "Abdi", "Mbugua", "Gitau", "Karanja", "Owino", "Okoth", "Simiyu", "Kilonzo", "Langat"),
    "UG": ("Mugisha", "Nsubuga", "Okello", "Ssempala", "Tumwine", "Kizza", "Namutebi", "Byamukama", "Lubega",
           "Kaggwa", "Mwesigwa", "Atuhaire", "Ochieng", "Kasozi", "Nakayiza", "Mukiibi", "Ssali", "Ainembabazi",
           "Kabuye", "Wandera", "Odongo", "Birungi", "Katende", "Asiimwe"),
    "TZ": ("Mushi", "Mollel", "Massawe", "Kimaro", "Mwakyusa", "Juma", "Hassan", "Mbwana", "Swai", "Lyimo",
           "Shayo", "Mwita", "Komba", "Kiwelu", "Ngowi", "Mrema", "Mfinanga", "Kessy", "Chacha", "Magesa"),
    "RW": ("Uwimana", "Niyonzima", "Mukamana", "Habimana", "Uwase", "Nshimiyimana", "Mugabo", "Ingabire",
           "Nsengiyumva", "Mutoni", "Hakizimana", "Umutoni", "Twagirayezu"),
    "GH": ("Mensah", "Owusu", "Boateng", "Asante", "Osei", "Appiah", "Agyeman", "Darko", "Addo", "Amoah", "Ofori"),
    "ZM": ("Banda", "Phiri", "Mwale", "Tembo", "Zulu", "Mulenga", "Chileshe", "Sakala", "Lungu", "Mumba"),
    "MW": ("Banda", "Phiri", "Mwale", "Chirwa", "Kumwenda", "Nyirenda", "Mhango", "Gondwe", "Kachale", "Msiska"),
    "CM": ("Ngono", "Mbarga", "Atangana", "Fouda", "Ndongo", "Essomba", "Tchoupo", "Kamga", "Nkwenti", "Biya"),
}
SHOP_WORDS = ("Baraka", "Neema", "Sunrise", "Greenleaf", "Jamii", "Upendo", "Tumaini", "Highway", "Faraja", "Bahati",
              "Amani", "Mwangaza", "Valley", "Summit", "Lakeview", "Kilele", "Riverside", "Pamoja", "Zawadi", "Hope",
              "Victory", "Grace", "Unity", "Star", "Golden", "Smart", "Prime", "Royal", "City", "Express")
SHOP_KINDS = ("Supermarket", "Hardware", "Chemist", "Pharmacy", "Butchery", "Wines", "Hotel", "Salon", "Electronics",
              "Boutique", "Mini Mart", "Petrol Station", "Bakery", "Cyber", "Agrovet", "Restaurant", "Shop", "Stores")
AGENT_KINDS = ("Agencies", "Communications", "Enterprises", "Shop", "Ventures", "Traders", "General Merchants",
               "Mobile Money", "Investments")
BILLERS: dict[str, tuple[str, ...]] = {
    "KE": ("KPLC PREPAID", "KPLC POSTPAID", "NAIROBI WATER", "DSTV", "GOTV", "ZUKU", "SAFARICOM HOME", "NHIF",
           "KRA", "STARTIMES", "JTL FAIBA", "SCHOOL FEES ACC"),
    "UG": ("UMEME YAKA", "NWSC", "DSTV", "GOTV", "STARTIMES", "URA", "KCCA", "ZUKU", "SCHOOL PAY"),
    "TZ": ("LUKU", "DAWASA", "AZAM TV", "DSTV", "STARTIMES", "TRA", "GEPG", "TANESCO"),
    "RW": ("REG CASHPOWER", "WASAC", "CANAL+", "STARTIMES", "RRA", "IREMBO"),
    "GH": ("ECG PREPAID", "GHANA WATER", "DSTV", "GOTV", "GRA"),
    "ZM": ("ZESCO", "LWSC", "DSTV", "GOTV", "ZRA"),
    "MW": ("ESCOM", "BWB", "DSTV", "GOTV", "MRA"),
    "CM": ("ENEO", "CAMWATER", "CANAL+", "STARTIMES", "DGI"),
}
BANKS: dict[str, tuple[str, ...]] = {
    "KE": ("EQUITY BANK", "KCB", "CO-OP BANK", "NCBA", "ABSA", "STANBIC", "FAMILY BANK", "I&M BANK", "DTB"),
    "UG": ("STANBIC BANK", "CENTENARY BANK", "DFCU", "ABSA", "EQUITY BANK", "BANK OF AFRICA", "POSTBANK"),
    "TZ": ("CRDB", "NMB", "NBC", "EQUITY BANK", "EXIM BANK", "AZANIA BANK"),
    "RW": ("BANK OF KIGALI", "EQUITY BANK", "I&M BANK", "ECOBANK", "BPR"),
    "GH": ("GCB BANK", "ECOBANK", "FIDELITY BANK", "ABSA", "STANBIC"),
    "ZM": ("ZANACO", "STANBIC", "FNB", "ABSA", "ATLAS MARA"),
    "MW": ("NATIONAL BANK", "STANDARD BANK", "NBS BANK", "FDH BANK"),
    "CM": ("AFRILAND", "SGC", "UBA", "ECOBANK", "BICEC"),
}
TOWNS: dict[str, tuple[str, ...]] = {
    "KE": ("Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret", "Thika", "Nyeri", "Machakos", "Kakamega", "Kitengela",
           "Ruiru", "Rongai", "Githurai", "Kasarani", "Umoja", "Ngong"),
    "UG": ("Kampala", "Wakiso", "Mukono", "Entebbe", "Jinja", "Mbarara", "Gulu", "Masaka", "Ntinda", "Kireka",
           "Nansana", "Kawempe", "Lira", "Mbale"),
    "TZ": ("Dar es Salaam", "Arusha", "Mwanza", "Dodoma", "Moshi", "Mbeya", "Morogoro", "Tanga", "Kariakoo",
           "Mbezi", "Sinza", "Kimara", "Tegeta"),
    "RW": ("Kigali", "Remera", "Kimironko", "Nyamirambo", "Musanze", "Huye", "Rubavu", "Kicukiro"),
    "GH": ("Accra", "Kumasi", "Tema", "Madina", "Kasoa", "Takoradi"),
    "ZM": ("Lusaka", "Kitwe", "Ndola", "Chipata", "Matero", "Kabwata"),
    "MW": ("Lilongwe", "Blantyre", "Mzuzu", "Zomba", "Area 25", "Limbe"),
    "CM": ("Douala", "Yaoundé", "Bafoussam", "Bamenda", "Akwa", "Bonamoussadi"),
}
#: Country calling code, national trunk digit and the leading digits of mobile numbers.
PHONES: dict[str, tuple[str, tuple[str, ...]]] = {
    "KE": ("254", ("70", "71", "72", "74", "79", "11", "10", "73", "75", "78", "76", "77")),
    "UG": ("256", ("77", "78", "76", "70", "75", "74", "79")),
    "TZ": ("255", ("75", "76", "74", "65", "67", "71", "68", "69", "62", "78")),
    "RW": ("250", ("78", "79", "72", "73")),
    "GH": ("233", ("24", "54", "55", "20", "50", "26", "27")),
    "ZM": ("260", ("96", "76", "97", "77", "95")),
    "MW": ("265", ("99", "88", "98", "89")),
    "CM": ("237", ("67", "65", "68", "69", "66")),
}

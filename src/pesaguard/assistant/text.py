"""Text helpers shared by retrieval, answers and triage: tokens, sentences, language.

Language detection is a stopword-overlap vote between English and Swahili. Why not a language-ID
model: the assistant only ever has to choose between these two languages, the texts are short
(a question, an SMS), and function words separate them almost perfectly ("the, is, to, my" versus
"na, ya, kwa, wa, kwenye"); a model would add a dependency and latency for no gain. Mixed
"Sheng"/code-switched text is decided by whichever side has more function words, defaulting to
English on a tie.

>>> detect_language("Nimetumiwa pesa kimakosa, nifanye nini?")
'sw'
>>> detect_language("Someone sent me money by mistake, what do I do?")
'en'
>>> tokens("Don't share your PIN!")
['share', 'pin']
>>> tokens("escalated to the regulator")
['escal', 'regul']
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

EN_STOPWORDS = frozenset(
    ["a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "don", "dont", "don't", "for", "from", "had", "has", "have", "having", "he", "her", "here", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "i'm", "i've", "it's", "what's"]
)

SW_STOPWORDS = frozenset(
    ["na", "ya", "wa", "kwa", "za", "la", "cha", "vya", "kwenye", "katika", "ni", "si", "au", "lakini", "pia", "hii", "hiyo", "hizi", "hizo", "huu", "huo", "ile", "yule", "wale", "hapa", "pale", "kama", "kwamba", "ili", "hata", "tu", "sana", "bado", "tena", "mimi", "wewe", "yeye", "sisi", "ninyi", "wao", "yangu", "yako", "yake", "yetu", "yenu", "yao", "wangu", "wako", "wake", "zangu", "zako", "zake", "changu", "chako", "lini", "nini", "nani", "gani", "je", "jinsi", "vipi", "kuna", "kulikuwa", "ndiyo", "hapana", "mpaka", "hadi", "baada", "kabla", "kuhusu", "bila", "ndani", "juu", "chini", "tangu", "kwamba", "nami", "nawe", "naye", "nao", "huyu", "hawa",
     # the modal "can" (English "can" is a stopword too): its root matched any block titled "Ninaweza ...?"
     "naweza", "ninaweza", "unaweza", "anaweza", "tunaweza", "wanaweza", "inaweza", "nitaweza", "inawezekana"]
)

# Sheng function words and discourse markers: Swahili-side evidence for language detection only.
SHENG_MARKERS = frozenset(
    ["aje", "ama", "eti", "alafu", "halafu", "kwani", "venye", "vile", "sai", "saa", "niko", "uko", "ako", "iko",
     "tuko", "bana", "msee", "mse", "buda", "maze", "manze", "sasa", "ndio", "ndo", "nimeshinda", "ebu", "nikuje",
     "wacha", "kuna", "hii", "ile", "nini", "ni", "imekuja", "fiti", "poa", "mbaya"]
)

# Sheng fillers carry no topic: left out of content tokens like stopwords.
SHENG_FILLERS = frozenset(["eti", "ama", "aje", "bana", "maze", "manze", "alafu", "halafu", "kwani", "venye", "sai",
                           "ndio", "ndo", "ebu", "wacha", "pls", "plz"])

# Sheng, slang and frequent misspellings -> the words the articles use (both languages), for BM25.
EXPANSIONS: dict[str, tuple[str, ...]] = {
    "doo": ("pesa", "money"), "doh": ("pesa", "money"), "mkwanja": ("pesa", "money"), "ganji": ("pesa", "money"),
    "mulla": ("pesa", "money"), "chapaa": ("pesa", "money"), "munde": ("pesa", "money"), "mbeca": ("pesa", "money"),
    "pesa": ("money",), "cash": ("money", "pesa"), "mpesa": ("mobile", "money", "pesa"),
    "m-pesa": ("mobile", "money", "pesa"), "recieve": ("receive",), "recieved": ("received",),
    "recived": ("received",), "receved": ("received",), "mistakenly": ("mistake",), "wrongly": ("mistake", "wrong"),
    "conman": ("scammer", "tapeli"), "conmen": ("scammer", "tapeli"), "conned": ("scammed", "tapeliwa"),
    "kuconiwa": ("tapeliwa", "scammed"), "nimechezewa": ("nimetapeliwa", "scammed"),
    "wamenikula": ("nimetapeliwa", "scammed"), "nimekulwa": ("nimetapeliwa", "scammed"),
    "msee": ("mtu", "person"), "mse": ("mtu", "person"), "jamaa": ("mtu", "person"), "buda": ("mtu", "person"),
    "swap": ("swap", "badilishwa"), "wameswap": ("swap", "badilishwa"), "imeswapiwa": ("swap", "badilishwa"),
    "network": ("mtandao",), "line": ("laini",), "laini": ("line", "sim"), "imekufa": ("haifanyi", "dead"),
    "nimewin": ("nimeshinda", "won", "prize"), "win": ("won", "prize"), "promo": ("promotion", "prize"),
    "loan": ("mkopo",), "mkopo": ("loan",), "betting": ("bet", "kamari"), "tips": ("bet", "betting"),
    "agent": ("wakala",), "wakala": ("agent",), "care": ("huduma", "wateja"), "kuripoti": ("ripoti", "report"),
    "ameniitisha": ("ameniomba", "asked"), "ananiitisha": ("ananiomba", "asking"),
    "nirudishe": ("rudisha", "back"), "nimrudishie": ("rudisha", "back"), "refund": ("back", "reverse"),
    "pls": ("please",), "plz": ("please",), "somone": ("someone",), "sombody": ("somebody",),
    "mpessa": ("mpesa", "pesa"), "numba": ("namba", "number"), "namba": ("number",),
    # English verbs with Swahili affixes (code-switching), and Sheng for theft, charges and jobs
    "nimesend": ("nimetuma", "tuma", "sent"), "nilisend": ("nilituma", "tuma", "sent"),
    "amenisendia": ("amenitumia", "tuma", "sent"), "nimemsendia": ("nimemtumia", "tuma", "sent"),
    "kusend": ("kutuma", "tuma", "send"), "kureverse": ("rudisha", "reverse"), "ireverse": ("rudisha", "reverse"),
    "kuwithdraw": ("kutoa", "withdraw"), "kuwidraw": ("kutoa", "withdraw"), "kudeposit": ("kuweka", "deposit"),
    "chaji": ("ada", "tozo", "charge"), "nimechezwa": ("nimetapeliwa", "scammed"),
    "imenyakuliwa": ("imeibiwa", "stolen"), "wamenyakua": ("imeibiwa", "stolen"), "mwizi": ("imeibiwa", "stolen"),
    "wezi": ("imeibiwa", "stolen"), "imeblock": ("imefungwa", "locked"), "imeblockiwa": ("imefungwa", "locked"),
    "custo": ("huduma", "wateja", "customer", "care"), "wera": ("kazi", "job"),
    "kuchange": ("kubadilisha", "badilisha", "change"), "nichange": ("nibadilishe", "badilisha", "change"),
}

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9À-Ý])")


def normalise(text: str) -> str:
    """NFKC, lower case, typographic quotes straightened."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return text.lower()


def words(text: str) -> list[str]:
    """Lower-cased word tokens, stopwords kept."""
    return _WORD.findall(normalise(text))


# Swahili verbs carry subject, tense and object prefixes ("ni-li-ku-tumia", "a-me-ni-omba"): the root
# is what two phrasings of one question share. Conservative: a tense marker must be present (or the
# infinitive "ku"), and the root left must have four letters or more.
_SW_VERB = re.compile(r"^(?:(?:hatu|hawa|ni|u|a|tu|m|wa|ha|hu|si)?(?:mesha|lisha|taka|nge|sha|li|na|me|ta|ka)"
                      r"(?:mw|ni|ku|m|wa|zi|i|tu|ji|ki|li|ya|u)?|ku|ha|si)([a-z]{4,})$")
_SW_SUBJUNCTIVE = re.compile(r"^(?:ni|u|a|tu|m|wa)(?:si)?(?:mw|m|wa|zi|ku|ni)?([a-z]{3,}e)$")


def sw_root(word: str) -> str | None:
    """The root of an inflected Swahili verb, or None (subjunctive -e read as -a).

    >>> sw_root("nilikosea"), sw_root("nimeshazituma"), sw_root("nirudishe"), sw_root("kutuma"), sw_root("pesa")
    ('kosea', 'tuma', 'rudisha', 'tuma', None)
    >>> sw_root("nitailindaje")
    'linda'

    """
    if word.endswith("je") and len(word) > 7:  # the "how" enclitic: nitailindaje -> nitailinda
        word = word[:-2]
    m = _SW_VERB.match(word) or _SW_SUBJUNCTIVE.match(word)
    if m is None or len(word) < 6:
        return None
    root = m.group(1)
    return root[:-1] + "a" if root.endswith("e") and len(root) >= 5 else root


_stemmer_local = threading.local()  # snowball stemmers keep state: one per thread


@lru_cache(maxsize=1 << 16)
def _stem(w: str) -> str:
    """The English Snowball (Porter2) stem; Swahili words pass mostly unchanged (they end in vowels
    the English rules leave alone) and both sides of a match are stemmed alike. Swahili roots are
    added by :func:`sw_root` as a second token. Cached: the stemmer is pure Python (about 10 us a
    word) and a knowledge base repeats its words."""
    st = getattr(_stemmer_local, "s", None)
    if st is None:
        st = _stemmer_local.s = snowballstemmer.stemmer("english")
    return str(st.stemWord(w)) if len(w) > 3 and not w.isdigit() else w


def tokens(text: str) -> list[str]:
    """Content tokens for BM25 and overlap checks: no stopwords (either language), light stemming."""
    out = []
    for w in words(text):
        if w in EN_STOPWORDS or w in SW_STOPWORDS or w in SHENG_FILLERS:
            continue
        w = w.replace("'", "")
        if len(w) < 2 and not w.isdigit():
            continue
        out.append(_stem(w))
    return out


def search_tokens(text: str) -> list[str]:
    """:func:`tokens` plus the roots of inflected Swahili verbs (what BM25 indexes and searches).

    >>> search_tokens("nilikosea namba")
    ['nilikosea', 'kosea', 'namba']
    """
    out = []
    for t in tokens(text):
        out.append(t)
        root = sw_root(t)
        if root is not None and root != t:
            out.append(root)
    return out


def token_variants(text: str) -> list[set[str]]:
    """Per content token of ``text``: the token, its Swahili root and its expansions (Sheng, slang,
    misspellings) -- any of which found in a passage means the passage has that word."""
    out = []
    for w in words(text):
        base = tokens(w)
        if not base or base[0].isdigit():  # amounts say nothing about the topic
            continue
        t = base[0]
        group = {t, *(_stem(e) for e in EXPANSIONS.get(w, ()))}
        root = sw_root(t)
        if root is not None:
            group.add(root)
        out.append(group)
    return out


def query_tokens(text: str) -> list[str]:
    """:func:`tokens` of a question plus the standard words of its Sheng, slang and misspellings.

    >>> query_tokens("msee ametuma doo")
    ['msee', 'ametuma', 'tuma', 'doo', 'mtu', 'person', 'pesa', 'money']
    """
    base = search_tokens(text)
    extra = [e for w in words(text) for e in EXPANSIONS.get(w, ())]
    return base + [_stem(e) for e in extra if _stem(e) not in base]


def detect_language(text: str, default: str = "en") -> str:
    """``'sw'`` or ``'en'`` by counting each language's function words (see the module docstring)."""
    ws = words(text)
    sw = sum(w in SW_STOPWORDS or w in SHENG_MARKERS for w in ws)
    en = sum(w in EN_STOPWORDS for w in ws)
    if sw == en:
        # Few function words: fall back on Swahili morphology (verb prefixes like ni-me-, u-na-,
        # and the -wa/-ia endings) versus English letters that Swahili spelling never uses.
        sw += sum(bool(re.match(r"^(ni|u|a|tu|m|wa|ha|hu|ki)(me|na|li|ta|ka)\w{3,}", w)) for w in ws)
        en += sum(bool(re.search(r"[qx]|th|sh$|ck", w)) for w in ws)
    if sw == en:
        # Still undecided: Swahili words end in a vowel, most English content words do not.
        long = [w for w in ws if len(w) >= 3 and w.isalpha()]
        if long:
            vowel_end = sum(w[-1] in "aeiou" for w in long) / len(long)
            sw, en = (1, 0) if vowel_end >= 0.8 else (0, 1) if vowel_end <= 0.5 else (sw, en)
    if sw > en:
        return "sw"
    if en > sw:
        return "en"
    return default


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences at ., ! or ? followed by a capital or digit.

    >>> split_sentences("Call customer care. Do not send money! Why? Because.")
    ['Call customer care.', 'Do not send money!', 'Why?', 'Because.']
    """
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        if not para:
            continue
        out.extend(s.strip() for s in _SENT_END.split(para) if s.strip())
    return out


def numbers(text: str) -> set[str]:
    """The numbers written in ``text`` (digits only, separators removed)."""
    return {m.replace(",", "") for m in re.findall(r"\d[\d,]*", text)}


# Who moved the money: "I sent it to the wrong number" and "he says he sent it to me by mistake" share
# nearly every word and embed alike (cosine 0.93 to both kinds of question), yet need opposite advice.
_SENT = re.compile(r"\b(i (have |had |just )?(sent|paid|transferred|typed|keyed|mistyped)|i made a mistake|"
                   r"my (mistaken )?(transfer|payment)|sent (money|cash|it) to (the )?wrong|nimetuma|nilituma|nilikosea|"
                   r"nimekosea|nimemtumia|nilimtumia|nilimlipa|niliotuma|nimetuma)\b")
_RECEIVED = re.compile(r"\b(sent (it |money |cash |the money )?(to )?me|paid me|to my (number|line|account)|"
                       r"i (got|received|recieved)|(someone|somebody|stranger|he|she|they|caller|man|woman|lady|guy) "
                       r"(says?|claims?|said|claimed)|amenitumia|alinitumia|nimetumiwa|nimepokea|ananiomba|nimrudishie|"
                       r"nizirudishe|amenipigia|wants? (it|the money|them|money) back)\b")


# Whether the customer already acted ("I gave him my PIN", "tayari nimelipa") or is being asked to
# ("he wants my PIN"): the same topic, the next piece of advice.
_DONE = re.compile(r"\b(already|i (told|gave|shared|revealed|read out|paid|sent back|returned)|i have (told|given|shared|paid)|"
                   r"tayari|nimesha\w+|nilisha\w+|nilimwambia|nimemwambia|nimempa|nilimpa|nimetoa|nilitoa|nimelipa|"
                   r"nililipa|nilimsomea)\b")
_ASKED = re.compile(r"\b(asks?|asking|asked me|wants?|demands?|requests?|ananiomba|anataka|ameniomba|wananiomba|"
                    r"wanataka|ananiitisha|ameniitisha)\b")


def stage(text: str) -> str | None:
    """``"done"`` (the writer already gave or paid), ``"asked"`` (someone is asking) or None.

    >>> stage("I told someone my PIN, what now?"), stage("A caller wants my PIN"), stage("PIN tips")
    ('done', 'asked', None)
    """
    t = normalise(text)
    done, asked = bool(_DONE.search(t)), bool(_ASKED.search(t))
    return "done" if done and not asked else "asked" if asked and not done else None


def direction(text: str) -> str | None:
    """``"sent"`` (the writer paid someone), ``"received"`` (someone paid, or says they paid, the
    writer) or None when the text says neither or both.

    >>> direction("I sent money to the wrong number"), direction("A man says he sent it to me by mistake")
    ('sent', 'received')
    """
    t = normalise(text)
    sent, received = bool(_SENT.search(t)), bool(_RECEIVED.search(t))
    return "sent" if sent and not received else "received" if received and not sent else None

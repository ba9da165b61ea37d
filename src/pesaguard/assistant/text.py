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
"""

from __future__ import annotations

import re
import unicodedata

EN_STOPWORDS = frozenset(
    ["a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "don", "dont", "don't", "for", "from", "had", "has", "have", "having", "he", "her", "here", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "i'm", "i've", "it's", "what's"]
)

SW_STOPWORDS = frozenset(
    ["na", "ya", "wa", "kwa", "za", "la", "cha", "vya", "kwenye", "katika", "ni", "si", "au", "lakini", "pia", "hii", "hiyo", "hizi", "hizo", "huu", "huo", "ile", "yule", "wale", "hapa", "pale", "kama", "kwamba", "ili", "hata", "tu", "sana", "bado", "tena", "mimi", "wewe", "yeye", "sisi", "ninyi", "wao", "yangu", "yako", "yake", "yetu", "yenu", "yao", "wangu", "wako", "wake", "zangu", "zako", "zake", "changu", "chako", "lini", "nini", "nani", "gani", "je", "jinsi", "vipi", "kuna", "kulikuwa", "ndiyo", "hapana", "mpaka", "hadi", "baada", "kabla", "kuhusu", "bila", "ndani", "juu", "chini", "tangu", "kwamba", "nami", "nawe", "naye", "nao", "huyu", "hawa"]
)

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9À-Ý])")


def normalise(text: str) -> str:
    """NFKC, lower case, typographic quotes straightened."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return text.lower()


def words(text: str) -> list[str]:
    """Lower-cased word tokens, stopwords kept."""
    return _WORD.findall(normalise(text))


def _stem(w: str) -> str:
    # A light English plural/verb suffix strip; Swahili inflects with prefixes that the dense
    # model handles, so BM25 keeps Swahili words whole.
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("ing"):
        return w[:-3]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def tokens(text: str) -> list[str]:
    """Content tokens for BM25 and overlap checks: no stopwords (either language), light stemming."""
    out = []
    for w in words(text):
        if w in EN_STOPWORDS or w in SW_STOPWORDS:
            continue
        w = w.replace("'", "")
        if len(w) < 2 and not w.isdigit():
            continue
        out.append(_stem(w))
    return out


def detect_language(text: str, default: str = "en") -> str:
    """``'sw'`` or ``'en'`` by counting each language's function words (see the module docstring)."""
    ws = words(text)
    sw = sum(w in SW_STOPWORDS for w in ws)
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

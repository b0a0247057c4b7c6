"""From a text to the terms the triage model weighs: NLTK tokenisation, negation scope,
Russian lemmas (pymorphy3) and English stems (NLTK's Porter stemmer), plus cue words
shared by both languages.

Every term is a plain string; the trained vocabulary (scoring_service.triage_v2.model)
maps terms to columns. Per-word work (lemma, stem) is memoised: a complaint stream
repeats the same few thousand words, and pymorphy3 takes ~90 µs to parse a word cold.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

from nltk.stem.porter import PorterStemmer
from nltk.tokenize import RegexpTokenizer

# Words (with inner apostrophes and hyphens: "isn't", "что-то"), runs of ! or ?, and
# the punctuation that ends a negation's scope.
_tokenizer = RegexpTokenizer(r"\w+(?:['’\-]\w+)*|[!?]+|[.,;:()]")
_stemmer = PorterStemmer()

# TweetTokenizer-style guard: no word is longer than this; a longer run without spaces
# (a pasted hash, "aaaa...") is cut so that the cost stays linear in the text.
MAX_TOKEN_CHARS = 64
# A negation reaches this many words forward, or to the next punctuation mark.
NEGATION_SCOPE = 3
NEGATIONS = frozenset("""not no never nothing nobody none nowhere neither nor cannot cant dont doesnt didnt
    isnt wasnt arent werent wont wouldnt couldnt shouldnt havent hasnt hadnt aint without
    не нет ни никогда ничего никто нигде никак ничем без""".split())
SCOPE_ENDS = frozenset(".,;:()!?")
MEMO_LIMIT = 200_000


_LONG_RUN = re.compile(rf"\S{{{MAX_TOKEN_CHARS + 1}}}")


def has_long_run(text: str) -> bool:
    """Whether `text` has a run without spaces longer than a token may be."""
    return _LONG_RUN.search(text) is not None


def tokens(text: str) -> list[str]:
    """Lower-case NLTK tokens of `text`."""
    if has_long_run(text):
        text = " ".join(run[i:i + MAX_TOKEN_CHARS] for run in text.split() for i in range(0, len(run), MAX_TOKEN_CHARS))
    return _tokenizer.tokenize(text.lower().replace("ё", "е"))


class Memo:
    """A bounded memo of one word -> what `compute` makes of it (a lemma, a stem, the
    term strings); cleared, not evicted, past its limit."""

    def __init__(self, compute, limit: int = MEMO_LIMIT):
        self.compute = compute
        self.limit = limit
        self.table: dict = {}

    def __call__(self, word: str):
        found = self.table.get(word)
        if found is None:
            if len(self.table) >= self.limit:
                self.table.clear()
            found = self.table[word] = self.compute(word)
        return found


@cache
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def _lemma_ru(word: str) -> str:
    if not any("а" <= ch <= "я" for ch in word):
        return word
    return _morph().parse(word)[0].normal_form.replace("ё", "е")


def _stem_en(word: str) -> str:
    return _stemmer.stem(word) if word.isascii() and word.isalpha() else word


lemma_ru = Memo(_lemma_ru)
stem_en = Memo(_stem_en)


def base_forms(words: Sequence[str], lang: str) -> list[str]:
    """Lemma (Russian) or stem (English) of every token; punctuation stays as it is."""
    base = lemma_ru if lang == "ru" else stem_en
    known = base.table  # the memo read inline: this runs for every word of every text
    return [w if w in SCOPE_ENDS or not w[0].isalnum() else (known.get(w) or base(w)) for w in words]


# Cue words (English stems, Russian lemmas) of each complaint category. They become the
# language-independent terms "cue:<category>", so what the category model learns from
# English labelled complaints also reaches Russian text.
CATEGORY_CUES: Mapping[str, frozenset[str]] = {
    "billing": frozenset("""charg bill invoic refund payment paid pay fee price overcharg debit discount receipt
        vat money cost instal interest credit statement overdraft subscript
        деньги платеж оплата оплатить заплатить списать списание счет возврат вернуть стоимость цена комиссия
        тариф кредит переплата чек сумма рубль руб штраф""".split()),
    "delivery": frozenset("""deliv deliveri parcel packag courier driver track arriv ship dispatch depot
        redeliveri collect van postman flight delay luggag bag
        доставка доставить курьер посылка заказ привезти прийти отправка отправить трек пункт пвз выдача
        почта срок задержка багаж""".split()),
    "product_quality": frozenset("""broke broken fault faulti defect qualiti crack leak melt mould rip snap batteri
        screen materi stop shrank flicker scratch peel buzz work
        брак сломаться сломать качество трещина дефект протекать порваться работать экран батарея
        бракованный гнилой испорченный невкусный""".split()),
    "staff_service": frozenset("""rude staff agent manag hold servic unprofession assist advis engin technician
        desk repli support receptionist fitter guard shout call attend
        хамство хамить грубый сотрудник менеджер оператор консультант поддержка ответ персонал кассир
        обслуживание вежливый""".split()),
    "account_security": frozenset("""login log password hack lock verif code data privaci secur ident phish usernam
        breach devic account
        пароль вход аккаунт учетный взлом взломать блокировка заблокировать код данные личный кабинет
        безопасность мошенник""".split()),
}
CUE_OF: dict[str, str] = {word: cat for cat, words in CATEGORY_CUES.items() for word in words}


# Per word and per base form, the strings of its terms, made once: formatting them for
# every word of every text cost a third of `terms`. Bounded like the other memos.
def is_negation(word: str) -> bool:
    """A negation word ("not", "нет") or a contraction of one ("isn't")."""
    return word in NEGATIONS or word.endswith(("n't", "n’t"))


def _word_terms(word: str) -> tuple[str, str, bool]:
    """(w:, w:NEG_, whether the word is a negation)."""
    return f"w:{word}", f"w:NEG_{word}", is_negation(word)


def _base_terms(root: str) -> tuple[str, str, str | None]:
    """(b:, b:NEG_, cue: or None)."""
    cue = CUE_OF.get(root)
    return f"b:{root}", f"b:NEG_{root}", None if cue is None else f"cue:{cue}"


word_terms = Memo(_word_terms)
base_terms = Memo(_base_terms)


def terms(words: Sequence[str], base: Sequence[str]) -> list[str]:
    """The model's terms for one text (repeats removed, first-seen order).

    - `w:<word>`: the token, `w:NEG_<word>` inside a negation's scope ("not arrived");
    - `b:<base>`: its lemma or stem, negation-marked the same way;
    - `p:<w1> <w2>`: adjacent tokens ("still not", "не привезли");
    - `cue:<category>`: a cue word of a category (language-independent);
    - `!` / `?`: an exclamation or question mark.
    """
    out: dict[str, None] = {}
    scope = 0
    previous: str | None = None
    # The memos read inline, as in base_forms: this runs for every word of every text.
    word_memo, base_memo = word_terms.table.get, base_terms.table.get
    for word, root in zip(words, base):
        first = word[0]
        if first == "!" or first == "?":
            out[first] = None
            scope = 0
            previous = None
            continue
        if word in SCOPE_ENDS:
            scope = 0
            previous = None
            continue
        plain, negated, is_negation = word_memo(word) or word_terms(word)
        base_plain, base_negated, cue = base_memo(root) or base_terms(root)
        if is_negation:
            out[plain] = None
            scope = NEGATION_SCOPE
        elif scope:
            out[negated] = None
            if root != word:
                out[base_negated] = None
            scope -= 1
        else:
            out[plain] = None
            if root != word:
                out[base_plain] = None
        if cue is not None:
            out[cue] = None
        if previous is not None:
            out[f"p:{previous} {word}"] = None
        previous = word
    return list(out)


def readable(term: str) -> str:
    """A term as staff read it in an explanation: "not arrived", "still not", "refund"."""
    kind, _, rest = term.partition(":")
    if not rest:
        return {"!": "exclamation mark", "?": "question mark"}.get(term, term)
    if kind == "cue":
        return f"{rest} words"
    return rest.replace("NEG_", "not ") if rest.startswith("NEG_") else rest


# Function words carry weight in the models ("my", "не") but explain nothing to staff.
# scikit-learn's English stop-word list, and the commonest Russian function words.
_RUSSIAN_FUNCTION_WORDS = frozenset("""и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по
    только ее мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до
    вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была
    сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом
    один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над
    больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше
    чуть том нельзя такой им более всегда конечно всю между это мой свой весь""".split())


@cache
def _english_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def shown_in_evidence(term: str) -> bool:
    kind, _, rest = term.partition(":")
    # Words and word pairs only: a lemma or stem ("деньга", "deliveri") repeats a word the
    # text has, less readably.
    if kind not in ("w", "p") or not rest:
        return False
    words = rest.removeprefix("NEG_").split(" ")
    stop = _english_stop_words()
    # A negation alone ("dont") says little; the pair it starts ("dont get") is shown instead.
    return not all(w in stop or w in _RUSSIAN_FUNCTION_WORDS or w in NEGATIONS or not w.isalpha() for w in words)

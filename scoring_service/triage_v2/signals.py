"""Severity signals with their evidence, in English and Russian, negation-aware.

English uses the phrase rules of `triage` 1.0 (scoring_service.triage.severity_signals),
so both versions agree on English evidence. Russian rules match lemmas (pymorphy3), so
one rule covers every case and verb form: "суд" matches "в суд", "судом", "суда";
"подать в суд" matches "подам в суд", "подала в суд". The evidence reported is the
customer's own words, not the lemmas.

A match does not count when a negation stands within four words before it ("в суд не
пойду" is caught by the words after it: "не собираюсь", "не буду", "не стану",
"не планирую", "не хочу"), as in "в суд подавать не собираюсь".
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from scoring_service.triage import SIGNAL_RULES as ENGLISH_RULES
from scoring_service.triage import severity_signals as english_signals
from scoring_service.triage_v2.anchors import AnchorTest, anchors, word_parts
from scoring_service.triage_v2.text import base_forms, has_long_run, tokens

SIGNALS = ("legal_threat", "safety_risk", "fraud", "cancel_intent", "repeated_contact")

# Over space-joined lemmas. Written from Russian consumer-law vocabulary (the consumer
# protection law "ЗоЗПП", the regulators Роспотребнадзор and the Central Bank) and the
# Russian development complaints (scoring_service/data/complaints_ru.tsv).
_CONTACT = (r"(писать|написать|звонить|позвонить|обращаться|обратиться|сообщать|сообщить|жаловаться"
            r"|пожаловаться|приходить|прийти|ездить|просить|попросить|спрашивать|объяснять|отправлять)")
_RU_PATTERNS: Mapping[str, str] = {
    "legal_threat": r"суд|судебный|судиться|иск|исковый|юрист|адвокат|прокуратура|прокурор|роспотребнадзор"
                    r"|цб|центробанк|центральный банк|банк россия|финансовый омбудсмен|омбудсмен|фас"
                    r"|роскомнадзор|полиция|заявление в полиция|защита право потребитель|зозпп"
                    r"|досудебный претензия|претензия|жалоба в \w+|подать жалоба|закон о защита",
    "safety_risk": r"пожар|загореться|гореть|возгорание|дым|дымиться|искра|искрить|взорваться|взрыв|ожог|обжечь"
                   r"|удар ток|ударить ток|током|оголенный провод|травма|травмировать|больница|скорая|отравиться"
                   r"|отравление|аллергия|аллергический|опасный|опасно|угроза жизнь|угроза здоровье|поранить"
                   r"|порезаться|задохнуться|подавиться|проглотить|осколок|плавиться|расплавиться|упасть"
                   r"|поскользнуться|растянуть|ушибить|рухнуть|чуть не (сбить|придавить|упасть|убить)",
    "fraud": r"мошенник|мошеннический|мошенничество|обман|обмануть|украсть|кража|похитить|взлом|взломать"
             r"|фишинг|фишинговый|поддельный|подделка|контрафакт|фальшивый|без мой ведома|без мой согласие"
             r"|не давать согласие|не (совершать|оформлять|заказывать|делать|брать|покупать)"
             r"|кто-то \w* ?(войти|зайти|оформить|списать|снять|заказать|расплачиваться|пользоваться)"
             r"|несанкционированный|утечь база|утечка|оформить кредит",
    "cancel_intent": r"отказаться от|отказ от услуга|расторгнуть|расторгать|расторжение|отписаться|отменить подписка"
                     r"|отключать подписка|отключить подписка|(закрыть|закрывать) (мой |все |его )?(счет|карта|аккаунт"
                     r"|договор|вклад|его)|(удалить|удалять) (мой )?(аккаунт|профиль|учетный)|(отменить|отменять) заказ"
                     r"|уйти к|уходить к|я уходить|перейти в|переходить в|перейти к|больше не (покупать|заказывать"
                     r"|пользоваться|обращаться|быть|платить)|платить больше не|больше ([^\s#]+ ){0,4}не (купить|заказать)"
                     r"|последний раз|никогда больше|завязывать",
    "repeated_contact": rf"{_CONTACT}( [^\s#]+){{0,3}} (дважды|трижды|неоднократно|многократно|несколько раз"
                        rf"|(два|три|четыре|пять|шесть|много|\d+) раз|в очередной раз|снова|опять|повторно)"
                        rf"|(дважды|трижды|неоднократно|уже|снова|опять|повторно)( [^\s#]+){{0,2}} {_CONTACT}"
                        r"|(второй|третий|четвертый|пятый|шестой|десятый|\d+-?й) (раз|обращение|письмо|звонок|неделя)"
                        r"|(два|три|четыре|пять|несколько) (обращение|письмо|звонок|разговор)"
                        r"|сколько можно|который раз|не первый раз|ни один ответ|никто (так )?(и )?не (взять|ответить)"
                        r"|день подряд|неделя подряд|раз за раз",
}
_RU_RULES: Mapping[str, re.Pattern] = {name: re.compile(rf"(?<!\S)(?:{p})(?!\S)") for name, p in _RU_PATTERNS.items()}
_RU_NEGATED_BEFORE = re.compile(r"(?:^|\s)(?:не|нет|ни|никогда|без)(?:\s[^\s#]+){0,3}\s$")
_RU_NEGATED_AFTER = re.compile(r"^(?:\s[^\s#]+){0,4}\s(?:не|нет)\s(?:собираться|быть|стать|планировать|хотеть|нужный"
                               r"|нужно|надо|думать|намереваться|иметь)(?:\s|$)")
# These rules contain a negation themselves ("не совершать"): the guard before them is
# the rule's own negation, so it is not applied.
_NEGATION_IN_RULE = frozenset({"fraud", "safety_risk", "repeated_contact"})


def russian_signals(text: str, names: Iterable[str] = SIGNALS) -> dict[str, list[str]]:
    # Punctuation stays in as "#": a negation's reach ends there ("ни духу. Отменяйте заказ").
    words = [w if w[0].isalnum() else "#" for w in tokens(text)]
    lemmas = base_forms(words, "ru")
    joined = " ".join(lemmas)
    # Character offset of every lemma in `joined`, to map a match back to the words.
    starts, pos = [], 0
    for lemma in lemmas:
        starts.append(pos)
        pos += len(lemma) + 1
    found: dict[str, list[str]] = {}
    for name in names:
        rule = _RU_RULES[name]
        evidence: list[str] = []
        for match in rule.finditer(joined):
            before, after = joined[:match.start()], joined[match.end():]
            if name not in _NEGATION_IN_RULE and _RU_NEGATED_BEFORE.search(before[-60:]):
                continue
            if _RU_NEGATED_AFTER.search(after[:80]):
                continue
            first = _index_at(starts, match.start())
            last = _index_at(starts, max(match.start(), match.end() - 1))
            phrase = " ".join(words[first:last + 1])
            if phrase not in evidence:
                evidence.append(phrase)
        if evidence:
            found[name] = evidence
    return found


def _index_at(starts: Sequence[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


# The words each rule's matches must contain (scoring_service.triage_v2.anchors): English rules run
# over the text, where a word ends at any non-word character; Russian ones over
# space-joined lemmas.
_ANCHORS = {
    "en": [AnchorTest(anchors(rule.pattern.removeprefix(r"\b(?:").removesuffix(r")\b"),
                              lambda ch: not (ch.isalnum() or ch == "_")))
           for rule in (ENGLISH_RULES[name] for name in SIGNALS)],
    "ru": [AnchorTest(anchors(_RU_PATTERNS[name], lambda ch: ch == " ")) for name in SIGNALS],
}
ALL_RULES = (1 << len(SIGNALS)) - 1


def signal_rule_mask(word: str, root: str, lang: str) -> int:
    """Bit i set: the token `word` (English: itself or a part of it; Russian: its lemma
    `root`, as russian_signals joins them) is an anchor of the rule of SIGNALS[i]. A text
    none of whose words sets a rule's bit cannot match that rule."""
    lemma = root if word[0].isalnum() else "#"
    mask = 0
    for bit, test in enumerate(_ANCHORS[lang]):
        if any(test(part) for part in word_parts(word)) if lang == "en" else test(lemma):
            mask |= 1 << bit
    return mask


def rule_mask(text: str, words: Sequence[str], base: Sequence[str], lang: str) -> int:
    """The rules that may fire on `text`, from its tokens and their base forms
    (scoring_service.triage_v2.text): the union over its words. English rules read the
    text itself, so a text with a run the tokenizer cut gets every rule."""
    if lang == "en" and has_long_run(text):
        return ALL_RULES
    mask = 0
    for word, root in zip(words, base):
        mask |= signal_rule_mask(word, root, lang)
    return mask


def severity_signals(text: str, lang: str, mask: int = ALL_RULES) -> dict[str, list[str]]:
    """{signal: [evidence]} of the signals the text states; absent signals are omitted.
    `mask`: the rules worth running (the rest are known not to fire on this text)."""
    names = [name for bit, name in enumerate(SIGNALS) if mask >> bit & 1]
    if not names:
        return {}
    if lang == "ru":
        return russian_signals(text, names)
    return english_signals(text, names)

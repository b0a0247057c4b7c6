"""English corpora written by real people, each read from a pinned repository snapshot.

Every `convert` here is pure parsing (csv / re / xml / zipfile from the stdlib) of the
blobs `build.build()` reads with `git show <commit>:<path>`; rows come out in file order,
so a rebuild gives the same bytes. What each label means, and the caveats of each source,
are in `docs/data.md`.

Not used on purpose (see SOURCES.md): complaint-identification Twitter benchmarks, any
SentiRuEval bank/telecom tweets, VADER-paper corpora, Hu & Liu 2004 `product_reviews_1`
(also present as `datasets/CR/` in the SemEval repository: never read from there).
"""
from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from xml.etree import ElementTree

from scoring_service.datasets import LabelledText
from scoring_service.datasets.build import Source

EN = "en"


def _csv_rows(blob: bytes, encoding: str = "utf-8", delimiter: str = ",") -> list[dict[str, str]]:
    text = blob.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def _unescape(text: str) -> str:
    """Undo HTML escaping (tweets from the Twitter API, review dumps), also when it was applied twice."""
    for _ in range(3):
        plain = html.unescape(text)
        if plain == text:
            break
        text = plain
    return text


def _clamp(x: float) -> float:
    return max(-1.0, min(1.0, x))


def _float(value: str, default: float = 1.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


# --------------------------------------------------------------------------- airline tweets
AIRLINE_REASON_CATEGORY = {
    "Late Flight": "delivery",
    "Cancelled Flight": "delivery",
    "Lost Luggage": "delivery",
    "Customer Service Issue": "staff_service",
    "Flight Attendant Complaints": "staff_service",
    "longlines": "staff_service",
    "Damaged Luggage": "product_quality",
    "Bad Flight": "product_quality",
    "Flight Booking Problems": "billing",
    "Can't Tell": None,
    "": None,
}
_AIRLINE_SIGN = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


def convert_airline(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    for row in _csv_rows(blobs["data/Tweets.csv"]):
        sentiment = row["airline_sentiment"]
        if sentiment not in _AIRLINE_SIGN:
            continue
        confidence = _clamp(_float(row["airline_sentiment_confidence"]))
        negative = sentiment == "negative"
        yield LabelledText(
            text=_unescape(row["text"]), lang=EN, tone=_AIRLINE_SIGN[sentiment] * confidence,
            complaint=1 if negative else 0,
            category=AIRLINE_REASON_CATEGORY.get(row["negativereason"]) if negative else None,
            domain=row["airline"])


# --------------------------------------------------------------------------- BANKING77
# intent -> (complaint, category). complaint 1: the customer reports that something went
# wrong (declined, failed, pending, wrong amount, charged, not arrived, not recognised,
# compromised, lost/stolen, blocked); 0: an informational or how-to question; None: the
# intent mixes both (e.g. "please give me a refund" vs "how do refunds work").
# category is the topic of the message, given on every row (complaint or not).
BANKING77_INTENTS: dict[str, tuple[int | None, str]] = {
    "activate_my_card": (None, "product_quality"),
    "age_limit": (0, "other"),
    "apple_pay_or_google_pay": (0, "other"),
    "atm_support": (0, "other"),
    "automatic_top_up": (0, "billing"),
    "balance_not_updated_after_bank_transfer": (1, "billing"),
    "balance_not_updated_after_cheque_or_cash_deposit": (1, "billing"),
    "beneficiary_not_allowed": (1, "billing"),
    "cancel_transfer": (0, "billing"),
    "card_about_to_expire": (0, "other"),
    "card_acceptance": (0, "other"),
    "card_arrival": (1, "delivery"),
    "card_delivery_estimate": (0, "delivery"),
    "card_linking": (0, "other"),
    "card_not_working": (1, "product_quality"),
    "card_payment_fee_charged": (1, "billing"),
    "card_payment_not_recognised": (1, "account_security"),
    "card_payment_wrong_exchange_rate": (1, "billing"),
    "card_swallowed": (1, "product_quality"),
    "cash_withdrawal_charge": (1, "billing"),
    "cash_withdrawal_not_recognised": (1, "account_security"),
    "change_pin": (0, "account_security"),
    "compromised_card": (1, "account_security"),
    "contactless_not_working": (1, "product_quality"),
    "country_support": (0, "other"),
    "declined_card_payment": (1, "billing"),
    "declined_cash_withdrawal": (1, "billing"),
    "declined_transfer": (1, "billing"),
    "direct_debit_payment_not_recognised": (1, "account_security"),
    "disposable_card_limits": (0, "other"),
    "edit_personal_details": (0, "other"),
    "exchange_charge": (0, "billing"),
    "exchange_rate": (0, "billing"),
    "exchange_via_app": (0, "billing"),
    "extra_charge_on_statement": (1, "billing"),
    "failed_transfer": (1, "billing"),
    "fiat_currency_support": (0, "other"),
    "get_disposable_virtual_card": (0, "other"),
    "get_physical_card": (0, "other"),
    "getting_spare_card": (0, "other"),
    "getting_virtual_card": (0, "other"),
    "lost_or_stolen_card": (1, "account_security"),
    "lost_or_stolen_phone": (1, "account_security"),
    "order_physical_card": (0, "delivery"),
    "passcode_forgotten": (0, "account_security"),
    "pending_card_payment": (1, "billing"),
    "pending_cash_withdrawal": (1, "billing"),
    "pending_top_up": (1, "billing"),
    "pending_transfer": (1, "billing"),
    "pin_blocked": (1, "account_security"),
    "receiving_money": (0, "billing"),
    "Refund_not_showing_up": (1, "billing"),
    "request_refund": (None, "billing"),
    "reverted_card_payment?": (1, "billing"),
    "supported_cards_and_currencies": (0, "other"),
    "terminate_account": (None, "other"),
    "top_up_by_bank_transfer_charge": (0, "billing"),
    "top_up_by_card_charge": (0, "billing"),
    "top_up_by_cash_or_cheque": (0, "billing"),
    "top_up_failed": (1, "billing"),
    "top_up_limits": (0, "billing"),
    "top_up_reverted": (1, "billing"),
    "topping_up_by_card": (None, "billing"),
    "transaction_charged_twice": (1, "billing"),
    "transfer_fee_charged": (1, "billing"),
    "transfer_into_account": (0, "billing"),
    "transfer_not_received_by_recipient": (1, "billing"),
    "transfer_timing": (0, "billing"),
    "unable_to_verify_identity": (1, "account_security"),
    "verify_my_identity": (0, "account_security"),
    "verify_source_of_funds": (0, "account_security"),
    "verify_top_up": (0, "account_security"),
    "virtual_card_not_working": (1, "product_quality"),
    "visa_or_mastercard": (0, "other"),
    "why_verify_identity": (0, "account_security"),
    "wrong_amount_of_cash_received": (1, "billing"),
    "wrong_exchange_rate_for_cash_withdrawal": (1, "billing"),
}
assert len(BANKING77_INTENTS) == 77


def convert_banking77(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    for path in ("banking_data/train.csv", "banking_data/test.csv"):
        for row in _csv_rows(blobs[path]):
            complaint, category = BANKING77_INTENTS[row["category"]]  # KeyError on an unknown intent
            yield LabelledText(text=row["text"], lang=EN, complaint=complaint, category=category,
                               domain=row["category"])


# --------------------------------------------------------------------------- CFPB narratives
_CFPB_SECURITY = re.compile(r"identity theft|fraud|scam|unauthori[sz]ed|improper use of your report|"
                            r"security freeze|account opened as a result", re.I)
_CFPB_STAFF = re.compile(r"communication tactics|customer service", re.I)


def cfpb_category(product: str, issue: str = "", sub_issue: str = "") -> str:
    """Credit cards, bank accounts, loans, mortgages, money transfers and debt collection
    -> billing; credit reporting disputes -> other (a data-accuracy dispute, not a charge);
    an issue naming identity theft / fraud / unauthorised use / improper use of a report
    -> account_security; 'communication tactics' / customer-service issues -> staff_service."""
    detail = f"{issue} {sub_issue}"
    if _CFPB_SECURITY.search(detail):
        return "account_security"
    if _CFPB_STAFF.search(detail):
        return "staff_service"
    if product.lower().startswith("credit reporting"):
        return "other"
    return "billing"


def _cfpb(rows: Iterable[dict[str, str]]) -> Iterable[LabelledText]:
    for row in rows:
        narrative = row.get("Consumer complaint narrative", "")
        if not narrative.strip():
            continue
        yield LabelledText(text=narrative, lang=EN, complaint=1,
                           category=cfpb_category(row["Product"], row.get("Issue", ""), row.get("Sub-issue", "")),
                           domain=row["Product"])


def convert_cfpb_ziyuyan(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    return _cfpb(_csv_rows(blobs["complaints_sample.csv"]))


def convert_cfpb_kaiburr(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    return _cfpb(_csv_rows(blobs["complaints_sample.csv"]))


# --------------------------------------------------------------------------- Comcast
_COMCAST_CATEGORY = (
    ("billing", re.compile(r"\bbill|billed|charg|overcharg|\bfees?\b|pric|refund|\bcap\b|caps\b|usage|overage|"
                           r"\bcost|payment|rate increase|promotion", re.I)),
    ("staff_service", re.compile(r"customer service|customer care|\brep(resentative)?s?\b|technician|\brude\b|"
                                 r"\bagent", re.I)),
)


def convert_comcast(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    for row in _csv_rows(blobs["Comcast_telecom_complaints_data.csv"], encoding="utf-8-sig"):
        title = row["Customer Complaint"]
        if not title.strip():
            continue
        category = next((cat for cat, pattern in _COMCAST_CATEGORY if pattern.search(title)), None)
        yield LabelledText(text=title, lang=EN, complaint=1, category=category, domain="telecom")


# --------------------------------------------------------------------------- Blitzer multi-domain
_REVIEW = re.compile(r"<review>(.*?)</review>", re.S)
_FIELD = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("review_text", "rating")}
BLITZER_DOMAINS = ("books", "dvd", "electronics", "kitchen")
_STAR_TONE = {1.0: -1.0, 2.0: -0.5, 3.0: 0.0, 4.0: 0.5, 5.0: 1.0}


def convert_blitzer(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    for domain in BLITZER_DOMAINS:
        for polarity in ("negative", "positive"):
            data = blobs[f"data/xml/{domain}/{polarity}.review"].decode("utf-8", errors="replace")
            for block in _REVIEW.findall(data):
                text_match, rating_match = _FIELD["review_text"].search(block), _FIELD["rating"].search(block)
                if not text_match:
                    continue
                text = _unescape(text_match.group(1)).strip()
                if not text:
                    continue
                stars = _float(rating_match.group(1).strip(), 0.0) if rating_match else 0.0
                default = -1.0 if polarity == "negative" else 1.0
                tone = _STAR_TONE.get(stars, default)
                negative = polarity == "negative"
                yield LabelledText(
                    text=text, lang=EN, tone=tone, complaint=1 if negative else 0,
                    category="product_quality" if negative and domain in ("electronics", "kitchen") else None,
                    domain=domain)


# --------------------------------------------------------------------------- nltk pros_cons
PROS_CONS_PER_SIDE = 7500


def _spread(items: list[str], k: int) -> list[str]:
    """k items evenly spaced through the list (deterministic, keeps file order)."""
    if len(items) <= k:
        return items
    return [items[(i * len(items)) // k] for i in range(k)]


def convert_pros_cons(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    with zipfile.ZipFile(io.BytesIO(blobs["packages/corpora/pros_cons.zip"])) as z:
        sides = {}
        for tag, member in (("Pros", "pros_cons/IntegratedPros.txt"), ("Cons", "pros_cons/IntegratedCons.txt")):
            text = z.read(member).decode("utf-8", errors="replace")
            seen: dict[str, None] = {}
            for item in re.findall(rf"<{tag}>(.*?)</{tag}>", text, re.S):
                item = " ".join(_unescape(item).split())
                if item:
                    seen.setdefault(item, None)
            sides[tag] = list(seen)
    both = {t.lower() for t in sides["Pros"]} & {t.lower() for t in sides["Cons"]}  # e.g. "price": no label
    for tag, tone in (("Pros", 1.0), ("Cons", -1.0)):
        kept = [t for t in sides[tag] if t.lower() not in both]
        for item in _spread(kept, PROS_CONS_PER_SIDE):
            yield LabelledText(text=item, lang=EN, tone=tone, complaint=None, domain=tag.lower())


# --------------------------------------------------------------------------- nltk product_reviews_2
_OPINION = re.compile(r"\[([+-])(\d)\]")
PRODUCT_REVIEWS_2_FILES = ("Canon_PowerShot_SD500", "Canon_S100", "Diaper_Champ", "Hitachi_router", "ipod",
                           "Linksys_Router", "MicroMP3", "Nokia_6600", "norton")


def convert_product_reviews_2(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    with zipfile.ZipFile(io.BytesIO(blobs["packages/corpora/product_reviews_2.zip"])) as z:
        for product in PRODUCT_REVIEWS_2_FILES:
            text = z.read(f"product_reviews_2/{product}.txt").decode("utf-8", errors="replace")
            for line in text.splitlines():
                if "##" not in line or line.startswith("[t]"):
                    continue
                tags, sentence = line.split("##", 1)
                marks = [(1 if sign == "+" else -1) * int(n) for sign, n in _OPINION.findall(tags)]
                if not marks or not sentence.strip():
                    continue
                total = sum(marks)
                yield LabelledText(text=sentence, lang=EN, tone=_clamp(total / 3.0),
                                   complaint=1 if total < 0 else 0 if total > 0 else None, domain=product)


# --------------------------------------------------------------------------- brand & product tweets
_MOJIBAKE_FIXED = {b"\x89\xdb\x9d": "\u201d", b"\x89\xdb": "\u2026"}


def _fix_macroman(blob: bytes) -> str:
    """The CrowdFlower file is UTF-8 that was read as cp1252 and saved as Mac Roman.
    Undo that per run of non-ASCII bytes; runs that do not round-trip stay Mac Roman."""
    def fix(match: re.Match) -> bytes:
        run = match.group()
        if run in _MOJIBAKE_FIXED:
            return _MOJIBAKE_FIXED[run].encode("utf-8")
        try:
            return run.decode("mac_roman").encode("cp1252").decode("utf-8").encode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return run.decode("mac_roman").encode("utf-8")
    return re.sub(rb"[\x80-\xff]+", fix, blob).decode("utf-8")


def convert_brand_tweets(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    text = _fix_macroman(blobs["judge-1377884607_tweet_product_company.csv"])
    for row in csv.DictReader(io.StringIO(text, newline="")):
        tweet, label = _unescape(row["tweet_text"] or ""), row["is_there_an_emotion_directed_at_a_brand_or_product"]
        if not tweet.strip():
            continue
        target = row["emotion_in_tweet_is_directed_at"] or ""
        if label == "Negative emotion":
            yield LabelledText(text=tweet, lang=EN, tone=-1.0, complaint=1, domain=target)
        elif label == "Positive emotion":
            yield LabelledText(text=tweet, lang=EN, tone=1.0, complaint=0, domain=target)
        elif label == "No emotion toward brand or product":
            # no emotion *toward a brand*: not a complaint; the tweet's own tone is unknown
            yield LabelledText(text=tweet, lang=EN, tone=None, complaint=0, domain=target)
        # "I can't tell": skipped


# --------------------------------------------------------------------------- Apple tweets
_TICKER = re.compile(r"\bAAPL\b", re.I)


def convert_apple_tweets(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    for row in _csv_rows(blobs["Apple-Twitter-Sentiment-DFE.csv"], encoding="latin-1"):
        sign = {"1": -1.0, "3": 0.0, "5": 1.0}.get(row["sentiment"])
        if sign is None or not row["text"].strip():
            continue  # "not_relevant" and blanks
        tone = sign * _clamp(_float(row["sentiment:confidence"]))
        if sign < 0:
            # negative about the share price ($AAPL / #AAPL) is market talk, not a complaint
            complaint = None if _TICKER.search(row["text"]) else 1
        else:
            complaint = 0
        yield LabelledText(text=_unescape(row["text"]), lang=EN, tone=tone, complaint=complaint, domain="apple")


# --------------------------------------------------------------------------- Sanders tweets
def convert_sanders(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    for row in _csv_rows(blobs["full-corpus.csv"]):
        label = row["Sentiment"]
        tone = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}.get(label)
        if tone is None or not row["TweetText"].strip():
            continue  # "irrelevant" (mostly not English / not about the topic)
        yield LabelledText(text=_unescape(row["TweetText"]), lang=EN, tone=tone,
                           complaint=1 if label == "negative" else 0,
                           domain=row["Topic"])


# --------------------------------------------------------------------------- SemEval ABSA
_POLARITY = {"positive": 1.0, "negative": -1.0, "neutral": 0.0}
# 2014 restaurant categories / 2016 entity and attribute of "ENTITY#ATTRIBUTE"
_ABSA_CATEGORY = {
    "service": "staff_service", "price": "billing", "food": "product_quality", "ambience": "other",
    "anecdotes/miscellaneous": None,
    "SERVICE": "staff_service", "SUPPORT": "staff_service", "PRICES": "billing", "PRICE": "billing",
    "FOOD": "product_quality", "DRINKS": "product_quality", "AMBIENCE": "other", "LOCATION": "other",
    "SHIPPING": "delivery", "WARRANTY": "other", "COMPANY": "other", "RESTAURANT": None,
}
_LAPTOP_TERM = (
    ("staff_service", re.compile(r"support|service|customer|staff|tech|rep\b|representative|geek squad", re.I)),
    ("billing", re.compile(r"price|cost|money|\$|value|refund|charge", re.I)),
    ("delivery", re.compile(r"ship|deliver", re.I)),
    ("other", re.compile(r"warranty", re.I)),
)


def _absa_category(label: str, term_based: bool) -> str | None:
    if term_based:  # 2014 laptops: only free-text aspect terms
        return next((cat for cat, pattern in _LAPTOP_TERM if pattern.search(label)), "product_quality")
    if "#" in label:
        entity, attribute = label.split("#", 1)
        if attribute in ("PRICES", "PRICE"):
            return "billing"
        if entity in _ABSA_CATEGORY:
            return _ABSA_CATEGORY[entity]
        return "product_quality"  # laptop hardware / software entities
    return _ABSA_CATEGORY.get(label)


def _absa_sentence(text: str, opinions: list[tuple[str, str]], term_based: bool, domain: str):
    scored = [(label, _POLARITY[p]) for label, p in opinions if p in _POLARITY]
    if not text.strip() or not scored:
        return None  # no opinions, or conflict only
    values = [v for _, v in scored]
    negative, positive = any(v < 0 for v in values), any(v > 0 for v in values)
    complaint = 1 if negative and not positive else 0 if not negative else None
    category = None
    if complaint == 1:
        cats = [c for c in (_absa_category(label, term_based) for label, v in scored if v < 0) if c]
        if cats:
            counts = Counter(cats)
            category = max(cats, key=lambda c: (counts[c], -cats.index(c)))
    return LabelledText(text=text, lang=EN, tone=sum(values) / len(values), complaint=complaint,
                        category=category, domain=domain)


ABSA_FILES = (
    ("datasets/ABSA-SemEval2014/Restaurants_Train_v2.xml", "restaurants2014"),
    ("datasets/ABSA-SemEval2014/Laptop_Train_v2.xml", "laptops2014"),
    ("datasets/ABSA-SemEval2016/Training_Data/ABSA16_Restaurants_Train_SB1_v2.xml", "restaurants2016"),
    ("datasets/ABSA-SemEval2016/Training_Data/ABSA16_Laptops_Train_SB1_v2.xml", "laptops2016"),
)


def convert_absa(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    for path, domain in ABSA_FILES:
        root = ElementTree.fromstring(blobs[path])
        for sentence in root.iter("sentence"):
            text = sentence.findtext("text") or ""
            categories = [(e.get("category", ""), e.get("polarity", "")) for e in sentence.iter("aspectCategory")]
            opinions16 = [(e.get("category", ""), e.get("polarity", "")) for e in sentence.iter("Opinion")]
            terms = [(e.get("term", ""), e.get("polarity", "")) for e in sentence.iter("aspectTerm")]
            if opinions16:
                row = _absa_sentence(text, opinions16, False, domain)
            elif categories:  # 2014 restaurants: categories cover every sentence
                row = _absa_sentence(text, categories, False, domain)
            else:
                row = _absa_sentence(text, terms, True, domain)
            if row is not None:
                yield row


# --------------------------------------------------------------------------- UCI Yelp sentences
def convert_yelp_uci(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    for line in blobs["sentiment labelled sentences/yelp_labelled.txt"].decode("utf-8", errors="replace").splitlines():
        if "\t" not in line:
            continue
        sentence, score = line.rsplit("\t", 1)
        score = score.strip()
        if score not in ("0", "1") or not sentence.strip():
            continue
        yield LabelledText(text=sentence, lang=EN, tone=1.0 if score == "1" else -1.0,
                           complaint=0 if score == "1" else 1, domain="restaurants")


# --------------------------------------------------------------------------- women's clothing reviews
WOMENS_CLOTHING_ZIP = "Womens Clothing E-Commerce Reviews.csv.zip"


def convert_womens_clothing(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    with zipfile.ZipFile(io.BytesIO(blobs[WOMENS_CLOTHING_ZIP])) as z:
        data = z.read("Womens Clothing E-Commerce Reviews.csv")
    for row in _csv_rows(data):
        text = _unescape(row["Review Text"])
        if not text.strip() or row["Rating"] not in ("1", "2", "3", "4", "5"):
            continue
        stars = int(row["Rating"])
        complaint = 1 if stars <= 2 else 0 if stars >= 4 else None
        yield LabelledText(text=text, lang=EN, tone=(stars - 3) / 2.0, complaint=complaint,
                           category="product_quality" if complaint == 1 else None,
                           domain=row["Department Name"] or "")


# --------------------------------------------------------------------------- Skytrax lounge & seat reviews
def convert_skytrax(blobs: Mapping[str, bytes]) -> Iterable[LabelledText]:
    for path, domain, category in (("data/lounge.csv", "lounge", None), ("data/seat.csv", "seat", "product_quality")):
        for row in _csv_rows(blobs[path]):
            text, recommended = row["content"], row["recommended"]
            if not text.strip() or recommended not in ("0", "1"):
                continue
            complaint = 1 if recommended == "0" else 0
            yield LabelledText(text=text, lang=EN, complaint=complaint,
                               category=category if complaint == 1 else None, domain=domain)


# --------------------------------------------------------------------------- the list
SOURCES: tuple[Source, ...] = (
    Source(
        name="en_airline_tweets", lang=EN, repository="fastforwardlabs/airline-sentiment",
        commit="65d0d753916df551ce285e61d63852f6989becf7", paths=("data/Tweets.csv",),
        licence="none stated in the repository; the Kaggle release (Twitter US Airline Sentiment, "
                "CrowdFlower Data for Everyone) lists CC BY-NC-SA 4.0",
        labels="crowd labels: tone = sign(neg/neu/pos) x airline_sentiment_confidence; complaint 1 = negative, "
               "0 = neutral/positive; category from negativereason (late/cancelled/lost luggage -> delivery, "
               "customer service/flight attendants/long lines -> staff_service, damaged luggage/bad flight -> "
               "product_quality, booking problems -> billing, can't tell -> none)",
        convert=convert_airline, citation="CrowdFlower (2015), Twitter US Airline Sentiment"),
    Source(
        name="en_banking77", lang=EN, repository="PolyAI-LDN/task-specific-datasets",
        commit="57ec275d8078af65b7731c2a98be812d844a6d6b", paths=("banking_data/train.csv", "banking_data/test.csv"),
        licence="CC BY 4.0 (LICENSE in the repository)",
        labels="annotated intent -> complaint and category via BANKING77_INTENTS (explicit 77-entry map); "
               "complaint 1 = something went wrong, 0 = informational/how-to, none = mixed intents; "
               "category = topic of the message on every row; no tone",
        convert=convert_banking77,
        citation="Casanueva et al. (2020), Efficient Intent Detection with Dual Sentence Encoders"),
    Source(
        name="en_cfpb_ziyuyan", lang=EN, repository="ZiyuYan9/consumer_complaints",
        commit="ecece4d9228ad0198cd175e59e355a768ebd385b", paths=("complaints_sample.csv",),
        licence="none stated in the repository; CFPB Consumer Complaint Database is US-government public data",
        labels="every narrative is a complaint filed with the CFPB (complaint 1); category from product + issue "
               "(see cfpb_category); no tone; rows without a narrative skipped",
        convert=convert_cfpb_ziyuyan, citation="Consumer Financial Protection Bureau, Consumer Complaint Database"),
    Source(
        name="en_cfpb_kaiburr", lang=EN, repository="nagakoushik24/Kaiburr-Assignment-Task5",
        commit="bcf4e5d75df364be8574aa60e23d9c61df1f83ef", paths=("complaints_sample.csv",),
        licence="none stated in the repository; CFPB Consumer Complaint Database is US-government public data",
        labels="every narrative is a complaint filed with the CFPB (complaint 1); category from product only "
               "(see cfpb_category); no tone",
        convert=convert_cfpb_kaiburr, citation="Consumer Financial Protection Bureau, Consumer Complaint Database"),
    Source(
        name="en_comcast_complaints", lang=EN, repository="AbeerIbrahimF/Comcast_telecom_complaints_python",
        commit="2c0836dce29dcfafff01a471a350f6782f2487e1", paths=("Comcast_telecom_complaints_data.csv",),
        licence="none stated",
        labels="every row is a complaint ticket title (complaint 1); category only when the title names it "
               "(billing words -> billing, customer service/rep/technician -> staff_service), else none; no tone",
        convert=convert_comcast),
    Source(
        name="en_amazon_multidomain", lang=EN, repository="muko034/sentiment-prediction",
        commit="d01bfa53354a626230bfeba806f4aaad23a7a5e5",
        paths=tuple(f"data/xml/{d}/{p}.review" for d in BLITZER_DOMAINS for p in ("negative", "positive")),
        licence="none stated in the repository; Blitzer et al. distribute the corpus for research without a "
                "stated licence",
        labels="star ratings: tone 1*=-1, 2*=-0.5, 4*=+0.5, 5*=+1; complaint 1 = negative.review (1-2 stars), "
               "0 = positive.review (4-5 stars); category product_quality for negative electronics/kitchen only",
        convert=convert_blitzer,
        citation="Blitzer, Dredze, Pereira (2007), Biographies, Bollywood, Boom-boxes and Blenders"),
    Source(
        name="en_pros_cons", lang=EN, repository="nltk/nltk_data",
        commit="5db857e6f7df11eabb5e5665836db9ec8df07e28", paths=("packages/corpora/pros_cons.zip",),
        licence="CC BY 4.0 (Bing Liu; packages/corpora/pros_cons.xml)",
        labels="the writer's own pro/con field: tone +1 pros, -1 cons; no complaint label; capped at 7,500 unique "
               "texts per side, evenly spaced through the file; texts found on both sides dropped",
        convert=convert_pros_cons, citation="Ganapathibhotla & Liu (2008), Mining Opinions in Comparative Sentences"),
    Source(
        name="en_product_reviews_2", lang=EN, repository="nltk/nltk_data",
        commit="5db857e6f7df11eabb5e5665836db9ec8df07e28", paths=("packages/corpora/product_reviews_2.zip",),
        licence="CC BY 4.0 (Bing Liu; packages/corpora/product_reviews_2.xml)",
        labels="annotated per-feature opinions [+n]/[-n]: tone = clamp(sum/3); complaint 1 if sum < 0, 0 if > 0, "
               "none if 0; sentences without opinion marks and [t] titles skipped",
        convert=convert_product_reviews_2,
        citation="Ding, Liu, Yu (2008), A Holistic Lexicon-Based Approach to Opinion Mining"),
    Source(
        name="en_brand_tweets", lang=EN, repository="LilianToo/NLP-Sentiment-Analysis-Project",
        commit="1ad3b2e6d7f2c684d7195f759078eea48bf97e8e", paths=("judge-1377884607_tweet_product_company.csv",),
        licence="none stated in the repository; CrowdFlower Data for Everyone release (listed as CC BY 4.0 on "
                "data.world)",
        labels="crowd labels of emotion toward a brand/product: negative -> tone -1, complaint 1; positive -> "
               "tone +1, complaint 0; no emotion toward brand -> complaint 0, tone none; can't tell skipped",
        convert=convert_brand_tweets, citation="CrowdFlower, Brands and Product Emotions (SXSW 2011 tweets)"),
    Source(
        name="en_apple_tweets", lang=EN, repository="sgrpraka/NLP",
        commit="3af291d369afbda5696915ecc1df0cf7c8fba59f", paths=("Apple-Twitter-Sentiment-DFE.csv",),
        licence="none stated in the repository; CrowdFlower Data for Everyone release",
        labels="crowd labels 1/3/5: tone = -1/0/+1 x sentiment:confidence; complaint 1 for negative unless the "
               "tweet names the AAPL ticker (then none: share-price talk), 0 for neutral/positive",
        convert=convert_apple_tweets, citation="CrowdFlower, Apple Twitter Sentiment (2014)"),
    Source(
        name="en_sanders_tweets", lang=EN, repository="zfz/twitter_corpus",
        commit="09afbfb5b580c848062aadbc4491fecc96b0a85a", paths=("full-corpus.csv",),
        licence="none stated in the repository (Sanders Analytics released the labels free of charge)",
        labels="hand labels toward the topic (apple/google/microsoft/twitter): tone -1/0/+1; complaint 1 = "
               "negative, 0 = neutral/positive; irrelevant skipped",
        convert=convert_sanders, citation="Sanders (2011), Twitter Sentiment Corpus"),
    Source(
        name="en_semeval_absa", lang=EN, repository="davidsbatista/Aspect-Based-Sentiment-Analysis",
        commit="1d9c8ec1131993d924e96676fa212db6b53cb870", paths=tuple(p for p, _ in ABSA_FILES),
        licence="none stated in the repository; SemEval ABSA data are released for research (2014: "
                "non-commercial research use)",
        labels="annotated aspect polarities: tone = mean(+1/0/-1), conflict ignored; complaint 1 if any negative "
               "and no positive, 0 if no negative, none if mixed; category from negative aspects (service/support "
               "-> staff_service, prices -> billing, food/drinks/laptop parts -> product_quality, ambience/"
               "location/company/warranty -> other, shipping -> delivery)",
        convert=convert_absa, citation="Pontiki et al. (2014, 2016), SemEval Aspect Based Sentiment Analysis"),
    Source(
        name="en_yelp_uci", lang=EN, repository="Huyen2402/API-ML-luanvan",
        commit="bd42cf4dcb96c3123866da22acbc280affb69f42", paths=("sentiment labelled sentences/yelp_labelled.txt",),
        licence="none stated in the repository; UCI ML Repository dataset, CC BY 4.0",
        labels="hand-picked clearly positive/negative sentences: tone +1/-1; complaint 0/1",
        convert=convert_yelp_uci,
        citation="Kotzias et al. (2015), From Group to Individual Labels using Deep Features"),
    Source(
        name="en_womens_clothing", lang=EN, repository="irmakozveren01/Womens-clothing-text-analysis",
        commit="18e084eca89ca3f0fe66ee29933876c2e8b909af", paths=(WOMENS_CLOTHING_ZIP,),
        licence="repository MIT; the Kaggle release (nicapotato, Women's E-Commerce Clothing Reviews) is CC0 1.0",
        labels="star ratings: tone = (stars-3)/2; complaint 1 for 1-2 stars, 0 for 4-5, none for 3; "
               "category product_quality for complaints",
        convert=convert_womens_clothing, citation="Women's E-Commerce Clothing Reviews (Kaggle, 2018)"),
    Source(
        name="en_skytrax_lounge_seat", lang=EN, repository="quankiquanki/skytrax-reviews-dataset",
        commit="bd4997cbfce42aeef9281818560e845adc5382f0", paths=("data/lounge.csv", "data/seat.csv"),
        licence="CC0 1.0 (LICENSE in the repository; README: the licence of the scraped Skytrax reviews is unknown)",
        labels="reviewer's own 'recommended' flag: complaint 1 = not recommended, 0 = recommended; category "
               "product_quality for seat complaints, none for lounge; no tone (rating scales are mixed)",
        convert=convert_skytrax, citation="Quan Nguyen (2015), Skytrax User Reviews Dataset"),
)

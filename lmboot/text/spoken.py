"""Spoken form: numbers, ordinals, times, dates, currencies, percentages and symbols written out
in the text's language, as a recogniser's vocabulary holds them.

A pronunciation lexicon has words, not digits: "wecke mich um 7:30" must reach the LM as
"wecke mich um sieben Uhr dreißig", "£5" as "five pounds", "2nd" as "second".
:func:`spoken_form` rewrites one line. A line with no digit and none of the symbols
``% & + ° $ € £ ₹ ¥`` costs one regex search and comes back as it was, so whole corpora pass
quickly (only a few per cent of lines hold a number).

The number words come from libraries: num2words (English, German) and AI4Bharat's
indic-numtowords (Hindi, which num2words lacks). Around them each language has a small
grammar here, in the order of its passes: currency amounts (symbol before or after), percent,
degrees, clock times, dates (numeric and with month names), ordinals, decades, ranges
(``2-14``), signs, plain and grouped numbers (``1,000`` / ``1.000`` / ``1,00,000``), then the
symbols left alone. NeMo's text-normalisation grammars were measured and not used
(docs/lm-build.md, "Spoken form": 1.1 GB installed, 22-40 s of grammar compilation per language
and process, 0.01-0.7 s per sentence, "€" and "%" left unexpanded on our samples).

Languages without a grammar keep their digits; the log says so once per language. Codes may be
ISO 639-1 (``de``), 639-3 (``deu``) or NLLB-style (``deu_Latn``). Deterministic.

>>> spoken_form("Wecke mich am 3.5.2024 um 7:30 Uhr", "de")
'Wecke mich am dritten Mai zweitausendvierundzwanzig um sieben Uhr dreißig'
>>> spoken_form("It's £5, 50% off, on May 3rd", "eng_Latn")
"It's five pounds, fifty percent off, on May third"
>>> spoken_form("मुझे 7:30 बजे जगाओ, ₹500 का 50%", "hin_Deva")
'मुझे साढ़े सात बजे जगाओ, पाँच सौ रुपये का पचास प्रतिशत'
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Callable

from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

#: Bumped whenever a grammar's output changes (the pipeline's spoken-form step is keyed on it).
VERSION = 1

_SYMBOLS = "%&+°$€£₹¥"
_TRIGGER = re.compile(rf"[\d{re.escape(_SYMBOLS)}]")
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$")
# ISO 639-3 (and 639-2/B) codes of languages a number library knows -> their 639-1 code.
_ISO3 = dict(pair.split(":") for pair in (
    "eng:en deu:de ger:de hin:hi amh:am ara:ar arb:ar aze:az azj:az bel:be ben:bn cat:ca ces:cs cze:cs "
    "cym:cy dan:da epo:eo spa:es fas:fa pes:fa per:fa fin:fi fra:fr fre:fr heb:he hun:hu ind:id isl:is "
    "ita:it jpn:ja kan:kn kor:ko kaz:kz lit:lt lav:lv lvs:lv nld:nl dut:nl nob:no nor:no pol:pl por:pt "
    "ron:ro rum:ro rus:ru slk:sk slo:sk slv:sl srp:sr swe:sv tel:te tgk:tg tha:th tur:tr ukr:uk vie:vi "
    "asm:as guj:gu mal:ml mar:mr ory:or ori:or pan:pa tam:ta urd:ur npi:ne nep:ne").split())


def resolve_lang(lang: str) -> str:
    """The ISO 639-1 code of ``lang`` where one is known (``deu_Latn`` -> ``de``), else its lower-cased
    language part.

    >>> resolve_lang("hin_Deva"), resolve_lang("deu"), resolve_lang("en-GB"), resolve_lang("quz_Latn")
    ('hi', 'de', 'en', 'quz')
    """
    if not isinstance(lang, str) or not _LANG_RE.match(lang.strip()):
        raise LmbootError(f"a language code looks like 'de', 'deu' or 'deu_Latn', not {lang!r}")
    code = re.split(r"[_-]", lang.strip())[0].lower()
    return _ISO3.get(code, code)


def pad(m: re.Match, words: str) -> str:
    """``words`` in place of the match, with a space toward a letter or digit it was glued to."""
    s, a, b = m.string, m.start(), m.end()
    before = " " if a > 0 and (s[a - 1].isalnum() or _is_mark(s[a - 1])) else ""
    after = " " if b < len(s) and (s[b].isalnum() or _is_mark(s[b])) else ""
    return before + words + after


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


def prev_words(m: re.Match, n: int = 4) -> list[str]:
    """The up to ``n`` words before the match, nearest first (punctuation kept on them)."""
    return m.string[max(0, m.start() - 60):m.start()].split()[::-1][:n]


def next_word(m: re.Match) -> str:
    w = m.string[m.end():m.end() + 40].split()
    return w[0] if w else ""


class Grammar:
    """One language's spoken form: data (words, month names, currency units) and passes.

    Subclasses give :meth:`cardinal` (the library call) and the language's words; the passes
    are shared. Each pass is one regex substitution; what a pass writes holds no digit and
    no handled symbol, so later passes cannot touch it and the result is a fixed point.
    """

    code = ""
    point = percent = minus = to = ""
    degree: tuple[str, str] = ("", "")  # singular, plural
    celsius = fahrenheit = ""
    symbol_words: dict[str, str] = {}
    #: currency symbol -> (unit singular, unit plural, subunit singular, subunit plural)
    currency: dict[str, tuple[str, str, str, str]] = {}
    currency_codes: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "Rs": "₹", "Rs.": "₹"}
    magnitudes: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    month_pattern = ""  # month names as written in text (regex alternation)
    group, decimal = ",", "."  # separators of 1,000.5 (English) or 1.000,5 (German)
    num_pattern = ""  # a written number; default: 3-digit groups, then a decimal part
    max_cardinal = 10 ** 15

    def __init__(self) -> None:
        self._cache: dict[tuple, str] = {}
        g, d = re.escape(self.group), re.escape(self.decimal)
        self.num = self.num_pattern or rf"(?:\d{{1,3}}(?:{g}\d{{3}})+(?:{d}\d+)?|\d+(?:{d}\d+)?)"
        self.passes = self._passes()

    # --- words ------------------------------------------------------------------------
    def cardinal(self, n: int) -> str:
        raise NotImplementedError

    def ordinal(self, n: int, m: re.Match | None = None, suffix: str = "") -> str:
        raise NotImplementedError

    def year(self, n: int) -> str:
        return self.card(n)

    def time(self, h: int, mnt: int, suffix: str) -> str:
        raise NotImplementedError

    def date(self, d: int, mo: int, y: str | None, m: re.Match) -> str:
        raise NotImplementedError

    def card(self, n: int, next_word: str = "") -> str:
        """Cached cardinal; digit by digit beyond the library's range."""
        if n >= self.max_cardinal:
            return self.digits(str(n))
        key = ("c", n)
        if key not in self._cache:
            self._cache[key] = self.cardinal(n)
        return self._cache[key]

    def digits(self, s: str) -> str:
        return " ".join(self.card(int(c)) for c in s)

    def number(self, text: str, next_word: str = "") -> str:
        """A written number (group separators, decimal part) in words."""
        whole, _, frac = text.partition(self.decimal)
        whole = whole.replace(self.group, "")
        if len(whole) > 1 and whole[0] == "0" and not frac:  # 007, 0800: read digit by digit
            words = self.digits(whole)
        else:
            words = self.card(int(whole), next_word)
        return f"{words} {self.point} {self.digits(frac)}" if frac else words

    def _value(self, text: str) -> float:
        whole, _, frac = text.partition(self.decimal)
        return float(f"{whole.replace(self.group, '')}.{frac or 0}")

    # --- passes -----------------------------------------------------------------------
    def _passes(self) -> list[tuple[re.Pattern, Callable[[re.Match], str]]]:
        num, cur = self.num, "".join(re.escape(c) for c in self.currency)
        codes = "|".join(re.escape(c) for c in sorted(self.currency_codes, key=len, reverse=True))
        mags = "|".join(self.magnitudes) or "(?!)"
        lead = r"(?<![\d.,])"  # a number starts here, not inside another one
        return [
            (re.compile(rf"(?:(?P<sym>[{cur}])|\b(?P<code>{codes})\s?)\s?(?P<amt>{lead}{num})(?!\d)"
                        rf"(?:\s(?P<mag>{mags})\b)?"), self._currency),
            (re.compile(rf"{lead}(?P<amt>{num})\s?(?P<sym>[{cur}])"), self._currency),
            (re.compile(rf"{lead}(?P<amt>{num})\s?%"), lambda m: pad(m, f"{self.number(m['amt'], self.percent)} "
                                                                      f"{self.percent}")),
            (re.compile(rf"(?:(?<![\w.,-])(?P<neg>[-−]))?{lead}(?P<amt>{num})\s?°\s?(?P<unit>[CF](?![^\W\d_]))?"),
             self._degrees),
            *self.special_passes(),
            (re.compile(r"(?<![\w.,:/-])(?P<a>\d{1,3})\s?[-–]\s?(?P<b>\d{1,3})(?![\d.,:/-]?\d)(?![^\W\d_])"),
             lambda m: f"{self.card(int(m['a']))} {self.to} {self.card(int(m['b']))}"),
            (re.compile(r"(?<![\w.,])[-−](?=\d)"), lambda m: f"{self.minus} "),
            (re.compile(rf"(?<!\d){num}(?!\d)"), self._number),  # every digit left: a fixed point
            (re.compile(rf"[{re.escape(_SYMBOLS)}]"), self._symbol),
        ]

    def special_passes(self) -> list[tuple[re.Pattern, Callable[[re.Match], str]]]:
        """The language's own passes (times, dates, ordinals, decades), run before ranges and numbers."""
        return []

    def __call__(self, text: str) -> str:
        for rx, fn in self.passes:
            text = rx.sub(fn, text)
        return text

    def _currency(self, m: re.Match) -> str:
        sym = m["sym"] or self.currency_codes[m["code"]]
        one, many, sub_one, sub_many = self.currency[sym]
        whole, _, frac = m["amt"].partition(self.decimal)
        mag = m["mag"] if "mag" in m.groupdict() else None
        if mag or len(frac) > 2:  # $1.5 million, €0.125: the number, then the unit
            words = self.number(m["amt"]) + (f" {mag}" if mag else "")
            return pad(m, f"{words} {many}")
        units, cents = int(whole.replace(self.group, "")), int(frac.ljust(2, "0")) if frac else 0
        parts = [] if units == 0 and cents else [f"{self.card(units, one)} {one if units == 1 else many}"]
        if cents:
            parts.append(f"{self.card(cents, sub_one)} {sub_one if cents == 1 else sub_many}")
        return pad(m, " ".join(parts))

    def _degrees(self, m: re.Match) -> str:
        one, many = self.degree
        words = self.number(m["amt"], one)
        if m["neg"]:
            words = f"{self.minus} {words}"
        words += f" {one if self._value(m['amt']) == 1 and not m['neg'] else many}"
        if m["unit"]:
            words += f" {self.celsius if m['unit'] == 'C' else self.fahrenheit}"
        return pad(m, words)

    def _time(self, m: re.Match) -> str:
        h, mnt = int(m["h"]), int(m["m"] or 0)
        if h > 24 or mnt > 59:  # not a clock time (a score, a ratio): the numbers alone
            return pad(m, f"{self.card(h)} {self.card(mnt)}" if m["m"] else self.card(h))
        return pad(m, self.time(h, mnt, m["suffix"] or ""))

    def _date(self, m: re.Match) -> str:
        d, mo = int(m["d"]), self._month(m)
        if not (1 <= d <= 31 and 1 <= mo <= 12):
            return pad(m, " ".join(self.number(x) for x in re.findall(r"\d+", m.group())))
        return pad(m, self.date(d, mo, m["y"], m))

    def _month(self, m: re.Match) -> int:
        if m["mo"]:
            return int(m["mo"])
        name = m["mn"].lower().rstrip(".")
        return next(i for i, x in enumerate(self.months, 1) if x.lower().startswith(name[:3]))

    def _number(self, m: re.Match) -> str:
        text = m.group()
        s, a, b = m.string, m.start(), m.end()
        # A code (A320, 229E) digit by digit; a measure (500ml) as a number.
        code = (a > 0 and s[a - 1].isalpha()) or (b < len(s) and s[b].isupper())
        if code and len(text) >= 3 and text.isdigit():
            return pad(m, self.digits(text))
        if len(text) == 4 and text.isdigit() and self.is_year(int(text), m):
            return pad(m, self.year(int(text)))
        return pad(m, self.number(text, next_word(m)))

    def is_year(self, n: int, m: re.Match) -> bool:
        return False

    def _symbol(self, m: re.Match) -> str:
        ch = m.group()
        if ch in self.currency:
            word = self.currency[ch][1]
        else:
            word = {"%": self.percent, "°": self.degree[1]}.get(ch) or self.symbol_words[ch]
        s, b = m.string, m.end()
        if b < len(s) and s[b] in _SYMBOLS:  # C++: "C plus plus"
            word += " "
        return pad(m, word)


_loaded: dict[str, Grammar | None] = {}
_lock = threading.Lock()

#: Languages with a spoken-form grammar (ISO 639-1; the classes are in :mod:`lmboot.text.grammars`).
SUPPORTED = ("en", "de", "hi")


def grammar(lang: str) -> Grammar | None:
    """The grammar of ``lang`` (any accepted code), or None after logging once that digits stay."""
    code = resolve_lang(lang)
    with _lock:
        if code not in _loaded:
            from lmboot.text.grammars import GRAMMARS

            cls = GRAMMARS.get(code)
            if cls is None:
                log.warning("spoken form: no number grammar for %r; digits kept", code)
            _loaded[code] = cls() if cls else None
        return _loaded[code]


def spoken_form(text: str, lang: str) -> str:
    """``text`` with its numbers and symbols written out as words in ``lang`` (see the module doc).

    >>> spoken_form("the 2nd alarm at 7:05 pm", "en")
    'the second alarm at seven oh five pm'
    >>> spoken_form("Es ist 9.15 Uhr, 20°C und 1 Stunde", "deu")
    'Es ist neun Uhr fünfzehn, zwanzig Grad Celsius und eine Stunde'
    """
    if not _TRIGGER.search(text):
        return text
    g = grammar(lang)
    return text if g is None else g(text)


def spoken_form_batch(texts, lang: str) -> list[str]:
    """``[spoken_form(t, lang) for t in texts]``; lines without a number skip the grammar."""
    g = grammar(lang)
    if g is None:
        return list(texts)
    search = _TRIGGER.search
    return [g(t) if search(t) else t for t in texts]


__all__ = ["spoken_form", "spoken_form_batch", "resolve_lang", "grammar", "SUPPORTED", "VERSION"]

"""The spoken-form grammars of English, German and Hindi (see :mod:`lmboot.text.spoken`).

Each is data (words, month names, currency units) plus the passes its written forms need:
English clock times with am/pm, month-name dates either way round, ordinal suffixes and
decades; German times with "Uhr", dates and ordinals with a dot whose ending follows the word
before ("am dritten", "der dritte", "dritter Mai"), decades in -er; Hindi colloquial clock times
(साढ़े सात, सवा, पौने, डेढ़, ढाई), day-month dates and ordinals in -वाँ/-वें/-वीं. Number words come
from num2words (English, German) and indic-numtowords (Hindi).

>>> German()("am 3. und 4. Mai")
'am dritten und vierten Mai'
"""
from __future__ import annotations

import re

from lmboot.text.spoken import Grammar, next_word, pad, prev_words

# --------------------------------------------------------------------------------------
# English (num2words)
# --------------------------------------------------------------------------------------
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


class _Num2WordsYears(Grammar):
    """Years as num2words reads them ("nineteen ninety"), after a word that announces a year
    ("in 1990", "im Jahr 1990"): elsewhere 1990 is an amount."""

    year_max = 1999
    _year_words: set[str] = set()

    def year(self, n: int) -> str:
        from num2words import num2words

        return num2words(n, lang=self.code, to="year") if 1100 <= n <= self.year_max else self.card(n)

    def is_year(self, n: int, m: re.Match) -> bool:
        prev = prev_words(m, 1)
        return 1100 <= n <= self.year_max and bool(prev) and prev[0].lower().strip(",.") in self._year_words


class English(_Num2WordsYears):
    code = "en"
    year_max = 2099
    point, percent, minus, to = "point", "percent", "minus", "to"
    degree = ("degree", "degrees")
    celsius, fahrenheit = "Celsius", "Fahrenheit"
    symbol_words = {"&": "and", "+": "plus"}
    currency = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
                "£": ("pound", "pounds", "penny", "pence"), "₹": ("rupee", "rupees", "paisa", "paise"),
                "¥": ("yen", "yen", "sen", "sen")}
    magnitudes = ("thousand", "million", "billion", "trillion")
    months = _EN_MONTHS
    month_pattern = "|".join(_EN_MONTHS) + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
    _year_words = {"in", "since", "until", "till", "by", "from", "of", "year", "before", "after", "circa", "around",
                   "during", "early", "late", "mid", *(x.lower() for x in _EN_MONTHS)}

    def cardinal(self, n: int) -> str:
        from num2words import num2words

        return num2words(n, lang="en").replace(",", "")

    def ordinal(self, n: int, m=None, suffix="") -> str:
        from num2words import num2words

        return num2words(n, lang="en", to="ordinal").replace(",", "")

    def time(self, h: int, mnt: int, suffix: str) -> str:
        ap = re.sub(r"[\s.]", "", suffix).lower()
        words = self.card(h)
        if mnt == 0:
            return f"{words} {ap}" if ap else f"{words} o'clock"
        words += f" oh {self.card(mnt)}" if mnt < 10 else f" {self.card(mnt)}"
        return f"{words} {ap}" if ap else words

    def date(self, d: int, mo: int, y: str | None, m: re.Match) -> str:
        month = m["mn"] if m["mn"] else self.months[mo - 1]
        words = f"{self.ordinal(d)} of {month}" if m["dayfirst"] else f"{month} {self.ordinal(d)}"
        return words + (f" {self.year(int(y))}" if y else "")

    def _numeric_date(self, m: re.Match) -> str:
        a, b = int(m["a"]), int(m["b"])
        mo, d = (b, a) if a > 12 else (a, b)  # month first (US), unless the first cannot be a month
        if not (1 <= d <= 31 and 1 <= mo <= 12):
            return pad(m, " ".join(self.card(int(x)) for x in re.findall(r"\d+", m.group())))
        return pad(m, f"{self.months[mo - 1]} {self.ordinal(d)} {self.year(int(m['y']))}")

    def special_passes(self):
        mp, ap = self.month_pattern, r"[ap]\.?\s?m\.?(?![^\W\d_])"
        i = re.IGNORECASE
        return [
            (re.compile(rf"(?<![\d:.,])(?P<h>\d{{1,2}})(?::(?P<m>\d\d))?(?!\d)\s?(?P<suffix>{ap})", i), self._time),
            (re.compile(r"(?<![\d:.,])(?P<h>\d{1,2}):(?P<m>\d\d)(?![\d:])(?P<suffix>)"), self._time),
            (re.compile(r"(?<![\d./-])(?P<y>\d{4})-(?P<mo>\d\d?)-(?P<d>\d\d?)(?!\d)(?P<mn>)(?P<dayfirst>)"),
             self._date),
            (re.compile(r"(?<![\d./-])(?P<a>\d\d?)(?P<s>[/.-])(?P<b>\d\d?)(?P=s)(?P<y>\d{4}|\d\d)(?![\d./-])"),
             self._numeric_date),
            # Month names are matched as capitalised ("option 1 may be" is no date).
            (re.compile(rf"\b(?P<mn>{mp})\s(?P<d>\d\d?)(?i:st|nd|rd|th)?(?![\d:])(?:,?\s(?P<y>\d{{4}})(?!\d))?"
                        r"(?P<mo>)(?P<dayfirst>)"), self._date),
            (re.compile(rf"(?<![\d.,])(?P<d>\d\d?)(?i:st|nd|rd|th)?\s(?:of\s)?(?P<mn>{mp})(?![^\W\d_])"
                        rf"(?:,?\s(?P<y>\d{{4}})(?!\d))?"), self._date_dayfirst),
            (re.compile(r"(?<![\d.,])(?P<n>\d+)(?:st|nd|rd|th)(?![^\W\d_])", i),
             lambda m: pad(m, self.ordinal(int(m["n"])))),
            (re.compile(r"(?<![\d.,])(?P<n>\d{4}|\d0)'?s(?![^\W\d_])"), self._decade),
        ]

    def _date_dayfirst(self, m: re.Match) -> str:
        d = int(m["d"])
        if not 1 <= d <= 31:
            return m.group()
        words = f"{self.ordinal(d)} of {m['mn']}" + (f" {self.year(int(m['y']))}" if m["y"] else "")
        return pad(m, words)

    def _decade(self, m: re.Match) -> str:
        words = self.year(int(m["n"])) if len(m["n"]) == 4 else self.card(int(m["n"]))
        last = words.rsplit(" ", 1)[-1].rsplit("-", 1)[-1]
        plural = last[:-1] + "ies" if last.endswith("y") else last + ("es" if last.endswith("x") else "s")
        return pad(m, words[: len(words) - len(last)] + plural)


# --------------------------------------------------------------------------------------
# German (num2words)
# --------------------------------------------------------------------------------------
_DE_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
              "November", "Dezember")
# Words before an ordinal that ask for its -n ending ("am dritten"), or its -e ending ("der dritte");
# without either it takes -r ("dritter Mai", "zweiter Platz").
_DE_N = {"am", "vom", "zum", "im", "beim", "den", "dem", "des", "einem", "einen", "jeden", "jedem", "diesem",
         "diesen", "ab", "bis", "seit", "zur", "nächsten", "letzten", "kommenden"}
_DE_E = {"der", "die", "das", "eine", "jede", "diese"}
_DE_LINK = {"und", "oder", "-", "–", ","}
_DE_FEMININE = {"Stunde", "Minute", "Sekunde", "Woche", "Nacht", "Person", "Million", "Milliarde", "Flasche",
                "Tasse", "Frage", "Nachricht", "Erinnerung", "Sache", "Seite", "Mail", "Runde", "Rupie"}


class German(_Num2WordsYears):
    code = "de"
    point, percent, minus, to = "Komma", "Prozent", "minus", "bis"
    degree = ("Grad", "Grad")
    celsius, fahrenheit = "Celsius", "Fahrenheit"
    symbol_words = {"&": "und", "+": "plus"}
    currency = {"$": ("Dollar", "Dollar", "Cent", "Cent"), "€": ("Euro", "Euro", "Cent", "Cent"),
                "£": ("Pfund", "Pfund", "Penny", "Pence"), "₹": ("Rupie", "Rupien", "Paisa", "Paise"),
                "¥": ("Yen", "Yen", "Sen", "Sen")}
    magnitudes = ("Tausend", "Millionen", "Million", "Milliarden", "Milliarde")
    months = _DE_MONTHS
    month_pattern = "|".join(_DE_MONTHS) + r"|Jänner|(?:Jan|Feb|Mär|Apr|Aug|Sept?|Okt|Nov|Dez)\."
    group, decimal = ".", ","
    _year_words = {"im", "jahr", "jahre", "jahres", "jahren", "seit", "von", "bis", "ab", "anno", "vor", "nach", "um",
                   "sommer", "winter", "herbst", "frühjahr", "frühling", "ende", "anfang", "mitte",
                   *(x.lower() for x in _DE_MONTHS)}

    def cardinal(self, n: int) -> str:
        from num2words import num2words

        return num2words(n, lang="de")

    def card(self, n: int, next_word: str = "") -> str:
        if n == 1 and next_word[:1].isupper():  # "ein Uhr", "ein Euro", "eine Stunde"; alone "eins"
            return "eine" if next_word.strip(".,;:!?") in _DE_FEMININE else "ein"
        return super().card(n)

    def ordinal(self, n: int, m: re.Match | None = None, suffix: str = "") -> str:
        key = ("o", n)
        if key not in self._cache:
            from num2words import num2words

            self._cache[key] = num2words(n, lang="de", to="ordinal")  # dritte, zwanzigste
        return self._cache[key] + (self._ending(m) if m is not None else "")

    @staticmethod
    def _ending(m: re.Match) -> str:
        for w in prev_words(m):
            lw = w.lower()
            if lw in _DE_N:
                return "n"
            if lw in _DE_E:
                return ""
            if not (lw in _DE_LINK or re.fullmatch(r"\d+\.?|[\w-]*(?:te|ten|ter)", lw)):
                break
        return "r"

    def time(self, h: int, mnt: int, suffix: str) -> str:
        return f"{self.card(h, 'Uhr')} Uhr" + (f" {self.card(mnt)}" if mnt else "")

    def date(self, d: int, mo: int, y: str | None, m: re.Match) -> str:
        month = m["mn"] if m["mn"] else self.months[mo - 1]
        return f"{self.ordinal(d, m)} {month}" + (f" {self.year(int(y))}" if y else "")

    def _month(self, m: re.Match) -> int:
        return 1 if (m["mn"] or "").startswith("Jän") else super()._month(m)

    def _dot_ordinal(self, m: re.Match) -> str:
        prev = prev_words(m, 1)
        lw = prev[0].lower() if prev else ""
        nxt = next_word(m)
        # "am 28.", "der 2. Platz": an article or preposition before it; "um 10." ends a sentence.
        if lw in _DE_N or (lw in _DE_E and nxt[:1].isupper()) or (lw in _DE_LINK and self._ending(m) != "r"):
            return pad(m, self.ordinal(int(m["n"]), m))
        return pad(m, self.card(int(m["n"]), nxt)) + "."

    def special_passes(self):
        mp = self.month_pattern
        return [
            (re.compile(r"(?<![\d:.,])(?P<h>\d\d?)(?::(?P<m>\d\d)|\.(?P<m2>\d\d)(?=\s?(?:Uhr|h)\b))(?![\d:])"
                        r"(?:\s?(?P<suffix>Uhr|h)\b)?"), self._de_time),
            (re.compile(r"(?<![\d./-])(?P<y>\d{4})-(?P<mo>\d\d?)-(?P<d>\d\d?)(?!\d)(?P<mn>)"), self._date),
            (re.compile(r"(?<![\d.,])(?P<d>\d\d?)\.(?P<mo>\d\d?)\.(?:(?P<y>\d{4}|\d\d)(?![\d.,]?\d)|(?!\d))(?P<mn>)"),
             self._date),
            (re.compile(rf"(?<![\d.,])(?P<d>\d\d?)\.\s?(?P<mn>{mp})(?![^\W\d_])(?:\s(?P<y>\d{{4}})(?!\d))?(?P<mo>)"),
             self._date),
            (re.compile(r"(?<![\d.,])(?P<n>\d{1,3})\.(?!\d)"), self._dot_ordinal),
            (re.compile(r"(?<![\d.,])(?P<n>\d+)er(?![^\W\d_])"),
             lambda m: pad(m, (self.year(int(m["n"])) if len(m["n"]) == 4 else self.card(int(m["n"]))) + "er")),
        ]

    def _de_time(self, m: re.Match) -> str:
        h, mnt = int(m["h"]), int(m["m"] or m["m2"])
        if h > 24 or mnt > 59:
            return pad(m, f"{self.card(h)} {self.card(mnt)}" + (f" {m['suffix']}" if m["suffix"] else ""))
        return pad(m, self.time(h, mnt, ""))


# --------------------------------------------------------------------------------------
# Hindi (indic-numtowords)
# --------------------------------------------------------------------------------------
_HI_MONTHS = ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर",
              "दिसंबर")
# पहला/पहले/पहली ...: the first ordinals are irregular stems; the rest are cardinal + वाँ/वें/वीं.
_HI_ORD_STEMS = {1: "पहल", 2: "दूसर", 3: "तीसर", 4: "चौथ", 6: "छठ"}
_HI_ORD_VOWEL = {"वाँ": "ा", "वां": "ा", "वें": "े", "वीं": "ी"}


class Hindi(Grammar):
    code = "hi"
    point, percent, minus, to = "दशमलव", "प्रतिशत", "माइनस", "से"
    degree = ("डिग्री", "डिग्री")
    celsius, fahrenheit = "सेल्सियस", "फ़ारेनहाइट"
    symbol_words = {"&": "और", "+": "प्लस"}
    currency = {"$": ("डॉलर", "डॉलर", "सेंट", "सेंट"), "€": ("यूरो", "यूरो", "सेंट", "सेंट"),
                "£": ("पाउंड", "पाउंड", "पेंस", "पेंस"), "₹": ("रुपया", "रुपये", "पैसा", "पैसे"),
                "¥": ("येन", "येन", "सेन", "सेन")}
    magnitudes = ("हज़ार", "हजार", "लाख", "करोड़", "करोड़", "मिलियन", "बिलियन")
    months = _HI_MONTHS
    max_cardinal = 10 ** 9  # indic-numtowords reads longer numbers digit by digit
    num_pattern = r"(?:\d{1,3}(?:,\d{2,3})+(?:\.\d+)?|\d+(?:\.\d+)?)"  # 1,00,000 as well as 1,000,000

    def cardinal(self, n: int) -> str:
        from indic_numtowords import num2words

        return num2words(n, lang="hi")

    def ordinal(self, n: int, m=None, suffix: str = "वाँ") -> str:
        vowel = _HI_ORD_VOWEL.get(suffix, "ा")
        if n in _HI_ORD_STEMS:
            return _HI_ORD_STEMS[n] + vowel
        return self.card(n) + (suffix if suffix in _HI_ORD_VOWEL else "वाँ")

    def year(self, n: int) -> str:
        # 1990: उन्नीस सौ नब्बे, as years (and amounts such as पंद्रह सौ) are said.
        if 1100 <= n <= 1999:
            return f"{self.card(n // 100)} सौ" + (f" {self.card(n % 100)}" if n % 100 else "")
        return self.card(n)

    def is_year(self, n: int, m: re.Match) -> bool:
        return 1100 <= n <= 1999

    def time(self, h: int, mnt: int, suffix: str) -> str:
        h12 = h % 12 or 12
        if mnt == 0:
            return f"{self.card(h)} बजे"
        if mnt == 30:
            return {1: "डेढ़ बजे", 2: "ढाई बजे"}.get(h12, f"साढ़े {self.card(h12)} बजे")
        if mnt == 15:
            return f"सवा {self.card(h12)} बजे"
        if mnt == 45:
            return f"पौने {self.card(h12 % 12 + 1)} बजे"
        return f"{self.card(h)} बजकर {self.card(mnt)} मिनट"

    def date(self, d: int, mo: int, y: str | None, m: re.Match) -> str:
        return f"{self.card(d)} {self.months[mo - 1]}" + (f" {self.year(int(y))}" if y else "")

    def special_passes(self):
        return [
            (re.compile(r"(?<![\d:.,])(?P<h>\d\d?):(?P<m>\d\d)(?![\d:])(?:\s?(?P<suffix>बजे))?"), self._time),
            (re.compile(r"(?<![\d./-])(?P<y>\d{4})-(?P<mo>\d\d?)-(?P<d>\d\d?)(?!\d)"), self._date),
            (re.compile(r"(?<![\d./-])(?P<d>\d\d?)(?P<s>[/.-])(?P<mo>\d\d?)(?P=s)(?P<y>\d{4}|\d\d)(?![\d./-])"),
             self._date),
            (re.compile(r"(?<![\d.,])(?P<n>\d+)\s?(?P<suf>वाँ|वां|वें|वीं|st|nd|rd|th)(?![^\W\d_])"),
             lambda m: pad(m, self.ordinal(int(m["n"]), suffix=m["suf"]))),
        ]

    def _month(self, m: re.Match) -> int:
        return int(m["mo"])


GRAMMARS: dict[str, type[Grammar]] = {"en": English, "de": German, "hi": Hindi}

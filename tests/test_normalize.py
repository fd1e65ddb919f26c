"""Text normalisation (lmboot.text.normalize): per-script rules, and the numpy batch path that
must agree with the scalar one exactly."""
from __future__ import annotations

import itertools
import random
import unicodedata

import pytest

from lmboot.errors import LmbootError
from lmboot.text.normalize import Normalizer, normalize


# --- normalisation -----------------------------------------------------------------
@pytest.mark.parametrize("raw, want", [
    ("Set an ALARM, for 6:30!", "set an alarm for 6 30"),
    ("  Wake   me\tup  ", "wake me up"),
    ("Don't play \"Hello\" -- please.", "don't play hello please"),
    ("call mom @ 5pm #urgent", "call mom 5pm urgent"),
])
def test_normalize_english(raw, want):
    assert normalize(raw) == want


def test_normalize_hindi_keeps_matras_virama_nukta_and_drops_danda():
    # matras (ा ि ु), virama (्), nukta letters (फ़ ज़), anusvara (ं): all stay; danda goes.
    raw = "क्या आज ज़रा फ़ोन करोगे? मुझे दवाई लेनी है।"
    assert normalize(raw) == "क्या आज ज़रा फ़ोन करोगे मुझे दवाई लेनी है"
    assert normalize("नमस्ते॥ ठीक है।।") == "नमस्ते ठीक है"


def test_normalize_nfc_unifies_nukta_forms():
    precomposed = "\u095e"  # फ़ as one code point (a composition exclusion: NFC decomposes it)
    decomposed = "\u092b\u093c"  # फ + nukta
    a, b = normalize(precomposed + "ोन"), normalize(decomposed + "ोन")
    assert a == b == unicodedata.normalize("NFC", decomposed + "ोन")


def test_normalize_mixed_latin_devanagari():
    assert normalize("Arijit Singh के गाने PLAY करो, volume 10 पर!") == "arijit singh के गाने play करो volume 10 पर"


def test_normalize_digits_option_and_devanagari_digits():
    assert normalize("अलार्म ६:३० बजे") == "अलार्म ६ ३० बजे"
    assert Normalizer(digits="drop")("अलार्म ६:३० बजे at 7") == "अलार्म बजे at"
    assert Normalizer(lowercase=False)("Call Mom") == "Call Mom"
    with pytest.raises(LmbootError):
        Normalizer(digits="spell")


def test_normalize_keeps_zero_width_joiners():
    assert normalize("क्\u200dष") == "क्\u200dष"


def _reference_normalize(text: str, lowercase: bool, digits: str) -> str:
    """The normaliser's rule written character by character: the specification."""
    import unicodedata

    text = unicodedata.normalize("NFC", text)
    text = text.lower() if lowercase else text
    out = []
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if cat[0] in "LM" or ch in "\u200c\u200d":
            out.append(ch)
        elif cat[0] == "N":
            out.append(" " if digits == "drop" and cat == "Nd" else ch)
        elif ch in "'\u2019" and 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha():
            out.append("'")
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def test_scorer_normalises_exactly_as_the_corpus_rule():
    rng = random.Random(7)
    alphabet = (list("abcXYZ  \t,.!?'’-0123456789") + [chr(c) for c in range(0x900, 0x980)]
                + list("İßẞΣςÅ\u200c\u200d\u00a0\u2009١٢३४５½²™€😀—“”«»।॥") + ["e\u0301", "\u0915\u093c"])
    for lowercase, digits in itertools.product((True, False), ("keep", "drop")):
        norm = Normalizer(lowercase=lowercase, digits=digits)
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25))) for _ in range(3000)]
        texts += ["ΟΔΟΣ", "ΟΔΟΣ\nΑ", "\u0301start", "end\u0915", "a\nb", "Don't STOP", "x’y", "ǅ", ""]
        want = [_reference_normalize(s, lowercase, digits) for s in texts]
        assert [norm(s) for s in texts] == want
        # The numpy batch path (rescoring, winnowing, LM training text) must agree exactly.
        no_breaks = [t for t in texts if "\n" not in t]
        want_nb = [_reference_normalize(s, lowercase, digits) for s in no_breaks]
        assert norm.batch(no_breaks) == want_nb
        assert norm.batch(texts) == want  # a text with a line break: the scalar fallback
        lines, counts = norm.batch(no_breaks, counts=True, utf8=True)
        assert lines == [s.encode() for s in want_nb]
        assert counts == [len(s.split()) for s in want_nb]


_BATCH_CASES = [
    # Not NFC: precomposed nukta letters (composition exclusions), decomposed Latin, Hangul jamo.
    "\u095c\u0921\u093c ड़ा", "Cafe\u0301 CAFÉ", "\u1100\u1161\u11a8 한", "\u0928\u093c \u0929",
    # Combining marks out of canonical order, a mark first, a Bengali two-part vowel.
    "a\u0301\u0323b", "\u0301x", "\u09c7\u09be \u09cb",
    # Case: final sigma, dotted capital I, a title-case digraph, German sharp s.
    "ΟΔΟΣ ΟΔΟΣ.", "İSTANBUL", "ǅemal", "STRAẞE",
    # Apostrophes kept between letters only, at either end of a line, after a mark.
    "Don't ’tis o’clock 'quoted' x'", "'", "क'ख", "का'",
    # Whitespace of every kind, empty and blank lines, digits of several scripts, emoji.
    "", "   ", "\t a \u00a0 b\u2009c  ", "१२३ ٤٥ 7", "😀 ok 😀", "\ud800 lone surrogate",
]


@pytest.mark.parametrize("lowercase,digits", list(itertools.product((True, False), ("keep", "drop"))))
def test_batch_normaliser_agrees_with_the_scalar_one_on_hard_cases(lowercase, digits):
    norm = Normalizer(lowercase=lowercase, digits=digits)
    rng = random.Random(3)
    for _ in range(200):  # the cases in random company, so that each sits at a line start, end, middle
        texts = rng.sample(_BATCH_CASES, rng.randint(1, len(_BATCH_CASES)))
        want = [_reference_normalize(t, lowercase, digits) for t in texts]
        assert norm.batch(texts) == want, texts
        assert norm.batch(texts, counts=True)[1] == [len(w.split()) for w in want]

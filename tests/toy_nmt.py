"""A generated toy language pair for the NMT tests and benchmarks (not part of the library).

The "target language" is a word-substitution cipher of a small English-like vocabulary into
Devanagari pseudo-words, so a tiny model can learn it in a few hundred steps while the script
differs from the source. ``domain="in"`` draws mostly from the words that are rare in the
general domain, as in-domain text does.

>>> pairs = make_pairs(3, seed=0)
>>> len(pairs), all(len(s.split()) == len(t.split()) for s, t in pairs)
(3, True)
"""
from __future__ import annotations

import random

_SYL = ["क", "ख", "ग", "च", "ज", "ट", "ड", "त", "द", "न", "प", "ब", "म", "य", "र", "ल", "व", "स", "ह"]
_VOW = ["", "ा", "ि", "ी", "ु", "े", "ो"]
WORDS = ("set alarm for six seven eight nine ten am pm play music song by call mom dad send message to "
         "what is the weather today tomorrow in city turn on off lights kitchen bedroom remind me buy milk "
         "bread eggs timer minutes hours stop pause next volume up down news read book open door lock "
         "temperature degrees cold hot rain snow wind morning evening night").split()


def _lexicon(seed: int = 7) -> dict[str, str]:
    rng = random.Random(seed)
    out, used = {}, set()
    for w in WORDS:
        while True:
            t = "".join(rng.choice(_SYL) + rng.choice(_VOW) for _ in range(rng.randint(1, 3)))
            if t not in used:
                used.add(t)
                out[w] = t
                break
    return out


LEXICON = _lexicon()


def encipher(sentence: str) -> str:
    return " ".join(LEXICON[w] for w in sentence.split())


def make_pairs(n: int, seed: int = 0, domain: str = "general", min_len: int = 3,
               max_len: int = 8) -> list[tuple[str, str]]:
    """``n`` (source, target) pairs. ``domain="general"`` favours the first two thirds of the
    vocabulary; ``domain="in"`` the last third."""
    rng = random.Random(seed)
    k = len(WORDS)
    cut = 2 * k // 3
    if domain == "general":
        weights = [1.0 if i < cut else 0.08 for i in range(k)]
    elif domain == "in":
        weights = [0.25 if i < cut else 1.0 for i in range(k)]
    else:
        raise ValueError(f"domain must be 'general' or 'in', not {domain!r}")
    pairs = []
    for _ in range(n):
        words = rng.choices(WORDS, weights=weights, k=rng.randint(min_len, max_len))
        src = " ".join(words)
        pairs.append((src, encipher(src)))
    return pairs

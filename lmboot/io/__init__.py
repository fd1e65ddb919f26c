"""Files every stage reads and writes: :mod:`~lmboot.io.corpus` (lines, bitext, atomic writes,
JSON, sha256), :mod:`~lmboot.io.nbest` (n-best lists: JSONL and Kaldi-style) and
:mod:`~lmboot.io.arpa` (ARPA models: reader, unigrams, format sniffing)."""

"""``lmboot eval``: judge LMs by word error rate, in three situations.

1. The user has a recogniser's n-best lists: :func:`wer_from_nbest` rescores them with each
   LM (the rescoring stage's λ·LM + μ·length, tuned on a dev part when given).
2. The user has audio (or speaks test text with :func:`synth`): :func:`wer_from_audio`
   decodes it with pocketsphinx using each LM.
3. No recogniser for the language: :func:`simulate` writes n-best lists with confusions of a
   chosen first-pass WER; their WERs compare LMs and are labelled "simulated".

>>> from lmboot.evaluate import simulate, wer_from_nbest, format_table
>>> simulate("test.hi", "test.sim.jsonl", vocab_from=["seed.hi", "general.hi"], seed=1)  # doctest: +SKIP
>>> print(format_table(wer_from_nbest("test.sim.jsonl", ["seed.bin", "final.bin"])))    # doctest: +SKIP
"""
from lmboot.evaluate.decode import PocketsphinxDecoder, read_audio_set, wer_from_audio
from lmboot.evaluate.nbest_formats import JsonlNbest, KaldiNbest, NbestReader, open_nbest
from lmboot.evaluate.report import WerResult, format_table, write_details, write_report
from lmboot.evaluate.rescoring import wer_from_nbest
from lmboot.evaluate.simulate import CharSimilarity, PhonemeSimilarity, SimulateResult, read_vocab, simulate
from lmboot.evaluate.synth import SynthResult, speak, synth
from lmboot.evaluate.wer import ErrorCounts, word_errors

__all__ = [
    "CharSimilarity", "ErrorCounts", "JsonlNbest", "KaldiNbest", "NbestReader", "PhonemeSimilarity",
    "PocketsphinxDecoder", "SimulateResult", "SynthResult", "WerResult", "format_table", "open_nbest",
    "read_audio_set", "read_vocab", "simulate", "speak", "synth", "wer_from_audio", "wer_from_nbest",
    "word_errors", "write_details", "write_report",
]

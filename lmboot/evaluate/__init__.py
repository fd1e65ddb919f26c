"""``lmboot eval``: judge LMs by word error rate, in three situations.

1. The user has a recogniser's n-best lists: :func:`wer_from_nbest` rescores them with each
   LM (the rescoring stage's λ·LM + μ·length, tuned on a dev part when given).
2. The user has audio (or speaks test text with :func:`synth`): :func:`wer_from_audio`
   decodes it with a recogniser chosen by name (:data:`DECODERS`: pocketsphinx) using each LM.
3. No recogniser for the language: :func:`simulate` writes n-best lists with confusions of a
   chosen first-pass WER; their WERs compare LMs and are labelled "simulated".

Modules: :mod:`~lmboot.evaluate.nbest_wer` (1), :mod:`~lmboot.evaluate.decode` and
:mod:`~lmboot.evaluate.synthesis` (2), :mod:`~lmboot.evaluate.simulation` (3),
:mod:`~lmboot.evaluate.results` (the per-LM results and their comparison table). WER itself is
:func:`lmboot.metrics.word_errors`; the n-best readers are in :mod:`lmboot.io.nbest`.

>>> from lmboot.evaluate import simulate, wer_from_nbest, format_table
>>> simulate("test.hi", "test.sim.jsonl", vocab_from=["seed.hi", "general.hi"], seed=1)  # doctest: +SKIP
>>> print(format_table(wer_from_nbest("test.sim.jsonl", ["seed.bin", "final.bin"])))    # doctest: +SKIP
"""
from lmboot.evaluate.decode import DECODERS, Decoder, PocketsphinxDecoder, read_audio_set, wer_from_audio
from lmboot.evaluate.nbest_wer import wer_from_nbest
from lmboot.evaluate.results import WerResult, WerResults, format_table, write_details, write_report
from lmboot.evaluate.simulation import CharSimilarity, PhonemeSimilarity, SimulateResult, read_vocab, simulate
from lmboot.evaluate.synthesis import SynthResult, speak, synth

__all__ = [
    "CharSimilarity", "DECODERS", "Decoder", "PhonemeSimilarity", "PocketsphinxDecoder", "SimulateResult",
    "SynthResult", "WerResult", "WerResults", "format_table", "read_audio_set", "read_vocab", "simulate", "speak",
    "synth", "wer_from_audio", "wer_from_nbest", "write_details", "write_report",
]

"""The ``lmboot`` command line: a thin Typer layer over the library.

Each command parses its options, calls one library function and prints what it measured.
Heavy imports (torch, fairseq2, kenlm, matplotlib) happen inside the commands, so
``lmboot --help`` stays fast. User errors (:class:`LmbootError`) become one line on stderr
and exit status 2.

Size (~620 lines): Typer option declarations, one block per command and no logic of its own;
it is one module so that ``lmboot --help`` imports one file.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import List, Optional

import typer

from lmboot.defaults import DEFAULT_KEEP_FRACTION, DEFAULT_OOV_PENALTY
from lmboot.errors import LmbootError

app = typer.Typer(
    help="Bootstrap an n-gram LM for a new language by machine translation "
    "(select -> nmt -> rescore -> winnow -> lm build -> eval).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
lm_app = typer.Typer(help="Train, evaluate and combine n-gram LMs (KenLM).", no_args_is_help=True)
app.add_typer(lm_app, name="lm")

log = logging.getLogger("lmboot")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
          quiet: bool = typer.Option(False, "--quiet", "-q",
                                     help="Warnings and errors only, and no progress bars.")) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    # Libraries (fairseq2, ...) speak at WARNING unless --verbose; lmboot at the chosen level.
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="[%(name)s] %(message)s",
                        stream=sys.stderr, force=True)
    log.setLevel(level)


def _normalizer(lowercase: bool, digits: str, spoken_form: bool = False, lang: Optional[str] = None):
    from lmboot.text.normalize import Normalizer

    if digits not in ("keep", "drop"):
        raise LmbootError(f"--digits must be keep or drop, not {digits!r}")
    if spoken_form and not lang:
        raise LmbootError("--spoken-form needs --lang, the text's language (e.g. de, deu or deu_Latn)")
    if lang is not None and not spoken_form:
        raise LmbootError("--lang only says which language --spoken-form writes numbers in: add --spoken-form")
    if lang is not None:
        from lmboot.text.spoken import resolve_lang

        try:
            resolve_lang(lang)
        except LmbootError as e:
            raise LmbootError(f"--lang: {e}") from None
    return Normalizer(lowercase=lowercase, digits=digits, spoken_form=spoken_form, lang=lang)


def _progress(flag: Optional[bool]) -> bool:
    """A command's progress bar: as asked (--progress/--no-progress), else when stderr is a
    terminal and the global --quiet is not given."""
    if flag is not None:
        return flag
    return sys.stderr.isatty() and log.getEffectiveLevel() <= logging.INFO


def _prune(values: Optional[List[int]]) -> Optional[List[int]]:
    return list(values) if values else None


WINNOW_OUTPUTS = ("kept.txt", "dropped.tsv", "summary.json", "scores.f32", "histogram.png")
SELECT_OUTPUTS = ("selected.src", "selected.tgt", "selected.tsv", "oversampled.src", "oversampled.tgt",
                  "oversampled.tsv", "scores.tsv", "summary.json", "histogram.png", "embedder", "lm", "source")
MODEL_OUTPUTS = ("config.json", "spm.model", "checkpoints", "log.jsonl", "train_log.jsonl", "ct2-int8")


def _ranged(*specs) -> None:
    """Each spec: (option, value, lo=None, hi=None, lo_open=False, hi_open=False); None values pass."""
    from lmboot.safety import check_range

    for opt, value, *bounds in specs:
        lo, hi, lo_open, hi_open = (list(bounds) + [None, None, False, False][len(bounds):])[:4]
        check_range(opt, value, lo, hi, bool(lo_open), bool(hi_open))


def guard(inputs, files=None, dirs=None) -> None:
    """Before any work: no output replaces an input, every output is writable (lmboot.safety.guard)."""
    from lmboot.safety import guard as _guard

    _guard(inputs, files, dirs)


def _distinct(outputs: dict) -> None:
    seen: dict = {}
    for opt, p in outputs.items():
        if p is None:
            continue
        key = str(Path(p).resolve())
        if key in seen:
            raise LmbootError(f"{seen[key]} and {opt} name the same file", path=p)
        seen[key] = opt


LOWER = typer.Option(True, "--lowercase/--keep-case", help="Lower-case text (no-op for caseless scripts).")
DIGITS = typer.Option("keep", "--digits", help="keep | drop digits during normalisation.")
SPOKEN = typer.Option(False, "--spoken-form", help="Write numbers, times, dates, currencies, percentages and "
                      "symbols out as words in --lang before normalising (ASR-ready text).")
LANG = typer.Option(None, "--lang", help="The text's language for --spoken-form: de, deu or deu_Latn style "
                    "(grammars: en, de, hi; others keep digits).")


# --------------------------------------------------------------------------------------
# lm
# --------------------------------------------------------------------------------------
@lm_app.command("train")
def lm_train(
    text: Path = typer.Argument(..., help="Training text, one sentence per line."),
    out: Path = typer.Option(..., "--out", "-o", help="Output ARPA file."),
    order: int = typer.Option(3, "--order", "-n", help="N-gram order."),
    binary: Optional[Path] = typer.Option(None, "--binary", help="Also write a KenLM binary here."),
    memory: Optional[str] = typer.Option(None, "--memory", "-S",
                                         help="lmplz memory budget (e.g. 20%, 2G); default scales with the text."),
    prune: Optional[List[int]] = typer.Option(None, "--prune", help="Count threshold per order (repeat)."),
    discount_fallback: Optional[bool] = typer.Option(
        None, "--discount-fallback/--no-discount-fallback",
        help="Force lmplz --discount_fallback on/off (default: automatic when data is too small)."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
) -> None:
    """Estimate an n-gram LM (modified Kneser-Ney) with KenLM's lmplz."""
    _ranged(("--order", order, 1, 6), *(("--prune", x, 0) for x in prune or ()))
    guard([text], files={"--out": out, "--binary": binary})
    _distinct({"--out": out, "--binary": binary})
    from lmboot import lm

    res = lm.train(text, out, order=order, binary=binary, memory=memory, prune=_prune(prune),
                   discount_fallback=discount_fallback,
                   normalizer=_normalizer(lowercase, digits, spoken_form, lang))
    typer.echo(res.summary())


@lm_app.command("eval")
def lm_eval(
    text: Path = typer.Argument(..., help="Evaluation text, one sentence per line."),
    lms: List[Path] = typer.Option(..., "--lm", help="Model (ARPA or binary); repeat to compare."),
    oov_penalty: float = typer.Option(DEFAULT_OOV_PENALTY, "--oov-penalty",
                                      help="log10 charged on the common vocabulary for a word a model lacks."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the figures (and per-sentence scores) as JSON."),
    per_sentence: bool = typer.Option(False, "--per-sentence", help="Include per-sentence scores in the JSON."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
) -> None:
    """Perplexity (with/without OOVs, and on a common vocabulary) and OOV rate of TEXT."""
    _ranged(("--oov-penalty", oov_penalty, None, 0))
    guard([text, *lms], files={"--json": json_out})
    from lmboot import lm
    from lmboot.io.corpus import write_json

    res = lm.evaluate(lms, text, oov_penalty=oov_penalty,
                      normalizer=_normalizer(lowercase, digits, spoken_form, lang),
                      keep_sentences=per_sentence)
    typer.echo(res.summary())
    if json_out:
        write_json(json_out, res.to_json(per_sentence=per_sentence))


@lm_app.command("build")
def lm_build(
    texts: List[str] = typer.Option(..., "--text", "-t",
                                    help="A text source as NAME=PATH (or PATH, named by its stem); repeat."),
    dev: Path = typer.Option(..., "--dev", help="In-domain dev text to tune the interpolation weights on."),
    out: Path = typer.Option(..., "--out", "-o", help="Output ARPA file (the interpolated LM)."),
    binary: Optional[Path] = typer.Option(None, "--binary", help="Also write a KenLM binary here."),
    method: str = typer.Option("linear", "--method", "-m",
                               help="linear (EM weights, static ARPA mixture) | loglinear (KenLM interpolate)."),
    order: int = typer.Option(3, "--order", "-n", help="N-gram order of every component LM."),
    work_dir: Optional[Path] = typer.Option(None, "--work-dir",
                                            help="Where component LMs are kept and reused (default OUT.parts/)."),
    prune: Optional[List[int]] = typer.Option(None, "--prune", help="lmplz count threshold per order (repeat)."),
    memory: Optional[str] = typer.Option(None, "--memory", "-S",
                                         help="lmplz memory budget (default: scales with the text)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write weights and perplexities as JSON."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="Progress bar while mixing (default: when stderr is a TTY)."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
) -> None:
    """One LM per text source, interpolated with weights tuned on --dev, written as one ARPA."""
    _ranged(("--order", order, 1, 6), *(("--prune", x, 0) for x in prune or ()))
    if method not in ("linear", "loglinear"):
        raise LmbootError(f"--method must be linear or loglinear, not {method!r}")
    from lmboot import lm
    from lmboot.io.corpus import write_json

    sources = [lm.parse_source(t) for t in texts]
    parts = lm.work_dir_for(out, work_dir)
    guard([dev, *(path for _, path in sources)], files={"--out": out, "--binary": binary, "--json": json_out},
          dirs={"--work-dir": (parts, None)})
    _distinct({"--out": out, "--binary": binary, "--json": json_out})
    fresh_parts = not parts.exists()
    try:
        res = lm.build(sources, dev, out, order=order, method=method,
                       binary=binary, work_dir=work_dir, prune=_prune(prune),
                       normalizer=_normalizer(lowercase, digits, spoken_form, lang), memory=memory,
                       progress=_progress(progress))
    except Exception:
        if fresh_parts:  # a failed first build leaves no half-made component directory
            import shutil

            shutil.rmtree(parts, ignore_errors=True)
        raise
    typer.echo(res.summary())
    if json_out:
        write_json(json_out, res.to_json())


@lm_app.command("prune")
def lm_prune(
    arpa: Path = typer.Argument(..., help="ARPA model to prune (text, not a KenLM binary)."),
    out: Path = typer.Option(..., "--out", "-o", help="Pruned ARPA model."),
    max_size: Optional[str] = typer.Option(None, "--max-size",
                                           help="Size budget of the KenLM binary (5MB, 500KB, 1.5GB, 64MiB): "
                                                "the smallest threshold that fits is chosen."),
    threshold: Optional[float] = typer.Option(None, "--threshold",
                                              help="Prune n-grams whose removal changes perplexity by less than "
                                                   "this (relative, as SRILM -prune; e.g. 1e-8)."),
    binary: Optional[Path] = typer.Option(None, "--binary", help="Also write the KenLM binary here."),
    history: Optional[List[Path]] = typer.Option(
        None, "--history-text", help="The LM's training text (repeat for an interpolated LM): history probabilities "
                                     "P(h) from its frequencies, not the model's chain rule (better for Kneser-Ney)."),
    history_weight: Optional[List[float]] = typer.Option(
        None, "--history-weight", help="Weight of each --history-text, e.g. its interpolation weight "
                                       "(default: the texts pooled)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write counts, threshold and sizes as JSON."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
) -> None:
    """Relative-entropy pruning (Stolcke 1998, SRILM -prune) to a size budget or a threshold."""
    from lmboot.lm.size import parse_size

    norm = _normalizer(lowercase, digits, spoken_form, lang)  # of --history-text, as the LM text was
    if (max_size is None) == (threshold is None):
        raise LmbootError("give one of --max-size and --threshold")
    _ranged(("--threshold", threshold, 0), *(("--history-weight", w, 0, None, True) for w in history_weight or ()))
    if history_weight and len(history_weight) != len(history or ()):
        raise LmbootError(f"{len(history_weight)} --history-weight for {len(history or ())} --history-text")
    if max_size is not None:
        try:
            parse_size(max_size)
        except LmbootError as e:
            raise LmbootError(f"--max-size: {e.message}") from None
    guard([arpa, *(history or ())], files={"--out": out, "--binary": binary, "--json": json_out})
    _distinct({"--out": out, "--binary": binary, "--json": json_out})
    from lmboot import lm
    from lmboot.io.corpus import write_json

    texts = list(zip(history or (), history_weight or [None] * len(history or ())))
    res = lm.prune(arpa, out, threshold=threshold, max_size=max_size, binary=binary, history=texts,
                   normalizer=norm)
    typer.echo(res.summary())
    if json_out:
        write_json(json_out, res.to_json())


# --------------------------------------------------------------------------------------
# winnow
# --------------------------------------------------------------------------------------
@app.command("winnow")
def winnow_cmd(
    text: Path = typer.Argument(..., help="Sentences to filter (e.g. translations)."),
    lm_path: Path = typer.Option(..., "--lm", help="Seed LM (ARPA or binary)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Directory for kept.txt, dropped.tsv, summary.json."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Keep perplexity <= this."),
    percentile: Optional[float] = typer.Option(None, "--percentile",
                                               help="Threshold = this percentile of seed-LM perplexity on --dev."),
    dev: Optional[Path] = typer.Option(None, "--dev", help="In-domain dev text for --percentile."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Write histogram.png with the cut."),
    normalized: bool = typer.Option(False, "--write-normalized", help="Write normalised text instead of input lines."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="Progress bar (default: when stderr is a terminal)."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
) -> None:
    """Keep sentences whose seed-LM perplexity is below a threshold."""
    _ranged(("--threshold", threshold, 0, None, True), ("--percentile", percentile, 0, 100, True))
    guard([text, lm_path, dev], dirs={"--out": (out_dir, WINNOW_OUTPUTS)})
    from lmboot import winnow

    res = winnow.winnow(text, lm_path, out_dir, threshold=threshold, percentile=percentile, dev=dev,
                        normalizer=_normalizer(lowercase, digits, spoken_form, lang), write_normalized=normalized,
                        progress=_progress(progress), plot=plot)
    typer.echo(res.summary())


# --------------------------------------------------------------------------------------
# select
# --------------------------------------------------------------------------------------
@app.command("select")
def select_cmd(
    general_src: Path = typer.Argument(..., help="General bitext: source side, or a source<TAB>target TSV."),
    general_tgt: Optional[Path] = typer.Argument(None, help="General bitext: target side (omit for a TSV)."),
    seed: Path = typer.Option(..., "--seed", help="In-domain target-language seed set, one sentence per line."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Output directory (selected bitext, scores.tsv, "
                                 "summary.json, histogram.png, embedder/ or lm/)."),
    method: str = typer.Option("centroid", "--method", "-m", help="centroid | knn | moore-lewis"),
    keep_fraction: Optional[float] = typer.Option(None, "--keep-fraction",
                                                  help=f"Keep this fraction of all pairs (default {DEFAULT_KEEP_FRACTION})."),
    max_distance: Optional[float] = typer.Option(None, "--max-distance",
                                                 help="Keep pairs scoring <= this (cosine distance; "
                                                 "bits/word difference for moore-lewis)."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Keep the K best-scoring pairs."),
    k: int = typer.Option(5, "--k", help="knn: number of nearest seed sentences averaged."),
    embedder: str = typer.Option("tfidf", "--embedder",
                                 help="tfidf | st:/local/sentence-transformers/dir | a saved OUT/embedder dir."),
    dim: int = typer.Option(128, "--dim", help="tfidf: SVD dimensions."),
    fit_sample: int = typer.Option(50000, "--fit-sample",
                                   help="General target sentences sampled to fit the embedder / general LM."),
    order: int = typer.Option(3, "--order", help="moore-lewis: n-gram order of both LMs."),
    source_domain: Optional[Path] = typer.Option(
        None, "--source-domain", help="moore-lewis: in-domain source-language text (e.g. the text to translate); "
        "the source side is scored against it too (bilingual Moore-Lewis)."),
    repeat: int = typer.Option(1, "--repeat", help="N > 1: write every pair, the kept ones N times "
                               "(oversampled.*: training data weighted toward the domain)."),
    batch_size: int = typer.Option(2048, "--batch-size", help="Sentences embedded/scored per batch."),
    random_seed: int = typer.Option(1, "--random-seed", help="Seed of every random choice."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="Progress bar (default: when stderr is a terminal)."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Write histogram.png with the cut."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
    src_lang: Optional[str] = typer.Option(None, "--src-lang", help="--spoken-form: the source side's language "
                                           "(its numbers are written out in it; without it they stay digits)."),
) -> None:
    """Keep the general-domain pairs whose target side is nearest the in-domain seed set (with
    --source-domain: and whose source side is nearest in-domain source text)."""
    _ranged(("--keep-fraction", keep_fraction, 0, 1, True), ("--max-distance", max_distance),
            ("--top-k", top_k, 1), ("--k", k, 1), ("--dim", dim, 2), ("--fit-sample", fit_sample, 1),
            ("--order", order, 1, 6), ("--batch-size", batch_size, 1), ("--random-seed", random_seed, 0),
            ("--repeat", repeat, 1, 100))
    guard([general_src, general_tgt, seed, source_domain], dirs={"--out": (out_dir, SELECT_OUTPUTS + tuple(
        f"{stem}{p.suffix}" for stem in ("selected", "oversampled") for p in (general_src, general_tgt) if p))})
    from lmboot import select as select_mod

    norm = _normalizer(lowercase, digits, spoken_form, lang)
    if src_lang is not None and not spoken_form:
        raise LmbootError("--src-lang only says which language --spoken-form writes the source side in: "
                          "add --spoken-form")
    src_norm = _normalizer(lowercase, digits, spoken_form, src_lang) if src_lang else None
    res = select_mod.select(
        general_src, general_tgt, seed, out_dir, method=method, keep_fraction=keep_fraction,
        max_distance=max_distance, top_k=top_k, k=k, embedder=embedder, random_seed=random_seed, dim=dim,
        fit_sample=fit_sample, batch_size=batch_size, order=order, normalizer=norm, src_normalizer=src_norm,
        progress=_progress(progress), plot=plot, source_domain=source_domain, repeat=repeat)
    typer.echo(res.summary())

# --------------------------------------------------------------------------------------
# nmt
# --------------------------------------------------------------------------------------
nmt_app = typer.Typer(help="Neural translator (fairseq2): SentencePiece, train, translate, self-train.",
                      no_args_is_help=True)
app.add_typer(nmt_app, name="nmt")


@nmt_app.command("spm")
def nmt_spm(
    src: List[Path] = typer.Option(..., "--src", help="Source-side training text (repeat for more files)."),
    tgt: List[Path] = typer.Option(..., "--tgt", help="Target-side training text (repeat for more files)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output SentencePiece model (e.g. MODEL/spm.model)."),
    vocab_size: int = typer.Option(8000, "--vocab-size", help="Vocabulary size (total)."),
    per_side: bool = typer.Option(False, "--per-side", help="One model per side (vocab/2 each), merged into one."),
    coverage: Optional[float] = typer.Option(None, "--character-coverage",
                                             help="Default: 1.0, or 0.9995 for scripts with thousands of characters."),
    max_sentences: int = typer.Option(2_000_000, "--max-sentences", help="Seeded sample of at most this many lines per side."),
    seed: int = typer.Option(1, "--seed"),
) -> None:
    """Train a SentencePiece (unigram) model on both sides of a bitext."""
    _ranged(("--vocab-size", vocab_size, 16), ("--character-coverage", coverage, 0, 1, True),
            ("--max-sentences", max_sentences, 1), ("--seed", seed, 0))
    guard([*src, *tgt], files={"--out": out})
    from lmboot.nmt.spm import train_spm

    res = train_spm(src, tgt, out, vocab_size=vocab_size, joint=not per_side, character_coverage=coverage,
                    max_sentences=max_sentences, seed=seed)
    typer.echo(res.summary())


@nmt_app.command("train")
def nmt_train(
    src: Path = typer.Argument(..., help="Source side of the training bitext (or a source<TAB>target .tsv)."),
    tgt: Optional[Path] = typer.Argument(None, help="Target side (omit for a .tsv)."),
    model: Path = typer.Option(..., "--model", "-m", help="Model directory (created, or resumed)."),
    src_lang: str = typer.Option(..., "--src-lang", help="Source language code, e.g. eng_Latn."),
    tgt_lang: str = typer.Option(..., "--tgt-lang", help="Target language code, e.g. hin_Deva."),
    dev_src: Optional[Path] = typer.Option(None, "--dev-src", help="Dev bitext source side (or .tsv)."),
    dev_tgt: Optional[Path] = typer.Option(None, "--dev-tgt", help="Dev bitext target side."),
    preset: str = typer.Option("tiny", "--preset", help="tiny (CI) | small (CPU) | base (GPU)."),
    spm_model: Optional[Path] = typer.Option(None, "--spm", help="Use this SentencePiece model (default: train one)."),
    vocab_size: Optional[int] = typer.Option(None, "--vocab-size", help="SentencePiece vocabulary (default: preset's)."),
    per_side: bool = typer.Option(False, "--per-side-spm", help="Per-side SentencePiece, merged."),
    init_from: Optional[Path] = typer.Option(None, "--init-from",
                                             help="Start from an lmboot model dir, or a JSON describing a local fairseq2 checkpoint."),
    max_steps: int = typer.Option(1000, "--max-steps", help="Total optimiser steps."),
    max_time: Optional[str] = typer.Option(None, "--max-time", help="Wall-time limit of this run: 90, 90s, 25m, 1h."),
    valid_every: int = typer.Option(200, "--valid-every", help="Validate (and save) every N steps."),
    save_every: Optional[int] = typer.Option(None, "--save-every", help="Save last.pt every N steps (default: --valid-every)."),
    patience: Optional[int] = typer.Option(5, "--patience", help="Early stopping after N validations without gain (0: off)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Peak learning rate (default: preset's)."),
    warmup: Optional[int] = typer.Option(None, "--warmup", help="Warm-up steps (default: preset's)."),
    batch_tokens: Optional[int] = typer.Option(None, "--batch-tokens", help="Tokens per batch (default: preset's)."),
    max_len: int = typer.Option(128, "--max-len", help="Drop training pairs longer than this (tokens)."),
    label_smoothing: float = typer.Option(0.1, "--label-smoothing"),
    dropout: Optional[float] = typer.Option(None, "--dropout"),
    valid_beam: int = typer.Option(4, "--valid-beam", help="Beam for dev BLEU/chrF."),
    valid_max: int = typer.Option(500, "--valid-max", help="Use at most N dev pairs."),
    seed: int = typer.Option(1, "--seed"),
    device: Optional[str] = typer.Option(None, "--device", help="cpu | cuda (default: cuda when available)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads (default: OMP_NUM_THREADS or cores)."),
    precision: str = typer.Option("auto", "--precision",
                                  help="auto (bf16 where the CPU/GPU has it, else fp32) | fp32 | bf16 | fp16 (CUDA)."),
    deterministic: bool = typer.Option(True, "--deterministic/--fast-kernels",
                                       help="Deterministic CPU kernels: bit-exact reruns on the same CPU kind."),
    average: int = typer.Option(0, "--average",
                                help="Average the last N validated checkpoints at the end; kept if dev chrF is better (0: off)."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: on a TTY)."),
) -> None:
    """Train an encoder-decoder Transformer translator; re-run to resume after an interruption."""
    _ranged(("--vocab-size", vocab_size, 16), ("--max-steps", max_steps, 1), ("--valid-every", valid_every, 1),
            ("--save-every", save_every, 1), ("--patience", patience, 0), ("--lr", lr, 0, 1, True),
            ("--warmup", warmup, 0), ("--batch-tokens", batch_tokens, 1), ("--max-len", max_len, 1),
            ("--label-smoothing", label_smoothing, 0, 1, False, True), ("--dropout", dropout, 0, 1, False, True),
            ("--valid-beam", valid_beam, 1), ("--valid-max", valid_max, 1), ("--seed", seed, 0),
            ("--threads", threads, 1), ("--average", average, 0, 64))
    if average == 1:
        raise LmbootError("--average must be 0 (off) or at least 2 checkpoints, not 1")
    guard([src, tgt, dev_src, dev_tgt, spm_model, init_from], dirs={"--model": (model, MODEL_OUTPUTS)})
    from lmboot.nmt.training import train

    res = train(src, tgt, model, src_lang=src_lang, tgt_lang=tgt_lang, dev_src=dev_src, dev_tgt=dev_tgt,
                preset=preset, spm_model=spm_model, vocab_size=vocab_size, joint_spm=not per_side,
                init_from=init_from, max_steps=max_steps, max_time=max_time, valid_every=valid_every,
                save_every=save_every, patience=patience or None, lr=lr, warmup_steps=warmup,
                batch_tokens=batch_tokens, max_len=max_len, label_smoothing=label_smoothing, dropout=dropout,
                valid_beam=valid_beam, valid_max=valid_max, seed=seed, device=device, threads=threads,
                precision=precision, deterministic=deterministic, average=average, progress=_progress(progress))
    typer.echo(res.summary())


@nmt_app.command("translate")
def nmt_translate(
    text: Path = typer.Argument(..., help="Input text, one sentence per line."),
    model: Path = typer.Option(..., "--model", "-m", help="Model directory."),
    out: Path = typer.Option(..., "--out", "-o", help="Output n-best JSONL."),
    txt: Optional[Path] = typer.Option(None, "--txt", help="Also write top-1 translations, one per line."),
    beam: int = typer.Option(5, "--beam"),
    nbest: int = typer.Option(5, "--nbest"),
    ref: Optional[Path] = typer.Option(None, "--ref", help="Line-aligned references: adds 'ref' and prints BLEU/chrF."),
    max_lines: Optional[int] = typer.Option(None, "--max-lines", help="Translate only the first N lines."),
    checkpoint: str = typer.Option("best", "--checkpoint", help="best | last | a checkpoint path."),
    batch_tokens: int = typer.Option(4096, "--batch-tokens"),
    max_sentences: int = typer.Option(64, "--batch-size", help="At most N sentences per batch."),
    len_penalty: float = typer.Option(1.0, "--len-penalty"),
    device: Optional[str] = typer.Option(None, "--device"),
    threads: Optional[int] = typer.Option(None, "--threads"),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress"),
    engine: str = typer.Option("fairseq2", "--engine",
                               help="fairseq2 | ct2 (CTranslate2: MODEL is an export, or exported once to MODEL/ct2-Q)."),
    quantization: str = typer.Option("int8", "--quantization",
                                     help="ct2: export type when MODEL is an lmboot model (int8, int8_float16, float16, float32)."),
    sampling_topk: int = typer.Option(1, "--sampling-topk",
                                      help="ct2: sample --nbest hypotheses from the K most likely tokens (0: all; 1: beam search)."),
    sampling_temperature: float = typer.Option(1.0, "--sampling-temperature", help="ct2: sampling temperature."),
    seed: Optional[int] = typer.Option(None, "--seed", help="ct2: seed for reproducible sampling."),
) -> None:
    """Beam-search translation to an n-best JSONL (docs/formats.md) and optional top-1 text."""
    _ranged(("--beam", beam, 1), ("--nbest", nbest, 1), ("--max-lines", max_lines, 1),
            ("--batch-tokens", batch_tokens, 1), ("--batch-size", max_sentences, 1), ("--len-penalty", len_penalty),
            ("--threads", threads, 1), ("--sampling-topk", sampling_topk, 0),
            ("--sampling-temperature", sampling_temperature, 0, None, True), ("--seed", seed, 0))
    guard([text, ref, model], files={"--out": out, "--txt": txt})
    _distinct({"--out": out, "--txt": txt})
    from lmboot.nmt.translation import translate

    res = translate(model, text, out, txt, beam=beam, nbest=nbest, ref_path=ref, max_lines=max_lines,
                    checkpoint=checkpoint, batch_tokens=batch_tokens, max_sentences=max_sentences,
                    len_penalty=len_penalty, device=device, threads=threads, progress=_progress(progress),
                    engine=engine, quantization=quantization, sampling_topk=sampling_topk,
                    sampling_temperature=sampling_temperature, seed=seed)
    if int(__import__("os").environ.get("RANK", "0")) == 0:
        typer.echo(res.summary())


@nmt_app.command("export")
def nmt_export(
    model: Path = typer.Argument(..., help="lmboot model directory."),
    out: Path = typer.Option(..., "--out", "-o", help="Output CTranslate2 model directory (written atomically)."),
    quantization: str = typer.Option("int8", "--quantization", "-q", help="int8 | int8_float16 | float16 | float32."),
    checkpoint: str = typer.Option("best", "--checkpoint", help="best | last | a checkpoint path."),
) -> None:
    """Convert a model to CTranslate2 (for `nmt translate --engine ct2`)."""
    guard([model], dirs={"--out": (out, None)})
    from lmboot.nmt.ct2 import export

    res = export(model, out, quantization=quantization, checkpoint=checkpoint)
    typer.echo(res.summary())


@nmt_app.command("self-train")
def nmt_self_train(
    model: Path = typer.Option(..., "--model", "-m", help="Starting model directory."),
    source: Path = typer.Option(..., "--source", help="In-domain source-language text."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory (final model in OUT/model)."),
    train_src: Path = typer.Option(..., "--train-src", help="Original training bitext, source side (or .tsv)."),
    train_tgt: Optional[Path] = typer.Option(None, "--train-tgt", help="Original training bitext, target side."),
    rounds: int = typer.Option(1, "--rounds"),
    max_sentences: Optional[int] = typer.Option(None, "--max-sentences", help="Translate only N source lines."),
    sample: bool = typer.Option(False, "--sample", help="A seeded random N lines instead of the first N."),
    min_score: Optional[float] = typer.Option(None, "--min-score", help="Keep hypotheses with mean log-prob/token >= this."),
    max_len_ratio: Optional[float] = typer.Option(3.0, "--max-len-ratio", help="Drop pairs with a larger length ratio."),
    trust: float = typer.Option(1.0, "--trust", help="Train on this fraction of the sound translations, the most confident."),
    check_src: Optional[Path] = typer.Option(None, "--check-src", help="Held-out in-domain source lines: keep the "
                                             "fine-tuned model only if its translations of them make a better LM "
                                             "(needs --check-dev and --check-lm)."),
    check_dev: Optional[Path] = typer.Option(None, "--check-dev", help="In-domain target dev text for the check."),
    check_lm: Optional[List[Path]] = typer.Option(None, "--check-lm", help="LMs the translations are interpolated "
                                                  "with in the check (seed LM, general LM; repeat)."),
    mix_ratio: float = typer.Option(1.0, "--mix-ratio", help="Original pairs per synthetic pair."),
    steps: int = typer.Option(300, "--steps", help="Fine-tuning steps per round."),
    lr: Optional[float] = typer.Option(None, "--lr"),
    beam: int = typer.Option(5, "--beam"),
    dev_src: Optional[Path] = typer.Option(None, "--dev-src"),
    dev_tgt: Optional[Path] = typer.Option(None, "--dev-tgt"),
    max_time: Optional[str] = typer.Option(None, "--max-time", help="Wall-time limit per round's fine-tuning."),
    seed: int = typer.Option(1, "--seed"),
    device: Optional[str] = typer.Option(None, "--device"),
    threads: Optional[int] = typer.Option(None, "--threads"),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress"),
) -> None:
    """Fine-tune on the model's own translations of in-domain text, mixed with the original bitext."""
    _ranged(("--rounds", rounds, 1), ("--max-sentences", max_sentences, 1), ("--min-score", min_score),
            ("--max-len-ratio", max_len_ratio, 1), ("--trust", trust, 0, 1, True), ("--mix-ratio", mix_ratio, 0),
            ("--steps", steps, 1), ("--lr", lr, 0, 1, True), ("--beam", beam, 1), ("--seed", seed, 0),
            ("--threads", threads, 1))
    guard([model, source, train_src, train_tgt, dev_src, dev_tgt, check_src, check_dev, *(check_lm or ())],
          dirs={"--out": (out, ("model", "summary.json", *(f"round-{r}" for r in range(1, rounds + 1))))})
    from lmboot.nmt.selftrain import DegenerateFilter, MinScoreFilter, self_train

    filters = ([MinScoreFilter(min_score)] if min_score is not None else []) + \
        [DegenerateFilter(max_len_ratio or float("inf"))]
    judge = None
    if check_src is not None:
        if check_dev is None or not check_lm:
            raise LmbootError("--check-src needs --check-dev and at least one --check-lm")
        from lmboot.nmt.adapt import lm_judge
        from lmboot.lm.objective import DevObjective

        out.mkdir(parents=True, exist_ok=True)
        judge = lm_judge(DevObjective(check_lm, check_dev, work_dir=out), check_src, out, beam=beam, threads=threads)
    res = self_train(model, source, out, train_src, train_tgt, rounds=rounds, max_sentences=max_sentences,
                     sample=sample, filters=filters, trust=trust, mix_ratio=mix_ratio, steps=steps, lr=lr, beam=beam,
                     dev_src=dev_src, dev_tgt=dev_tgt, max_time=max_time, judge=judge, seed=seed, device=device,
                     threads=threads, progress=_progress(progress))
    if res.summary():
        typer.echo(res.summary())

@app.command("rescore")
def rescore_cmd(
    nbest: Path = typer.Argument(..., help="N-best JSONL (docs/formats.md): MT or speech recognition."),
    lm_path: Path = typer.Option(..., "--lm", help="Seed LM (KenLM binary for speed, or ARPA)."),
    out_jsonl: Optional[Path] = typer.Option(None, "--out-jsonl", help="Every entry with lm_logprob/total added."),
    out_txt: Optional[Path] = typer.Option(None, "--out-txt", help="The chosen hypothesis, one line per entry."),
    lm_weight: Optional[float] = typer.Option(None, "--lm-weight", help="lambda: weight of the LM log-prob (default 1)."),
    length_penalty: Optional[float] = typer.Option(None, "--length-penalty", help="mu: nats per word (default 0)."),
    norm_exponent: Optional[float] = typer.Option(None, "--norm-exponent",
                                                  help="alpha: producer score / tokens**alpha (default 0 = raw)."),
    weights_from: Optional[Path] = typer.Option(None, "--weights-from", help="Weights JSON (from --save-weights)."),
    tune_on: Optional[Path] = typer.Option(None, "--tune-on", help="Dev n-best JSONL with refs: tune lambda and mu."),
    metric: str = typer.Option("chrf", "--metric", help="chrf | bleu | wer: tuned and reported (when refs exist)."),
    save_weights: Optional[Path] = typer.Option(None, "--save-weights", help="Write the tuned weights here."),
    tune_dev: Optional[Path] = typer.Option(None, "--tune-dev",
                                            help="In-domain target dev text: tune lambda and mu by the dev perplexity "
                                                 "of the final LM (the --lm and --tune-lm LMs + the rescored text)."),
    tune_lm: Optional[List[Path]] = typer.Option(None, "--tune-lm",
                                                 help="With --tune-dev: another LM of the final mixture (repeatable)."),
    oov_penalty: Optional[float] = typer.Option(None, "--oov-penalty",
                                                help="log10 charged per word the LM lacks (default: its own <unk>)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write what was measured as JSON."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="Progress bar (default: when stderr is a terminal and not -q)."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
) -> None:
    """Rescore n-best lists with the seed LM and keep the best hypothesis of each."""
    _ranged(("--lm-weight", lm_weight), ("--length-penalty", length_penalty), ("--norm-exponent", norm_exponent, 0),
            ("--oov-penalty", oov_penalty, None, 0))
    guard([nbest, lm_path, weights_from, tune_on, tune_dev, *(tune_lm or [])],
          files={"--out-jsonl": out_jsonl, "--out-txt": out_txt, "--save-weights": save_weights, "--json": json_out})
    _distinct({"--out-jsonl": out_jsonl, "--out-txt": out_txt, "--save-weights": save_weights, "--json": json_out})
    from lmboot import rescore as rs

    explicit = {k: v for k, v in (("lm_weight", lm_weight), ("length_penalty", length_penalty),
                                  ("norm_exponent", norm_exponent)) if v is not None}
    if weights_from and (explicit or tune_on):
        raise LmbootError("--weights-from cannot be combined with --lm-weight/--length-penalty/"
                          "--norm-exponent or --tune-on")
    if (tune_on or tune_dev) and ("lm_weight" in explicit or "length_penalty" in explicit):
        raise LmbootError("--tune-on/--tune-dev choose --lm-weight and --length-penalty themselves; give neither")
    if tune_on and tune_dev:
        raise LmbootError("give --tune-on (references) or --tune-dev (dev perplexity), not both")
    if tune_lm and not tune_dev:
        raise LmbootError("--tune-lm needs --tune-dev")
    if weights_from and tune_dev:
        raise LmbootError("--weights-from cannot be combined with --tune-dev")
    objective = None
    if tune_dev:
        from lmboot.lm.objective import DevObjective

        objective = DevObjective([lm_path, *(tune_lm or [])], tune_dev,
                                 normalizer=_normalizer(lowercase, digits, spoken_form, lang),
                                 **({"oov_penalty": oov_penalty} if oov_penalty is not None else {}))
    weights = rs.Weights.from_json(weights_from) if weights_from else rs.Weights(**explicit)
    res = rs.run(nbest, lm_path, out_jsonl, out_txt, weights=weights, tune_on=tune_on, metric=metric,
                 save_weights=save_weights, json_out=json_out,
                 normalizer=_normalizer(lowercase, digits, spoken_form, lang),
                 oov_penalty=oov_penalty, progress=_progress(progress), objective=objective)
    typer.echo(res.summary())


# --------------------------------------------------------------------------------------
# eval
# --------------------------------------------------------------------------------------
eval_app = typer.Typer(help="Judge LMs by WER: n-best rescoring, real decoding (pocketsphinx), "
                       "synthetic audio (espeak-ng), simulated n-best lists.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def _nbest_reader(path: Path, scores: Optional[List[Path]], refs: Optional[Path], score_kind: str):
    from lmboot.io.nbest import open_nbest

    if score_kind not in ("cost", "logprob"):
        raise LmbootError(f"--score-kind must be 'cost' or 'logprob', not {score_kind!r}")
    return open_nbest(path, scores=scores, refs=refs, costs=score_kind == "cost")


@eval_app.command("wer")
def eval_wer(
    lms: List[str] = typer.Option(..., "--lm", help="LM to compare (repeat); first is the baseline. "
                                  "ARPA/binary for --nbest; ARPA or 'bundled' for --decoder pocketsphinx."),
    nbest: Optional[Path] = typer.Option(None, "--nbest", help="N-best lists: docs/formats.md JSONL, or Kaldi-style "
                                         "'<utt>-<N> text' with --scores and --refs."),
    scores: Optional[List[Path]] = typer.Option(None, "--scores", help="Kaldi-style score file(s) '<utt>-<N> x' (summed)."),
    refs: Optional[Path] = typer.Option(None, "--refs", help="Kaldi 'text' references '<utt> words' (Kaldi-style n-best)."),
    score_kind: str = typer.Option("cost", "--score-kind", help="Kaldi scores are 'cost' (negated, Kaldi's) or 'logprob'."),
    tune_on: Optional[Path] = typer.Option(None, "--tune-on", help="Dev n-best lists: tune λ, μ per LM by WER."),
    tune_scores: Optional[List[Path]] = typer.Option(None, "--tune-scores", help="Score file(s) of a Kaldi-style --tune-on."),
    tune_refs: Optional[Path] = typer.Option(None, "--tune-refs", help="References of a Kaldi-style --tune-on."),
    weights_file: Optional[Path] = typer.Option(None, "--weights", help="Fixed weights JSON (when not tuning)."),
    audio: Optional[Path] = typer.Option(None, "--audio", help="Audio set: wav<TAB>text manifest, dir of X.wav+X.txt, "
                                         "or Sphinx transcription."),
    decoder: str = typer.Option("pocketsphinx", "--decoder", help="Recogniser for --audio."),
    hmm: Optional[Path] = typer.Option(None, "--hmm", help="Acoustic model directory (default: bundled en-us)."),
    dict_path: Optional[Path] = typer.Option(None, "--dict", help="Pronunciation dictionary (default: the model's)."),
    oov: Optional[str] = typer.Option(None, "--oov", help="Unknown words: n-best 'penalty' (default) | 'exclude'; "
                                      "decoding 'skip' (default) | 'g2p'."),
    oov_penalty: float = typer.Option(DEFAULT_OOV_PENALTY, "--oov-penalty", help="log10 charged per word unknown to an LM (n-best)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Decode only the first N utterances."),
    details: Optional[Path] = typer.Option(None, "--details", help="Per-utterance details (JSONL)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="All figures as JSON."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
) -> None:
    """WER of one or more LMs (with relative change vs the first): n-best rescoring or real decoding."""
    _ranged(("--oov-penalty", oov_penalty, None, 0), ("--limit", limit, 1))
    guard([nbest, *(scores or ()), refs, tune_on, *(tune_scores or ()), tune_refs, weights_file, audio, hmm,
           dict_path, *(x for x in lms if x != "bundled")], files={"--details": details, "--json": json_out})
    _distinct({"--details": details, "--json": json_out})
    from lmboot import evaluate as ev

    if (nbest is None) == (audio is None):
        raise LmbootError("give exactly one of --nbest (rescoring) or --audio (decoding)")
    norm = _normalizer(lowercase, digits, spoken_form, lang)
    if nbest is not None:
        from lmboot.rescore import Weights

        reader = _nbest_reader(nbest, scores, refs, score_kind)
        dev = _nbest_reader(tune_on, tune_scores, tune_refs, score_kind) if tune_on else None
        if dev is not None and weights_file is not None:
            raise LmbootError("give --tune-on or --weights, not both")
        w = Weights.from_json(weights_file) if weights_file else None
        results = ev.wer_from_nbest(reader, lms, tune_on=dev, oov=oov or "penalty", oov_penalty=oov_penalty,
                                    weights=w, normalizer=norm)
    else:
        results = ev.wer_from_audio(audio, lms, decoder=decoder, hmm=hmm, dict=dict_path, oov=oov or "skip",
                                    normalizer=norm, limit=limit, progress=_progress(None))
        for r in results:
            if r.lm_vocab_missing:
                shown = " ".join(r.lm_vocab_missing[:20]) + (" ..." if len(r.lm_vocab_missing) > 20 else "")
                typer.echo(f"{r.lm}: {len(r.lm_vocab_missing)} LM word(s) without pronunciation: {shown}", err=True)
    typer.echo(ev.format_table(results))
    if details:
        ev.write_details(details, results)
    if json_out:
        ev.write_report(json_out, results)


@eval_app.command("synth")
def eval_synth(
    text: Path = typer.Argument(..., help="Test sentences, one per line."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory (WAVs + manifest.tsv)."),
    voice: str = typer.Option("en-us", "--voice", help="espeak-ng voice (espeak-ng --voices)."),
    speed: int = typer.Option(150, "--speed", help="Words per minute."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N sentences."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
) -> None:
    """Speak test sentences with espeak-ng into 16 kHz mono WAVs (resumable)."""
    _ranged(("--speed", speed, 1), ("--limit", limit, 1))
    guard([text], dirs={"--out": (out, None)})
    from lmboot.evaluate import synth

    res = synth(text, out, voice=voice, speed=speed, limit=limit,
                normalizer=_normalizer(lowercase, digits, spoken_form, lang),
                progress=_progress(None))
    typer.echo(res.summary())


@eval_app.command("simulate")
def eval_simulate(
    refs_path: Path = typer.Argument(..., help="Reference sentences, one per line."),
    out: Path = typer.Option(..., "--out", "-o", help="Output n-best JSONL."),
    vocab_from: List[Path] = typer.Option(..., "--vocab-from", help="Text or ARPA file(s) giving the confusion "
                                          "vocabulary (repeat)."),
    target_wer: float = typer.Option(0.25, "--target-wer", help="First-pass top-1 WER (0..1)."),
    nbest: int = typer.Option(10, "--nbest", help="Hypotheses per list."),
    seed: int = typer.Option(1, "--seed", help="Random seed."),
    similarity: str = typer.Option("chars", "--similarity", help="chars | phonemes (espeak-ng)."),
    voice: Optional[str] = typer.Option(None, "--voice", help="espeak-ng voice for --similarity phonemes."),
    neighbours: int = typer.Option(20, "--neighbours", help="Confusable words per word."),
    ref_prob: float = typer.Option(0.5, "--ref-prob", help="Probability that the reference is in its list."),
    lowercase: bool = LOWER,
    digits: str = DIGITS,
    spoken_form: bool = SPOKEN,
    lang: Optional[str] = LANG,
) -> None:
    """Simulated recogniser n-best lists (labelled 'simulated') for a language without a recogniser."""
    _ranged(("--target-wer", target_wer, 0, 1, True, True), ("--nbest", nbest, 1), ("--seed", seed, 0),
            ("--neighbours", neighbours, 1), ("--ref-prob", ref_prob, 0, 1))
    guard([refs_path, *vocab_from], files={"--out": out})
    from lmboot.evaluate import simulate

    res = simulate(refs_path, out, vocab_from=vocab_from, target_wer=target_wer, nbest=nbest, seed=seed,
                   similarity=similarity, voice=voice, neighbours=neighbours, ref_prob=ref_prob,
                   normalizer=_normalizer(lowercase, digits, spoken_form, lang))
    typer.echo(res.summary())

@app.command("run")
def run_cmd(
    config: Path = typer.Argument(..., help="Pipeline config (TOML); see scripts/conf/toy.toml."),
    ablation: bool = typer.Option(False, "--ablation", help="Build the baselines and the one-technique-at-a-time systems."),
    systems: Optional[List[str]] = typer.Option(None, "--system", help="Build only these systems (repeat)."),
    from_stage: Optional[str] = typer.Option(None, "--from", help="Re-run this stage and every later one."),
    until: Optional[str] = typer.Option(None, "--until", help="Stop after this stage."),
    run_dir: Optional[Path] = typer.Option(None, "--dir", help="Run directory (overrides [run] dir)."),
) -> None:
    """The whole pipeline from one config: resumable, with report.md and plots in the run directory."""
    from lmboot import pipeline

    overrides = {"run": {"dir": str(run_dir.resolve())}} if run_dir else None
    res = pipeline.run(config, ablation=ablation, systems=list(systems) if systems else None,
                       from_stage=from_stage, until=until, overrides=overrides)
    if res.report:
        typer.echo(res.table)
        typer.echo(f"report: {res.report}   final LM: {res.final_lm}")
    else:
        typer.echo(f"stopped after --until {until}; manifest: {res.manifest}")


# --------------------------------------------------------------------------------------
# doctor
# --------------------------------------------------------------------------------------
@app.command("doctor")
def doctor_cmd(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List every external part lmboot uses, present or missing, with the command that fixes it."""
    from lmboot import doctor

    checks = doctor.run_checks()
    if json_out:
        typer.echo(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        typer.echo(doctor.format_checks(checks))
    if any(not c.ok and c.required for c in checks):
        raise typer.Exit(1)


def main(argv: Optional[List[str]] = None) -> None:
    """Console entry point: user errors become one line and exit status 2."""
    try:
        app(args=argv, prog_name="lmboot", standalone_mode=True)
    except LmbootError as e:
        typer.echo(f"lmboot: error: {e}", err=True)
        sys.exit(e.exit_code)
    except OSError as e:  # the OS refused an output (full disk, read-only, not a directory...)
        from lmboot.safety import os_error_line

        typer.echo(f"lmboot: error: {os_error_line(e)}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("lmboot: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()

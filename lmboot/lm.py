"""N-gram language models: training with KenLM's lmplz and evaluation by perplexity.

>>> from lmboot import lm
>>> res = lm.train("seed.hi", "seed.arpa", order=3)          # doctest: +SKIP
>>> lm.evaluate(["seed.arpa", "final.arpa"], "test.hi")      # doctest: +SKIP

Perplexities of models with different vocabularies are not comparable as KenLM reports
them: a small model with many out-of-vocabulary (OOV) words gives each one its cheap
``<unk>`` probability and looks better than it is. :func:`evaluate` therefore also reports
``ppl_common``: every model scored on one common vocabulary (the union of the models'
vocabularies); a word known to some model but not to this one is charged one fixed penalty
(``oov_penalty``, log10) for every model; words no model knows are left out for all of them.
"""
from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from lmboot import kenlm_tools
from lmboot.corpus import Normalizer, atomic_path, check_file, chunked, read_lines, write_json  # noqa: F401 (re-export)
from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

DEFAULT_OOV_PENALTY = -7.0  # log10: one in ten million, harsher than any sane <unk> estimate


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    arpa: Path
    binary: Path | None
    order: int
    sentences: int
    tokens: int
    discount_fallback: bool
    intermediate: Path | None = None


def prepare_text(text: str | Path, dest: Path, normalizer: Normalizer | None = None) -> tuple[int, int]:
    """Normalise ``text`` into ``dest`` (one sentence a line); return (sentences, tokens)."""
    norm = normalizer or Normalizer()
    n_sent = n_tok = 0
    with open(dest, "w", encoding="utf-8", newline="\n") as f:
        for chunk in chunked(read_lines(text, "LM training text"), 2048):
            normed, counts = norm.batch(chunk, counts=True)
            kept = [s for s in normed if s]
            if kept:
                f.write("\n".join(kept) + "\n")
            n_sent += len(kept)
            n_tok += sum(counts)
    if n_sent == 0:
        raise LmbootError("no text left after normalisation", path=text)
    return n_sent, n_tok


def train(text: str | Path, arpa: str | Path, order: int = 3, binary: str | Path | None = None,
          memory: str | None = None, prune: Sequence[int] | None = None, discount_fallback: bool | None = None,
          normalizer: Normalizer | None = None, intermediate: str | Path | None = None,
          normalize_text: bool = True) -> TrainResult:
    """Estimate a modified Kneser-Ney ``order``-gram LM of ``text`` with lmplz.

    ``discount_fallback=None`` (default) first tries plain modified Kneser-Ney and, when
    the data is too small for its discount estimates, retries with ``--discount_fallback``
    (logged). ``prune`` are lmplz's per-order count thresholds (e.g. ``[0, 0, 1]``).
    ``intermediate`` keeps lmplz's intermediate files under that prefix, for KenLM's
    ``interpolate``. ``binary`` also writes a KenLM binary of the ARPA.
    """
    if not 1 <= order <= 6:
        raise LmbootError(f"order must be between 1 and 6 (KenLM's build), not {order}")
    if prune and len(prune) > order:
        raise LmbootError(f"--prune has {len(prune)} thresholds for an order-{order} model")
    arpa = Path(arpa)
    with tempfile.TemporaryDirectory(prefix="lmboot-lm-", dir=arpa.parent if arpa.parent.exists() else None) as tmp:
        tmp = Path(tmp)
        if normalize_text:
            n_sent, n_tok = prepare_text(text, tmp / "text.txt", normalizer)
            src = tmp / "text.txt"
        else:
            src = check_file(text, "LM training text")
            n_sent = n_tok = 0
            for line in read_lines(src):
                n_sent += 1
                n_tok += len(line.split())
        base = ["-o", str(order), "-S", memory or _default_memory(src), "-T", str(tmp)]
        if prune:
            base += ["--prune", *map(str, prune)]
        used_fallback = bool(discount_fallback)
        with atomic_path(arpa) as tmp_arpa:
            args = base + ["--arpa", str(tmp_arpa)]
            if intermediate:
                args += ["--intermediate", str(intermediate)]
            try:
                _lmplz(args + (["--discount_fallback"] if used_fallback else []), src)
            except LmbootError as e:
                if discount_fallback is not None or "discount" not in str(e).lower():
                    raise
                log.info("lmplz: %s is too small for modified Kneser-Ney discounts; "
                         "retrying with --discount_fallback", text)
                used_fallback = True
                _lmplz(args + ["--discount_fallback"], src)
    bin_path = None
    if binary:
        bin_path = build_binary(arpa, binary)
    return TrainResult(arpa=arpa, binary=bin_path, order=order, sentences=n_sent, tokens=n_tok,
                       discount_fallback=used_fallback,
                       intermediate=Path(intermediate) if intermediate else None)


def _default_memory(text: Path) -> str:
    """lmplz's sort memory: plenty for the text (so no disk spill), not 20 % of RAM for a tiny file."""
    mb = max(256, 12 * text.stat().st_size // 2**20)
    return f"{mb}M" if mb < 4096 else "20%"


def _lmplz(args: list[str], text: Path) -> None:
    with open(text, "rb") as f:
        kenlm_tools.run_tool("lmplz", args, stdin=f, stdout=None)


def build_binary(arpa: str | Path, binary: str | Path) -> Path:
    """Convert an ARPA file to a KenLM binary (probing hash table), atomically."""
    from lmboot.safety import publish_with_checksum, write_checksum

    check_file(arpa, "ARPA model")
    with atomic_path(binary) as tmp:
        kenlm_tools.run_tool("build_binary", ["-s", arpa, tmp])
        digest = publish_with_checksum(tmp, binary)
    write_checksum(binary, digest)  # BINARY.sha256, verified by load()
    return Path(binary)


def load(path: str | Path):
    """Load an ARPA or KenLM binary model; a missing or broken file is an LmbootError."""
    import kenlm

    from lmboot.safety import verify_checksum

    p = check_file(path, "language model")
    verify_checksum(p)  # a corrupt binary is an error, never a crash or a wrong number
    try:
        config = kenlm.Config()
        config.show_progress = False  # KenLM's progress bar and "build a binary" hint on stderr
        config.arpa_complain = kenlm.ARPALoadComplain.NONE
        return kenlm.Model(str(p), config)
    except (OSError, RuntimeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LmbootError(f"not a readable ARPA or KenLM binary model ({first})", path=p) from None


# --------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------
@dataclass
class ModelEval:
    """Perplexity figures of one model on one text. log10 throughout, as KenLM."""

    model: str
    sentences: int = 0
    tokens: int = 0  # words, without </s>
    oovs: int = 0  # words unknown to this model
    logprob: float = 0.0  # KenLM's own total, OOVs scored with its <unk>, </s> included
    logprob_no_oov: float = 0.0
    logprob_common: float = 0.0
    common_excluded: int = 0  # words no compared model knows (left out for every model)
    common_penalised: int = 0  # words others know but this model does not (charged the penalty)
    per_sentence: list = field(default_factory=list, repr=False)

    @property
    def oov_rate(self) -> float:
        return self.oovs / self.tokens if self.tokens else 0.0

    @property
    def ppl(self) -> float:
        return 10 ** (-self.logprob / max(1, self.tokens + self.sentences))

    @property
    def ppl_no_oov(self) -> float:
        return 10 ** (-self.logprob_no_oov / max(1, self.tokens - self.oovs + self.sentences))

    @property
    def ppl_common(self) -> float:
        return 10 ** (-self.logprob_common / max(1, self.tokens - self.common_excluded + self.sentences))

    def summary(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "per_sentence"}
        d.update(ppl=self.ppl, ppl_no_oov=self.ppl_no_oov, ppl_common=self.ppl_common,
                 oov_rate=self.oov_rate)
        return d


@dataclass
class EvalResult:
    text: str
    models: list[ModelEval]
    oov_penalty: float
    signature: str

    def to_json(self, per_sentence: bool = False) -> dict:
        out = {"text": self.text, "signature": self.signature, "oov_penalty": self.oov_penalty,
               "models": [m.summary() for m in self.models]}
        if per_sentence:
            out["sentences"] = [
                {"line": i + 1, **{m.model: m.per_sentence[i] for m in self.models}}
                for i in range(len(self.models[0].per_sentence))
            ]
        return out

    def table(self) -> str:
        rows = [("model", "ppl_common", "ppl", "ppl_no_oov", "oov_rate", "tokens")]
        for m in self.models:
            rows.append((m.model, f"{m.ppl_common:.2f}", f"{m.ppl:.2f}", f"{m.ppl_no_oov:.2f}",
                         f"{100 * m.oov_rate:.2f}%", str(m.tokens)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths)))
                 for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(self.signature)
        return "\n".join(lines)


def eval_signature(n_models: int, oov_penalty: float, normalizer: Normalizer) -> str:
    """A sacrebleu-style record of every parameter that shaped the numbers."""
    norm = f"nfc+{'lc' if normalizer.lowercase else 'case'}+nopunct+digits-{normalizer.digits}"
    return (f"lmboot-ppl|models:{n_models}|vocab:union|oov:{oov_penalty:g}log10"
            f"|unknown-to-all:excluded|eos:yes|norm:{norm}")


def evaluate(models: Sequence[str | Path], text: str | Path, oov_penalty: float = DEFAULT_OOV_PENALTY,
             normalizer: Normalizer | None = None, names: Sequence[str] | None = None,
             keep_sentences: bool = False) -> EvalResult:
    """Perplexity and OOV rate of ``text`` under each model, also on a common vocabulary."""
    if not models:
        raise LmbootError("no language model given")
    norm = normalizer or Normalizer()
    loaded = [load(m) for m in models]
    names = list(names) if names else [str(m) for m in models]
    evals = [ModelEval(model=n) for n in names]
    for line in read_lines(text, "evaluation text"):
        sent = norm(line)
        if not sent:
            continue
        words = sent.split()
        known = [[w in m for w in words] for m in loaded]
        known_any = [any(k[i] for k in known) for i in range(len(words))]
        for m, ev, kn in zip(loaded, evals, known):
            scores = [s[0] for s in m.full_scores(sent, bos=True, eos=True)]
            lp = sum(scores)
            lp_no_oov = sum(s for s, k in zip(scores, kn + [True]) if k)
            lp_common = scores[-1]  # </s>
            for i, s in enumerate(scores[:-1]):
                if not known_any[i]:
                    ev.common_excluded += 1
                elif kn[i]:
                    lp_common += s
                else:
                    lp_common += oov_penalty
                    ev.common_penalised += 1
            ev.sentences += 1
            ev.tokens += len(words)
            n_oov = len(words) - sum(kn)
            ev.oovs += n_oov
            ev.logprob += lp
            ev.logprob_no_oov += lp_no_oov
            ev.logprob_common += lp_common
            if keep_sentences:
                ev.per_sentence.append({"logprob": round(lp, 4), "logprob_common": round(lp_common, 4),
                                        "tokens": len(words), "oovs": n_oov})
    if evals[0].sentences == 0:
        raise LmbootError("no sentence left to evaluate after normalisation", path=text)
    return EvalResult(text=str(text), models=evals, oov_penalty=oov_penalty,
                      signature=eval_signature(len(models), oov_penalty, norm))


def sentence_perplexity(model, sentence: str, words: int | None = None) -> float:
    """KenLM perplexity of one (already normalised) sentence, </s> included.

    ``words``: its word count, when the caller already has it (batch normalisation does)."""
    if words is None:
        words = sentence.count(" ") + 1 if sentence else 0
    return 10 ** (-model.score(sentence, bos=True, eos=True) / (words + 1))


def log10_to_ln(x: float) -> float:
    """KenLM scores are log10; NMT scores natural log. One place converts."""
    return x * math.log(10)


def iter_normalized(path: str | Path, normalizer: Normalizer | None = None) -> Iterable[str]:
    norm = normalizer or Normalizer()
    for line in read_lines(path):
        s = norm(line)
        if s:
            yield s

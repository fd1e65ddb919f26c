"""``lmboot lm build``: one n-gram LM per text source, combined by interpolation into the final LM.

Each source (seed text, winnowed translations, general-domain text, ...) gets its own
modified Kneser-Ney LM (:func:`lmboot.lm.train`); the LMs are then combined with weights
tuned on an in-domain dev set, by one of two :class:`Interpolator` methods:

- ``linear`` (default): EM weights on the dev set, then ONE static ARPA mixture whose backoff
  weights are renormalised (:mod:`lmboot.lm.mixture`);
- ``loglinear``: KenLM's ``interpolate`` program (log-linear interpolation, weights tuned on
  the dev set, renormalised).

>>> from lmboot import lm
>>> res = lm.build([("seed", "seed.hi"), ("mt", "translations.hi")], "dev.hi",
...                "final.arpa", order=3)                                  # doctest: +SKIP
>>> res.weights, res.mix_ppl_common                                        # doctest: +SKIP
({'seed': 0.62, 'mt': 0.38}, 41.7)

The component LMs stay in ``work_dir`` (default ``<out>.parts/``) with a stamp of their
inputs, so a re-run (or a pipeline trying the other method) reuses them.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from lmboot.errors import LmbootError
from lmboot.io.corpus import atomic_path, atomic_write, check_file, read_lines, sha256, write_json
from lmboot.io.temps import temp_prefix
from lmboot.lm.mixture import em_weights, mix_arpa
from lmboot.lm.perplexity import dev_token_probs, evaluate
from lmboot.lm.score import load
from lmboot.lm.tools import run_tool
from lmboot.lm.estimate import build_binary, train
from lmboot.results import Result, text_table
from lmboot.text.normalize import Normalizer

log = logging.getLogger("lmboot")
INTERPOLATE_TMP = temp_prefix("interpolate-")  # registered: a killed run's leftovers are cleaned

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
MIN_WEIGHT = 0.01  # linear mixing: a component below this dev weight is left out of the mixture
_STAMP_VERSION = 1


# --------------------------------------------------------------------------------------
# Interpolation methods (the extension point)
# --------------------------------------------------------------------------------------
@dataclass
class Component:
    """One source's LM, as the interpolators see it."""

    name: str
    text: Path
    arpa: Path
    intermediate: Path | None = None
    sentences: int = 0
    tokens: int = 0
    reused: bool = False


@dataclass
class Combined:
    weights: list[float]
    info: dict = field(default_factory=dict)


class Interpolator(ABC):
    """Combines component LMs into one ARPA, tuning the weights on (normalised) dev text."""

    name: str = ""
    needs_intermediate: bool = False

    @abstractmethod
    def combine(self, components: Sequence[Component], dev_text: Path, out_arpa: Path,
                work_dir: Path, progress: bool = False) -> Combined:
        ...


class LinearInterpolator(Interpolator):
    """EM weights on dev perplexity, then one static ARPA mixture (:func:`mix_arpa`)."""

    name = "linear"

    def __init__(self, min_weight: float = MIN_WEIGHT):
        if not 0.0 <= min_weight < 1.0:
            raise LmbootError(f"min_weight must be in [0, 1), not {min_weight}")
        self.min_weight = min_weight

    def combine(self, components, dev_text, out_arpa, work_dir, progress=False) -> Combined:
        models = [load(c.arpa) for c in components]
        sentences = list(read_lines(dev_text, "dev text"))
        probs = dev_token_probs(models, sentences)
        keep = list(range(len(components)))
        # A component the dev set gives (almost) no weight must not enter the static mixture:
        # every word only it knows would be listed with probability ~0 (log10 -99), far below
        # what the mixture's <unk> (or the OOV penalty) gives that word when it is left out.
        while True:
            em = em_weights(probs[:, keep])
            top = keep[int(np.argmax(em.weights))]  # the best component always stays
            low = [k for k, w in zip(keep, em.weights) if w < self.min_weight and k != top]
            if not low:
                break
            keep = [k for k in keep if k not in low]
        dropped = [components[k].name for k in range(len(components)) if k not in keep]
        if dropped:
            log.warning("lm build: source(s) %s got weight < %g on the dev text and are left out of the "
                        "mixture", ", ".join(dropped), self.min_weight)
        if not em.converged:
            log.warning("EM did not converge in %d iterations; using the last weights", em.iterations)
        weights = [0.0] * len(components)
        for k, w in zip(keep, em.weights):
            weights[k] = w
        if len(keep) == 1:
            with atomic_path(out_arpa) as tmp:
                shutil.copyfile(components[keep[0]].arpa, tmp)
            return Combined(weights=weights, info={"em": asdict(em), "dropped": dropped})
        stats = mix_arpa([components[k].arpa for k in keep], em.weights, out_arpa,
                         models=[models[k] for k in keep], progress=progress)
        log.info("mixed %s n-grams in %.1f s (%.0f n-grams/s)", "+".join(map(str, stats.ngrams)),
                 stats.seconds, stats.ngrams_per_s)
        return Combined(weights=weights, info={"em": asdict(em), "mix": asdict(stats), "dropped": dropped})


class LogLinearInterpolator(Interpolator):
    """KenLM's ``interpolate``: log-linear weights tuned on the dev text, renormalised ARPA."""

    name = "loglinear"
    needs_intermediate = True

    def __init__(self, memory: str = "1G"):
        self.memory = memory

    def combine(self, components, dev_text, out_arpa, work_dir, progress=False) -> Combined:
        t0 = time.perf_counter()
        for c in components:
            if c.intermediate is None or not Path(f"{c.intermediate}.kenlm_intermediate").exists():
                raise LmbootError(f"source {c.name!r} has no lmplz --intermediate files for interpolate",
                                  path=c.arpa)
        with tempfile.TemporaryDirectory(prefix=INTERPOLATE_TMP, dir=work_dir) as tmp:
            args: list[str] = []
            for c in components:
                args += ["-m", str(c.intermediate)]
            args += ["-t", str(dev_text), "-T", str(Path(tmp) / "lm"), "-S", self.memory]
            with atomic_path(out_arpa) as tmp_arpa, open(tmp_arpa, "wb") as f:
                proc = run_tool("interpolate", args, stdout=f)
        err = proc.stderr.decode("utf-8", "replace")
        m = re.findall(r"Final weights:\s*([-+0-9.eE ]+)", err)
        if not m:
            raise LmbootError("interpolate did not print its tuned weights")
        weights = [float(x) for x in m[-1].split()]
        ppls = re.findall(r"Perplexity = ([0-9.eE+-]+)", err)
        return Combined(weights=weights, info={
            "interpolate_iterations": len(ppls) - 1 if ppls else None,
            "interpolate_dev_ppl": float(ppls[-1]) if ppls else None,
            "seconds": time.perf_counter() - t0})


METHODS: dict[str, type[Interpolator]] = {"linear": LinearInterpolator, "loglinear": LogLinearInterpolator}


def get_interpolator(method: str | Interpolator) -> Interpolator:
    if isinstance(method, Interpolator):
        return method
    if method not in METHODS:
        raise LmbootError(f"unknown interpolation method {method!r} (choose from {', '.join(METHODS)})")
    return METHODS[method]()


# --------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------
@dataclass
class ComponentResult:
    name: str
    text: Path
    arpa: Path
    weight: float
    sentences: int
    tokens: int
    dev_ppl_common: float
    dev_ppl: float
    dev_oov_rate: float
    reused: bool


@dataclass
class BuildResult(Result):
    """What :func:`build` made and measured (perplexities on the dev text)."""

    method: str
    order: int
    arpa: Path
    binary: Path | None
    work_dir: Path
    dev: Path
    weights: dict[str, float]
    components: list[ComponentResult]
    mix_ppl_common: float
    mix_ppl: float
    mix_oov_rate: float
    tuning: dict = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        """Each component's and the mixture's dev perplexity, then what was written."""
        rows = [("model", "weight", "dev ppl_common", "dev ppl", "oov_rate")]
        for c in self.components:
            rows.append((c.name, f"{c.weight:.4f}", f"{c.dev_ppl_common:.2f}", f"{c.dev_ppl:.2f}",
                         f"{100 * c.dev_oov_rate:.2f}%"))
        rows.append((f"mix ({self.method})", "", f"{self.mix_ppl_common:.2f}", f"{self.mix_ppl:.2f}",
                     f"{100 * self.mix_oov_rate:.2f}%"))
        return (text_table(rows) + f"\n{self.arpa}: order {self.order}, {self.method} interpolation"
                + (f"; binary {self.binary}" if self.binary else "") + f"; components in {self.work_dir}")


def work_dir_for(out_arpa: str | Path, work_dir: str | Path | None = None) -> Path:
    """Where :func:`build` keeps the component LMs: ``work_dir``, else ``<out_arpa>.parts/``."""
    out_arpa = Path(out_arpa)
    return Path(work_dir) if work_dir else out_arpa.with_name(out_arpa.name + ".parts")


def parse_source(spec: str) -> tuple[str, str]:
    """``"name=path"`` -> (name, path); a bare path is named after its file stem.

    >>> parse_source("seed=data/seed.hi"), parse_source("data/mt.hi")
    (('seed', 'data/seed.hi'), ('mt', 'data/mt.hi'))
    """
    if "=" in spec:
        name, path = spec.split("=", 1)
        if NAME_RE.match(name) and not Path(spec).exists():
            return name, path
    return Path(spec).stem, spec


def _normalise_sources(sources) -> list[tuple[str, Path]]:
    items = list(sources.items()) if isinstance(sources, dict) else list(sources)
    if not items:
        raise LmbootError("no text source given (give at least one --text NAME=PATH)")
    out: list[tuple[str, Path]] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, (str, Path)):
            name, path = parse_source(str(item))
        else:
            name, path = item
            name = name or Path(path).stem
        if not NAME_RE.match(name):
            raise LmbootError(f"source name {name!r} must be letters, digits, '_', '.', '+' or '-'",
                              path=path)
        if name in seen:
            raise LmbootError(f"two sources are named {name!r}: name them with NAME=PATH", path=path)
        seen.add(name)
        out.append((name, check_file(path, f"text of source {name!r}")))
    return out


def _train_component(name: str, text: Path, work_dir: Path, order: int, prune, normalizer: Normalizer,
                     intermediate: bool, memory: str | None) -> Component:
    arpa = work_dir / f"{name}.arpa"
    inter = work_dir / f"{name}.intermediate" if intermediate else None
    stamp_path = work_dir / f"{name}.stamp.json"
    stamp = {"version": _STAMP_VERSION, "text": str(text.resolve()), "sha256": sha256(text),
             "order": order, "prune": list(prune) if prune else None,
             "normalizer": {"lowercase": normalizer.lowercase, "digits": normalizer.digits,
                            # (only when on, so that stamps written before spoken form still match)
                            **({"spoken_form": normalizer.lang} if normalizer.spoken_form else {})}}
    try:
        old = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    if old and {k: old.get(k) for k in stamp} == stamp and arpa.exists() and (
            inter is None or (old.get("intermediate") and Path(f"{inter}.kenlm_intermediate").exists())):
        log.info("source %s: reusing %s", name, arpa)
        return Component(name, text, arpa, inter, old.get("sentences", 0), old.get("tokens", 0), reused=True)
    log.info("source %s: training an order-%d LM of %s", name, order, text)
    res = train(text, arpa, order=order, prune=prune, normalizer=normalizer, memory=memory,
                       intermediate=inter)
    write_json(stamp_path, {**stamp, "intermediate": bool(inter), "sentences": res.sentences,
                                   "tokens": res.tokens})
    return Component(name, text, arpa, inter, res.sentences, res.tokens)


def build(sources, dev: str | Path, out_arpa: str | Path, order: int = 3,
          method: str | Interpolator = "linear", binary: str | Path | None = None,
          work_dir: str | Path | None = None, prune: Sequence[int] | dict[str, Sequence[int] | None] | None = None,
          normalizer: Normalizer | None = None, memory: str | None = None,
          progress: bool = False, orders: dict[str, int] | None = None) -> BuildResult:
    """Train one LM per source, interpolate them with weights tuned on ``dev``, write ``out_arpa``.

    ``sources``: ``[(name, path), ...]``, ``{name: path}`` or ``["name=path", ...]``.
    ``method``: ``"linear"`` (EM weights, static ARPA mixture; default) or ``"loglinear"``
    (KenLM ``interpolate``), or an :class:`Interpolator`. With one source there is nothing
    to interpolate: its LM is the output, with weight 1.0 (a note is logged).
    ``orders``: a per-source n-gram order (e.g. ``{"mt": 1}``: the translations' word choice
    without their word order) overriding ``order`` for that source; the mixture has ``order``.
    ``prune``: lmplz count thresholds for every component, or ``{name: thresholds}`` per component.
    Component LMs and the normalised dev text stay in ``work_dir`` (default
    ``<out_arpa>.parts/``) and are reused when their text and parameters are unchanged.
    The output ARPA (and ``binary``) are written atomically.

    >>> res = build({"seed": "seed.hi", "mt": "mt.hi"}, "dev.hi", "final.arpa")  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    interp = get_interpolator(method)
    srcs = _normalise_sources(sources)
    norm = normalizer or Normalizer()
    dev = check_file(dev, "dev text")
    orders = dict(orders or {})
    for k in [order, *orders.values()]:
        if not 1 <= k <= 6:
            raise LmbootError(f"order must be between 1 and 6 (KenLM's build), not {k}")
    unknown = set(orders) - {name for name, _ in srcs}
    if unknown:
        raise LmbootError(f"orders given for unknown source(s): {', '.join(sorted(unknown))}")
    out_arpa = Path(out_arpa)
    work = work_dir_for(out_arpa, work_dir)
    # The dev text, normalised as the training text is; an empty result is an error up front.
    dev_lines = [s for s in (norm(line) for line in read_lines(dev, "dev text")) if s]
    if not dev_lines:
        raise LmbootError("dev text has no sentence left after normalisation", path=dev)
    work.mkdir(parents=True, exist_ok=True)
    dev_norm = work / "dev.normalized.txt"
    with atomic_write(dev_norm) as f:
        f.write("".join(s + "\n" for s in dev_lines))

    # lmplz's intermediate files are kept whenever there is something to interpolate, so that
    # a later run with the other method reuses the components too.
    comps = [_train_component(name, path, work, orders.get(name, order),
                              prune.get(name) if isinstance(prune, dict) else prune, norm,
                              intermediate=len(srcs) > 1, memory=memory)
             for name, path in srcs]
    if len(comps) == 1:
        log.info("one source only: its LM is the output (weight 1.0), nothing to interpolate")
        with atomic_path(out_arpa) as tmp:
            shutil.copyfile(comps[0].arpa, tmp)
        combined = Combined(weights=[1.0], info={"note": "one source: no interpolation"})
    else:
        combined = interp.combine(comps, dev_norm, out_arpa, work, progress=progress)
    bin_path = build_binary(out_arpa, binary) if binary else None

    ev = evaluate([c.arpa for c in comps] + [out_arpa], dev, normalizer=norm,
                         names=[c.name for c in comps] + ["mix"])
    comp_res = [ComponentResult(name=c.name, text=c.text, arpa=c.arpa, weight=w,
                                sentences=c.sentences, tokens=c.tokens, dev_ppl_common=e.ppl_common,
                                dev_ppl=e.ppl, dev_oov_rate=e.oov_rate, reused=c.reused)
                for c, w, e in zip(comps, combined.weights, ev.models)]
    mix_eval = ev.models[-1]
    from lmboot.safety import warn_dev_unknown

    warn_dev_unknown(mix_eval.oov_rate, dev, "the interpolation weights")
    return BuildResult(method=interp.name, order=order, arpa=out_arpa, binary=bin_path, work_dir=work,
                       dev=dev, weights={c.name: w for c, w in zip(comps, combined.weights)},
                       components=comp_res, mix_ppl_common=mix_eval.ppl_common, mix_ppl=mix_eval.ppl,
                       mix_oov_rate=mix_eval.oov_rate, tuning={**combined.info, "signature": ev.signature},
                       seconds=time.perf_counter() - t0)


__all__ = ["build", "BuildResult", "ComponentResult", "parse_source", "Interpolator", "LinearInterpolator",
           "LogLinearInterpolator", "METHODS", "get_interpolator", "MIN_WEIGHT"]

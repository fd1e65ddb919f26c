"""The run report: ``report.md`` with what each step took in and gave out, the evaluation
table (perplexity on a common vocabulary, OOV rate, simulated WER, change vs the seed-only
LM) and PNG plots."""
from __future__ import annotations

from pathlib import Path

from lmboot.io.corpus import atomic_path, atomic_write, write_json


def _rel(x: float | None, base: float | None) -> str:
    if x is None or not base:
        return ""
    return f"{100 * (x - base) / base:+.1f}%"


def eval_table(systems: list[str], ev: dict, best: str | None = None) -> str:
    """Markdown table of every system's figures, with the relative change vs the seed-only LM
    (the first system) and vs the best baseline without translation ``best``."""
    sysm = ev["systems"]
    base = sysm[systems[0]]
    ref = sysm.get(best) if best else None
    has_wer = "wer_simulated" in base
    head = "| system | ppl (common vocab) | Δ ppl vs seed |" + (" Δ ppl vs best baseline |" if ref else "") + " OOV rate |"
    sep = "|---|---:|---:|" + ("---:|" if ref else "") + "---:|"
    if has_wer:
        head += " WER (simulated) | Δ WER vs seed |" + (" Δ WER vs best baseline |" if ref else "")
        sep += "---:|---:|" + ("---:|" if ref else "")
    rows = [head, sep]
    for s in systems:
        m = sysm[s]
        name = f"**{s}**" if s == best else s
        row = f"| {name} | {m['ppl_common']:.2f} | {_rel(m['ppl_common'], base['ppl_common'])} |"
        if ref:
            row += f" {_rel(m['ppl_common'], ref['ppl_common'])} |"
        row += f" {100 * m['oov_rate']:.2f}% |"
        if has_wer:
            row += f" {100 * m['wer_simulated']:.2f}% | {_rel(m['wer_simulated'], base['wer_simulated'])} |"
            if ref:
                row += f" {_rel(m['wer_simulated'], ref['wer_simulated'])} |"
        rows.append(row)
    return "\n".join(rows)


def _plot_bars(systems: list[str], ev: dict, png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sysm = ev["systems"]
    has_wer = "wer_simulated" in sysm[systems[0]]
    fig, axes = plt.subplots(1, 2 if has_wer else 1, figsize=(10 if has_wer else 5.5, 3.8), squeeze=False)
    axes[0][0].barh(systems, [sysm[s]["ppl_common"] for s in systems], color="#4c72b0")
    axes[0][0].set_xlabel("test perplexity (common vocabulary)")
    axes[0][0].invert_yaxis()
    if has_wer:
        axes[0][1].barh(systems, [100 * sysm[s]["wer_simulated"] for s in systems], color="#dd8452")
        axes[0][1].set_xlabel("simulated WER (%)")
        axes[0][1].invert_yaxis()
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return png


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


#: Step metrics that record a dev-check decision, by step family.
_DECISIONS = {
    "nmt.sel": ("kept", "check_objective", "dev_chrf"),
    "self-train": ("kept", "check_objective", "dev_chrf", "synthetic_pairs"),
    "rescore": ("off", "lm_weight", "length_penalty", "dev_objective_before", "dev_objective_after"),
    "lmtext": ("nbest", "trust", "lines", "dev_objective", "dev_objective_without"),
    "winnow": ("off", "percentile", "kept", "total", "dev_objective"),
    "compose": ("order", "order_objectives", "steer", "steer_fraction", "steer_lines", "steer_objectives"),
    "lm": ("weights", "orders", "left_out", "dev_ppl_common", "pruned"),
    "baseline": ("best", "dev_ppl_common"),
}


def _family(step: str) -> str | None:
    for fam in _DECISIONS:
        if step == fam or step.startswith(fam + "."):
            return fam
    return None


def text_form(manifest: dict) -> str:
    """The normaliser signature of every text the run's LMs saw and were scored on, e.g.
    ``nfc+lc+nopunct+digits-keep+spoken-de`` (runs from before it was recorded: the plain one)."""
    return manifest["steps"]["eval"]["metrics"].get("text_form") or "nfc+lc+nopunct+digits-keep"


def _text_form_line(manifest: dict) -> str:
    form = text_form(manifest)
    if "+spoken-" not in form:
        return f"Text form: written (digits kept; normaliser `{form}`)."
    langs = manifest["steps"].get("spoken", {}).get("metrics", {})
    if form.endswith("-nogrammar"):
        return (f"Text form: spoken form asked for, but {langs.get('tgt_lang', '?')} has no number grammar: "
                f"its digits were kept (normaliser `{form}`).")
    return (f"Text form: **spoken** (numbers, times, dates, currencies and symbols written out as words in "
            f"seed, dev, test, general text and translations; source side in {langs.get('src_lang', '?')}, the rest "
            f"in {langs.get('tgt_lang', '?')}; normaliser `{form}`).")


def results(manifest: dict, systems: list[str]) -> dict:
    """The machine-readable summary of a run: every system's test figures, the best baseline
    without translation, the final system's ratio to it, dev decisions, translators, times."""
    steps = manifest["steps"]
    ev = steps["eval"]["metrics"]
    best = ev.get("best_baseline")
    final = systems[-1]
    out: dict = {"systems": {s: {k: ev["systems"][s].get(k) for k in ("ppl_common", "oov_rate", "wer_simulated")}
                             for s in systems},
                 "best_baseline": best, "final_system": final, "ppl_signature": ev.get("ppl_signature"),
                 "text_form": text_form(manifest),
                 "first_pass_wer": ev.get("first_pass_wer"), "oracle_wer": ev.get("oracle_wer")}
    if best and best in ev["systems"] and final != best:
        f, b = ev["systems"][final], ev["systems"][best]
        out["ratio_to_best_baseline"] = {
            "ppl_common": round(f["ppl_common"] / b["ppl_common"], 4),
            "wer_simulated": round(f["wer_simulated"] / b["wer_simulated"], 4)
            if f.get("wer_simulated") is not None and b.get("wer_simulated") else None}
    out["decisions"] = {name: {k: e["metrics"].get(k) for k in _DECISIONS[_family(name)] if k in e["metrics"]}
                        for name, e in steps.items() if _family(name)}
    trans = {}
    for name, e in steps.items():
        m = e.get("metrics", {})
        if name == "nmt":
            trans[name] = {k: m.get(k) for k in ("dev_chrf", "dev_bleu", "steps", "target_tokens_per_s", "precision",
                                                 "averaged") if k in m}
        elif name.startswith("translate."):
            trans[name] = {k: m.get(k) for k in ("chrf", "bleu", "sentences_per_s") if k in m}
    out["translators"] = trans
    out["step_seconds"] = {name: e.get("seconds") for name, e in steps.items()}
    return out


def write(run_dir: Path, manifest: dict, systems: list[str], cfg: dict) -> tuple[Path, str]:
    steps = manifest["steps"]
    ev = steps["eval"]["metrics"]
    best = ev.get("best_baseline")
    res = results(manifest, systems)
    write_json(run_dir / "results.json", res)
    table = eval_table(systems, ev, best)
    png = _plot_bars(systems, ev, run_dir / "systems.png")
    lines = ["# lmboot run report", "",
             f"Run directory: `{run_dir}`; languages {cfg['run']['src_lang']} → {cfg['run']['tgt_lang']}; "
             f"seed {cfg['run']['seed']}.", ""]
    ratio = res.get("ratio_to_best_baseline")
    if ratio:
        final = systems[-1]
        f, b = ev["systems"][final], ev["systems"][best]
        lines += [f"**{final}** against the best baseline without translation (**{best}**): test perplexity "
                  f"{f['ppl_common']:.2f} vs {b['ppl_common']:.2f} (× {ratio['ppl_common']:.3f})"
                  + (f", simulated WER {100 * f['wer_simulated']:.2f}% vs {100 * b['wer_simulated']:.2f}% "
                     f"(× {ratio['wer_simulated']:.3f})" if ratio.get("wer_simulated") else "") + ".", ""]
    lines += ["## Evaluation on the test set", "", table, "", f"Perplexity signature: `{ev['ppl_signature']}`.", "",
              _text_form_line(manifest)]
    if "first_pass_wer" in ev:
        lines += ["", "WER is **simulated** (`lmboot eval simulate`): n-best lists generated from the test "
                  f"references with first-pass WER {100 * (ev['first_pass_wer'] or 0):.1f}% and oracle WER "
                  f"{100 * (ev['oracle_wer'] or 0):.1f}%; each LM rescores the same lists, and a word the LM "
                  f"does not know costs a fixed {cfg['eval']['oov_penalty']} log10 for every LM. It compares "
                  "LMs with each other; it is not the WER of a recogniser."]
    lines += ["", f"![systems]({png.name})"]
    if res["decisions"]:
        lines += ["", "## Dev checks", "",
                  "Each choice below was made on the in-domain dev text by the dev perplexity of the final LM it "
                  "would give (lower is better); a technique that does not help there is switched off "
                  "(`kept=original`, `off=True`, weight 0 / left out).", "",
                  "| step | decision |", "|---|---|"]
        lines += [f"| {name} | {_fmt(d)} |" for name, d in res["decisions"].items()]
    lines += ["", "## Steps", "", "| step | seconds | what came out |", "|---|---:|---|"]
    for name, e in steps.items():
        m = {k: v for k, v in e.get("metrics", {}).items()  # empty values (nothing left out, ...) say nothing
             if k not in ("systems", "ppl_signature", "text_form", "bleu_signature", "chrf_signature")
             and v not in ("", [], {}, None)}
        lines.append(f"| {name} | {e.get('seconds', 0):.1f} | {_fmt(m)} |")
    sigs = {e["metrics"][k] for e in steps.values() for k in ("bleu_signature", "chrf_signature")
            if k in e.get("metrics", {})}
    if sigs:
        lines += ["", "MT scores against the reference translations use sacrebleu: " +
                  "; ".join(f"`{s}`" for s in sorted(sigs)) + "."]
    plots = sorted(p.relative_to(run_dir) for p in run_dir.glob("*/histogram.png"))
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p.parent}]({p})" for p in plots]
    out = run_dir / "report.md"
    with atomic_write(out) as f:
        f.write("\n".join(lines) + "\n")
    return out, table

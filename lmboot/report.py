"""The run report: ``report.md`` with what each step took in and gave out, the evaluation
table (perplexity on a common vocabulary, OOV rate, simulated WER, change vs the seed-only
LM) and PNG plots."""
from __future__ import annotations

from pathlib import Path

from lmboot.corpus import atomic_path, atomic_write


def _rel(x: float | None, base: float | None) -> str:
    if x is None or not base:
        return ""
    return f"{100 * (x - base) / base:+.1f}%"


def eval_table(systems: list[str], ev: dict) -> str:
    """Markdown table of every system's figures with the relative change vs the first system."""
    sysm = ev["systems"]
    base = sysm[systems[0]]
    has_wer = "wer_simulated" in base
    head = "| system | ppl (common vocab) | Δ ppl | OOV rate |"
    sep = "|---|---:|---:|---:|"
    if has_wer:
        head += " WER (simulated) | Δ WER |"
        sep += "---:|---:|"
    rows = [head, sep]
    for s in systems:
        m = sysm[s]
        row = f"| {s} | {m['ppl_common']:.2f} | {_rel(m['ppl_common'], base['ppl_common'])} | {100 * m['oov_rate']:.2f}% |"
        if has_wer:
            row += f" {100 * m['wer_simulated']:.2f}% | {_rel(m['wer_simulated'], base['wer_simulated'])} |"
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


def write(run_dir: Path, manifest: dict, systems: list[str], cfg: dict) -> tuple[Path, str]:
    steps = manifest["steps"]
    ev = steps["eval"]["metrics"]
    table = eval_table(systems, ev)
    png = _plot_bars(systems, ev, run_dir / "systems.png")
    lines = ["# lmboot run report", "",
             f"Run directory: `{run_dir}`; languages {cfg['run']['src_lang']} → {cfg['run']['tgt_lang']}; "
             f"seed {cfg['run']['seed']}.", "", "## Evaluation on the test set", "", table, "",
             f"Perplexity signature: `{ev['ppl_signature']}`."]
    if "first_pass_wer" in ev:
        lines += ["", "WER is **simulated** (`lmboot eval simulate`): n-best lists generated from the test "
                  f"references with first-pass WER {100 * (ev['first_pass_wer'] or 0):.1f}% and oracle WER "
                  f"{100 * (ev['oracle_wer'] or 0):.1f}%; each LM rescores the same lists, and a word the LM "
                  f"does not know costs a fixed {cfg['eval']['oov_penalty']} log10 for every LM. It compares "
                  "LMs with each other; it is not the WER of a recogniser."]
    lines += ["", f"![systems]({png.name})", "", "## Steps", "",
              "| step | seconds | what came out |", "|---|---:|---|"]
    for name, e in steps.items():
        m = {k: v for k, v in e.get("metrics", {}).items()  # empty values (nothing left out, ...) say nothing
             if k not in ("systems", "ppl_signature", "bleu_signature", "chrf_signature") and v not in ("", [], {}, None)}
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

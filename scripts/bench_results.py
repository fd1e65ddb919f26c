#!/usr/bin/env python
"""Write docs/results-NAME.md and docs/results-NAME.json from a finished ablation run.

    python scripts/bench_results.py NAME RUN_DIR SECONDS

The JSON holds, for every system, its test ppl_common, OOV rate and simulated WER, the name
of the best baseline without translation and the full system's ratio to it, every dev-check
decision, the translators' dev chrF and each step's time; the Markdown says the same for a
reader, with the date, commit and machine it was measured on.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTES = "\n## Notes"
sys.path.insert(0, str(ROOT))


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GB RAM, {gpu}; {platform.platform()}; torch {torch.__version__}"


def commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(name: str, run_dir: str, seconds: str) -> None:
    from lmboot.pipeline.report import eval_table, results

    run = Path(run_dir)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    ev = manifest["steps"]["eval"]["metrics"]
    systems = list(ev["systems"])
    res = results(manifest, systems)
    meta = {"benchmark": name, "date": time.strftime("%Y-%m-%d"), "commit": commit(), "machine": machine(),
            "wall_seconds": int(float(seconds)), "command": f"bash scripts/benchmark.sh {name}"}
    docs = ROOT / "docs"
    with open(docs / f"results-{name}.json", "w", encoding="utf-8") as f:
        json.dump({**meta, **res}, f, ensure_ascii=False, indent=2)
        f.write("\n")
    if (run / "systems.png").exists():
        shutil.copyfile(run / "systems.png", docs / f"results-{name}.png")
    best, final = res["best_baseline"], res["final_system"]
    ratio = res.get("ratio_to_best_baseline") or {}
    lines = [f"# Results on ../shared/bench/{name}", "",
             f"- Date: {meta['date']}. Commit: `{meta['commit']}`.",
             f"- Machine: {meta['machine']}.",
             f"- Command: `{meta['command']}` (`lmboot run scripts/conf/{name}.toml --ablation`).",
             f"- Wall time: **{meta['wall_seconds']:,} s ({meta['wall_seconds'] / 60:.0f} min)**.", "",
             f"**{final}** against the best baseline without translation (**{best}**): test perplexity on a common "
             f"vocabulary × {ratio.get('ppl_common', float('nan')):.3f}, simulated WER × "
             f"{ratio.get('wer_simulated') or float('nan'):.3f}.", "",
             "## Test set", "", eval_table(systems, ev, best), "",
             f"Perplexity signature: `{ev['ppl_signature']}`. WER is simulated (`lmboot eval simulate`, first-pass "
             f"WER {100 * (ev.get('first_pass_wer') or 0):.1f} %, oracle {100 * (ev.get('oracle_wer') or 0):.1f} %).",
             "", f"![perplexity and simulated WER per system](results-{name}.png)", "",
             "## Dev checks (each technique on or off by the final LM's dev perplexity)", "",
             "| step | decision |", "|---|---|"]
    from lmboot.pipeline.report import _fmt

    lines += [f"| {k} | {_fmt(v)} |" for k, v in res["decisions"].items()]
    lines += ["", "## Translators", "", "| translator | figures |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in res["translators"].items()]
    lines += ["", "## Time per step", "", "| step | seconds |", "|---|---:|"]
    lines += [f"| {k} | {v:,.1f} |" for k, v in res["step_seconds"].items() if v is not None]
    md = docs / f"results-{name}.md"
    # A hand-written "## Notes" section (the reading of the numbers) survives a re-run.
    old = md.read_text(encoding="utf-8") if md.exists() else ""
    notes = old[old.index(NOTES) + 1:].rstrip("\n") if NOTES in old else ""
    md.write_text("\n".join(lines) + "\n" + ("\n" + notes + "\n" if notes else ""), encoding="utf-8")
    print(f"wrote docs/results-{name}.md and docs/results-{name}.json")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])

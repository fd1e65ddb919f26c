"""`lmboot run` end to end on the toy corpora: smoke test, skip on re-run, kill -9 and resume.

One uninterrupted run (module fixture) is the reference; a second run is killed with SIGKILL
in the middle of NMT training and again in the middle of the final LM build, then re-run to
completion: its final LM must be byte-identical to the reference (resume + determinism).
"""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, TOY, one_error_line

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("kenlm_ready")]

CONFIG = """
[run]
dir = "{run_dir}"
seed = 7
src_lang = "eng_Latn"
tgt_lang = "hin_Deva"
threads = 2

[data]
seed = "{toy}/seed.hi"
dev = "{toy}/dev.hi"
test = "{toy}/test.hi"
source = "{source}"
source_ref = "{source_ref}"
general_src = "{toy}/general.en"
general_tgt = "{toy}/general.hi"

[select]
keep_fraction = 0.5
steps = 30

[check]
sentences = 100

[nmt]
preset = "tiny"
vocab_size = 800
max_steps = 300
valid_every = 100
dev_pairs = 50

[self_train]
max_sentences = 150
steps = 30

[eval]
target_wer = 0.25
"""


def write_config(tmp: Path, run_dir: Path) -> Path:
    """The toy run, with the in-domain source text cut to 300 lines to keep the test quick."""
    cut = {}
    for name in ("source.en", "source.ref.hi"):
        cut[name] = tmp / f"300 {name}"  # spaces in paths, on purpose
        lines = TOY.joinpath(name).read_text(encoding="utf-8").splitlines(True)[:300]
        cut[name].write_text("".join(lines), encoding="utf-8")
    cfg = tmp / "run config.toml"
    cfg.write_text(CONFIG.format(run_dir=run_dir, toy=TOY, source=cut["source.en"],
                                 source_ref=cut["source.ref.hi"]), encoding="utf-8")
    return cfg


def sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from lmboot import pipeline

    tmp = tmp_path_factory.mktemp("ref")
    cfg = write_config(tmp, tmp / "run")
    t0 = time.time()
    res = pipeline.run(cfg)
    return res, cfg, time.time() - t0


def test_smoke_every_stage_output_and_manifest(reference):
    from lmboot import lm

    res, _, seconds = reference
    manifest = json.loads(res.manifest.read_text())
    steps = manifest["steps"]
    stages = {e["stage"] for e in steps.values()}
    assert stages == {"seed-lm", "baseline", "spm", "nmt", "select", "self-train", "translate", "rescore", "lmtext",
                      "winnow", "compose", "lm", "eval"}
    for name, e in steps.items():
        assert e["status"] == "done", name
        assert e["start"] <= e["end"] and "fingerprint" in e and "params" in e, name
        assert e["outputs"], name
        for rec in e["outputs"].values():
            assert Path(rec["path"]).exists(), (name, rec)
        for rec in e["inputs"].values():
            assert len(rec["sha256"]) == 64 and rec["size"] > 0
    # The final LM loads and beats the seed-only LM on in-domain dev text (common vocabulary).
    ev = lm.evaluate([steps["seed_lm"]["outputs"]["binary"]["path"], str(res.final_lm)], TOY / "dev.hi")
    seed_ppl, final_ppl = (m.ppl_common for m in ev.models)
    assert final_ppl < seed_ppl
    # Composition: the final LM interpolates the seed, the best baseline's general text and the
    # translations, each weight tuned on dev and recorded.
    final = steps["lm.sel+st+rs+wn+or+sg"]["metrics"]
    assert set(final["weights"]) - {"steer"} == {"seed", "baseline", "sel+st+rs+wn"}
    assert math.isclose(sum(final["weights"].values()), 1.0, abs_tol=1e-3)
    # How the final LM uses the translations was chosen on dev, and the LM build followed it.
    compose = steps["compose.sel+st+rs+wn+or+sg"]["metrics"]
    assert compose["order"] in (1, 2, 3) and set(compose["order_objectives"]) == {"1", "2", "3"}
    assert final["orders"] == {"sel+st+rs+wn": compose["order"]}
    assert "off" in compose["steer_objectives"] and compose["steer"] == (compose["steer_fraction"] is not None)
    assert compose["steer"] or "steer" in final["left_out"]
    best = steps["baseline"]["metrics"]["best"]
    assert best in ("general", "moore-lewis") and steps["baseline"]["outputs"]["text"]["sha256"] == \
        steps[f"lm.{best}"]["inputs"][f"text:{best}"]["sha256"]
    # The translator's training data is weighted toward the domain: every training pair, and
    # the nearest fifth (bilingual Moore-Lewis) three times.
    ov = steps["oversample"]
    split = steps["split"]["metrics"]["train"]
    assert ov["metrics"]["total"] == split and ov["metrics"]["written"] == split + 2 * ov["metrics"]["kept"]
    assert ov["metrics"]["kept"] == round(0.2 * split)
    assert steps["nmt"]["inputs"]["src"]["sha256"] == ov["outputs"]["src"]["sha256"]
    assert steps["spm"]["inputs"]["tgt"]["sha256"] == ov["outputs"]["tgt"]["sha256"]
    # Every technique's dev check is on record.
    assert steps["nmt.sel"]["metrics"]["kept"] in ("adapted", "original")
    assert steps["self-train.sel"]["metrics"]["kept"] in ("adapted", "original")
    assert {"lm_weight", "length_penalty"} <= set(steps["rescore.sel+st+rs"]["metrics"])
    assert steps["lmtext.sel+st+rs"]["metrics"]["nbest"] >= 1
    assert "off" in steps["winnow.sel+st+rs+wn"]["metrics"]
    results = json.loads((res.run_dir / "results.json").read_text())
    assert results["best_baseline"] == best and results["final_system"] == "pipeline"
    assert set(results["systems"]) == {"seed", "general", "moore-lewis", "pipeline"}
    assert results["ratio_to_best_baseline"]["ppl_common"] > 0
    report = res.report.read_text()
    assert "| seed |" in report and "| pipeline |" in report and "simulated" in report
    assert "against the best baseline without translation" in report and "## Dev checks" in report
    assert (res.run_dir / "systems.png").read_bytes()[:4] == b"\x89PNG"
    print(f"toy pipeline: {seconds:.0f} s, dev ppl seed {seed_ppl:.2f} -> final {final_ppl:.2f}")


def test_rerun_skips_every_step(reference, caplog):
    from lmboot import pipeline

    res, cfg, _ = reference
    before = json.loads(res.manifest.read_text())
    with caplog.at_level("INFO", logger="lmboot"):
        again = pipeline.run(cfg)
    after = json.loads(again.manifest.read_text())
    assert caplog.text.count("unchanged, skipped") == len(before["steps"])
    assert {k: v["end"] for k, v in before["steps"].items()} == {k: v["end"] for k, v in after["steps"].items()}


def _start(cfg: Path) -> subprocess.Popen:
    env = dict(os.environ)
    return subprocess.Popen([sys.executable, "-m", "lmboot", "-q", "run", str(cfg)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 600) -> None:
    t0 = time.time()
    while not ready():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() - t0 < timeout, "stage never reached"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _running(run_dir: Path, prefix: str) -> bool:
    try:
        steps = json.loads((run_dir / "manifest.json").read_text())["steps"]
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    return any(k.startswith(prefix) and v["status"] == "running" for k, v in steps.items())


def test_kill_9_and_resume_gives_the_same_final_lm(reference, tmp_path):
    ref_res, _, _ = reference
    run_dir = tmp_path / "run"
    cfg = write_config(tmp_path, run_dir)
    ckpt = run_dir / "nmt" / "model" / "checkpoints" / "last.pt"
    ft_ckpt = run_dir / "self-train.sel" / "model" / "checkpoints" / "last.pt"
    # 1) kill -9 in the middle of NMT training, once a checkpoint exists
    _kill_when(_start(cfg), lambda: _running(run_dir, "nmt") and ckpt.exists())
    # 2) kill -9 inside self-training's fine-tuning (a model started --init-from another),
    #    once it has saved a checkpoint
    _kill_when(_start(cfg), lambda: _running(run_dir, "self-train.") and ft_ckpt.exists())
    # 3) kill -9 in the middle of translation
    _kill_when(_start(cfg), lambda: _running(run_dir, "translate."))
    # 4) kill -9 while the final LM is being built
    _kill_when(_start(cfg), lambda: _running(run_dir, "lm.sel"))
    assert not (run_dir / "final.bin").exists()
    # 5) re-run to completion
    p = _start(cfg)
    _, err = p.communicate(timeout=900)
    assert p.returncode == 0, err.decode()
    assert sha(run_dir / "final.bin") == sha(ref_res.final_lm)
    steps = json.loads((run_dir / "manifest.json").read_text())["steps"]
    assert all(e["status"] == "done" for e in steps.values())
    # The toy translations get little weight in the final LM, so check them directly: the
    # resumed fine-tune and translation give byte-identical translations and LM text.
    ref_dir = ref_res.manifest.parent
    for rel in ("translate.sel+st/nbest.jsonl", "lmtext.sel+st+rs/text.txt", "winnow.sel+st+rs+wn/kept.txt"):
        assert sha(run_dir / rel) == sha(ref_dir / rel), rel
    assert not list(run_dir.rglob(".*.tmp")), "stale temporary files left behind"


def test_bad_config_is_one_line_error(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[data]\nseed = "nope.hi"\n[nmt]\nbogus = 1\n')
    p = subprocess.run([sys.executable, "-m", "lmboot", "run", str(cfg)], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2
    one_error_line(p.stderr, f"{cfg}: unknown config key [nmt] bogus")


def test_from_and_until_on_the_baselines(tmp_path, caplog):
    """Baseline systems need no NMT: --until stops early, --from re-runs that stage and later."""
    from lmboot import pipeline

    cfg = write_config(tmp_path, tmp_path / "run")
    partial = pipeline.run(cfg, systems=["seed", "moore-lewis"], until="seed-lm")
    steps = json.loads(partial.manifest.read_text())["steps"]
    assert set(steps) == {"seed_lm"} and partial.report is None
    done = pipeline.run(cfg, systems=["seed", "moore-lewis"])
    assert done.report.exists() and "| moore-lewis |" in done.table
    with caplog.at_level("INFO", logger="lmboot"):
        pipeline.run(cfg, systems=["seed", "moore-lewis"], from_stage="baseline")
    assert "seed_lm                      unchanged" in caplog.text
    assert "select.moore-lewis           running" in caplog.text
    assert "lm.moore-lewis               running" in caplog.text and "eval                         running" in caplog.text

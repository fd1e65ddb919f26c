"""lmboot nmt: SentencePiece, training, resume, n-best translation, self-training, distributed.

All on a generated toy language pair (tests/toy_nmt.py: a word cipher into Devanagari), tiny
preset, one CPU thread.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fairseq2  # noqa: F401  (required dependencies: missing, the module fails to collect)
import torch

from lmboot.io.corpus import write_bitext  # noqa: E402
from lmboot.errors import LmbootError  # noqa: E402
from lmboot.nmt import MinScoreFilter, self_train, train, train_spm, translate  # noqa: E402
from conftest import one_error_line  # noqa: E402
from toy_nmt import make_pairs  # noqa: E402
from lmboot.io.nbest import read_nbest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LANGS = dict(src_lang="eng_Latn", tgt_lang="xyz_Deva")
FAST = dict(threads=1, progress=False, batch_tokens=2048)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("toy")
    write_bitext(make_pairs(600, seed=1), d / "train.en", d / "train.xx")
    write_bitext(make_pairs(40, seed=2), d / "dev.en", d / "dev.xx")
    write_bitext(make_pairs(60, seed=3), d / "test.en", d / "test.xx")
    ind = make_pairs(360, seed=4, domain="in")
    write_bitext(ind[:300], d / "indomain.en", d / "indomain.ref.xx")  # self-training source
    write_bitext(ind[300:], d / "indomain_test.en", d / "indomain_test.xx")  # held out
    return d


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory) -> Path:
    """A tiny model trained for 200 steps (about 30 s on one core)."""
    m = tmp_path_factory.mktemp("model") / "m"
    res = train(data / "train.en", data / "train.xx", m, **LANGS, dev_src=data / "dev.en", dev_tgt=data / "dev.xx",
                preset="tiny", max_steps=200, valid_every=100, seed=1, **FAST)
    assert res.steps == 200 and res.stopped == "max_steps"
    return m


def _chrf(model: Path, src: Path, ref: Path, out: Path, beam: int = 2) -> float:
    return translate(model, src, out, beam=beam, nbest=1, ref_path=ref, threads=1, progress=False).chrf


# --------------------------------------------------------------------------------------
def test_spm_joint_and_per_side(data, tmp_path):
    import sentencepiece as spm

    from lmboot.nmt.model import ModelInfo, load_tokenizer

    joint = train_spm([data / "train.en"], [data / "train.xx"], tmp_path / "j" / "spm.model", vocab_size=200)
    assert joint.character_coverage == 1.0 and joint.joint
    side = train_spm([data / "train.en"], [data / "train.xx"], tmp_path / "s" / "spm.model", vocab_size=200,
                     joint=False)
    sp = spm.SentencePieceProcessor(model_file=str(side.model))
    for text in ("set alarm for six", make_pairs(1, seed=9)[0][1]):
        assert sp.decode(sp.encode(text)) == text
        assert sp.unk_id() not in sp.encode(text)
    # Through fairseq2's NLLB tokenizer: <pad> at 0, language symbols, round trip.
    info = ModelInfo(preset="tiny", model={}, langs=["eng_Latn", "xyz_Deva"], **LANGS)
    tok = load_tokenizer(tmp_path / "j", info)
    assert tok.vocab_info.pad_idx == 0 and tok.vocab_info.size == joint.vocab_size + 2 + 4
    enc = tok.create_encoder(task="translation", lang="xyz_Deva", mode="target")
    ids = enc("set alarm")
    assert tok.create_decoder()(ids[2:-1]) == "set alarm"
    # Deterministic for a seed.
    again = train_spm([data / "train.en"], [data / "train.xx"], tmp_path / "j2.model", vocab_size=200)
    assert again.model.read_bytes() == joint.model.read_bytes()


def test_bad_input_is_one_line_error(data, tmp_path):
    (tmp_path / "a.en").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "a.xx").write_text("एक\n", encoding="utf-8")
    with pytest.raises(LmbootError, match="differ in length"):
        train(tmp_path / "a.en", tmp_path / "a.xx", tmp_path / "m", **LANGS, max_steps=1, **FAST)
    with pytest.raises(LmbootError, match="not an lmboot NMT model"):
        translate(tmp_path, data / "test.en", tmp_path / "o.jsonl", threads=1)
    r = subprocess.run([sys.executable, "-m", "lmboot", "nmt", "translate", str(data / "test.en"), "--model",
                        str(tmp_path / "no such dir"), "--out", str(tmp_path / "o.jsonl")],
                       capture_output=True, text=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 2
    one_error_line(r.stderr, "model directory not found")


@pytest.mark.slow
def test_learns_toy_mapping_and_writes_nbest(trained, data, tmp_path):
    out = tmp_path / "nbest.jsonl"
    res = translate(trained, data / "test.en", out, tmp_path / "top1.txt", beam=4, nbest=3,
                    ref_path=data / "test.xx", threads=1, progress=False)
    assert res.chrf >= 60, res  # a trained tiny model learns the cipher...
    assert "nrefs:1" in res.chrf_signature
    recs = list(read_nbest(out))
    src = (data / "test.en").read_text(encoding="utf-8").splitlines()
    assert [r["source"] for r in recs] == src and [r["id"] for r in recs] == [str(i + 1) for i in range(len(src))]
    for r in recs:
        assert len(r["hyps"]) == 3
        scores = [h["score"] for h in r["hyps"]]
        assert scores == sorted(scores, reverse=True) and all(s < 0 for s in scores)
        assert all(isinstance(h["tokens"], int) and h["tokens"] >= 1 for h in r["hyps"])
        assert len({h["text"] for h in r["hyps"]}) > 1
    top1 = (tmp_path / "top1.txt").read_text(encoding="utf-8").splitlines()
    assert top1 == [r["hyps"][0]["text"] for r in recs]
    # ...that an untrained model of the same shape does not.
    fresh = tmp_path / "untrained"
    train(data / "train.en", data / "train.xx", fresh, **LANGS, preset="tiny", max_steps=1, lr=1e-9, **FAST)
    assert _chrf(fresh, data / "test.en", data / "test.xx", tmp_path / "u.jsonl") < 25
    # Validation history was written with sacrebleu signatures and a best checkpoint kept.
    log = [json.loads(x) for x in (trained / "train_log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log] == [100, 200] and log[-1]["chrf"] > log[0]["chrf"]
    assert (trained / "checkpoints" / "best.pt").exists()


def test_same_seed_same_model_and_translations(data, tmp_path):
    outs = []
    for k in ("a", "b"):
        m = tmp_path / k
        train(data / "train.en", data / "train.xx", m, **LANGS, preset="tiny", max_steps=4, seed=5, **FAST)
        translate(m, data / "dev.en", tmp_path / f"{k}.jsonl", beam=2, nbest=2, threads=1, progress=False)
        sd = torch.load(m / "checkpoints" / "last.pt", weights_only=True)["model"]
        outs.append((sd, (tmp_path / f"{k}.jsonl").read_bytes()))
    assert outs[0][1] == outs[1][1]
    assert all(torch.equal(outs[0][0][k], outs[1][0][k]) for k in outs[0][0])
    m = tmp_path / "c"  # another seed gives another model
    train(data / "train.en", data / "train.xx", m, **LANGS, preset="tiny", max_steps=4, seed=6, **FAST)
    sd = torch.load(m / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert not all(torch.equal(outs[0][0][k], sd[k]) for k in sd)


def test_resume_after_interruption_continues_at_saved_step(data, tmp_path):
    kw = dict(preset="tiny", max_steps=12, save_every=5, seed=3, **LANGS, **FAST)
    ref = train(data / "train.en", data / "train.xx", tmp_path / "ref", **kw)

    def boom(step, loss):
        if step == 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(data / "train.en", data / "train.xx", tmp_path / "int", on_step=boom, **kw)
    assert torch.load(tmp_path / "int" / "checkpoints" / "last.pt", weights_only=True)["step"] == 8
    res = train(data / "train.en", data / "train.xx", tmp_path / "int", **kw)
    assert (res.start_step, res.steps) == (8, 12)
    # Model, optimiser, schedule, RNG and data position restored: same weights as without the interruption.
    a = torch.load(tmp_path / "ref" / "checkpoints" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "int" / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert ref.steps == 12
    # Asking for more steps continues again from 12.
    more = train(data / "train.en", data / "train.xx", tmp_path / "int", **{**kw, "max_steps": 14})
    assert (more.start_step, more.steps) == (12, 14)


def test_corrupt_or_mismatched_checkpoint_is_a_clear_error(data, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    train(data / "train.en", data / "train.xx", a, **LANGS, preset="tiny", max_steps=1, **FAST)
    train(data / "train.en", data / "train.xx", b, **LANGS, preset="tiny", max_steps=1, vocab_size=150, **FAST)
    shutil.copyfile(b / "checkpoints" / "last.pt", a / "checkpoints" / "last.pt")
    with pytest.raises(LmbootError, match="different model configuration or vocabulary"):
        translate(a, data / "dev.en", tmp_path / "o.jsonl", threads=1)
    (a / "checkpoints" / "last.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(LmbootError, match="corrupt or unreadable checkpoint"):
        translate(a, data / "dev.en", tmp_path / "o.jsonl", threads=1)
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.slow
def test_self_training_changes_model_and_improves_in_domain_chrf(trained, data, tmp_path):
    before = _chrf(trained, data / "indomain_test.en", data / "indomain_test.xx", tmp_path / "b.jsonl")
    res = self_train(trained, data / "indomain.en", tmp_path / "st", data / "train.en", data / "train.xx",
                     rounds=1, steps=120, beam=2, mix_ratio=1.0, filters=[MinScoreFilter(-3.0)], seed=1, threads=1,
                     progress=False)
    r = res.rounds[0]
    assert r.translated == 300 and 0 < r.kept <= 300 and r.original == r.kept
    assert res.model_dir == tmp_path / "st" / "model"
    a = torch.load(trained / "checkpoints" / "best.pt", weights_only=True)["model"]
    b = torch.load(res.model_dir / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert any(not torch.equal(a[k], b[k]) for k in a)
    after = _chrf(res.model_dir, data / "indomain_test.en", data / "indomain_test.xx", tmp_path / "a.jsonl")
    assert after > before + 1.0, (before, after)
    summary = json.loads((tmp_path / "st" / "summary.json").read_text())
    assert summary["rounds"][0]["kept"] == r.kept


def test_pretrained_start_from_local_fairseq2_checkpoint(data, tmp_path):
    """A fairseq2-format checkpoint described by JSON (as for an NLLB model on disk)."""
    base = tmp_path / "base"
    train(data / "train.en", data / "train.xx", base, **LANGS, preset="tiny", max_steps=2, **FAST)
    info = json.loads((base / "config.json").read_text())
    sd = torch.load(base / "checkpoints" / "last.pt", weights_only=True)["model"]
    pre = tmp_path / "pre"
    pre.mkdir()
    torch.save({"model": sd}, pre / "checkpoint.pt")
    shutil.copyfile(base / "spm.model", pre / "sentencepiece.model")
    (pre / "model.json").write_text(json.dumps({"checkpoint": "checkpoint.pt", "spm": "sentencepiece.model",
                                                "model": info["model"], "langs": info["langs"]}))
    m = tmp_path / "ft"
    train(data / "train.en", data / "train.xx", m, **LANGS, init_from=pre / "model.json", max_steps=1, lr=1e-12,
          warmup_steps=1, **FAST)
    ft = torch.load(m / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert all(torch.allclose(sd[k], ft[k], atol=1e-5) for k in sd)
    with pytest.raises(LmbootError, match="no language"):
        train(data / "train.en", data / "train.xx", tmp_path / "x", src_lang="eng_Latn", tgt_lang="abc_Xxxx",
              init_from=pre / "model.json", max_steps=1, **FAST)


@pytest.mark.slow
def test_two_process_gloo_training_and_sharded_translation(data, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    assert torchrun.exists(), "torchrun missing beside this Python (it comes with torch)"
    train_spm([data / "train.en"], [data / "train.xx"], tmp_path / "spm.model", vocab_size=200)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LMBOOT_NMT_DUMP_RANK_WEIGHTS": str(tmp_path / "rank")}
    cmd = [str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "lmboot", "nmt", "train",
           str(data / "train.en"), str(data / "train.xx"), "--model", str(tmp_path / "m"), "--src-lang", "eng_Latn",
           "--tgt-lang", "xyz_Deva", "--max-steps", "6", "--save-every", "3", "--batch-tokens", "1024",
           "--spm", str(tmp_path / "spm.model"), "--threads", "1", "--no-progress"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    w0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    w1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert all(torch.equal(w0[k], w1[k]) for k in w0)  # both ranks hold the same weights
    saved = torch.load(tmp_path / "m" / "checkpoints" / "last.pt", weights_only=True)
    assert saved["step"] == 6 and all(torch.equal(saved["model"][k], w0[k]) for k in w0)
    # Sharded translation merges back in input order, same as one process.
    cmd = [str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "lmboot", "nmt", "translate",
           str(data / "dev.en"), "--model", str(tmp_path / "m"), "--out", str(tmp_path / "dist.jsonl"),
           "--beam", "2", "--nbest", "2", "--threads", "1", "--no-progress"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    translate(tmp_path / "m", data / "dev.en", tmp_path / "one.jsonl", beam=2, nbest=2, threads=1, progress=False)
    dist_recs = list(read_nbest(tmp_path / "dist.jsonl"))
    one_recs = list(read_nbest(tmp_path / "one.jsonl"))
    assert [x["id"] for x in dist_recs] == [x["id"] for x in one_recs]
    assert [x["source"] for x in dist_recs] == [x["source"] for x in one_recs]
    # ...with the same hypotheses: each rank translated its own lines, not the first shard twice
    assert [[h["text"] for h in x["hyps"]] for x in dist_recs] == [[h["text"] for h in x["hyps"]] for x in one_recs]
    assert [[h["tokens"] for h in x["hyps"]] for x in dist_recs] == \
        [[h["tokens"] for h in x["hyps"]] for x in one_recs]
    assert len({x["hyps"][0]["score"] for x in one_recs}) > len(one_recs) // 2  # sentences tell apart
    for a, b in zip(dist_recs, one_recs):  # other batches (shards), so float sums may differ in the last bits
        assert [h["score"] for h in a["hyps"]] == pytest.approx([h["score"] for h in b["hyps"]], abs=1e-3)
    assert not list(tmp_path.glob(".dist.jsonl.*"))


@pytest.mark.slow
def test_self_training_dev_check_rejects_a_broken_fine_tune(trained, data, tmp_path):
    """A fine-tune that wrecks the translator (learning rate 100x too high) must not be kept:
    the judge (here dev chrF, negated: lower is better) prefers the translator it started from."""
    calls = []

    def judge(model_dir):
        calls.append(Path(model_dir))
        return -_chrf(model_dir, data / "indomain_test.en", data / "indomain_test.xx",
                      tmp_path / f"judge{len(calls)}.jsonl")

    res = self_train(trained, data / "indomain.en", tmp_path / "st", data / "train.en", data / "train.xx",
                     rounds=1, steps=40, lr=0.2, warmup_steps=1, beam=2, seed=1, threads=1, progress=False,
                     judge=judge)
    assert calls == [trained, tmp_path / "st" / "model"]
    v = res.verdict
    assert v.chosen == "original" and res.model_dir == trained
    assert v.adapted > v.original + 5  # the broken translator really is much worse
    summary = json.loads((tmp_path / "st" / "summary.json").read_text())
    assert summary["verdict"]["chosen"] == "original" and summary["model"] == str(trained)


def test_self_training_keeps_only_sound_confident_translations(trained, data, tmp_path, monkeypatch):
    """Degenerate hypotheses never reach fine-tuning; ``trust`` keeps the most confident share."""
    from lmboot.nmt import selftrain

    seen = {}

    def fake_fine_tune(model_dir, src, tgt, out_model, **kw):
        seen["src"] = Path(src).read_text(encoding="utf-8").splitlines()
        seen["tgt"] = Path(tgt).read_text(encoding="utf-8").splitlines()
        shutil.copytree(model_dir, out_model, dirs_exist_ok=True)
        from lmboot.nmt.training import NMTTrainResult

        return NMTTrainResult(model_dir=Path(out_model), start_step=0, steps=0, stopped="max_steps", seconds=0.0,
                           target_tokens_per_s=0.0, tokens_per_s=0.0)

    monkeypatch.setattr("lmboot.nmt.adapt.fine_tune", fake_fine_tune)
    rdir = tmp_path / "st" / "round-1"
    rdir.mkdir(parents=True)
    (rdir / "source.txt").write_text("a b c\nd e f\ng h i\nj k l\n", encoding="utf-8")
    recs = [("a b c", "x y z", -1.0), ("d e f", "loop loop loop loop", -0.1), ("g h i", "p q r", -3.0),
            ("j k l", "s t u", -0.5)]
    with open(rdir / "nbest.jsonl", "w", encoding="utf-8") as f:
        for i, (s, t, sc) in enumerate(recs):
            f.write(json.dumps({"id": str(i + 1), "source": s, "hyps": [{"text": t, "score": sc, "tokens": 3}]}) + "\n")
    src = tmp_path / "source.en"
    src.write_text("a b c\nd e f\ng h i\nj k l\n", encoding="utf-8")
    res = selftrain.self_train(trained, src, tmp_path / "st", data / "train.en", data / "train.xx", trust=0.67,
                               mix_ratio=0.0, steps=1, threads=1, progress=False)
    # The loop is dropped; of the 3 sound ones the 2 most confident (-0.5, -1.0 per 3 tokens) stay.
    assert seen["tgt"] == ["x y z", "s t u"] and res.rounds[0].kept == 2

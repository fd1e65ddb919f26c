"""lmboot nmt export / --engine ct2: CTranslate2 against the fairseq2 reference.

On a generated toy language pair (tests/toy_nmt.py), tiny preset, one CPU thread. The slow
tests share one model trained for 200 steps (about a minute).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ctranslate2  # required dependencies: missing, the module fails to collect (never skips)
import torch

from lmboot.io.corpus import write_bitext  # noqa: E402
from lmboot.errors import LmbootError  # noqa: E402
from lmboot.nmt import train, translate  # noqa: E402
from lmboot.nmt import model as M  # noqa: E402
from lmboot.nmt.ct2_check import read_meta  # noqa: E402
from lmboot.nmt.ct2_export import ensure_export, export  # noqa: E402
from lmboot.nmt.engines.ct2_engine import Ct2Translator  # noqa: E402
from toy_nmt import make_pairs  # noqa: E402
from lmboot.io.nbest import read_nbest  # noqa: E402
from lmboot.metrics import mt_scores  # noqa: E402
from lmboot.nmt.engines.fairseq2_engine import Fairseq2Translator as Translator  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LANGS = dict(src_lang="eng_Latn", tgt_lang="xyz_Deva")
FAST = dict(threads=1, progress=False, batch_tokens=2048)
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("toy")
    write_bitext(make_pairs(600, seed=1), d / "train.en", d / "train.xx")
    write_bitext(make_pairs(40, seed=2), d / "dev.en", d / "dev.xx")
    write_bitext(make_pairs(200, seed=3), d / "test.en", d / "test.xx")
    return d


@pytest.fixture(scope="module")
def quick(data, tmp_path_factory) -> Path:
    """A model after one step: enough for tokenisation and for bad-input cases."""
    m = tmp_path_factory.mktemp("quick") / "m"
    train(data / "train.en", data / "train.xx", m, **LANGS, preset="tiny", max_steps=1, **FAST)
    return m


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory) -> Path:
    """A tiny model trained for 200 steps: it has learnt the cipher (dev chrF > 80)."""
    m = tmp_path_factory.mktemp("model") / "m"
    train(data / "train.en", data / "train.xx", m, **LANGS, dev_src=data / "dev.en", dev_tgt=data / "dev.xx",
          preset="tiny", max_steps=200, valid_every=100, seed=1, **FAST)
    return m


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("ct2")
    return {q: export(trained, d / q, quantization=q).out_dir for q in ("float32", "int8")}


@pytest.fixture(scope="module")
def reference(trained, data):
    """fairseq2 beam search (the reference engine): beam 5, 5 hypotheses."""
    model, tok, info = M.load_model(trained)
    sents = (data / "test.en").read_text(encoding="utf-8").splitlines()
    return sents, Translator(model, tok, info, beam=5, nbest=5).translate(sents), (model, tok, info)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lmboot", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=ENV)


def _teacher_forced(model, tok, info, src: str, texts: list[str]) -> list[tuple[float, int]]:
    """(log P(pieces </s> | source, </s> __tgt__), pieces + 1) of each text by fairseq2 teacher
    forcing (the tag's log-probability left out): the score definition, computed independently."""
    from fairseq2.nn import BatchLayout

    s = tok.create_encoder(task="translation", lang=info.src_lang, mode="source")(src).unsqueeze(0)
    tgt_enc = tok.create_encoder(task="translation", lang=info.tgt_lang, mode="target")
    out = []
    for t in texts:
        ids = tgt_enc(t)  # [</s> __tgt__ … </s>]
        inp, gold = ids[:-1].unsqueeze(0), ids[1:]
        with torch.inference_mode():
            logits = model(s, BatchLayout.of(s), inp, BatchLayout.of(inp))
        lp = torch.log_softmax(logits.float(), -1)[0, torch.arange(len(gold)), gold]
        out.append((float(lp[1:].sum()), len(gold) - 1))
    return out


# --------------------------------------------------------------------------------------
# fast: tokenisation, bad input
# --------------------------------------------------------------------------------------
def test_source_tokens_match_fairseq2_and_vocabulary_in_id_order(quick, data, tmp_path):
    out = export(quick, tmp_path / "ct2", quantization="float32").out_dir
    info = M.read_info(quick)
    tok = M.load_tokenizer(quick, info)
    vocab = json.loads((out / "shared_vocabulary.json").read_text(encoding="utf-8"))
    assert len(vocab) == tok.vocab_info.size == info.model["vocab_size"]
    assert vocab[:4] == ["<pad>", "<unk>", "<s>", "</s>"] and "__xyz_Deva__" in vocab
    assert all(tok._model.token_to_index(t) == i for i, t in enumerate(vocab))
    assert (out / "spm.model").read_bytes() == (quick / "spm.model").read_bytes()
    meta = read_meta(out)
    assert (meta["src_lang"], meta["tgt_lang"], meta["langs"]) == ("eng_Latn", "xyz_Deva", ["eng_Latn", "xyz_Deva"])
    assert meta["source"]["fingerprint"] == info.fingerprint(quick) and meta["quantization"] == "float32"
    enc = tok.create_encoder(task="translation", lang="eng_Latn", mode="source")
    tr = Ct2Translator(out, threads=1)
    odd = ["set alarm for six", "", "  two  spaces ", "Unknown ümlaut € and 123!", "तीमोल ह मा दी"]
    for s in (data / "test.en").read_text(encoding="utf-8").splitlines()[:50] + odd:
        assert [tr.index[t] for t in tr.encode([s])[0]] == enc(s).tolist(), s
    dec = tok.create_decoder()
    for toks in (["▁set", "<unk>", "▁alarm"], ["▁set", "__eng_Latn__", "▁alarm"], ["<s>", "▁set", "▁six"]):
        assert tr.decode(toks) == dec(torch.tensor([tr.index[t] for t in toks]))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary directory left


def _one_line_exit_2(r, needle: str) -> None:
    assert r.returncode == 2, r.stderr
    lines = [x for x in r.stderr.splitlines() if not x.startswith("[")]
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def _write_model_with_heads(src: Path, dst: Path, heads: int, extra: dict | None = None) -> None:
    """A genuine lmboot model directory whose encoder has ``heads`` attention heads: config,
    SentencePiece model and a fairseq2 checkpoint with the matching fingerprint."""
    dst.mkdir(parents=True)
    shutil.copyfile(src / "spm.model", dst / "spm.model")
    info = M.read_info(src)
    info.model["num_encoder_attn_heads"] = heads
    info.model.update(extra or {})
    M.write_info(dst, info)
    if extra:
        return
    torch.manual_seed(0)
    model = M.build_model(info, torch.device("cpu"))
    M.save_checkpoint(dst / "checkpoints" / "last.pt", {"format": M.FORMAT, "fingerprint": info.fingerprint(dst),
                                                        "model": model.state_dict(), "step": 0})


def test_export_bad_input_is_one_line_exit_2_and_writes_nothing(quick, data, tmp_path):
    out = tmp_path / "out" / "ct2"
    # not a model directory
    _one_line_exit_2(_cli("nmt", "export", data, "--out", out), "not an lmboot NMT model directory")
    # truncated checkpoint
    trunc = tmp_path / "trunc"
    shutil.copytree(quick, trunc)
    ck = M.checkpoint_path(trunc, "best")
    ck.write_bytes(ck.read_bytes()[: ck.stat().st_size // 2])
    _one_line_exit_2(_cli("nmt", "export", trunc, "--out", out), "corrupt or unreadable checkpoint")
    # a model fairseq2 builds and trains (128 dimensions, 3 heads of 42) but CTranslate2 cannot hold
    odd = tmp_path / "heads3"
    _write_model_with_heads(quick, odd, 3)
    M.load_checkpoint(M.checkpoint_path(odd), M.read_info(odd).fingerprint(odd))  # a valid checkpoint
    _one_line_exit_2(_cli("nmt", "export", odd, "--out", out), "unsupported architecture")
    # settings that are not fairseq2's NLLB Transformer
    post = tmp_path / "post"
    _write_model_with_heads(quick, post, 4, extra={"norm_order": "post"})
    _one_line_exit_2(_cli("nmt", "export", post, "--out", out), "unsupported architecture")
    # an unknown quantization
    _one_line_exit_2(_cli("nmt", "export", quick, "--out", out, "--quantization", "int4"), "unknown quantization")
    assert not out.exists() and not (out.parent.exists() and any(out.parent.iterdir()))
    # the output directory exists and holds something else: refused, untouched
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine\n")
    _one_line_exit_2(_cli("nmt", "export", quick, "--out", other), "not an lmboot CTranslate2 export")
    assert [p.name for p in other.iterdir()] == ["keep.txt"]
    # the fairseq2 engine has no sampling
    with pytest.raises(LmbootError, match="needs the ct2 engine"):
        translate(quick, data / "dev.en", tmp_path / "o.jsonl", sampling_topk=5, threads=1)
    with pytest.raises(LmbootError, match="unknown engine"):
        translate(quick, data / "dev.en", tmp_path / "o.jsonl", engine="onnx", threads=1)
    assert not (tmp_path / "o.jsonl").exists()


def test_both_engines_are_translators_giving_the_same_nbest_format(quick, data, tmp_path):
    """One interface: opened by name with the same search settings, the fairseq2 and ct2
    engines return n-best lists of the same shape, and the same hypothesis gets the same score."""
    from lmboot.nmt.data import Hyp
    from lmboot.nmt.engines import SearchOptions, Translator as Interface, open_translator

    sents = (data / "dev.en").read_text(encoding="utf-8").splitlines()[:12]
    search = SearchOptions(beam=3, nbest=3, max_len_b=5)
    ex = export(quick, tmp_path / "ct2", quantization="float32").out_dir
    out = {"fairseq2": open_translator("fairseq2", quick, search, threads=1),
           "ct2": open_translator("ct2", ex, search, threads=1, length_limit="batch")}
    got = {}
    for name, tr in out.items():
        assert isinstance(tr, Interface) and tr.name == name and (tr.beam, tr.nbest) == (3, 3)
        got[name] = tr.translate(sents)
        assert len(got[name]) == len(sents)
        for hyps in got[name]:
            assert len(hyps) == 3 and all(type(h) is Hyp for h in hyps)
            assert all(type(h.score) is float and h.score < 0 and type(h.tokens) is int and h.tokens >= 1
                       for h in hyps)
            assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
    same = 0
    for a, b in zip(got["fairseq2"], got["ct2"]):
        theirs = {h.text: h for h in b}
        for h in a:
            if h.text in theirs and h.tokens == theirs[h.text].tokens:
                assert abs(h.score - theirs[h.text].score) <= 1e-3 * h.tokens, (h, theirs[h.text])
                same += 1
    assert same >= 0.9 * 3 * len(sents)  # the same search over the same weights: the same lists


def test_a_registered_engine_is_listed_and_chosen_by_name(quick, data, tmp_path):
    """Adding an engine is a Translator subclass and one registration line; messages list it."""
    from dataclasses import dataclass

    from lmboot.nmt.data import Hyp
    from lmboot.nmt.engines import ENGINES, Translator as Interface

    @dataclass(frozen=True)
    class EchoOptions:
        shout: bool = False

    class Echo(Interface):
        """Repeats the source, in capitals when told to."""

        name = "echo"
        Options = EchoOptions

        def __init__(self, search, options):
            super().__init__(search)
            self.options = options

        @classmethod
        def open(cls, model, search, *, checkpoint="best", device=None, threads=None, options=None):
            return cls(search, options)

        def translate(self, sentences):
            said = [s.upper() if self.options.shout else s for s in sentences]
            return [[Hyp(text=s, score=-1.0 - k, tokens=len(s.split()) + 1) for k in range(self.nbest)] for s in said]

    ENGINES.register("echo", Echo)
    try:
        assert ENGINES.names() == ("fairseq2", "ct2", "echo")
        res = translate(quick, data / "dev.en", tmp_path / "e.jsonl", engine="echo", beam=2, nbest=2, shout=True,
                        progress=False)
        recs = list(read_nbest(tmp_path / "e.jsonl"))
        assert res.sentences == len(recs) == 40
        assert all(len(r["hyps"]) == 2 and r["hyps"][0]["text"] == r["source"].upper() for r in recs)
        with pytest.raises(LmbootError, match="unknown engine 'onnx'; choose one of fairseq2, ct2, echo"):
            translate(quick, data / "dev.en", tmp_path / "o.jsonl", engine="onnx")
        with pytest.raises(LmbootError, match="shout=True needs the echo engine"):
            translate(quick, data / "dev.en", tmp_path / "o.jsonl", shout=True)
        with pytest.raises(TypeError, match="unknown translation option 'shuot'"):
            translate(quick, data / "dev.en", tmp_path / "o.jsonl", engine="echo", shuot=True)
    finally:
        ENGINES.unregister("echo")
    assert "echo" not in ENGINES and not (tmp_path / "o.jsonl").exists()


def _copy_export(src: Path, dst: Path, rehash: bool = False, **changes) -> Path:
    """A copy of an export with some files replaced (name -> bytes). ``rehash``: the checksums in
    lmboot.json made to match (a hand-assembled export), so the checks after them are reached."""
    shutil.copytree(src, dst)
    for name, blob in changes.items():
        (dst / name.replace("__", ".")).write_bytes(blob)
    if rehash:
        import hashlib

        meta = json.loads((dst / "lmboot.json").read_text(encoding="utf-8"))
        meta["files"] = {n: hashlib.sha256((dst / n).read_bytes()).hexdigest() for n in meta["files"]}
        (dst / "lmboot.json").write_text(json.dumps(meta), encoding="utf-8")
    return dst


def test_corrupt_export_or_another_spm_model_is_refused_before_translating(quick, data, tmp_path):
    """Checksums recorded at export time are checked before anything is translated; a vocabulary
    that does not fit the model is one line too, never a traceback."""
    from lmboot.nmt.spm import train_spm

    good = export(quick, tmp_path / "good", quantization="float32").out_dir
    files = read_meta(good)["files"]
    assert sorted(files) == ["config.json", "model.bin", "shared_vocabulary.json", "spm.model"]
    weights = bytearray((good / "model.bin").read_bytes())
    weights[len(weights) // 2] ^= 0x01  # one flipped bit in the weights
    other = train_spm([data / "dev.en"], [data / "dev.xx"], tmp_path / "other.model", vocab_size=60).model
    vocab = json.loads((good / "shared_vocabulary.json").read_text(encoding="utf-8"))
    short = json.dumps(vocab[:-5]).encode()
    cases = [
        (_copy_export(good, tmp_path / "flip", model__bin=bytes(weights)), "model.bin: checksum mismatch"),
        (_copy_export(good, tmp_path / "swap", spm__model=other.read_bytes()), "spm.model: checksum mismatch"),
        (_copy_export(good, tmp_path / "swap-rehashed", rehash=True, spm__model=other.read_bytes()),
         "spm.model: SentencePiece model does not match the export's vocabulary"),
        (_copy_export(good, tmp_path / "short", rehash=True, shared_vocabulary__json=short),
         f"shared_vocabulary.json: invalid vocabulary: {len(vocab) - 5} tokens, the model has {len(vocab)}"),
        (_copy_export(good, tmp_path / "number", rehash=True, shared_vocabulary__json=b"42"),
         "shared_vocabulary.json: invalid vocabulary: expected a JSON list of token strings, found a int"),
        (_copy_export(good, tmp_path / "gone", model__bin=b""), "model.bin: checksum mismatch"),
    ]
    for d, needle in cases:
        out = tmp_path / f"{d.name}.jsonl"
        r = _cli("nmt", "translate", data / "dev.en", "--model", d, "--engine", "ct2", "--out", out, "--threads", "1")
        _one_line_exit_2(r, needle)
        assert not out.exists()
    # An export from before checksums: used, with one warning (the vocabulary checks still hold).
    old = tmp_path / "old"
    shutil.copytree(good, old)
    meta = read_meta(old)
    del meta["files"]
    (old / "lmboot.json").write_text(json.dumps(meta), encoding="utf-8")
    r = _cli("nmt", "translate", data / "dev.en", "--model", old, "--engine", "ct2", "--out", tmp_path / "o.jsonl",
             "--threads", "1", "--beam", "1", "--nbest", "1")
    assert r.returncode == 0 and r.stderr.count("no checksums in lmboot.json") == 1, r.stderr


def test_unknown_quantization_is_refused_before_writing_in_the_model_directory(quick, data, tmp_path):
    m = tmp_path / "m"
    shutil.copytree(quick, m)
    before = sorted(p.relative_to(m) for p in m.rglob("*"))
    r = _cli("nmt", "translate", data / "dev.en", "--model", m, "--engine", "ct2", "--quantization", "int4",
             "--out", tmp_path / "o.jsonl")
    _one_line_exit_2(r, "unknown quantization 'int4'")
    assert sorted(p.relative_to(m) for p in m.rglob("*")) == before  # no .ct2-int4.lock, no ct2-int4/
    assert not (tmp_path / "o.jsonl").exists()


def test_a_corrupt_cached_export_is_made_again(quick, tmp_path, caplog):
    m = tmp_path / "m"
    shutil.copytree(quick, m)
    cached = ensure_export(m, "int8")
    blob = bytearray((cached / "model.bin").read_bytes())
    blob[len(blob) // 2] ^= 0x01
    (cached / "model.bin").write_bytes(bytes(blob))
    with caplog.at_level("WARNING", logger="lmboot"):
        assert ensure_export(m, "int8") == cached
    assert "model.bin: checksum mismatch" in caplog.text and "exporting again" in caplog.text
    from lmboot.nmt.ct2_check import verify_export

    verify_export(cached, read_meta(cached))  # whole again


def test_fairseq2_engine_blocks_repeated_ngrams_too(quick, data, tmp_path):
    """The pipeline's default ([translate] no_repeat_ngram_size = 4, engine fairseq2) must run:
    the fairseq2 Translator has the option (merge of the ct2 branch refused it)."""
    res = translate(quick, data / "dev.en", tmp_path / "o.jsonl", beam=2, nbest=2, no_repeat_ngram_size=1,
                    threads=1, progress=False)
    assert res.sentences == 40
    assert all(len(r["hyps"]) == 2 for r in read_nbest(tmp_path / "o.jsonl"))


def test_cache_is_reused_until_the_checkpoint_changes(quick, tmp_path):
    m = tmp_path / "m"
    shutil.copytree(quick, m)
    first = ensure_export(m, "int8")
    assert first == m / "ct2-int8" and read_meta(first)["quantization"] == "int8"
    sha = read_meta(first)["source"]["checkpoint_sha256"]
    stamp = (first / "model.bin").stat().st_mtime_ns
    assert ensure_export(m, "int8") == first and (first / "model.bin").stat().st_mtime_ns == stamp
    # a new checkpoint (other weights): exported again, in place
    state = M.load_checkpoint(M.checkpoint_path(m))
    state["model"] = {k: v + 0.01 if v.is_floating_point() else v for k, v in state["model"].items()}
    M.save_checkpoint(M.checkpoint_path(m), state)
    again = ensure_export(m, "int8")
    assert again == first and read_meta(again)["source"]["checkpoint_sha256"] != sha
    assert (again / "model.bin").stat().st_mtime_ns != stamp
    assert sorted(p.name for p in m.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")) == []


def test_doctor_reports_ctranslate2():
    r = _cli("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(r.stdout)}
    assert checks["ctranslate2"]["ok"] and ctranslate2.__version__ in checks["ctranslate2"]["detail"]


# --------------------------------------------------------------------------------------
# slow: equivalence with the fairseq2 engine on a trained model
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_float32_matches_fairseq2_beam_search(reference, exported):
    sents, ref, (model, tok, info) = reference
    got = Ct2Translator(exported["float32"], beam=5, nbest=5, threads=1).translate(sents)
    assert len(got) == len(ref) and all(len(h) == 5 for h in got)
    same = [i for i, (a, b) in enumerate(zip(ref, got)) if a[0].text == b[0].text]
    assert len(same) >= 0.95 * len(sents), f"top-1 identical on {len(same)}/{len(sents)}"
    # Scores where the outputs agree: both leave out the forced language tag's log-probability.
    compared = 0
    for i, (a, b) in enumerate(zip(ref, got)):
        for ha, hb in zip(a, b):
            if ha.text != hb.text:
                continue
            assert ha.tokens == hb.tokens, (ha, hb)
            tol = 1e-3 * ha.tokens
            assert abs(hb.score - ha.score) <= tol, (i, ha, hb)
            compared += 1
    assert compared >= 0.9 * 5 * len(sents)
    # ...and against the definition computed independently by fairseq2 teacher forcing.
    checked = 0
    for i in range(0, len(sents), 10):
        for h, (tf, n) in zip(got[i], _teacher_forced(model, tok, info, sents[i], [h.text for h in got[i]])):
            if n == h.tokens:  # the text re-tokenises to as many pieces as were generated
                assert abs(h.score - tf) <= 1e-3 * h.tokens, (sents[i], h, tf)
                checked += 1
    assert checked >= 0.9 * 5 * len(range(0, len(sents), 10))
    for hyps in got:
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
        assert all(h.score < 0 and h.tokens >= 1 for h in hyps)


@pytest.mark.slow
def test_int8_top1_chrf_within_one_point_of_float32(reference, exported, data):
    sents = reference[0]
    refs = (data / "test.xx").read_text(encoding="utf-8").splitlines()
    chrf = {}
    for q in ("float32", "int8"):
        hyps = Ct2Translator(exported[q], beam=5, nbest=1, threads=1).translate(sents)
        chrf[q] = mt_scores([h[0].text for h in hyps], refs)["chrf"]
    assert chrf["float32"] > 80 and abs(chrf["int8"] - chrf["float32"]) <= 1.0, chrf
    assert (exported["int8"] / "model.bin").stat().st_size < 0.5 * (exported["float32"] / "model.bin").stat().st_size


@pytest.mark.slow
def test_ct2_engine_nbest_jsonl_has_fairseq2_shape(trained, data, tmp_path):
    kw = dict(beam=4, nbest=3, ref_path=data / "dev.xx", threads=1, progress=False)
    fs = translate(trained, data / "dev.en", tmp_path / "fs.jsonl", tmp_path / "fs.txt", **kw)
    # from the model directory: exported once to MODEL/ct2-float32, then reused
    ct = translate(trained, data / "dev.en", tmp_path / "ct.jsonl", tmp_path / "ct.txt", engine="ct2",
                   quantization="float32", **kw)
    assert (trained / "ct2-float32" / "model.bin").exists()
    a, b = list(read_nbest(tmp_path / "fs.jsonl")), list(read_nbest(tmp_path / "ct.jsonl"))
    assert [r["id"] for r in a] == [r["id"] for r in b] and [r["source"] for r in a] == [r["source"] for r in b]
    for ra, rb in zip(a, b):
        assert list(ra) == list(rb) and ra["ref"] == rb["ref"]
        assert len(ra["hyps"]) == len(rb["hyps"]) == 3
        for ha, hb in zip(ra["hyps"], rb["hyps"]):
            assert list(ha) == list(hb) and type(ha["score"]) is type(hb["score"]) is float
            assert isinstance(hb["tokens"], int)
    assert (tmp_path / "ct.txt").read_text(encoding="utf-8").splitlines() == [r["hyps"][0]["text"] for r in b]
    assert ct.sentences == fs.sentences and abs(ct.chrf - fs.chrf) <= 1.0, (ct.chrf, fs.chrf)
    # the CLI, from the exported directory
    r = _cli("nmt", "translate", data / "dev.en", "--model", trained / "ct2-float32", "--out", tmp_path / "cli.jsonl",
             "--engine", "ct2", "--beam", "4", "--nbest", "3", "--threads", "1", "--no-progress")
    assert r.returncode == 0, r.stderr
    cli = list(read_nbest(tmp_path / "cli.jsonl"))
    assert [{k: v for k, v in r.items() if k != "ref"} for r in b] == cli


@pytest.mark.slow
def test_sampling_gives_num_samples_and_is_reproducible(reference, exported, data, tmp_path):
    sents = reference[0][:60]
    kw = dict(sampling_topk=10, sampling_temperature=1.5, num_samples=4, threads=1)
    a = Ct2Translator(exported["float32"], seed=7, **kw).translate(sents)
    b = Ct2Translator(exported["float32"], seed=7, **kw).translate(sents)
    c = Ct2Translator(exported["float32"], seed=8, **kw).translate(sents)
    assert all(len(h) == 4 for h in a)
    assert [[(h.text, h.score) for h in x] for x in a] == [[(h.text, h.score) for h in x] for x in b]
    assert [[h.text for h in x] for x in a] != [[h.text for h in x] for x in c]
    assert sum(len({h.text for h in x}) > 1 for x in a) >= 10  # samples differ from one another
    for x in a:
        assert [h.score for h in x] == sorted((h.score for h in x), reverse=True)
    # a sample's score is its model log-probability (temperature aside), as for beam search;
    # a sample may spell a beam hypothesis' text with other pieces: compared when the counts agree
    beam = Ct2Translator(exported["float32"], beam=5, nbest=5, threads=1).translate(sents)
    matched = 0
    for xs, ys in zip(a, beam):
        by_text = {h.text: h for h in ys}
        for h in xs:
            if h.text in by_text and h.tokens == by_text[h.text].tokens:
                assert abs(h.score - by_text[h.text].score) <= 1e-4, (h, by_text[h.text])
                matched += 1
    assert matched >= 30
    # through translate(): --nbest samples per sentence, same seed -> same file
    for k in ("s1", "s2"):
        translate(exported["int8"], data / "dev.en", tmp_path / f"{k}.jsonl", engine="ct2", nbest=3, sampling_topk=0,
                  seed=3, threads=1, progress=False)
    assert (tmp_path / "s1.jsonl").read_bytes() == (tmp_path / "s2.jsonl").read_bytes()
    assert all(len(r["hyps"]) == 3 for r in read_nbest(tmp_path / "s1.jsonl"))


@pytest.mark.slow
def test_length_limit_and_no_repeat_ngram(reference, exported):
    sents = reference[0][:40]
    base = Ct2Translator(exported["float32"], beam=4, nbest=4, threads=1)
    # max generated tokens (end-of-sentence included) = int(a * source tokens + b)
    short = Ct2Translator(exported["float32"], beam=4, nbest=4, max_len_a=0.0, max_len_b=3, threads=1)
    for hyps in short.translate(sents):
        assert all(h.tokens <= 3 for h in hyps)
    for s, hyps in zip(sents, base.translate(sents)):
        limit = int(1.5 * len(base.encode([s])[0]) + 10)
        assert all(h.tokens <= limit for h in hyps)
    # the cut hypotheses are scored with fairseq2's forced end-of-sentence
    _, _, (model, tok, info) = reference
    for s, hyps in list(zip(sents, short.translate(sents)))[:5]:
        for h, (tf, n) in zip(hyps, _teacher_forced(model, tok, info, s, [h.text for h in hyps])):
            if n == h.tokens:
                assert abs(h.score - tf) <= 1e-3 * h.tokens
    # Where the limit binds (a=0.5, b=1): per sentence it matches fairseq2 run one sentence at a
    # time; length_limit="batch" matches the fairseq2 engine's batches (longest source + same batches)
    fs = Translator(model, tok, info, beam=4, nbest=4, max_len_a=0.5, max_len_b=1)
    one = [fs.translate([s])[0] for s in sents]
    batched = fs.translate(sents)
    for limit, ref in (("sentence", one), ("batch", batched)):
        got = Ct2Translator(exported["float32"], beam=4, nbest=4, max_len_a=0.5, max_len_b=1, length_limit=limit,
                            threads=1).translate(sents)
        same = sum(a[0].text == b[0].text for a, b in zip(ref, got))
        assert same >= 0.95 * len(sents), (limit, same)
        for a, b in zip(ref, got):
            if a[0].text == b[0].text:
                assert a[0].tokens == b[0].tokens
    assert any(a[0].text != b[0].text for a, b in zip(one, batched))  # the two rules do differ here
    # no_repeat_ngram_size=1: no piece twice, so no word twice (the sources repeat words)
    def repeats(hyps):
        return sum(len(h.text.split()) != len(set(h.text.split())) for h in hyps)

    assert sum(repeats(h) for h in base.translate(sents)) > 0
    norep = Ct2Translator(exported["float32"], beam=4, nbest=4, no_repeat_ngram_size=1, threads=1)
    assert sum(repeats(h) for h in norep.translate(sents)) == 0

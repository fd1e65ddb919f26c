"""CTranslate2 engine: export an lmboot translator to CTranslate2 and translate with it.

CTranslate2 has no converter for fairseq2 checkpoints, but lmboot's translator is a plain
pre-LayerNorm Transformer (fairseq2's NLLB architecture: scaled embeddings, sinusoidal
positions, final layer norms, one embedding matrix shared by encoder, decoder and output
projection), which ``ctranslate2.specs.TransformerSpec`` describes. :func:`export` fills such
a spec from the model fairseq2 builds for ``config.json`` with the checkpoint's weights::

    lmboot nmt export runs/en-hi --out runs/en-hi.ct2 --quantization int8

The exported directory is self-contained:

    DIR/model.bin               weights (int8 | int8_float16 | float16 | float32)
    DIR/config.json             CTranslate2's model configuration
    DIR/shared_vocabulary.json  the vocabulary in fairseq2's NLLB tokenizer id order
                                (<pad>=0, the SentencePiece pieces, the __lang__ symbols)
    DIR/spm.model               the SentencePiece model (copied)
    DIR/lmboot.json             languages, quantization, fingerprint + SHA-256 of the source
                                checkpoint, so caches can tell a stale export; SHA-256 of every
                                file above, checked before translating (a corrupt model.bin or
                                another model's spm.model is refused, never translated with)

:class:`Ct2Translator` has the interface of :class:`lmboot.nmt.translate.Translator`
(``translate(sentences) -> list[list[Hyp]]``) and needs only that directory (no torch, no
fairseq2). It encodes exactly as fairseq2's NLLB tokenizer (source ``[__src__ … </s>]``,
decoder start ``</s>`` then the forced ``__tgt__``) and reports the score of docs/formats.md:

    score = sum of the natural-log probabilities of the target subword tokens, end-of-sentence
    included, language tag excluded; tokens = that token count.

For a beam hypothesis that ended with ``</s>`` that is CTranslate2's ``return_scores`` with
``length_penalty=0`` (it leaves the forced prefix out). Hypotheses cut by the length limit
(which get fairseq2's forced ``</s>``), samples (their scores are not log-probabilities) and
length-normalised searches are rescored with ``Translator.score_batch(..., offset=1)``:
teacher-forced log-probabilities of ``[__tgt__] + hypothesis + </s>``, the tag's left out.
(The fairseq2 engine's scores also count log P(``__tgt__``): see docs/nmt.md.)

Size (~770 lines, over the ~450 of other modules): export and translation share one
model-to-spec and tokenizer mapping whose exact agreement with fairseq2 is the point of the
engine; split, each half would need the other to be read.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from lmboot.errors import LmbootError
from lmboot.results import Result
from lmboot.io.corpus import naming_errors, sha256, write_json
from lmboot.nmt.ct2_check import META, SPM, open_tokens, verify_export
from lmboot.safety import record_checksums

log = logging.getLogger("lmboot")

FORMAT = "lmboot-ct2"
FORMAT_VERSION = 1
QUANTIZATIONS = ("int8", "int8_float16", "float16", "float32")
REQUIREMENT = "ctranslate2>=4.5,<5"
EOS = "</s>"


def _check_quantization(quantization: str) -> None:
    if quantization not in QUANTIZATIONS:
        raise LmbootError(f"unknown quantization {quantization!r}; choose one of {', '.join(QUANTIZATIONS)}")


def _ctranslate2():
    try:
        import ctranslate2
    except ImportError:
        raise LmbootError(f"the ct2 engine needs CTranslate2: pip install '{REQUIREMENT}'") from None
    return ctranslate2


def lang_token(lang: str) -> str:
    """fairseq2's NLLB language symbol."""
    return f"__{lang}__"


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------
@dataclass
class ExportResult(Result):
    """What :func:`export` wrote."""

    out_dir: Path
    quantization: str
    checkpoint: Path
    seconds: float
    model_bytes: int
    reused: bool = False

    def summary(self) -> str:
        return (f"{self.out_dir}: CTranslate2 {self.quantization} model from {self.checkpoint} "
                f"({self.model_bytes / 1e6:.1f} MB, {self.seconds:.1f} s)")


_NLLB_FIELDS = ("model_dim", "max_seq_len", "vocab_size", "pad_idx", "num_encoder_layers", "num_decoder_layers",
                "num_encoder_attn_heads", "num_decoder_attn_heads", "ffn_inner_dim", "dropout_p")


def _check_config(info, where: Path) -> None:
    """Refuse a configuration CTranslate2's Transformer (or this converter) cannot represent."""
    cfg = info.model
    unknown = sorted(set(cfg) - set(_NLLB_FIELDS))
    if unknown:
        raise LmbootError(f"unsupported architecture: model settings {', '.join(unknown)} are not part of "
                          "fairseq2's NLLB Transformer", path=where)
    missing = [k for k in _NLLB_FIELDS if k not in cfg and k != "dropout_p"]
    if missing:
        raise LmbootError(f"unsupported architecture: model config lacks {', '.join(missing)}", path=where)
    for k in _NLLB_FIELDS[:-1]:
        v = cfg[k]
        if not isinstance(v, int) or isinstance(v, bool) or v < (0 if k == "pad_idx" else 1):
            raise LmbootError(f"unsupported architecture: {k}={v!r} is not a valid size", path=where)
    d = cfg["model_dim"]
    if d % 2:
        raise LmbootError(f"unsupported architecture: model_dim={d} is odd (sinusoidal positions need it even)",
                          path=where)
    for side in ("encoder", "decoder"):
        h = cfg[f"num_{side}_attn_heads"]
        if d % h:
            raise LmbootError(f"unsupported architecture: model_dim={d} is not divisible by the {h} {side} "
                              "attention heads", path=where)
    if cfg["pad_idx"] != 0:
        raise LmbootError(f"unsupported architecture: pad_idx={cfg['pad_idx']} (the NLLB tokenizer puts <pad> at 0)",
                          path=where)


def _vocabulary(tokenizer, info, where: Path) -> list[str]:
    """Token strings in fairseq2's NLLB tokenizer id order, checked for what decoding relies on."""
    vi = tokenizer.vocab_info
    sm = tokenizer._model  # fairseq2's SentencePieceModel: the only id -> token view it offers
    vocab = [sm.index_to_token(i) for i in range(vi.size)]
    if vi.size != info.model["vocab_size"]:
        raise LmbootError(f"model vocabulary size {info.model['vocab_size']} differs from its tokenizer's "
                          f"({vi.size})", path=where)
    if len(set(vocab)) != len(vocab):
        raise LmbootError("unsupported vocabulary: token strings are not unique", path=where)
    expect = {"pad_idx": "<pad>", "unk_idx": "<unk>", "bos_idx": "<s>", "eos_idx": EOS}
    for attr, tok in expect.items():
        i = getattr(vi, attr)
        if i is None or vocab[i] != tok:
            raise LmbootError(f"unsupported vocabulary: {attr} is {i} ({vocab[i] if i is not None else None!r}), "
                              f"not {tok!r}", path=where)
    for lang in info.langs:
        if lang_token(lang) not in vocab:
            raise LmbootError(f"language symbol {lang_token(lang)} missing from the vocabulary", path=where)
    return vocab


def _np(t):
    return t.detach().to("cpu").float().numpy().copy()


def _require(ok: bool, what: str, where: Path) -> None:
    if not ok:
        raise LmbootError(f"unsupported architecture: {what}", path=where)


def _set_layer_norm(spec, ln, where: Path, eps: float) -> None:
    from fairseq2.nn import StandardLayerNorm

    _require(isinstance(ln, StandardLayerNorm) and ln.weight is not None and ln.bias is not None,
             f"layer norm {type(ln).__name__} (need a LayerNorm with weight and bias)", where)
    _require(abs(ln.eps - eps) < 1e-12, f"layer norms with different epsilons ({ln.eps} vs {eps})", where)
    spec.gamma = _np(ln.weight)
    spec.beta = _np(ln.bias)


def _set_linear(spec, proj, where: Path) -> None:
    w = getattr(proj, "weight", None)
    _require(w is not None and w.dim() == 2, f"projection {type(proj).__name__} without a weight matrix", where)
    spec.weight = _np(w)
    b = getattr(proj, "bias", None)
    if b is not None:
        spec.bias = _np(b)


def _fuse(spec, projs, where: Path) -> None:
    import numpy as np

    for p in projs:
        _require(getattr(p, "bias", None) is not None, "attention projections without bias", where)
    spec.weight = np.concatenate([_np(p.weight) for p in projs])
    spec.bias = np.concatenate([_np(p.bias) for p in projs])


def _set_attention(spec, attn, where: Path, self_attention: bool) -> None:
    from fairseq2.models.transformer import StandardMultiheadAttention

    _require(isinstance(attn, StandardMultiheadAttention), f"attention {type(attn).__name__}", where)
    _require(attn.num_key_value_heads == attn.num_heads, "grouped-query attention", where)
    dim = attn.q_proj.weight.shape[1]
    _require(attn.head_dim * attn.num_heads == dim == attn.kv_dim, "attention heads * head_dim != model_dim", where)
    for extra in ("q_norm", "k_norm", "v_norm", "pos_encoder"):
        _require(getattr(attn, extra, None) is None, f"attention with {extra}", where)
    if self_attention:
        _fuse(spec.linear[0], [attn.q_proj, attn.k_proj, attn.v_proj], where)
    else:
        _set_linear(spec.linear[0], attn.q_proj, where)
        _fuse(spec.linear[1], [attn.k_proj, attn.v_proj], where)
    _set_linear(spec.linear[-1], attn.output_proj, where)


def _set_ffn(spec, ffn, where: Path) -> None:
    import torch

    from fairseq2.models.transformer import StandardFeedForwardNetwork

    _require(isinstance(ffn, StandardFeedForwardNetwork), f"feed-forward network {type(ffn).__name__}", where)
    _require(isinstance(ffn.inner_activation, torch.nn.ReLU), "feed-forward activation "
             f"{type(ffn.inner_activation).__name__} (the converter handles ReLU)", where)
    _require(getattr(ffn, "inner_layer_norm", None) is None, "feed-forward inner layer norm", where)
    _set_linear(spec.linear_0, ffn.inner_proj, where)
    _set_linear(spec.linear_1, ffn.output_proj, where)


def _set_frontend(spec, frontend, where: Path) -> None:
    from fairseq2.models.transformer import TransformerEmbeddingFrontend
    from fairseq2.nn import SinusoidalPositionEncoder, StandardEmbedding

    _require(isinstance(frontend, TransformerEmbeddingFrontend), f"frontend {type(frontend).__name__}", where)
    _require(isinstance(frontend.embed, StandardEmbedding), f"embedding {type(frontend.embed).__name__}", where)
    _require(getattr(frontend, "layer_norm", None) is None, "layer norm on embeddings", where)
    pe = frontend.pos_encoder
    _require(isinstance(pe, SinusoidalPositionEncoder), f"position encoder {type(pe).__name__}", where)
    emb = spec.embeddings[0] if isinstance(spec.embeddings, list) else spec.embeddings
    emb.weight = _np(frontend.embed.weight)
    spec.scale_embeddings = float(frontend.scale)
    # fairseq2 adds freqs[1 + position] (row 0 is the padding row; with the legacy fairseq
    # offset, position p gets the sinusoid of step p + 2): the exact table, written out.
    pe.reset_non_persistent_buffers()
    spec.position_encodings.encodings = _np(pe.freqs[1:])


def _build_spec(model, info, where: Path):
    """A ``TransformerSpec`` holding the fairseq2 model's weights (checked module by module)."""
    from ctranslate2.specs import transformer_spec

    from fairseq2.models.transformer import (StandardTransformerDecoder, StandardTransformerDecoderLayer,
                                             StandardTransformerEncoder, StandardTransformerEncoderLayer,
                                             TransformerNormOrder)

    enc, dec = model.encoder, model.decoder
    _require(isinstance(enc, StandardTransformerEncoder) and isinstance(dec, StandardTransformerDecoder),
             "encoder/decoder types", where)
    _require(enc.layer_norm is not None and dec.layer_norm is not None, "no final layer norm", where)
    eps = enc.layer_norm.eps
    spec = transformer_spec.TransformerSpec(
        transformer_spec.TransformerEncoderSpec(len(enc.layers), info.model["num_encoder_attn_heads"], pre_norm=True),
        transformer_spec.TransformerDecoderSpec(len(dec.layers), info.model["num_decoder_attn_heads"], pre_norm=True))
    _set_frontend(spec.encoder, model.encoder_frontend, where)
    _set_frontend(spec.decoder, model.decoder_frontend, where)
    for ls, layer in zip(spec.encoder.layer, enc.layers):
        _require(isinstance(layer, StandardTransformerEncoderLayer), f"encoder layer {type(layer).__name__}", where)
        _require(layer.norm_order == TransformerNormOrder.PRE, f"norm order {layer.norm_order}", where)
        _set_attention(ls.self_attention, layer.self_attn, where, self_attention=True)
        _set_layer_norm(ls.self_attention.layer_norm, layer.self_attn_layer_norm, where, eps)
        _set_ffn(ls.ffn, layer.ffn, where)
        _set_layer_norm(ls.ffn.layer_norm, layer.ffn_layer_norm, where, eps)
    _set_layer_norm(spec.encoder.layer_norm, enc.layer_norm, where, eps)
    for ls, layer in zip(spec.decoder.layer, dec.layers):
        _require(isinstance(layer, StandardTransformerDecoderLayer), f"decoder layer {type(layer).__name__}", where)
        _require(layer.norm_order == TransformerNormOrder.PRE, f"norm order {layer.norm_order}", where)
        _set_attention(ls.self_attention, layer.self_attn, where, self_attention=True)
        _set_layer_norm(ls.self_attention.layer_norm, layer.self_attn_layer_norm, where, eps)
        _require(layer.encoder_decoder_attn is not None, "decoder layer without encoder attention", where)
        _set_attention(ls.attention, layer.encoder_decoder_attn, where, self_attention=False)
        _set_layer_norm(ls.attention.layer_norm, layer.encoder_decoder_attn_layer_norm, where, eps)
        _set_ffn(ls.ffn, layer.ffn, where)
        _set_layer_norm(ls.ffn.layer_norm, layer.ffn_layer_norm, where, eps)
    _set_layer_norm(spec.decoder.layer_norm, dec.layer_norm, where, eps)
    proj = model.final_proj
    _require(getattr(proj, "bias", None) is None, "output projection with a bias", where)
    _set_linear(spec.decoder.projection, proj, where)
    spec.config.layer_norm_epsilon = float(eps)
    return spec


def _publish_dir(tmp: Path, dest: Path) -> None:
    """Move a finished directory onto ``dest``; an older export there is replaced, anything else refused."""
    if dest.exists():
        if not (dest / META).is_file():
            raise LmbootError("output exists and is not an lmboot CTranslate2 export; choose a new directory",
                              path=dest)
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.replace(dest, old / dest.name)
        try:
            os.replace(tmp, dest)
        except BaseException:
            os.replace(old / dest.name, dest)
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


def export(model_dir: str | os.PathLike, out_dir: str | os.PathLike, *, quantization: str = "int8",
           checkpoint: str = "best") -> ExportResult:
    """Convert an lmboot model directory into a CTranslate2 model directory (see the module doc).

    Written atomically: built in a temporary sibling directory and renamed when complete. A
    directory that is not an lmboot model, a corrupt checkpoint or an architecture the
    converter cannot represent raise :class:`LmbootError` and leave nothing behind.
    """
    from lmboot.nmt import model as M

    t0 = time.perf_counter()
    _check_quantization(quantization)
    ct2 = _ctranslate2()
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    info = M.read_info(model_dir)
    _check_config(info, model_dir / M.CONFIG)
    if out_dir.resolve() == model_dir.resolve():
        raise LmbootError("the export must go to its own directory, not the model directory", path=out_dir)
    if out_dir.exists() and not (out_dir / META).is_file():
        raise LmbootError("output exists and is not an lmboot CTranslate2 export; choose a new directory",
                          path=out_dir)
    tokenizer = M.load_tokenizer(model_dir, info)
    vocab = _vocabulary(tokenizer, info, model_dir / info.spm)
    ck = M.checkpoint_path(model_dir, checkpoint)
    state = M.load_checkpoint(ck, info.fingerprint(model_dir))
    import torch

    try:
        with torch.device("cpu"):
            model = M.build_model(info, torch.device("cpu"))
    except (ValueError, TypeError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LmbootError(f"unsupported architecture: fairseq2 cannot build it ({first})",
                          path=model_dir / M.CONFIG) from None
    M.load_weights(model, state["model"], ck)
    model.eval()
    spec = _build_spec(model, info, model_dir / M.CONFIG)
    step = state.get("step")
    del model, state
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.config.unk_token, spec.config.bos_token, spec.config.eos_token = "<unk>", "<s>", EOS
    spec.config.decoder_start_token = EOS  # fairseq2's target prompt is [</s> __tgt__]
    spec.config.add_source_bos = spec.config.add_source_eos = False  # Ct2Translator adds [__src__ … </s>]
    try:
        spec.validate()
        spec.optimize(quantization=quantization)
    except (ValueError, TypeError) as e:
        raise LmbootError(f"unsupported architecture: CTranslate2 rejects the model ({e})",
                          path=model_dir / M.CONFIG) from None
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "src_lang": info.src_lang, "tgt_lang": info.tgt_lang,
            "langs": list(info.langs), "quantization": quantization, "spm": SPM,
            "source": {"model_dir": str(model_dir.resolve()), "checkpoint": str(ck.resolve()),
                       "checkpoint_sha256": sha256(ck), "fingerprint": info.fingerprint(model_dir),
                       "step": step},
            "model": dict(info.model), "ctranslate2": ct2.__version__}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        with naming_errors(out_dir):  # CTranslate2 and copyfile name no file when the disk is full
            spec.save(str(tmp))
            shutil.copyfile(model_dir / info.spm, tmp / SPM)
        meta["files"] = record_checksums(tmp, os.listdir(tmp))
        write_json(tmp / META, meta)
        os.chmod(tmp, 0o777 & ~_umask())
        _publish_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportResult(out_dir=out_dir, quantization=quantization, checkpoint=ck,
                        seconds=time.perf_counter() - t0, model_bytes=(out_dir / "model.bin").stat().st_size)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_meta(ct2_dir: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``DIR/lmboot.json`` of an export."""
    d = Path(ct2_dir)
    p = d / META
    if not d.is_dir():
        raise LmbootError("CTranslate2 model directory not found", path=d)
    if not p.is_file():
        raise LmbootError(f"not an lmboot CTranslate2 export (no {META})", path=d)
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise LmbootError(f"invalid {META}: {e}", path=p) from None
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt != FORMAT:
        raise LmbootError(f"not an lmboot CTranslate2 export (format {fmt!r})", path=p)
    if int(meta.get("version", 0)) > FORMAT_VERSION:
        raise LmbootError(f"export format version {meta['version']} is newer than this lmboot ({FORMAT_VERSION})",
                          path=p)
    for f in ("model.bin", meta.get("spm", SPM)):
        if not (d / f).is_file():
            raise LmbootError(f"incomplete export: {f} missing", path=d)
    return meta


def is_export(path: str | os.PathLike) -> bool:
    return (Path(path) / META).is_file()


def cache_dir(model_dir: str | os.PathLike, quantization: str, checkpoint: str = "best") -> Path:
    """Where :func:`ensure_export` keeps a model's export: ``MODEL/ct2-<quantization>``."""
    name = f"ct2-{quantization}"
    if checkpoint != "best":
        name += f"-{Path(checkpoint).stem}"
    return Path(model_dir) / name


def ensure_export(model_dir: str | os.PathLike, quantization: str = "int8", checkpoint: str = "best") -> Path:
    """The cached export of ``model_dir``: reused when its source checkpoint (SHA-256) and model
    fingerprint match, else (re-)exported. A lock file serialises concurrent callers."""
    import fcntl

    from lmboot.nmt import model as M

    _check_quantization(quantization)  # before the lock file below is created in the model directory
    model_dir = Path(model_dir)
    info = M.read_info(model_dir)
    out = cache_dir(model_dir, quantization, checkpoint)
    ck = M.checkpoint_path(model_dir, checkpoint)
    if not ck.exists():
        raise LmbootError("checkpoint not found", path=ck)
    try:
        lock = open(model_dir / f".{out.name}.lock", "w")
    except OSError as e:
        raise LmbootError(f"cannot keep a CTranslate2 export in the model directory ({e.strerror}); "
                          "run `lmboot nmt export` and pass its directory", path=model_dir) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_export(out):
            with contextlib.suppress(LmbootError, KeyError, TypeError):
                meta = read_meta(out)
                src = meta["source"]
                if (meta["quantization"] == quantization and src["fingerprint"] == info.fingerprint(model_dir)
                        and src["checkpoint_sha256"] == sha256(ck) and "files" in meta):
                    try:
                        verify_export(out, meta)
                        return out
                    except LmbootError as e:  # a cache: made again, but said
                        log.warning("%s; exporting again", e)
            log.info("%s: stale CTranslate2 export, exporting again", out)
        res = export(model_dir, out, quantization=quantization, checkpoint=checkpoint)
        log.info("exported %s to %s (%s, %.1f MB) in %.1f s", ck, out, quantization, res.model_bytes / 1e6,
                 res.seconds)
    return out


def resolve(model: str | os.PathLike, quantization: str = "int8", checkpoint: str = "best") -> Path:
    """An export directory for ``model``: the directory itself if it is one, else the cached
    export of an lmboot model directory."""
    p = Path(model)
    if is_export(p):
        return p
    return ensure_export(p, quantization, checkpoint)


# --------------------------------------------------------------------------------------
# Engine choice for lmboot.nmt.translate
# --------------------------------------------------------------------------------------
ENGINES = ("fairseq2", "ct2")


@dataclass
class _Device:
    """What :func:`lmboot.nmt.translate.translate` needs to know of the device (``.type``)."""

    type: str
    index: int = 0


def _device(device: str | None) -> _Device:
    if device is None:
        device = "cuda" if _ctranslate2().get_cuda_device_count() > 0 else "cpu"
    kind, _, idx = str(device).partition(":")
    if kind not in ("cpu", "cuda"):
        raise LmbootError(f"unknown device {device!r} for the ct2 engine (cpu, cuda, cuda:N)")
    if kind == "cuda" and not idx:
        idx = os.environ.get("LOCAL_RANK", "0")
    return _Device(kind, int(idx or 0))


def _threads(threads: int | None) -> int:
    """As :func:`lmboot.nmt.model.setup_device`: ``OMP_NUM_THREADS`` when set, else the cores
    divided among the local processes, at most 8."""
    if threads is not None:
        return threads
    if os.environ.get("OMP_NUM_THREADS"):
        return int(os.environ["OMP_NUM_THREADS"])
    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(1, min(8, (os.cpu_count() or 1) // local))


def engine_translator(engine: str, model: str | os.PathLike, *, checkpoint: str = "best",
                      quantization: str = "int8", compute_type: str = "default", device: str | None = None,
                      threads: int | None = None, sampling_topk: int = 1, sampling_temperature: float = 1.0,
                      num_samples: int | None = None, seed: int | None = None, no_repeat_ngram_size: int = 0,
                      length_limit: str = "sentence", **search):
    """The translator :func:`lmboot.nmt.translate.translate` uses for ``engine``.

    ``None`` for ``fairseq2`` (after refusing the options only the ct2 engine has); for
    ``ct2``, ``(Ct2Translator, device)`` over ``model``: an export directory, or an lmboot
    model directory whose cached export (``MODEL/ct2-<quantization>``) is made or reused.
    ``search``: beam, nbest, max_len_a, max_len_b, len_penalty, batch_tokens, max_sentences.
    """
    if engine not in ENGINES:
        raise LmbootError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "fairseq2":
        if sampling_topk != 1:
            raise LmbootError("sampling (sampling_topk != 1) needs the ct2 engine")
        # (no_repeat_ngram_size: the fairseq2 Translator has it too; its length limit is per batch)
        return None
    dev = _device(device)
    path = resolve(model, quantization, checkpoint)
    tr = Ct2Translator(path, device=dev.type, device_index=dev.index, compute_type=compute_type,
                       threads=_threads(threads), sampling_topk=sampling_topk,
                       sampling_temperature=sampling_temperature, num_samples=num_samples, seed=seed,
                       no_repeat_ngram_size=no_repeat_ngram_size, length_limit=length_limit, **search)
    return tr, dev


# --------------------------------------------------------------------------------------
# Translation
# --------------------------------------------------------------------------------------
class Ct2Translator:
    """Beam search (or sampling) with CTranslate2 over an exported model; the interface of
    :class:`lmboot.nmt.translate.Translator`.

    >>> tr = Ct2Translator("runs/en-hi.ct2", beam=5, nbest=5, threads=2)   # doctest: +SKIP
    >>> tr.translate(["hello"])[0][0]                                     # doctest: +SKIP
    Hyp(text='नमस्ते', score=-0.41, tokens=3)

    - beam search: ``beam``, ``nbest`` (≤ beam) hypotheses best first; the generated length
      (end-of-sentence included, language tag excluded) is at most
      ``int(max_len_a * source_len + max_len_b)``, ``source_len`` counting the source's language
      tag and end-of-sentence, so a sentence's output does not depend on the other sentences
      (``length_limit="batch"``: ``source_len`` of the longest source in the batch, batches as
      the fairseq2 engine makes them: fairseq2's generator works that way); ranking by raw
      log-probability like the fairseq2 engine (``normalize_scores=True``: by log-probability /
      length^``len_penalty``);
      ``no_repeat_ngram_size`` > 0 forbids repeated n-grams;
    - sampling (``sampling_topk`` != 1; 0 = the whole vocabulary): ``num_samples`` (default
      ``nbest``) independent samples per sentence from the ``sampling_topk`` most likely tokens
      at ``sampling_temperature``, sorted best first; the same ``seed``, input and settings
      (``threads`` included) give the same samples;
    - ``compute_type`` as CTranslate2's (``default`` keeps the exported type), ``device``
      ``cpu``/``cuda``;
    - ``threads`` CPU threads in all. On CPU they run as ``inter_threads`` single-threaded
      replicas (default: one per thread) working on different batches at once, not as
      intra-op threads of one: on the 2-core development machine, shared with other jobs,
      CTranslate2 int8 with 2 intra-op threads ran 10x slower than 2 replicas (OpenMP
      synchronisation per decoding step). ``inter_threads=1`` gives the intra-op layout.

    ``score`` is always the model's natural-log probability of the hypothesis (see the module doc).
    """

    def __init__(self, ct2_dir: str | os.PathLike, *, device: str = "cpu", device_index: int = 0,
                 compute_type: str = "default", threads: int | None = None, beam: int = 5, nbest: int = 1,
                 max_len_a: float = 1.5, max_len_b: int = 10, len_penalty: float = 1.0, normalize_scores: bool = False,
                 no_repeat_ngram_size: int = 0, sampling_topk: int = 1, sampling_temperature: float = 1.0,
                 num_samples: int | None = None, seed: int | None = None, inter_threads: int | None = None,
                 batch_tokens: int = 4096, max_sentences: int = 64, max_src_len: int = 256,
                 length_limit: str = "sentence", src_lang: str | None = None, tgt_lang: str | None = None):
        ct2 = _ctranslate2()
        self.dir = Path(ct2_dir)
        self.meta = read_meta(self.dir)
        verify_export(self.dir, self.meta)  # before anything is loaded: never translate with a changed model
        self.sampling = sampling_topk != 1
        if beam < 1:
            raise LmbootError(f"beam must be >= 1, not {beam}")
        if not self.sampling and not 1 <= nbest <= beam:
            raise LmbootError(f"nbest must be between 1 and the beam size ({beam}), not {nbest}")
        if sampling_topk < 0:
            raise LmbootError(f"sampling_topk must be >= 0 (0: whole vocabulary), not {sampling_topk}")
        if sampling_temperature <= 0:
            raise LmbootError(f"sampling_temperature must be > 0, not {sampling_temperature}")
        if length_limit not in ("sentence", "batch"):
            raise LmbootError(f"length_limit must be 'sentence' or 'batch', not {length_limit!r}")
        self.length_limit = length_limit
        if no_repeat_ngram_size < 0:
            raise LmbootError(f"no_repeat_ngram_size must be >= 0, not {no_repeat_ngram_size}")
        self.num_samples = nbest if num_samples is None else num_samples
        if self.sampling and self.num_samples < 1:
            raise LmbootError(f"num_samples must be >= 1, not {self.num_samples}")
        self.src_lang = src_lang or self.meta["src_lang"]
        self.tgt_lang = tgt_lang or self.meta["tgt_lang"]
        for lang in (self.src_lang, self.tgt_lang):
            if lang not in self.meta["langs"]:
                raise LmbootError(f"the model has no language {lang!r} (has {', '.join(self.meta['langs'])})",
                                  path=self.dir)
        self.vocab, self.sp = open_tokens(self.dir, self.meta)
        self.index = {t: i for i, t in enumerate(self.vocab)}
        self.n_pieces = self.sp.get_piece_size()
        self.src_tag, self.tgt_tag = lang_token(self.src_lang), lang_token(self.tgt_lang)
        self.beam, self.nbest = beam, nbest
        self.max_len_a, self.max_len_b = max_len_a, max_len_b
        self.len_penalty, self.normalize_scores = len_penalty, normalize_scores
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self.sampling_topk, self.sampling_temperature = sampling_topk, sampling_temperature
        self.batch_tokens, self.max_sentences, self.max_src_len = batch_tokens, max_sentences, max_src_len
        threads = _threads(threads)
        if inter_threads is None:  # CPU: one single-threaded replica per thread (see the class doc)
            inter_threads = threads if device == "cpu" else 1
        if inter_threads < 1 or threads < 1:
            raise LmbootError(f"threads must be >= 1, not {threads} (inter_threads {inter_threads})")
        intra = max(1, threads // inter_threads) if device == "cpu" else threads
        self.seed = seed
        kw = dict(device=device, device_index=device_index, compute_type=compute_type, intra_threads=intra)
        try:
            if not self.sampling:
                # Beam search is deterministic whichever replica runs a batch.
                self.workers = [ct2.Translator(str(self.dir), inter_threads=inter_threads, **kw)]
            else:
                # A replica's thread seeds its generator from the global seed when it first
                # samples. One translator per replica, each seeded in turn (then made to sample),
                # and batches dealt round-robin: the same seed gives the same samples.
                import random

                base = seed if seed is not None else random.SystemRandom().randrange(2**31)
                self.workers = []
                for k in range(inter_threads):
                    ct2.set_random_seed((base + 7919 * k) % 2**32)
                    w = ct2.Translator(str(self.dir), inter_threads=1, **kw)
                    w.translate_batch([[self.src_tag, EOS]], beam_size=1, sampling_topk=2, max_decoding_length=1)
                    self.workers.append(w)
        except (RuntimeError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise LmbootError(f"CTranslate2 cannot load the model ({first})", path=self.dir) from None
        self.tr = self.workers[0]
        self.score_tokens = max(256, min(batch_tokens, (1 << 25) // (4 * len(self.vocab))))
        self.max_positions = int(self.meta.get("model", {}).get("max_seq_len", 1024))
        self.max_src_len = min(self.max_src_len, self.max_positions)
        self.truncated = 0

    # -- tokens ------------------------------------------------------------------------
    def encode(self, sentences: Sequence[str]) -> list[list[str]]:
        """Source tokens exactly as fairseq2's NLLB source encoder: ``[__src__ pieces… </s>]``
        (a piece's fairseq2 id is its SentencePiece id + 1: ``<pad>`` comes first)."""
        out = []
        for ids in self.sp.encode(list(sentences), out_type=int):
            toks = [self.src_tag] + [self.vocab[i + 1] for i in ids] + [EOS]
            if len(toks) > self.max_src_len:
                self.truncated += 1
                toks = toks[: self.max_src_len - 1] + [EOS]
            out.append(toks)
        return out

    def decode(self, tokens: Sequence[str]) -> str:
        """Text of target tokens (the tag and end-of-sentence already removed)."""
        ids = []
        for t in tokens:
            i = self.index.get(t, 1) - 1
            if 0 <= i < self.n_pieces:
                ids.append(i)
        return self.sp.decode(ids)

    # -- search ------------------------------------------------------------------------
    def max_gen_len(self, src_len: int) -> int:
        """Most target tokens (end-of-sentence included, tag excluded) for a source of
        ``src_len`` tokens (its tag and end-of-sentence included), as fairseq2 computes it."""
        return int(self.max_len_a * src_len + self.max_len_b)

    def _batches(self, enc: list[list[str]]) -> list[list[int]]:
        """Sentence indices sorted by length, grouped into batches of at most ``batch_tokens``
        source tokens and ``max_sentences`` sentences. CTranslate2 takes one length limit per
        call: with ``length_limit="sentence"`` a batch holds sentences of one limit; with
        ``"batch"`` the batches are exactly those of :class:`~lmboot.nmt.translate.Translator`."""
        order = sorted(range(len(enc)), key=lambda i: (len(enc[i]), i))
        groups: list[list[int]] = []
        for i in order:
            n = len(enc[i])
            g = groups[-1] if groups else None
            if (g is None or len(g) >= self.max_sentences or (len(g) + 1) * n > self.batch_tokens
                    or (self.length_limit == "sentence" and self.max_gen_len(len(enc[g[0]])) != self.max_gen_len(n))):
                groups.append([i])
            else:
                g.append(i)
        return groups

    def _options(self, src: list[list[str]]) -> dict[str, Any]:
        # as fairseq2, within the model's positions: prompt [</s> __tgt__] + max_gen <= max_seq_len
        max_gen = min(self.max_gen_len(max(len(x) for x in src)), self.max_positions - 2)
        if max_gen < 1:
            raise LmbootError(f"max_len_a * source length + max_len_b must be >= 1 (got {max_gen})")
        # CTranslate2 counts the forced tag in max_decoding_length: max_gen allows max_gen - 1
        # tokens, then a hypothesis cut there gets fairseq2's forced end-of-sentence (rescored).
        # fairseq2 also forbids <pad> (its log-probability set to -inf after the softmax); CTranslate2's
        # suppress_sequences would renormalise the distribution instead, shifting every score by
        # log(1 - p(<pad>)), so <pad> is left allowed: a trained model gives it next to no mass.
        opts = dict(target_prefix=[[self.tgt_tag]] * len(src), max_decoding_length=max_gen, max_input_length=0,
                    no_repeat_ngram_size=self.no_repeat_ngram_size, return_scores=True, return_end_token=True)
        if self.sampling:
            opts.update(beam_size=1, num_hypotheses=self.num_samples, sampling_topk=self.sampling_topk,
                        sampling_temperature=self.sampling_temperature)
        else:
            opts.update(beam_size=self.beam, num_hypotheses=self.nbest,
                        length_penalty=self.len_penalty if self.normalize_scores else 0.0)
        return opts

    def _hyps(self, result) -> list[tuple[list[str], float | None]]:
        """(target tokens without tag and end-of-sentence, exact score or None) of one result.

        With length_penalty=0 a finished beam hypothesis' score is exactly the definition
        (checked against fairseq2 in the tests); sampled and normalised scores are not."""
        raw = not self.sampling and not self.normalize_scores
        hyps = []
        for h, s in zip(result.hypotheses, result.scores):
            if h and h[0] == self.tgt_tag:
                h = h[1:]
            done = bool(h) and h[-1] == EOS
            hyps.append((h[:-1] if done else list(h), float(s) if raw and done else None))
        return hyps

    def translate(self, sentences: Sequence[str]) -> list[list[Hyp]]:
        """n-best (or sampled) hypotheses for each sentence, best first; input order kept.

        All batches are queued at once (asynchronously) so the replicas work in parallel; the
        scores CTranslate2's search cannot give exactly are then computed by ``score_batch``
        (teacher-forced log P(hypothesis </s> | source, </s> __tgt__), the tag left out by
        ``offset=1``)."""
        from lmboot.nmt.data import Hyp

        enc = self.encode(sentences)
        groups = self._batches(enc)
        jobs = []
        for j, idx in enumerate(groups):
            src = [enc[i] for i in idx]
            w = self.workers[j % len(self.workers)]
            jobs.append((idx, w, w.translate_batch(src, asynchronous=True, **self._options(src))))
        found: dict[int, list[tuple[list[str], float | None]]] = {}
        rescore = []
        for idx, w, futures in jobs:
            todo = []
            for i, f in zip(idx, futures):
                found[i] = self._hyps(f.result())
                todo += [(i, k) for k, (_, s) in enumerate(found[i]) if s is None]
            if todo:
                # score_batch holds the logits of every target position (tokens x vocabulary
                # floats): sub-batches of at most ~32 MB of them
                fut = w.score_batch([enc[i] for i, _ in todo], [[self.tgt_tag] + found[i][k][0] for i, k in todo],
                                    offset=1, max_input_length=0, asynchronous=True, batch_type="tokens",
                                    max_batch_size=self.score_tokens)
                rescore.append((todo, fut))
        scores = {i: [s for _, s in hs] for i, hs in found.items()}
        for todo, fut in rescore:
            for (i, k), r in zip(todo, fut):
                scores[i][k] = float(sum(r.result().log_probs))
        out = []
        for i in range(len(enc)):
            items = [Hyp(text=self.decode(toks), score=s, tokens=len(toks) + 1)
                     for (toks, _), s in zip(found[i], scores[i])]
            items.sort(key=lambda x: -x.score)
            out.append(items)
        return out


__all__ = ["export", "ExportResult", "ensure_export", "resolve", "read_meta", "verify_export", "is_export",
           "Ct2Translator", "engine_translator", "ENGINES", "QUANTIZATIONS"]

"""Export an lmboot translator to CTranslate2: conversion, quantization, checksums, the cache.

CTranslate2 has no converter for fairseq2 checkpoints, but lmboot's translator is a plain
pre-LayerNorm Transformer (fairseq2's NLLB architecture: scaled embeddings, sinusoidal
positions, final layer norms, one embedding matrix shared by encoder, decoder and output
projection), which ``ctranslate2.specs.TransformerSpec`` describes. :func:`export` fills such
a spec from the model fairseq2 builds for ``config.json`` with the checkpoint's weights::

    lmboot nmt export runs/en-hi --out runs/en-hi.ct2 --quantization int8

The exported directory (its layout and checks: :mod:`lmboot.nmt.ct2_check`) is self-contained:

    DIR/model.bin               weights (int8 | int8_float16 | float16 | float32)
    DIR/config.json             CTranslate2's model configuration
    DIR/shared_vocabulary.json  the vocabulary in fairseq2's NLLB tokenizer id order
                                (<pad>=0, the SentencePiece pieces, the __lang__ symbols)
    DIR/spm.model               the SentencePiece model (copied)
    DIR/lmboot.json             languages, quantization, fingerprint + SHA-256 of the source
                                checkpoint, so caches can tell a stale export; SHA-256 of every
                                file above, checked before translating (a corrupt model.bin or
                                another model's spm.model is refused, never translated with)

:func:`ensure_export` keeps a model's export in ``MODEL/ct2-<quantization>`` and makes it again
when the checkpoint changes; the engine that translates with an export is
:class:`lmboot.nmt.engines.ct2_engine.Ct2Translator` (``--engine ct2``).
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lmboot.errors import LmbootError
from lmboot.results import Result
from lmboot.io.corpus import naming_errors, sha256, write_json
from lmboot.nmt.ct2_check import (EOS, FORMAT, FORMAT_VERSION, META, SPM, is_export, lang_token, load_ctranslate2,
                                   read_meta, verify_export)
from lmboot.io.checksums import record_checksums

log = logging.getLogger("lmboot")

QUANTIZATIONS = ("int8", "int8_float16", "float16", "float32")


def check_quantization(quantization: str) -> None:
    """Refuse a quantization CTranslate2 export does not offer (one line listing those it does)."""
    if quantization not in QUANTIZATIONS:
        raise LmbootError(f"unknown quantization {quantization!r}; choose one of {', '.join(QUANTIZATIONS)}")


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
    check_quantization(quantization)
    ct2 = load_ctranslate2()
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

    check_quantization(quantization)  # before the lock file below is created in the model directory
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


__all__ = ["export", "ExportResult", "ensure_export", "resolve", "cache_dir", "check_quantization", "QUANTIZATIONS"]

"""The model directory a training run starts from: created, checked, or resumed.

:func:`prepare_dir` creates ``MODEL/`` (SentencePiece model, ``config.json``) for a new run, or
checks that an existing one holds the same language pair and preset; :func:`start_point`
says whether training resumes, starts from initial weights or from scratch.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from lmboot.errors import LmbootError
from lmboot.nmt import model as M

log = logging.getLogger("lmboot")


def prepare_dir(model_dir: Path, src_lang: str, tgt_lang: str, preset: str, spm_model, vocab_size,
                 joint_spm: bool, train_src, train_tgt, init_from, dropout, rank: int, gang) -> tuple[M.ModelInfo, Any]:
    """Create (rank 0) or check the model directory; return its info and pretrained weights."""
    cfg = model_dir / M.CONFIG
    init_weights = None
    if cfg.exists():
        info = M.read_info(model_dir)
        if (info.src_lang, info.tgt_lang) != (src_lang, tgt_lang):
            raise LmbootError(f"model directory holds a {info.src_lang}->{info.tgt_lang} model, not "
                              f"{src_lang}->{tgt_lang}; use a new directory", path=model_dir)
        if init_from is None and info.preset != preset and info.preset != M.CUSTOM:
            raise LmbootError(f"model directory holds a {info.preset!r} model, not {preset!r}; use a new directory",
                              path=model_dir)
        kind, where = start_point(model_dir, init_from, info)
        if kind == "init":  # killed after config.json, before the first checkpoint: start as the first run did
            log.info("no checkpoint in %s yet: starting again from %s", model_dir, where)
            return info, _init_weights(where)
        return info, None
    p = M.get_preset(preset)
    if rank == 0:
        model_dir.mkdir(parents=True, exist_ok=True)
    if init_from is not None and Path(init_from).is_dir():  # an lmboot model directory
        src_info = M.read_info(init_from)
        for lang in (src_lang, tgt_lang):
            if lang not in src_info.langs:
                raise LmbootError(f"initial model has no language {lang!r} (has {', '.join(src_info.langs)})",
                                  path=init_from)
        info = M.ModelInfo(src_lang=src_lang, tgt_lang=tgt_lang, preset=src_info.preset, model=dict(src_info.model),
                           langs=list(src_info.langs), train={"init_from": str(init_from)})
        if dropout is not None:
            info.model["dropout_p"] = dropout
        if rank == 0:
            shutil.copyfile(Path(init_from) / src_info.spm, model_dir / M.SPM)
        ck = M.checkpoint_path(init_from, "best")
        init_weights = (M.load_checkpoint(ck, src_info.fingerprint(Path(init_from)))["model"], ck)
    elif init_from is not None:  # a JSON description of a local fairseq2 checkpoint
        spec = M.PretrainedSpec.read(init_from)
        for lang in (src_lang, tgt_lang):
            if lang not in spec.langs:
                raise LmbootError(f"pretrained model has no language {lang!r}", path=init_from)
        info = M.ModelInfo(src_lang=src_lang, tgt_lang=tgt_lang, preset=M.CUSTOM, model=dict(spec.model),
                           langs=list(spec.langs), train={"init_from": str(init_from)})
        if dropout is not None:
            info.model["dropout_p"] = dropout
        if rank == 0:
            shutil.copyfile(spec.spm, model_dir / M.SPM)
        init_weights = ("pretrained", spec)
    else:
        langs = [src_lang] if src_lang == tgt_lang else [src_lang, tgt_lang]
        if rank == 0:
            if spm_model is not None:
                shutil.copyfile(spm_model, model_dir / M.SPM)
            else:
                from lmboot.nmt.spm import train_spm

                train_spm([train_src], [train_tgt] if train_tgt else [train_src], model_dir / M.SPM,
                          vocab_size=vocab_size or p.vocab_size, joint=joint_spm)
        info = M.ModelInfo(src_lang=src_lang, tgt_lang=tgt_lang, preset=preset, model={}, langs=langs)
    if gang is not None:
        gang.barrier()
    if not info.model:
        tok = M.load_tokenizer(model_dir, info)
        info.model = M.model_config(p, tok.vocab_info.size, dropout)
    if rank == 0:
        M.write_info(model_dir, info)
    if gang is not None:
        gang.barrier()
    return info, init_weights


def start_point(model_dir: str | os.PathLike, init_from: str | os.PathLike | None = None,
                info: M.ModelInfo | None = None) -> tuple[str, Path | None]:
    """Where training in ``model_dir`` starts: ``("resume", last.pt)``, ``("init", model or spec)``
    (``init_from``, or the one the directory was created with), or ``("scratch", None)``.

    A run killed after writing ``config.json`` but before its first checkpoint must restart
    from the same initial weights, never from random ones.
    """
    d = Path(model_dir)
    last = d / "checkpoints" / M.LAST
    if last.exists():
        return "resume", last
    if init_from is not None:
        return "init", Path(init_from)
    if info is None and (d / M.CONFIG).exists():
        info = M.read_info(d)
    recorded = (info.train or {}).get("init_from") if info is not None else None
    return ("init", Path(recorded)) if recorded else ("scratch", None)


def _init_weights(init_from: Path):
    """The initial weights ``_prepare_dir`` loads for ``init_from`` (a model directory or a spec JSON)."""
    if Path(init_from).is_dir():
        src_info = M.read_info(init_from)
        ck = M.checkpoint_path(init_from, "best")
        return M.load_checkpoint(ck, src_info.fingerprint(Path(init_from)))["model"], ck
    return "pretrained", M.PretrainedSpec.read(init_from)


__all__ = ["prepare_dir", "start_point"]
